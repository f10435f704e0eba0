//! The value types inside [`Term`](super::Term): atoms, integers, bitstrings, pids, ports,
//! references and external funs.

use std::fmt;
use std::sync::Arc;

use super::TermError;

/// An Erlang atom: at most 255 Unicode characters, stored as shared UTF-8 (cloning is cheap).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Arc<str>);

impl Atom {
    /// Erlang's limit on the length of an atom, in characters.
    pub const MAX_CHARS: usize = 255;

    /// An atom with this name, or [`TermError::AtomTooLong`] past 255 characters.
    pub fn new(name: &str) -> Result<Self, TermError> {
        // Cheap test first: 255 bytes are at most 255 characters.
        if name.len() > Self::MAX_CHARS && name.chars().count() > Self::MAX_CHARS {
            return Err(TermError::AtomTooLong);
        }
        Ok(Self(Arc::from(name)))
    }

    /// The atom's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", self.0.escape_debug())
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for Atom {
    type Error = TermError;
    fn try_from(name: &str) -> Result<Self, TermError> {
        Self::new(name)
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

/// An Erlang integer of any size.
///
/// Values that fit an `i64` are kept inline; larger ones as sign and little-endian magnitude
/// (the layout of `SMALL_BIG_EXT`/`LARGE_BIG_EXT`). The representation is canonical, so `==`
/// is numeric equality.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Integer(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Small(i64),
    /// Never fits an `i64`; `magnitude` has no trailing (most significant) zero bytes.
    Big {
        negative: bool,
        magnitude: Box<[u8]>,
    },
}

impl Integer {
    /// The integer `(-1)^negative * magnitude`, with `magnitude_le` little-endian (any
    /// length, trailing zero bytes allowed).
    pub fn from_sign_magnitude(negative: bool, magnitude_le: &[u8]) -> Self {
        let len = magnitude_le
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        let magnitude = &magnitude_le[..len];
        if len <= 8 {
            let mut buf = [0u8; 8];
            buf[..len].copy_from_slice(magnitude);
            let m = u64::from_le_bytes(buf);
            if !negative && m <= i64::MAX as u64 {
                return Self(Repr::Small(m as i64));
            }
            if negative && m <= 1 << 63 {
                // 2^63 becomes i64::MIN: `as` wraps to it and the negation leaves it there.
                return Self(Repr::Small((m as i64).wrapping_neg()));
            }
        }
        Self(Repr::Big {
            negative,
            magnitude: magnitude.into(),
        })
    }

    /// The value as an `i64`, if it fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Small(v) => Some(v),
            Repr::Big { .. } => None,
        }
    }

    /// The value as an `i128`, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        match &self.0 {
            Repr::Small(v) => Some(i128::from(*v)),
            Repr::Big {
                negative,
                magnitude,
            } => {
                if magnitude.len() > 16 {
                    return None;
                }
                let mut buf = [0u8; 16];
                buf[..magnitude.len()].copy_from_slice(magnitude);
                let m = u128::from_le_bytes(buf);
                if *negative {
                    (m <= 1 << 127).then(|| (m as i128).wrapping_neg())
                } else {
                    i128::try_from(m).ok()
                }
            }
        }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        match self.0 {
            Repr::Small(v) => v < 0,
            Repr::Big { negative, .. } => negative,
        }
    }

    /// The absolute value, little-endian, without trailing zero bytes (empty for zero).
    pub fn magnitude_le(&self) -> Vec<u8> {
        match &self.0 {
            Repr::Small(v) => {
                let bytes = v.unsigned_abs().to_le_bytes();
                let len = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                bytes[..len].to_vec()
            }
            Repr::Big { magnitude, .. } => magnitude.to_vec(),
        }
    }

    /// The value as a byte (0..=255), if it is one: the elements of an Erlang string.
    pub(crate) fn as_byte(&self) -> Option<u8> {
        match self.0 {
            Repr::Small(v) => u8::try_from(v).ok(),
            Repr::Big { .. } => None,
        }
    }

    /// Sign and magnitude when the value does not fit an `i64`.
    pub(crate) fn big_parts(&self) -> Option<(bool, &[u8])> {
        match &self.0 {
            Repr::Small(_) => None,
            Repr::Big {
                negative,
                magnitude,
            } => Some((*negative, magnitude)),
        }
    }
}

