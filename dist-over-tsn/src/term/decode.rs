//! Bytes -> Term, for hostile input: every length is checked against the rest of the input
//! before anything is allocated, and nesting is bounded.

use bytes::Bytes;

use super::tag;
use super::{Atom, BitBinary, Export, Integer, Pid, Port, Reference, Term, TermError};

/// Decoder settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// How deeply tuples, lists and maps may nest (a list's elements are one level below the
    /// list; a list's tail is on the list's own level). Deeper input is
    /// [`TermError::TooDeep`] rather than a stack overflow.
    pub max_depth: usize,
    /// Whether the input starts with the version byte 131. Terms after a distribution header
    /// have none.
    pub version_byte: bool,
}

impl DecodeOptions {
    /// The default nesting limit.
    pub const DEFAULT_MAX_DEPTH: usize = 512;

    /// Decodes exactly one term; bytes after it are [`TermError::TrailingBytes`].
    pub fn decode(&self, input: &[u8]) -> Result<Term, TermError> {
        let (term, rest) = self.decode_prefix(input)?;
        if rest.is_empty() {
            Ok(term)
        } else {
            Err(TermError::TrailingBytes(rest.len()))
        }
    }

    /// Decodes one term from the front of `input` and returns it with the bytes after it.
    pub fn decode_prefix<'a>(&self, input: &'a [u8]) -> Result<(Term, &'a [u8]), TermError> {
        let (term, used) = self.run(input, None)?;
        Ok((term, &input[used..]))
    }

    /// As [`Self::decode_prefix`], but binaries of at least [`SHARE_MIN`] bytes share
    /// `input` (a [`Bytes::slice`]) instead of copying it; the rest is a slice too.
    pub fn decode_prefix_shared(&self, input: &Bytes) -> Result<(Term, Bytes), TermError> {
        let (term, used) = self.run(input, Some(input))?;
        Ok((term, input.slice(used..)))
    }

    /// One term and how many bytes of `input` it took.
    fn run(&self, input: &[u8], shared: Option<&Bytes>) -> Result<(Term, usize), TermError> {
        let mut r = Reader {
            input,
            shared,
            pos: 0,
            max_depth: self.max_depth,
        };
        if self.version_byte {
            let v = r.u8()?;
            if v != tag::VERSION {
                return Err(TermError::BadVersion(v));
            }
        }
        let term = r.term(0)?;
        Ok((term, r.pos))
    }
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            version_byte: true,
        }
    }
}

/// `binary_to_term/1`: exactly one term after the version byte 131.
pub fn decode(input: &[u8]) -> Result<Term, TermError> {
    DecodeOptions::default().decode(input)
}

/// One term (with its version byte) from the front of `input`, and the bytes after it.
pub fn decode_prefix(input: &[u8]) -> Result<(Term, &[u8]), TermError> {
    DecodeOptions::default().decode_prefix(input)
}

/// `binary_to_term/1` on shared input: as [`decode`], but large binaries share `input`
/// (see [`DecodeOptions::decode_prefix_shared`]).
pub fn decode_shared(input: &Bytes) -> Result<Term, TermError> {
    let (term, rest) = DecodeOptions::default().decode_prefix_shared(input)?;
    if rest.is_empty() {
        Ok(term)
    } else {
        Err(TermError::TrailingBytes(rest.len()))
    }
}

/// Binaries from this size on share the input when it is [`Bytes`]; smaller ones are copied,
/// so that a small binary kept around does not pin a large message (OTP's limit between heap
/// and reference-counted binaries).
pub const SHARE_MIN: usize = 64;

/// Initial capacity cap for element vectors: a declared count is only a claim, so vectors
/// grow with what is actually decoded instead of trusting it up front (nested containers
/// would otherwise each reserve for the same remaining input).
const PREALLOC: usize = 64;

