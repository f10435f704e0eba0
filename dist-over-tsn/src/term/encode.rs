//! Term -> bytes, choosing the forms `term_to_binary` chooses.

use bytes::Bytes;

use super::tag;
use super::{Atom, Integer, Term};

/// How atoms are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AtomEncoding {
    /// `SMALL_ATOM_UTF8_EXT` up to 255 bytes, else `ATOM_UTF8_EXT`: OTP 26+ `term_to_binary/1`,
    /// `{minor_version, 2}`, and distribution with `DFLAG_UTF8_ATOMS` (mandatory since OTP 20).
    #[default]
    Utf8,
    /// `ATOM_EXT` (Latin-1, 16-bit length) for atoms whose characters all fit Latin-1, UTF-8
    /// forms otherwise: `term_to_binary/1` up to OTP 25 (`{minor_version, 1}`).
    Latin1,
}

/// Encoder settings. The default matches OTP 26+ `term_to_binary/1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    /// How atoms are written.
    pub atoms: AtomEncoding,
    /// Whether to write the version byte 131 first. Terms after a distribution header are
    /// written without it.
    pub version_byte: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            atoms: AtomEncoding::Utf8,
            version_byte: true,
        }
    }
}

impl EncodeOptions {
    /// Encodes `term` into a new buffer.
    ///
    /// # Panics
    ///
    /// If a binary, tuple, list, map or integer magnitude has more than `u32::MAX` elements
    /// or bytes, which the format cannot express.
    pub fn encode(&self, term: &Term) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(term, &mut out);
        out
    }

    /// Appends the encoding of `term` to `out`. Panics as [`EncodeOptions::encode`].
    pub fn encode_into(&self, term: &Term, out: &mut Vec<u8>) {
        self.encode_to(term, out);
    }

    /// Appends the encoding of `term` to `out` without copying binaries of at least
    /// [`SEGMENT_MIN`] bytes: they are shared. Panics as [`EncodeOptions::encode`].
    pub fn encode_segments(&self, term: &Term, out: &mut Segments) {
        self.encode_to(term, out);
    }

    fn encode_to<S: Sink>(&self, term: &Term, out: &mut S) {
        if self.version_byte {
            out.push(tag::VERSION);
        }
        Encoder { out, opts: self }.term(term);
    }
}

/// Binaries from this size on are shared by [`Segments`] rather than copied: below it a
/// segment of its own costs more (an iovec and a reference count) than the copy.
pub const SEGMENT_MIN: usize = 4096;

/// An encoding in pieces: runs of encoded bytes and the shared [`Bytes`] of large binaries,
/// in order; their concatenation is what [`encode_into`] writes. The carrier sends them
/// with a gathering `sendmsg`, so a large binary goes from the term to the socket uncopied.
#[derive(Clone, Debug, Default)]
pub struct Segments {
    done: Vec<Bytes>,
    pending: Vec<u8>,
    len: usize,
}

impl Segments {
    /// Nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order (empty pieces left out).
    pub fn into_parts(mut self) -> Vec<Bytes> {
        self.flush();
        self.done
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.done.push(std::mem::take(&mut self.pending).into());
        }
    }
}

/// Where the encoder writes: a buffer, or segments that share large binaries.
trait Sink {
    fn push(&mut self, v: u8);
    fn extend_from_slice(&mut self, v: &[u8]);
    fn binary(&mut self, v: &Bytes) {
        self.extend_from_slice(v);
    }
}

impl Sink for Vec<u8> {
    fn push(&mut self, v: u8) {
        Self::push(self, v);
    }
    fn extend_from_slice(&mut self, v: &[u8]) {
        Self::extend_from_slice(self, v);
    }
}

impl Sink for Segments {
    fn push(&mut self, v: u8) {
        self.pending.push(v);
        self.len += 1;
    }
    fn extend_from_slice(&mut self, v: &[u8]) {
        self.pending.extend_from_slice(v);
        self.len += v.len();
    }
    fn binary(&mut self, v: &Bytes) {
        if v.len() < SEGMENT_MIN {
            self.extend_from_slice(v);
            return;
        }
        self.flush();
        self.done.push(v.clone());
        self.len += v.len();
    }
}

/// `term_to_binary(Term, [{minor_version, 2}])`: version byte 131 and the term.
///
/// Panics only for lengths over `u32::MAX` (see [`EncodeOptions::encode`]).
pub fn encode(term: &Term) -> Vec<u8> {
    EncodeOptions::default().encode(term)
}

