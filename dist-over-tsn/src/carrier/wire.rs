//! Carrier datagrams: a zero-copy [`Packet`] view and an owned [`Repr`].
//!
//! Every datagram starts with a 12-byte header: magic `0xD1 0x57`, version 1, kind, and the
//! 64-bit connection id the *receiver* chose during the handshake (0 in a `Hello`). All
//! integers are big-endian. Layouts after the header:
//!
//! | kind | body |
//! |---|---|
//! | 1 Hello | nonce:16, conn:64 (sender's id), name_len:8, name, [urgent_port:16] |
//! | 2 Challenge | nonce:16, conn:64, mac:32, name_len:8, name, [urgent_port:16] |
//! | 3 Confirm | mac:32 |
//! | 4 Data | class:8, flags:8 (1 first, 2 last), reserved:16, seq:64, msg:32, total:32, offset:32, payload |
//! | 5 Ack | class:8, reserved:24, next:64 (cumulative), sack:64 (bit i = next+1+i held), window:32 (bytes) |
//! | 6 Tick | nothing |
//! | 7 Close | nothing |
//!
//! `urgent_port` (optional on input, always written; 0 or absent: none) is the UDP port, on
//! the sender's address, to which control and real-time datagrams go, so that they never
//! queue behind bulk ones in one socket. Bytes after it are ignored, for later extensions.
//!
//! If [`Packet::new_checked`] returned `Ok`, no accessor panics; [`Repr::parse`] checks the
//! body of each kind before reading it, so hostile bytes give a [`WireError`], never a panic.

use super::Class;

/// First two bytes of every datagram.
pub const MAGIC: [u8; 2] = [0xD1, 0x57];
/// Protocol version.
pub const VERSION: u8 = 1;
/// Bytes of the common header.
pub const HEADER_LEN: usize = 12;
/// Bytes of a handshake nonce.
pub const NONCE_LEN: usize = 16;
/// Bytes of a handshake MAC (HMAC-SHA256).
pub const MAC_LEN: usize = 32;
/// Bytes of the Data header after the common header.
pub const DATA_HEADER_LEN: usize = 24;
/// Bytes a Data datagram adds to its payload.
pub const DATA_OVERHEAD: usize = HEADER_LEN + DATA_HEADER_LEN;
/// Longest node name.
pub const MAX_NAME: usize = 255;

mod field {
    use std::ops::Range;
    pub(super) const MAGIC: Range<usize> = 0..2;
    pub(super) const VERSION: usize = 2;
    pub(super) const KIND: usize = 3;
    pub(super) const CONN: Range<usize> = 4..12;
}

/// Why a datagram did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than its fixed fields.
    #[error("truncated")]
    Truncated,
    /// Not our magic number.
    #[error("bad magic")]
    BadMagic,
    /// A version we do not speak.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    /// An unknown kind or a field out of range.
    #[error("bad field {field}")]
    BadField {
        /// Which field.
        field: &'static str,
    },
}

/// A zero-copy view of a datagram's common header.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking; accessors may panic on short input.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps after [`Self::check`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        p.check()?;
        Ok(p)
    }

    /// Length, magic and version.
    pub fn check(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if b[field::MAGIC] != MAGIC {
            return Err(WireError::BadMagic);
        }
        if b[field::VERSION] != VERSION {
            return Err(WireError::UnsupportedVersion(b[field::VERSION]));
        }
        Ok(())
    }

    /// The kind byte.
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[field::KIND]
    }

    /// The receiver's connection id.
    pub fn conn(&self) -> u64 {
        be_u64(&self.buffer.as_ref()[field::CONN])
    }

    /// Everything after the common header.
    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// One fragment of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataRepr<'a> {
    /// Traffic class (channel).
    pub class: Class,
    /// First fragment of its message.
    pub first: bool,
    /// Last fragment of its message.
    pub last: bool,
    /// Per-class sequence number of this datagram.
    pub seq: u64,
    /// Per-class message number.
    pub msg: u32,
    /// Length of the whole message.
    pub total: u32,
    /// Where this fragment starts in the message.
    pub offset: u32,
    /// The fragment.
    pub payload: &'a [u8],
}