struct Reader<'a> {
    input: &'a [u8],
    /// `input` as shared bytes, when the caller has them.
    shared: Option<&'a Bytes>,
    pos: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], TermError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(TermError::Truncated {
                needed: n,
                remaining,
            });
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// A binary of a declared length: shared with the input when it can be.
    fn binary(&mut self, len: u64) -> Result<Bytes, TermError> {
        let start = self.pos;
        let bytes = self.bytes(len)?;
        Ok(match self.shared {
            Some(src) if bytes.len() >= SHARE_MIN => src.slice(start..self.pos),
            _ => Bytes::copy_from_slice(bytes),
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TermError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, TermError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, TermError> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, TermError> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, TermError> {
        self.array().map(u64::from_be_bytes)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Bytes for a declared length: checked before any allocation.
    fn bytes(&mut self, len: u64) -> Result<&'a [u8], TermError> {
        let remaining = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= remaining => self.take(n),
            _ => Err(TermError::LengthExceedsInput {
                declared: len,
                remaining,
            }),
        }
    }

    /// Checks that `count` items of at least `min_size` bytes each can still follow.
    fn check_count(&self, count: u64, min_size: u64) -> Result<usize, TermError> {
        let remaining = self.remaining();
        if count.saturating_mul(min_size) > remaining as u64 {
            return Err(TermError::LengthExceedsInput {
                declared: count,
                remaining,
            });
        }
        // Fits: count <= remaining <= usize::MAX.
        Ok(count as usize)
    }

    fn enter(&self, depth: usize) -> Result<(), TermError> {
        if depth >= self.max_depth {
            Err(TermError::TooDeep {
                limit: self.max_depth,
            })
        } else {
            Ok(())
        }
    }

    /// The recursive path (term -> container -> term) is kept to small frames: everything
    /// that does not nest lives in `scalar`, so the default depth fits a 2 MiB thread stack
    /// even in debug builds.
    fn term(&mut self, depth: usize) -> Result<Term, TermError> {
        let t = self.u8()?;
        match t {
            tag::SMALL_TUPLE_EXT => {
                let n = self.u8()?;
                self.tuple(n.into(), depth)
            }
            tag::LARGE_TUPLE_EXT => {
                let n = self.u32()?;
                self.tuple(n.into(), depth)
            }
            tag::LIST_EXT => self.list(depth),
            tag::MAP_EXT => self.map(depth),
            _ => self.scalar(t),
        }
    }

    fn map(&mut self, depth: usize) -> Result<Term, TermError> {
        let n = self.u32()?;
        self.enter(depth)?;
        let n = self.check_count(n.into(), 2)?;
        let mut pairs = Vec::with_capacity(n.min(PREALLOC));
        for _ in 0..n {
            let k = self.term(depth + 1)?;
            let v = self.term(depth + 1)?;
            pairs.push((k, v));
        }
        Ok(Term::Map(pairs))
    }

    #[inline(never)]
    fn scalar(&mut self, t: u8) -> Result<Term, TermError> {
        Ok(match t {
            tag::SMALL_INTEGER_EXT => Term::from(self.u8()?),
            tag::INTEGER_EXT => Term::Integer(i32::from_be_bytes(self.array()?).into()),
            tag::SMALL_BIG_EXT => {
                let n = self.u8()?;
                self.big(n.into())?
            }
            tag::LARGE_BIG_EXT => {
                let n = self.u32()?;
                self.big(n.into())?
            }
            tag::NEW_FLOAT_EXT => finite(f64::from_bits(self.u64()?))?,
            tag::FLOAT_EXT => self.old_float()?,
            tag::ATOM_EXT | tag::SMALL_ATOM_EXT | tag::ATOM_UTF8_EXT | tag::SMALL_ATOM_UTF8_EXT => {
                Term::Atom(self.atom_body(t)?)
            }
            tag::NIL_EXT => Term::Nil,
            tag::STRING_EXT => {
                let len = self.u16()?;
                let bytes = self.bytes(len.into())?;
                if bytes.is_empty() {
                    Term::Nil
                } else {
                    Term::String(bytes.to_vec())
                }
            }
            tag::BINARY_EXT => {
                let len = self.u32()?;
                Term::Binary(self.binary(len.into())?)
            }
            tag::BIT_BINARY_EXT => {
                let len = self.u32()?;
                let bits = self.u8()?;
                let bytes = self.binary(len.into())?;
                match (bytes.len(), bits) {
                    // What binary_to_term accepts: <<>> as 0/0, whole bytes as bits = 8.
                    (0, 0) | (1.., 8) => Term::Binary(bytes),
                    _ => Term::BitBinary(BitBinary::new(bytes.to_vec(), bits)?),
                }
            }
            tag::NEW_PID_EXT | tag::PID_EXT => {
                let node = self.atom("pid node")?;
                let id = self.u32()?;
                let serial = self.u32()?;
                let creation = self.creation(t == tag::NEW_PID_EXT)?;
                Term::Pid(Pid {
                    node,
                    id,
                    serial,
                    creation,
                })
            }
            tag::NEW_PORT_EXT | tag::PORT_EXT | tag::V4_PORT_EXT => {
                let node = self.atom("port node")?;
                let id = if t == tag::V4_PORT_EXT {
                    self.u64()?
                } else {
                    self.u32()?.into()
                };
                let creation = self.creation(t != tag::PORT_EXT)?;
                Term::Port(Port { node, id, creation })
            }
            tag::NEWER_REFERENCE_EXT | tag::NEW_REFERENCE_EXT => {
                let len = self.u16()?;
                if usize::from(len) > Reference::MAX_IDS {
                    return Err(TermError::BadField {
                        field: "reference length",
                    });
                }
                let node = self.atom("reference node")?;
                let creation = self.creation(t == tag::NEWER_REFERENCE_EXT)?;
                let mut ids = [0; Reference::MAX_IDS];
                for id in &mut ids[..usize::from(len)] {
                    *id = self.u32()?;
                }
                Term::Reference(Reference::new(node, creation, &ids[..usize::from(len)])?)
            }
            tag::REFERENCE_EXT => {
                let node = self.atom("reference node")?;
                let id = self.u32()?;
                let creation = self.creation(false)?;
                Term::Reference(Reference::new(node, creation, &[id])?)
            }
            tag::EXPORT_EXT => {
                let module = self.atom("export module")?;
                let function = self.atom("export function")?;
                if self.u8()? != tag::SMALL_INTEGER_EXT {
                    return Err(TermError::BadField {
                        field: "export arity",
                    });
                }
                let arity = self.u8()?;
                Term::Export(Export {
                    module,
                    function,
                    arity,
                })
            }
            tag::NEW_FUN_EXT | tag::FUN_EXT => {
                return Err(TermError::Unsupported {
                    tag: t,
                    what: "local fun",
                });
            }
            tag::COMPRESSED => {
                return Err(TermError::Unsupported {
                    tag: t,
                    what: "compressed term",
                });
            }
            tag::ATOM_CACHE_REF => {
                return Err(TermError::Unsupported {
                    tag: t,
                    what: "atom cache reference",
                });
            }
            tag::LOCAL_EXT => {
                return Err(TermError::Unsupported {
                    tag: t,
                    what: "LOCAL_EXT",
                });
            }
            other => return Err(TermError::UnknownTag(other)),
        })
    }

    /// 32-bit creation in the current formats, 8-bit in the legacy ones.
    fn creation(&mut self, wide: bool) -> Result<u32, TermError> {
        if wide {
            self.u32()
        } else {
            self.u8().map(u32::from)
        }
    }

    fn big(&mut self, n: u64) -> Result<Term, TermError> {
        // erts treats any non-zero sign byte as negative.
        let negative = self.u8()? != 0;
        let magnitude = self.bytes(n)?;
        Ok(Term::Integer(Integer::from_sign_magnitude(
            negative, magnitude,
        )))
    }

    fn old_float(&mut self) -> Result<Term, TermError> {
        const BAD: TermError = TermError::BadField {
            field: "FLOAT_EXT string",
        };
        let raw: [u8; 31] = self.array()?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let text = std::str::from_utf8(&raw[..end]).map_err(|_| BAD)?;
        let value: f64 = text.trim().parse().map_err(|_| BAD)?;
        finite(value)
    }

    /// An atom field (node of a pid, module of an export, ...).
    fn atom(&mut self, field: &'static str) -> Result<Atom, TermError> {
        match self.u8()? {
            t @ (tag::ATOM_EXT
            | tag::SMALL_ATOM_EXT
            | tag::ATOM_UTF8_EXT
            | tag::SMALL_ATOM_UTF8_EXT) => self.atom_body(t),
            _ => Err(TermError::BadField { field }),
        }
    }

    fn atom_body(&mut self, t: u8) -> Result<Atom, TermError> {
        let len = match t {
            tag::SMALL_ATOM_EXT | tag::SMALL_ATOM_UTF8_EXT => u16::from(self.u8()?),
            _ => self.u16()?,
        };
        let bytes = self.bytes(len.into())?;
        if matches!(t, tag::ATOM_EXT | tag::SMALL_ATOM_EXT) {
            if bytes.len() > Atom::MAX_CHARS {
                return Err(TermError::AtomTooLong);
            }
            // Latin-1: every byte is the code point of the same value.
            let name: String = bytes.iter().map(|&b| char::from(b)).collect();
            Atom::new(&name)
        } else {
            let name = std::str::from_utf8(bytes).map_err(|_| TermError::BadField {
                field: "atom (invalid UTF-8)",
            })?;
            Atom::new(name)
        }
    }

    fn tuple(&mut self, n: u64, depth: usize) -> Result<Term, TermError> {
        if n > 0 {
            self.enter(depth)?;
        }
        let n = self.check_count(n, 1)?;
        let mut elements = Vec::with_capacity(n.min(PREALLOC));
        for _ in 0..n {
            elements.push(self.term(depth + 1)?);
        }
        Ok(Term::Tuple(elements))
    }

    /// `LIST_EXT` (tag already read). Tails that are lists again are followed in a loop, not
    /// by recursion, and spliced in, which gives the canonical form directly.
    fn list(&mut self, depth: usize) -> Result<Term, TermError> {
        self.enter(depth)?;
        let mut elements = Vec::new();
        loop {
            let n = self.u32()?;
            // n elements and a tail, at least one byte each.
            let n = self.check_count(u64::from(n) + 1, 1)? - 1;
            elements.reserve(n.min(PREALLOC));
            for _ in 0..n {
                elements.push(self.term(depth + 1)?);
            }
            match self.peek() {
                Some(tag::LIST_EXT) => {
                    self.pos += 1;
                }
                Some(tag::STRING_EXT) => {
                    self.pos += 1;
                    let len = self.u16()?;
                    let bytes = self.bytes(len.into())?;
                    elements.extend(bytes.iter().map(|&b| Term::from(b)));
                    return Ok(super::canonical_list(elements, Term::Nil));
                }
                _ => {
                    let tail = self.term(depth)?;
                    return Ok(super::canonical_list(elements, tail));
                }
            }
        }
    }
}

fn finite(value: f64) -> Result<Term, TermError> {
    if value.is_finite() {
        Ok(Term::Float(value))
    } else {
        Err(TermError::BadField {
            field: "float (not finite)",
        })
    }
}