/// Appends `131` and the encoding of `term` to `out`; see [`encode`].
pub fn encode_into(term: &Term, out: &mut Vec<u8>) {
    EncodeOptions::default().encode_into(term, out);
}

/// Appends `131` and the encoding of `term` to `out`, sharing large binaries; see
/// [`EncodeOptions::encode_segments`].
pub fn encode_segments(term: &Term, out: &mut Segments) {
    EncodeOptions::default().encode_segments(term, out);
}

/// Strings up to this length are `STRING_EXT` (its length field is 16 bits).
const MAX_STRING_EXT: usize = 0xffff;

/// One list element: a term, or a byte from a `Term::String` spliced into a list.
#[derive(Clone, Copy)]
pub(super) enum Elem<'a> {
    Term(&'a Term),
    Byte(u8),
}

/// The cons cells of a (possibly non-canonical) list flattened: all elements and the final
/// tail, which is not a list.
pub(super) fn spine<'a>(elements: &'a [Term], mut tail: &'a Term) -> (Vec<Elem<'a>>, &'a Term) {
    let mut out: Vec<Elem<'a>> = elements.iter().map(Elem::Term).collect();
    loop {
        match tail {
            Term::List { elements, tail: t } => {
                out.extend(elements.iter().map(Elem::Term));
                tail = t;
            }
            Term::String(bytes) => {
                out.extend(bytes.iter().copied().map(Elem::Byte));
                return (out, &NIL);
            }
            other => return (out, other),
        }
    }
}

static NIL: Term = Term::Nil;

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("length exceeds the external term format's 32-bit fields")
}

struct Encoder<'a, S> {
    out: &'a mut S,
    opts: &'a EncodeOptions,
}

