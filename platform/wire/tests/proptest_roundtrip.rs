//! Property tests: emit -> parse gives the repr back; parse of arbitrary bytes never panics
//! and, when it succeeds, emit reproduces the header bytes.

use proptest::prelude::*;
use tsn_wire::{
    EtherType, EthernetFrame, EthernetRepr, LlcControl, LlcRepr, MacAddress, PayloadType, Pcp,
    Tpid, VlanId, VlanRepr, VlanTag, VlanTags,
};

fn vlan() -> impl Strategy<Value = VlanRepr> {
    (any::<bool>(), 0u8..=7, any::<bool>(), 0u16..=4095).prop_map(|(s, pcp, dei, vid)| VlanRepr {
        tpid: if s { Tpid::STag } else { Tpid::CTag },
        pcp: Pcp::new(pcp).unwrap(),
        dei,
        vid: VlanId::new(vid).unwrap(),
    })
}

fn tags() -> impl Strategy<Value = VlanTags> {
    prop_oneof![
        Just(VlanTags::Untagged),
        vlan().prop_map(VlanTags::Single),
        (vlan(), vlan()).prop_map(|(outer, inner)| VlanTags::Double { outer, inner }),
    ]
}

fn payload_type() -> impl Strategy<Value = PayloadType> {
    let ethertype = (0x0600u16..=0xffff)
        // A TPID after fewer than two tags parses as one more tag (documented).
        .prop_filter("not a TPID", |v| Tpid::from_u16(*v).is_none())
        .prop_map(|v| PayloadType::EtherType(EtherType::from(v)));
    let control = prop_oneof![
        any::<u8>().prop_map(|c| LlcControl::Unnumbered(c | 0x03)),
        any::<u16>()
            .prop_filter("I/S format", |c| (c >> 8) & 3 != 3)
            .prop_map(LlcControl::Sequenced),
    ];
    let llc = (any::<u8>(), any::<u8>(), control).prop_map(|(dsap, ssap, control)| {
        PayloadType::Llc(LlcRepr {
            dsap,
            ssap,
            control,
        })
    });
    prop_oneof![ethertype, llc]
}

fn mac() -> impl Strategy<Value = MacAddress> {
    any::<[u8; 6]>().prop_map(MacAddress)
}

proptest! {
    #[test]
    fn vlan_round_trip(repr in vlan()) {
        let mut buf = [0xa5u8; 4];
        repr.emit(&mut VlanTag::new_unchecked(&mut buf[..])).unwrap();
        prop_assert_eq!(VlanRepr::parse(&VlanTag::new_checked(&buf[..]).unwrap()), Ok(repr));
        prop_assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), repr.tci());
    }

    #[test]
    fn ethernet_round_trip(
        dst in mac(),
        src in mac(),
        vlan in tags(),
        payload_type in payload_type(),
        payload in proptest::collection::vec(any::<u8>(), 0..1600),
    ) {
        let repr = EthernetRepr { dst, src, vlan, payload_type };
        let mut buf = vec![0xa5u8; repr.buffer_len(payload.len())];
        match repr.emit_frame(&payload, &mut buf) {
            Ok(n) => {
                prop_assert_eq!(n, buf.len());
                let (parsed, parsed_payload) = EthernetRepr::parse_frame(&buf).unwrap();
                prop_assert_eq!(parsed, repr);
                prop_assert_eq!(parsed_payload, &payload[..]);
            }
            Err(e) => {
                // Only an over-long 802.3 payload is refused.
                prop_assert!(matches!(payload_type, PayloadType::Llc(_)));
                prop_assert!(repr.header_len() - 14 - 4 * vlan.len() + payload.len() > 1500);
                prop_assert_eq!(e, tsn_wire::Error::BadField { field: "length" });
            }
        }
    }

    /// Arbitrary bytes (biased towards TPIDs and short lengths at offset 12): no panic, and a
    /// successful parse re-emits the same header.
    #[test]
    fn parse_arbitrary_bytes(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..64),
        t1 in prop_oneof![Just(0x8100u16), Just(0x88a8), Just(0x0020), any::<u16>()],
        t2 in prop_oneof![Just(0x8100u16), Just(0x88a8), Just(0x0005), any::<u16>()],
    ) {
        if bytes.len() >= 18 {
            bytes[12..14].copy_from_slice(&t1.to_be_bytes());
            bytes[16..18].copy_from_slice(&t2.to_be_bytes());
        }
        let frame = EthernetFrame::new_unchecked(&bytes[..]);
        if let Ok(repr) = EthernetRepr::parse(&frame) {
            let (_, payload) = EthernetRepr::parse_frame(&bytes).unwrap();
            let mut out = vec![0xa5u8; repr.buffer_len(payload.len())];
            repr.emit_frame(payload, &mut out).unwrap();
            prop_assert_eq!(&out[..], &bytes[..out.len()]);
        }
    }
}