/// The fields of a Data datagram without its payload, for a payload received elsewhere
/// (straight into reassembly, see `Endpoint::placement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHeader {
    /// Traffic class (channel).
    pub class: Class,
    /// First fragment of its message.
    pub first: bool,
    /// Last fragment of its message.
    pub last: bool,
    /// Per-class sequence number of this datagram.
    pub seq: u64,
    /// Per-class message number.
    pub msg: u32,
    /// Length of the whole message.
    pub total: u32,
    /// Where this fragment starts in the message.
    pub offset: u32,
    /// Length of the payload.
    pub len: usize,
}

impl DataHeader {
    /// The first [`DATA_OVERHEAD`] bytes of a datagram whose payload (the rest) is `len`
    /// bytes long: its receiver's connection id and the Data fields.
    pub fn parse_datagram(header: &[u8], len: usize) -> Result<(u64, Self), WireError> {
        let packet = Packet::new_checked(header)?;
        if packet.kind() != KIND_DATA {
            return Err(WireError::BadField { field: "kind" });
        }
        let b = packet.body();
        need(b, DATA_HEADER_LEN)?;
        Ok((packet.conn(), Self::parse(b, len)?))
    }

    /// The Data fields at the start of `b` (at least [`DATA_HEADER_LEN`] bytes), for a
    /// payload of `len` bytes.
    fn parse(b: &[u8], len: usize) -> Result<Self, WireError> {
        let class = class_of(b[0])?;
        let flags = b[1];
        if flags & !3 != 0 {
            return Err(WireError::BadField { field: "flags" });
        }
        let h = Self {
            class,
            first: flags & 1 != 0,
            last: flags & 2 != 0,
            seq: be_u64(&b[4..12]),
            msg: be_u32(&b[12..16]),
            total: be_u32(&b[16..20]),
            offset: be_u32(&b[20..24]),
            len,
        };
        // A fragment must lie inside its message, start it when first and end it when
        // last: a truncated fragment fails here.
        let end = u64::from(h.offset) + len as u64;
        if end > u64::from(h.total)
            || h.first != (h.offset == 0)
            || h.last != (end == u64::from(h.total))
        {
            return Err(WireError::BadField {
                field: "fragment bounds",
            });
        }
        Ok(h)
    }

    fn with_payload(self, payload: &[u8]) -> DataRepr<'_> {
        DataRepr {
            class: self.class,
            first: self.first,
            last: self.last,
            seq: self.seq,
            msg: self.msg,
            total: self.total,
            offset: self.offset,
            payload,
        }
    }
}

impl DataRepr<'_> {
    /// The fields without the payload.
    pub fn header(&self) -> DataHeader {
        DataHeader {
            class: self.class,
            first: self.first,
            last: self.last,
            seq: self.seq,
            msg: self.msg,
            total: self.total,
            offset: self.offset,
            len: self.payload.len(),
        }
    }
}

/// Cumulative and selective acknowledgement plus the receive window of one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckRepr {
    /// Class acknowledged.
    pub class: Class,
    /// Next sequence number expected: everything below arrived.
    pub next: u64,
    /// Bit i set: `next + 1 + i` arrived.
    pub sack: u64,
    /// Bytes the receiver can still buffer in this class.
    pub window: u32,
}

