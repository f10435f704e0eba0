//! The 16 standard Equal Cost Tree (ECT) algorithms and their masks.

use std::fmt;
use std::str::FromStr;

/// The IEEE OUI that prefixes the standard ECT-ALGORITHM values (00-80-C2).
pub const IEEE_OUI: [u8; 3] = [0x00, 0x80, 0xC2];

/// ECT-MASK per algorithm index 1..=16 (RFC 6329 §12; see `reference/isis-spb.md` §4).
/// Index 1 (mask 0x00) is "Low PATHID", index 2 (mask 0xFF) is "High PATHID".
const MASKS: [u8; 16] = [
    0x00, 0xFF, 0x88, 0x77, 0x44, 0x33, 0xCC, 0xBB, 0x22, 0x11, 0x66, 0x55, 0xAA, 0x99, 0xDD, 0xEE,
];

/// One of the 16 standard ECT algorithms, ECT-ALGORITHM `00-80-C2-01` ..= `00-80-C2-10`.
///
/// Every algorithm uses the same order (lowest cost, then fewest hops, then lowest PATHID);
/// they differ only in the mask XORed into every byte of each Bridge Identifier before the
/// PATHIDs are compared, which spreads equal-cost traffic over different trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EctAlgorithm(u8);

impl EctAlgorithm {
    /// ECT-ALGORITHM 00-80-C2-01, "Low PATHID", the default.
    pub const LOW_PATH_ID: Self = Self(1);
    /// ECT-ALGORITHM 00-80-C2-02, "High PATHID".
    pub const HIGH_PATH_ID: Self = Self(2);

    /// The algorithm with index `index` (1..=16), or `None`.
    pub const fn from_index(index: u8) -> Option<Self> {
        if index >= 1 && index <= 16 {
            Some(Self(index))
        } else {
            None
        }
    }

    /// All 16 standard algorithms, in index order.
    pub fn all() -> impl Iterator<Item = Self> {
        (1..=16).map(Self)
    }

    /// The index 1..=16 (the last octet of the ECT-ALGORITHM value).
    pub const fn index(self) -> u8 {
        self.0
    }

    /// The ECT-MASK byte XORed into every byte of a Bridge Identifier.
    pub const fn mask(self) -> u8 {
        MASKS[(self.0 - 1) as usize]
    }

    /// The mask repeated over the 8 bytes of a Bridge Identifier.
    pub const fn mask_u64(self) -> u64 {
        self.mask() as u64 * 0x0101_0101_0101_0101
    }

    /// The 32-bit ECT-ALGORITHM value as carried in the SPB sub-TLVs, e.g. `0x0080_C201`.
    pub const fn value(self) -> u32 {
        u32::from_be_bytes([IEEE_OUI[0], IEEE_OUI[1], IEEE_OUI[2], self.0])
    }

    /// The standard algorithm for a 32-bit ECT-ALGORITHM value, or `None` for any other
    /// (vendor-specific or unknown) value.
    pub fn from_value(value: u32) -> Option<Self> {
        let [a, b, c, index] = value.to_be_bytes();
        if [a, b, c] == IEEE_OUI {
            Self::from_index(index)
        } else {
            None
        }
    }
}

impl Default for EctAlgorithm {
    fn default() -> Self {
        Self::LOW_PATH_ID
    }
}

/// Renders the ECT-ALGORITHM value as `00-80-C2-01`.
impl fmt::Display for EctAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.value().to_be_bytes();
        write!(f, "{a:02X}-{b:02X}-{c:02X}-{d:02X}")
    }
}

/// Error from parsing an [`EctAlgorithm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ECT algorithm {0:?}: expected an index 1..=16 or 00-80-C2-01 ..= 00-80-C2-10")]
pub struct ParseEctError(String);

/// Parses an index (`"1"` ..= `"16"`) or a full value (`"00-80-C2-01"`, case-insensitive).
impl FromStr for EctAlgorithm {
    type Err = ParseEctError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseEctError(s.to_owned());
        let t = s.trim();
        if let Ok(index) = t.parse::<u8>() {
            return Self::from_index(index).ok_or_else(err);
        }
        let octets: Vec<&str> = t.split('-').collect();
        if octets.len() != 4 || octets.iter().any(|o| o.len() != 2) {
            return Err(err());
        }
        let mut bytes = [0u8; 4];
        for (b, o) in bytes.iter_mut().zip(&octets) {
            *b = u8::from_str_radix(o, 16).map_err(|_| err())?;
        }
        Self::from_value(u32::from_be_bytes(bytes)).ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_rfc6329_table() {
        let masks: Vec<u8> = EctAlgorithm::all().map(EctAlgorithm::mask).collect();
        assert_eq!(
            masks,
            [
                0x00, 0xFF, 0x88, 0x77, 0x44, 0x33, 0xCC, 0xBB, 0x22, 0x11, 0x66, 0x55, 0xAA, 0x99,
                0xDD, 0xEE
            ]
        );
        // Distinct masks, so the 16 algorithms can pick 16 different trees.
        let distinct: std::collections::BTreeSet<u8> = masks.iter().copied().collect();
        assert_eq!(distinct.len(), 16);
    }

    #[test]
    fn values_and_parsing() {
        let e16 = EctAlgorithm::from_index(16).unwrap();
        assert_eq!(e16.value(), 0x0080_C210);
        assert_eq!(e16.to_string(), "00-80-C2-10");
        assert_eq!("00-80-c2-10".parse::<EctAlgorithm>(), Ok(e16));
        assert_eq!("16".parse::<EctAlgorithm>(), Ok(e16));
        assert_eq!(
            EctAlgorithm::from_value(0x0080_C201),
            Some(EctAlgorithm::LOW_PATH_ID)
        );
        assert!(EctAlgorithm::from_value(0x0080_C211).is_none());
        assert!(EctAlgorithm::from_value(0x0180_C201).is_none());
        for bad in ["0", "17", "", "00-80-C2-00", "00-80-C2", "x"] {
            assert!(bad.parse::<EctAlgorithm>().is_err(), "{bad}");
        }
        assert_eq!(EctAlgorithm::HIGH_PATH_ID.mask_u64(), u64::MAX);
    }
}
