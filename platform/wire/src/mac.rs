//! MAC (EUI-48) addresses.

use core::fmt;
use core::str::FromStr;

/// An IEEE 802 MAC address (EUI-48), in transmission order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// Length of an address in octets.
    pub const LEN: usize = 6;

    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Self = Self([0xff; 6]);

    /// `01:80:c2:00:00:0e`, the destination of every gPTP (802.1AS) message. Also the LLDP
    /// "nearest bridge" address: tshark names it `LLDP_Multicast`. Bridges never forward it.
    pub const GPTP: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);

    /// `01:80:c2:00:00:14`, IS-IS AllL1ISs (ISO 10589): L1 PDUs on broadcast circuits.
    pub const ALL_L1_ISS: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x14]);

    /// `01:80:c2:00:00:15`, IS-IS AllL2ISs (ISO 10589): L2 PDUs on broadcast circuits.
    pub const ALL_L2_ISS: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x15]);

    /// `09:00:2b:00:00:05`, IS-IS AllISs: every PDU on a point-to-point circuit (RFC 5309,
    /// what FRR sends on P2P links).
    pub const ALL_ISS: Self = Self([0x09, 0x00, 0x2b, 0x00, 0x00, 0x05]);

    /// `01:80:c2:00:00:2e`, "all provider bridge ISs": the common ISIS-SPB control address.
    pub const ALL_PROVIDER_BRIDGE_ISS: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x2e]);

    /// `01:80:c2:00:00:2f`, "all customer bridge ISs": the alternative ISIS-SPB control address.
    pub const ALL_CUSTOMER_BRIDGE_ISS: Self = Self([0x01, 0x80, 0xc2, 0x00, 0x00, 0x2f]);

    /// The address in the first six bytes of `bytes`, or `None` if there are fewer.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.get(..Self::LEN)?.try_into().ok()?))
    }

    /// The six octets.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Group address (I/G bit set); includes broadcast.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// `ff:ff:ff:ff:ff:ff`.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Individual address (I/G bit clear).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Locally administered (U/L bit set), as on veth and in the simulator.
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// One of `01:80:c2:00:00:00` ..= `01:80:c2:00:00:0f`, which an 802.1Q bridge never
    /// forwards (gPTP, LLDP, STP, LACP live there).
    pub const fn is_bridge_link_local(&self) -> bool {
        matches!(self.0, [0x01, 0x80, 0xc2, 0x00, 0x00, last] if last <= 0x0f)
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(octets: [u8; 6]) -> Self {
        Self(octets)
    }
}

impl From<MacAddress> for [u8; 6] {
    fn from(mac: MacAddress) -> Self {
        mac.0
    }
}

/// Lowercase, colon-separated: `01:80:c2:00:00:0e`.
impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

/// The string is not six two-digit hex octets separated by `:` or `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address (expected six hex octets separated by ':' or '-')")]
pub struct ParseMacAddressError;

/// Accepts `01:80:C2:00:00:0E` and `01-80-c2-00-00-0e` (either case, one separator
/// throughout, exactly two hex digits per octet).
impl FromStr for MacAddress {
    type Err = ParseMacAddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        // "xx?xx?xx?xx?xx?xx"
        if b.len() != 17 {
            return Err(ParseMacAddressError);
        }
        let sep = b[2];
        if sep != b':' && sep != b'-' {
            return Err(ParseMacAddressError);
        }
        let mut out = [0u8; 6];
        for (i, octet) in out.iter_mut().enumerate() {
            let at = i * 3;
            if i > 0 && b[at - 1] != sep {
                return Err(ParseMacAddressError);
            }
            let hex = |c: u8| (c as char).to_digit(16).ok_or(ParseMacAddressError);
            // Both digits are < 16, so the octet fits.
            *octet = (hex(b[at])? * 16 + hex(b[at + 1])?) as u8;
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse() {
        assert_eq!(MacAddress::GPTP.to_string(), "01:80:c2:00:00:0e");
        assert_eq!(
            format!("{:?}", MacAddress::ALL_ISS),
            "MacAddress(09:00:2b:00:00:05)"
        );
        for s in [
            "01:80:C2:00:00:0E",
            "01-80-c2-00-00-0e",
            "01:80:c2:00:00:0e",
        ] {
            assert_eq!(s.parse::<MacAddress>(), Ok(MacAddress::GPTP), "{s}");
        }
        for s in [
            "",
            "01:80:c2:00:00",
            "01:80:c2:00:00:0e:",
            "01:80-c2:00:00:0e",
            "01.80.c2.00.00.0e",
            "01:80:c2:00:00:0g",
            "1:80:c2:00:00:0e0",
            "+1:80:c2:00:00:0e",
            "01:80:c2:00:00:\u{e9}",
        ] {
            assert_eq!(s.parse::<MacAddress>(), Err(ParseMacAddressError), "{s}");
        }
    }

    #[test]
    fn classes() {
        assert!(MacAddress::BROADCAST.is_broadcast());
        assert!(MacAddress::BROADCAST.is_multicast());
        assert!(!MacAddress::GPTP.is_broadcast());
        for m in [
            MacAddress::GPTP,
            MacAddress::ALL_L1_ISS,
            MacAddress::ALL_L2_ISS,
            MacAddress::ALL_ISS,
            MacAddress::ALL_PROVIDER_BRIDGE_ISS,
        ] {
            assert!(m.is_multicast() && !m.is_unicast(), "{m}");
        }
        let veth = MacAddress([0x72, 0x9c, 0x94, 0xb7, 0xf4, 0x74]);
        assert!(veth.is_unicast() && veth.is_local() && !veth.is_multicast());
        assert!(MacAddress::GPTP.is_bridge_link_local());
        assert!(!MacAddress::ALL_L1_ISS.is_bridge_link_local());
        assert_eq!(MacAddress::from_bytes(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            MacAddress::from_bytes(&[1, 2, 3, 4, 5, 6, 7]),
            Some(MacAddress([1, 2, 3, 4, 5, 6]))
        );
    }
}