/// A parsed datagram, borrowing variable-length fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Handshake, initiator to responder.
    Hello {
        /// Initiator's nonce.
        nonce: [u8; NONCE_LEN],
        /// Connection id the initiator wants to be addressed with.
        conn: u64,
        /// Initiator's node name.
        name: &'a str,
        /// Initiator's port for control and real-time datagrams (0: none).
        urgent_port: u16,
    },
    /// Handshake, responder to initiator (header conn = initiator's id).
    Challenge {
        /// Responder's nonce.
        nonce: [u8; NONCE_LEN],
        /// Connection id the responder wants to be addressed with.
        conn: u64,
        /// Proof the responder knows the cookie.
        mac: [u8; MAC_LEN],
        /// Responder's node name.
        name: &'a str,
        /// Responder's port for control and real-time datagrams (0: none).
        urgent_port: u16,
    },
    /// Handshake, initiator's proof (header conn = responder's id).
    Confirm {
        /// Proof the initiator knows the cookie.
        mac: [u8; MAC_LEN],
    },
    /// A message fragment.
    Data(DataRepr<'a>),
    /// An acknowledgement.
    Ack(AckRepr),
    /// Keep-alive.
    Tick,
    /// The sender closes the connection.
    Close,
}

impl<'a> Repr<'a> {
    const HELLO: u8 = 1;
    const CHALLENGE: u8 = 2;
    const CONFIRM: u8 = 3;
    const DATA: u8 = KIND_DATA;
    const ACK: u8 = 5;
    const TICK: u8 = 6;
    const CLOSE: u8 = 7;

    /// Parses a checked packet; returns the header conn too.
    pub fn parse(packet: &Packet<&'a [u8]>) -> Result<(u64, Self), WireError> {
        let buf: &'a [u8] = packet.buffer;
        Self::parse_body(packet.kind(), &buf[HEADER_LEN..]).map(|r| (packet.conn(), r))
    }

    /// Parses a whole datagram: header check plus body.
    pub fn parse_datagram(data: &'a [u8]) -> Result<(u64, Self), WireError> {
        Self::parse(&Packet::new_checked(data)?)
    }

    fn parse_body(kind: u8, b: &'a [u8]) -> Result<Self, WireError> {
        Ok(match kind {
            Self::HELLO => {
                need(b, NONCE_LEN + 8 + 1)?;
                let name = name_at(b, NONCE_LEN + 8)?;
                Self::Hello {
                    nonce: array(&b[..NONCE_LEN]),
                    conn: be_u64(&b[NONCE_LEN..NONCE_LEN + 8]),
                    name,
                    urgent_port: port_after(b, NONCE_LEN + 8 + 1 + name.len()),
                }
            }
            Self::CHALLENGE => {
                let at = NONCE_LEN + 8 + MAC_LEN;
                need(b, at + 1)?;
                let name = name_at(b, at)?;
                Self::Challenge {
                    nonce: array(&b[..NONCE_LEN]),
                    conn: be_u64(&b[NONCE_LEN..NONCE_LEN + 8]),
                    mac: array(&b[NONCE_LEN + 8..at]),
                    name,
                    urgent_port: port_after(b, at + 1 + name.len()),
                }
            }
            Self::CONFIRM => {
                need(b, MAC_LEN)?;
                Self::Confirm {
                    mac: array(&b[..MAC_LEN]),
                }
            }
            Self::DATA => {
                need(b, DATA_HEADER_LEN)?;
                let payload = &b[DATA_HEADER_LEN..];
                Self::Data(DataHeader::parse(b, payload.len())?.with_payload(payload))
            }
            Self::ACK => {
                need(b, 24)?;
                Self::Ack(AckRepr {
                    class: class_of(b[0])?,
                    next: be_u64(&b[4..12]),
                    sack: be_u64(&b[12..20]),
                    window: be_u32(&b[20..24]),
                })
            }
            Self::TICK => Self::Tick,
            Self::CLOSE => Self::Close,
            _ => return Err(WireError::BadField { field: "kind" }),
        })
    }

    fn kind_byte(self) -> u8 {
        match self {
            Self::Hello { .. } => Self::HELLO,
            Self::Challenge { .. } => Self::CHALLENGE,
            Self::Confirm { .. } => Self::CONFIRM,
            Self::Data(_) => Self::DATA,
            Self::Ack(_) => Self::ACK,
            Self::Tick => Self::TICK,
            Self::Close => Self::CLOSE,
        }
    }

