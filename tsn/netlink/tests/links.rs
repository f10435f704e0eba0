//! Byte-exact tests against the requests iproute2's `ip link` sends for VLAN devices
//! (`vectors/links.txt`, written by `vectors/capture.sh`): we build the same link from the
//! command line's meaning, emit it and compare every byte, and parse the captured bytes back.

use tsn_netlink::{IFF_UP, Link, NLMSG_HDRLEN, QosMapping, RTM_DELLINK, RTM_NEWLINK};

const LINKS: &str = include_str!("vectors/links.txt");
const LO: i32 = 1;

/// (name, bytes) of every capture.
fn captures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in LINKS.lines() {
        if let Some(n) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name = n.to_owned();
        } else if let Some(h) = line.strip_prefix("hex = ") {
            let bytes = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            out.push((name.clone(), bytes));
        }
    }
    assert_eq!(out.len(), 4, "links.txt has every case");
    out
}

fn map(pcp: [u32; 8]) -> Vec<QosMapping> {
    (0..8)
        .map(|p| QosMapping {
            from: p,
            to: pcp[p as usize],
        })
        .collect()
}

const IDENTITY: [u32; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

fn expected(name: &str) -> Vec<u8> {
    match name {
        "vlan-add-up" => Link::new_vlan(LO, "lo.5", 5, map(IDENTITY), true).create_message(0),
        "vlan-add-down" => {
            Link::new_vlan(LO, "lo.4094", 4094, map([0, 0, 3, 3, 5, 5, 7, 7]), false)
                .create_message(0)
        }
        "vlan-set-egress" => Link::set_vlan_egress(LO, map(IDENTITY)).change_message(0),
        "link-delete" => Link::delete_message(LO, 0),
        other => panic!("no expectation for {other}"),
    }
    .unwrap()
}

#[test]
fn requests_are_byte_identical_to_ip_link() {
    for (name, bytes) in captures() {
        let ours = expected(&name);
        assert_eq!(ours, bytes, "{name}: ours\n{ours:02x?}\nip\n{bytes:02x?}");
    }
}

#[test]
fn captured_requests_parse_to_what_they_mean() {
    for (name, bytes) in captures() {
        let ty = u16::from_ne_bytes([bytes[4], bytes[5]]);
        let link = Link::parse(&bytes[NLMSG_HDRLEN..]).unwrap();
        // Parse -> emit gives the same bytes again.
        let flags = u16::from_ne_bytes([bytes[6], bytes[7]]);
        assert_eq!(link.to_message(ty, flags, 0).unwrap(), bytes, "{name}");
        match name.as_str() {
            "vlan-add-up" => {
                assert_eq!(ty, RTM_NEWLINK);
                assert_eq!((link.flags, link.change), (IFF_UP, IFF_UP));
                assert_eq!(link.name.as_deref(), Some("lo.5"));
                assert_eq!(link.lower, Some(LO));
                assert_eq!(link.kind(), Some("vlan"));
                let v = link.vlan().unwrap();
                assert_eq!(v.id, Some(5));
                assert_eq!(v.egress_pcp(), [0, 1, 2, 3, 4, 5, 6, 7]);
            }
            "vlan-add-down" => {
                assert_eq!(link.flags & IFF_UP, 0);
                assert_eq!(link.vlan().unwrap().id, Some(4094));
                assert_eq!(link.vlan().unwrap().egress_pcp(), [0, 0, 3, 3, 5, 5, 7, 7]);
            }
            "vlan-set-egress" => {
                assert_eq!(link.ifindex, LO);
                assert_eq!(link.name, None);
                assert_eq!(link.vlan().unwrap().id, None);
            }
            "link-delete" => {
                assert_eq!(ty, RTM_DELLINK);
                assert_eq!(link.ifindex, LO);
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn unknown_attributes_survive_a_round_trip() {
    // A kernel-style dump: IFLA_MTU (4) and an unknown IFLA_INFO_* and IFLA_VLAN_* attribute.
    let mut link = Link::new_vlan(LO, "lo.7", 7, map(IDENTITY), false);
    link.unknown.push(tsn_netlink::UnknownAttr {
        kind: 4,
        value: 1500u32.to_ne_bytes().to_vec(),
    });
    let info = link.info.as_mut().unwrap();
    info.unknown.push(tsn_netlink::UnknownAttr {
        kind: 0x7f,
        value: vec![1, 2, 3],
    });
    if let Some(tsn_netlink::LinkData::Vlan(v)) = &mut info.data {
        v.unknown.push(tsn_netlink::UnknownAttr {
            kind: 0x33,
            value: vec![9; 6],
        });
        v.protocol = Some(0x88a8);
        v.flags = Some((1, 1));
    }
    let msg = link.to_message(RTM_NEWLINK, 0, 9).unwrap();
    assert_eq!(Link::parse(&msg[NLMSG_HDRLEN..]).unwrap(), link);
}

#[test]
fn truncated_and_garbled_links_never_panic() {
    for (_, bytes) in captures() {
        let body = &bytes[NLMSG_HDRLEN..];
        for n in 0..body.len() {
            let _ = Link::parse(&body[..n]);
        }
        for i in 0..body.len() {
            let mut b = body.to_vec();
            b[i] ^= 0xff;
            let _ = Link::parse(&b);
        }
    }
}
