//! IS-IS system IDs and SPB Bridge Identifiers.

use std::fmt;
use std::str::FromStr;

use super::EctAlgorithm;

/// A 6-byte IS-IS system ID, written `0000.0000.0001` (three dot-separated groups of four
/// hex digits). In SPBM it is also the bridge's B-MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SystemId(pub [u8; 6]);

impl fmt::Display for SystemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Error from parsing a [`SystemId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid system ID {0:?}: expected IS-IS notation such as 0000.0000.0001")]
pub struct ParseSystemIdError(String);

/// Parses `XXXX.XXXX.XXXX` (hex digits, either case).
impl FromStr for SystemId {
    type Err = ParseSystemIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSystemIdError(s.to_owned());
        let groups: Vec<&str> = s.split('.').collect();
        if groups.len() != 3 {
            return Err(err());
        }
        let mut out = [0u8; 6];
        for (i, g) in groups.iter().enumerate() {
            if g.len() != 4 || !g.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(err());
            }
            let v = u16::from_str_radix(g, 16).map_err(|_| err())?;
            out[2 * i..2 * i + 2].copy_from_slice(&v.to_be_bytes());
        }
        Ok(Self(out))
    }
}

/// The Bridge Identifier used by the ECT tie-break: the 16-bit bridge priority (as carried
/// in the SPB Instance sub-TLV) followed by the 6-byte system ID; lower is preferred by
/// ECT-1, and raising a bridge's priority steers paths away from it.
///
/// The priority is used as a whole 16-bit value. Spanning-tree managers usually only set the
/// top 4 bits (steps of 4096); we neither require nor enforce that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BridgeId {
    /// Bridge priority, default [`BridgeId::DEFAULT_PRIORITY`].
    pub priority: u16,
    /// The IS-IS system ID.
    pub system_id: SystemId,
}

impl BridgeId {
    /// The default bridge priority, 0x8000.
    pub const DEFAULT_PRIORITY: u16 = 0x8000;

    /// A Bridge Identifier.
    pub const fn new(priority: u16, system_id: SystemId) -> Self {
        Self {
            priority,
            system_id,
        }
    }

    /// The 8 bytes as a big-endian integer, so that integer order is byte-wise order.
    pub fn to_u64(self) -> u64 {
        let mut b = [0u8; 8];
        b[..2].copy_from_slice(&self.priority.to_be_bytes());
        b[2..].copy_from_slice(&self.system_id.0);
        u64::from_be_bytes(b)
    }

    /// The identifier XORed byte by byte with `ect`'s mask, as a big-endian integer.
    pub fn masked(self, ect: EctAlgorithm) -> u64 {
        self.to_u64() ^ ect.mask_u64()
    }
}

/// Renders as `8000.0000.0000.0001` (priority, then the system ID).
impl fmt::Display for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}.{}", self.priority, self.system_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_id_round_trip() {
        let id: SystemId = "0000.0000.00aB".parse().unwrap();
        assert_eq!(id.0, [0, 0, 0, 0, 0, 0xab]);
        assert_eq!(id.to_string(), "0000.0000.00ab");
        for bad in [
            "",
            "0000.0000",
            "0000.0000.0000.0000",
            "000.0000.00001",
            "0000.0000.000g",
            "+000.0000.0000",
            "0000:0000:0001",
        ] {
            assert!(bad.parse::<SystemId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn bridge_id_bytes_and_mask() {
        let b = BridgeId::new(0x8000, "0102.0304.0506".parse().unwrap());
        assert_eq!(b.to_u64(), 0x8000_0102_0304_0506);
        assert_eq!(b.to_string(), "8000.0102.0304.0506");
        let e3 = EctAlgorithm::from_index(3).unwrap();
        assert_eq!(b.masked(e3), 0x0888_898A_8B8C_8D8E);
        assert_eq!(b.masked(EctAlgorithm::LOW_PATH_ID), b.to_u64());
    }
}