    /// Bytes [`Self::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Self::Hello { name, .. } => NONCE_LEN + 8 + 1 + name.len() + 2,
                Self::Challenge { name, .. } => NONCE_LEN + 8 + MAC_LEN + 1 + name.len() + 2,
                Self::Confirm { .. } => MAC_LEN,
                Self::Data(d) => DATA_HEADER_LEN + d.payload.len(),
                Self::Ack(_) => 24,
                Self::Tick | Self::Close => 0,
            }
    }

    /// Appends the datagram addressed to connection `conn` to `out`. Names longer than
    /// [`MAX_NAME`] are cut (node names are checked when a node is configured).
    pub fn emit(&self, conn: u64, out: &mut Vec<u8>) {
        out.reserve(self.buffer_len());
        emit_header(out, self.kind_byte(), conn);
        let put_name = |out: &mut Vec<u8>, name: &str| {
            let n = &name.as_bytes()[..name.len().min(MAX_NAME)];
            out.push(n.len() as u8);
            out.extend_from_slice(n);
        };
        match self {
            Self::Hello {
                nonce,
                conn,
                name,
                urgent_port,
            } => {
                out.extend_from_slice(nonce);
                out.extend_from_slice(&conn.to_be_bytes());
                put_name(out, name);
                out.extend_from_slice(&urgent_port.to_be_bytes());
            }
            Self::Challenge {
                nonce,
                conn,
                mac,
                name,
                urgent_port,
            } => {
                out.extend_from_slice(nonce);
                out.extend_from_slice(&conn.to_be_bytes());
                out.extend_from_slice(mac);
                put_name(out, name);
                out.extend_from_slice(&urgent_port.to_be_bytes());
            }
            Self::Confirm { mac } => out.extend_from_slice(mac),
            Self::Data(d) => {
                emit_data_header(
                    out, d.class, d.first, d.last, d.seq, d.msg, d.total, d.offset,
                );
                out.extend_from_slice(d.payload);
            }
            Self::Ack(a) => {
                out.extend_from_slice(&[a.class as u8, 0, 0, 0]);
                out.extend_from_slice(&a.next.to_be_bytes());
                out.extend_from_slice(&a.sack.to_be_bytes());
                out.extend_from_slice(&a.window.to_be_bytes());
            }
            Self::Tick | Self::Close => {}
        }
    }
}

/// Kind byte of a Data datagram.
pub(crate) const KIND_DATA: u8 = 4;

/// The common header alone.
pub(crate) fn emit_header(out: &mut Vec<u8>, kind: u8, conn: u64) {
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&conn.to_be_bytes());
}

/// The Data header fields, so a sender can write a payload straight after them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_data_header(
    out: &mut Vec<u8>,
    class: Class,
    first: bool,
    last: bool,
    seq: u64,
    msg: u32,
    total: u32,
    offset: u32,
) {
    out.push(class as u8);
    out.push(u8::from(first) | (u8::from(last) << 1));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&msg.to_be_bytes());
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
}

fn need(b: &[u8], n: usize) -> Result<(), WireError> {
    if b.len() < n {
        Err(WireError::Truncated)
    } else {
        Ok(())
    }
}

fn name_at(b: &[u8], at: usize) -> Result<&str, WireError> {
    let len = usize::from(b[at]);
    let bytes = b.get(at + 1..at + 1 + len).ok_or(WireError::Truncated)?;
    if bytes.is_empty() {
        return Err(WireError::BadField { field: "name" });
    }
    std::str::from_utf8(bytes).map_err(|_| WireError::BadField { field: "name" })
}

/// The optional port after a handshake's name; 0 when absent.
fn port_after(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |p| u16::from_be_bytes([p[0], p[1]]))
}

fn class_of(b: u8) -> Result<Class, WireError> {
    Class::from_u8(b).ok_or(WireError::BadField { field: "class" })
}

fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    a
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(array(b))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(array(b))
}