impl<S: Sink> Encoder<'_, S> {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn term(&mut self, term: &Term) {
        match term {
            Term::Atom(a) => self.atom(a),
            Term::Integer(i) => self.integer(i),
            Term::Float(f) => {
                self.u8(tag::NEW_FLOAT_EXT);
                self.out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Term::Binary(bytes) => {
                self.u8(tag::BINARY_EXT);
                self.u32(len_u32(bytes.len()));
                self.out.binary(bytes);
            }
            Term::BitBinary(b) => {
                self.u8(tag::BIT_BINARY_EXT);
                self.u32(len_u32(b.bytes().len()));
                self.u8(b.bits_in_last_byte());
                self.out.extend_from_slice(b.bytes());
            }
            Term::Tuple(elements) => {
                if let Ok(n) = u8::try_from(elements.len()) {
                    self.u8(tag::SMALL_TUPLE_EXT);
                    self.u8(n);
                } else {
                    self.u8(tag::LARGE_TUPLE_EXT);
                    self.u32(len_u32(elements.len()));
                }
                elements.iter().for_each(|e| self.term(e));
            }
            Term::Nil => self.u8(tag::NIL_EXT),
            Term::String(bytes) => self.string(bytes),
            Term::List { elements, tail } => self.list(elements, tail),
            Term::Map(pairs) => {
                self.u8(tag::MAP_EXT);
                self.u32(len_u32(pairs.len()));
                for (k, v) in pairs {
                    self.term(k);
                    self.term(v);
                }
            }
            Term::Pid(p) => {
                self.u8(tag::NEW_PID_EXT);
                self.atom(&p.node);
                self.u32(p.id);
                self.u32(p.serial);
                self.u32(p.creation);
            }
            Term::Port(p) => {
                // OTP keeps the pre-OTP-24 form for port numbers below 2^28
                // (ERTS_MAX_V3_PORT_NUMBER); vectors port_ext_2p28m1 / port_ext_2p28.
                match u32::try_from(p.id) {
                    Ok(id) if id < 1 << 28 => {
                        self.u8(tag::NEW_PORT_EXT);
                        self.atom(&p.node);
                        self.u32(id);
                    }
                    _ => {
                        self.u8(tag::V4_PORT_EXT);
                        self.atom(&p.node);
                        self.out.extend_from_slice(&p.id.to_be_bytes());
                    }
                }
                self.u32(p.creation);
            }
            Term::Reference(r) => {
                self.u8(tag::NEWER_REFERENCE_EXT);
                // At most Reference::MAX_IDS words by construction.
                self.u16(r.ids().len() as u16);
                self.atom(&r.node);
                self.u32(r.creation);
                r.ids().iter().for_each(|&id| self.u32(id));
            }
            Term::Export(e) => {
                self.u8(tag::EXPORT_EXT);
                self.atom(&e.module);
                self.atom(&e.function);
                self.u8(tag::SMALL_INTEGER_EXT);
                self.u8(e.arity);
            }
        }
    }

    fn atom(&mut self, atom: &Atom) {
        let name = atom.as_str();
        if self.opts.atoms == AtomEncoding::Latin1 && name.chars().all(|c| u32::from(c) < 256) {
            self.u8(tag::ATOM_EXT);
            // At most 255 characters by construction of `Atom`.
            self.u16(name.chars().count() as u16);
            name.chars().for_each(|c| self.u8(u32::from(c) as u8));
            return;
        }
        if let Ok(len) = u8::try_from(name.len()) {
            self.u8(tag::SMALL_ATOM_UTF8_EXT);
            self.u8(len);
        } else {
            self.u8(tag::ATOM_UTF8_EXT);
            // At most 255 characters of at most 4 bytes by construction of `Atom`.
            self.u16(name.len() as u16);
        }
        self.out.extend_from_slice(name.as_bytes());
    }

    fn integer(&mut self, i: &Integer) {
        if let Some((negative, magnitude)) = i.big_parts() {
            self.big(negative, magnitude);
        } else if let Some(b) = i.as_byte() {
            self.u8(tag::SMALL_INTEGER_EXT);
            self.u8(b);
        } else if let Some(w) = i.as_i64().and_then(|v| i32::try_from(v).ok()) {
            self.u8(tag::INTEGER_EXT);
            self.out.extend_from_slice(&w.to_be_bytes());
        } else {
            // An i64 outside the i32 range: SMALL_BIG_EXT with up to 8 bytes.
            self.big(i.is_negative(), &i.magnitude_le());
        }
    }

    fn big(&mut self, negative: bool, magnitude: &[u8]) {
        if let Ok(n) = u8::try_from(magnitude.len()) {
            self.u8(tag::SMALL_BIG_EXT);
            self.u8(n);
        } else {
            self.u8(tag::LARGE_BIG_EXT);
            self.u32(len_u32(magnitude.len()));
        }
        self.u8(u8::from(negative));
        self.out.extend_from_slice(magnitude);
    }

    fn string(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            self.u8(tag::NIL_EXT);
        } else if bytes.len() <= MAX_STRING_EXT {
            self.u8(tag::STRING_EXT);
            self.u16(bytes.len() as u16);
            self.out.extend_from_slice(bytes);
        } else {
            // term_to_binary writes longer byte lists cell by cell (vector list_65536_bytes).
            self.u8(tag::LIST_EXT);
            self.u32(len_u32(bytes.len()));
            for &b in bytes {
                self.u8(tag::SMALL_INTEGER_EXT);
                self.u8(b);
            }
            self.u8(tag::NIL_EXT);
        }
    }

    fn list(&mut self, elements: &[Term], tail: &Term) {
        let canonical = !elements.is_empty()
            && !matches!(tail, Term::List { .. } | Term::String(_))
            && (*tail != Term::Nil || elements.iter().any(|e| super::byte_of(e).is_none()));
        if canonical {
            self.u8(tag::LIST_EXT);
            self.u32(len_u32(elements.len()));
            elements.iter().for_each(|e| self.term(e));
            self.term(tail);
            return;
        }
        // Not canonical: write what term_to_binary writes for the same Erlang value.
        let (spine, tail) = spine(elements, tail);
        if spine.is_empty() {
            self.term(tail);
            return;
        }
        if *tail == Term::Nil {
            let bytes: Option<Vec<u8>> = spine
                .iter()
                .map(|e| match e {
                    Elem::Byte(b) => Some(*b),
                    Elem::Term(t) => super::byte_of(t),
                })
                .collect();
            if let Some(bytes) = bytes {
                self.string(&bytes);
                return;
            }
        }
        self.u8(tag::LIST_EXT);
        self.u32(len_u32(spine.len()));
        for e in spine {
            match e {
                Elem::Term(t) => self.term(t),
                Elem::Byte(b) => {
                    self.u8(tag::SMALL_INTEGER_EXT);
                    self.u8(b);
                }
            }
        }
        self.term(tail);
    }
}