impl fmt::Debug for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Small(v) => write!(f, "{v}"),
            Repr::Big {
                negative,
                magnitude,
            } => {
                f.write_str(if *negative { "-0x" } else { "0x" })?;
                magnitude
                    .iter()
                    .rev()
                    .try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl From<i64> for Integer {
    fn from(v: i64) -> Self {
        Self(Repr::Small(v))
    }
}

impl From<i32> for Integer {
    fn from(v: i32) -> Self {
        Self(Repr::Small(v.into()))
    }
}

impl From<u32> for Integer {
    fn from(v: u32) -> Self {
        Self(Repr::Small(v.into()))
    }
}

impl From<u8> for Integer {
    fn from(v: u8) -> Self {
        Self(Repr::Small(v.into()))
    }
}

impl From<u64> for Integer {
    fn from(v: u64) -> Self {
        Self::from_sign_magnitude(false, &v.to_le_bytes())
    }
}

impl From<i128> for Integer {
    fn from(v: i128) -> Self {
        Self::from_sign_magnitude(v < 0, &v.unsigned_abs().to_le_bytes())
    }
}

impl From<u128> for Integer {
    fn from(v: u128) -> Self {
        Self::from_sign_magnitude(false, &v.to_le_bytes())
    }
}

/// A bitstring whose length is not a whole number of bytes (`BIT_BINARY_EXT`).
///
/// Canonical: at least one byte, 1 to 7 bits used in the last byte (the most significant
/// ones), the unused low bits zero. Whole-byte bitstrings are [`Term::Binary`](super::Term).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct BitBinary {
    bytes: Vec<u8>,
    bits: u8,
}

impl BitBinary {
    /// `bytes` with only the `bits` most significant bits of the last byte used (1..=7).
    /// Unused bits are cleared, as Erlang does.
    pub fn new(mut bytes: Vec<u8>, bits: u8) -> Result<Self, TermError> {
        if !(1..=7).contains(&bits) {
            return Err(TermError::BadField {
                field: "bits in last byte",
            });
        }
        let Some(last) = bytes.last_mut() else {
            return Err(TermError::BadField {
                field: "empty bitstring",
            });
        };
        *last &= 0xff << (8 - bits);
        Ok(Self { bytes, bits })
    }

    /// The bytes, the last one partly used.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many (most significant) bits of the last byte belong to the bitstring: 1..=7.
    pub fn bits_in_last_byte(&self) -> u8 {
        self.bits
    }

    /// The length in bits.
    pub fn bit_len(&self) -> u64 {
        (self.bytes.len() as u64 - 1) * 8 + u64::from(self.bits)
    }
}

/// A process identifier (`NEW_PID_EXT`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Pid {
    /// The node the process lives on (`nonode@nohost` for a node without distribution).
    pub node: Atom,
    /// Process number.
    pub id: u32,
    /// Serial (incremented when process numbers wrap).
    pub serial: u32,
    /// The node incarnation.
    pub creation: u32,
}

/// A port identifier (`NEW_PORT_EXT` or `V4_PORT_EXT`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Port {
    /// The node the port belongs to.
    pub node: Atom,
    /// Port number (64 bits since OTP 24).
    pub id: u64,
    /// The node incarnation.
    pub creation: u32,
}

/// A reference (`NEWER_REFERENCE_EXT`): node, creation and up to five 32-bit words.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Reference {
    /// The node that made the reference.
    pub node: Atom,
    /// The node incarnation.
    pub creation: u32,
    ids: Box<[u32]>,
}

impl Reference {
    /// Erlang's limit on the number of words in a reference.
    pub const MAX_IDS: usize = 5;

    /// A reference with these words, in wire order (least significant first; Erlang prints
    /// them the other way round: `#Ref<0.3.2.1>` is `ids = [1, 2, 3]`).
    pub fn new(node: Atom, creation: u32, ids: &[u32]) -> Result<Self, TermError> {
        if ids.len() > Self::MAX_IDS {
            return Err(TermError::BadField {
                field: "reference length",
            });
        }
        Ok(Self {
            node,
            creation,
            ids: ids.into(),
        })
    }

    /// The words, in wire order.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }
}

/// An external fun `fun Module:Function/Arity` (`EXPORT_EXT`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Export {
    /// Module name.
    pub module: Atom,
    /// Function name.
    pub function: Atom,
    /// Arity.
    pub arity: u8,
}
