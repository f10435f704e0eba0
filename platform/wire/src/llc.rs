//! IEEE 802.2 LLC header, as carried by 802.3 frames (the ones with a length field).
//!
//! ```text
//! +--------+--------+-------------------+
//! |  DSAP  |  SSAP  | control (1 or 2)  |  payload ...
//! +--------+--------+-------------------+
//! ```
//!
//! The control field is one octet in U-format (low two bits `11`; IS-IS and STP use
//! `0x03`, UI) and two octets in I- and S-format. IS-IS frames start `FE FE 03`.

use crate::{Error, Result};

/// SAP of ISO network layer protocols (IS-IS, CLNP).
pub const SAP_OSI: u8 = 0xfe;
/// SAP of the spanning tree protocols (STP, RSTP, MSTP).
pub const SAP_STP: u8 = 0x42;
/// SAP of SNAP, which an OUI and a protocol ID follow.
pub const SAP_SNAP: u8 = 0xaa;

/// Length of the U-format header (DSAP, SSAP, one control octet).
pub const LLC_U_HEADER_LEN: usize = 3;

mod field {
    pub(super) const DSAP: usize = 0;
    pub(super) const SSAP: usize = 1;
    pub(super) const CONTROL: usize = 2;
}

/// The control field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlcControl {
    /// U-format, one octet whose low two bits are `11`.
    Unnumbered(u8),
    /// I- or S-format, two octets; the first on the wire is the high byte and its low two bits
    /// are not `11`.
    Sequenced(u16),
}

impl LlcControl {
    /// Unnumbered information, `0x03`: what IS-IS and STP send.
    pub const UI: Self = Self::Unnumbered(0x03);

    /// Octets the field takes on the wire: 1 or 2.
    pub const fn wire_len(&self) -> usize {
        match self {
            Self::Unnumbered(_) => 1,
            Self::Sequenced(_) => 2,
        }
    }

    /// Whether the first octet agrees with the variant, so that it parses back the same.
    pub const fn is_well_formed(&self) -> bool {
        match *self {
            Self::Unnumbered(c) => c & 0x03 == 0x03,
            Self::Sequenced(c) => (c >> 8) & 0x03 != 0x03,
        }
    }
}

const fn is_u_format(first_control_octet: u8) -> bool {
    first_control_octet & 0x03 == 0x03
}

/// A read/write view of an LLC header and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Llc<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Llc<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let llc = Self::new_unchecked(buffer);
        llc.check_len()?;
        Ok(llc)
    }

    /// `Err(Truncated)` unless the buffer holds the whole header: three octets, or four if
    /// the control field is I- or S-format.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        match b.get(field::CONTROL) {
            Some(&c) if is_u_format(c) || b.len() >= 4 => Ok(()),
            _ => Err(Error::Truncated),
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Header length: 3 (U-format) or 4.
    pub fn header_len(&self) -> usize {
        if is_u_format(self.buffer.as_ref()[field::CONTROL]) {
            3
        } else {
            4
        }
    }

    /// Destination service access point (raw, including the I/G bit).
    pub fn dsap(&self) -> u8 {
        self.buffer.as_ref()[field::DSAP]
    }

    /// Source service access point (raw, including the C/R bit).
    pub fn ssap(&self) -> u8 {
        self.buffer.as_ref()[field::SSAP]
    }

    /// The control field, one or two octets.
    pub fn control(&self) -> LlcControl {
        let b = self.buffer.as_ref();
        if is_u_format(b[field::CONTROL]) {
            LlcControl::Unnumbered(b[field::CONTROL])
        } else {
            LlcControl::Sequenced(u16::from_be_bytes([
                b[field::CONTROL],
                b[field::CONTROL + 1],
            ]))
        }
    }

    /// What follows the header (the IS-IS PDU, starting `0x83`, for IS-IS).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Llc<T> {
    /// Sets the DSAP.
    pub fn set_dsap(&mut self, dsap: u8) {
        self.buffer.as_mut()[field::DSAP] = dsap;
    }

    /// Sets the SSAP.
    pub fn set_ssap(&mut self, ssap: u8) {
        self.buffer.as_mut()[field::SSAP] = ssap;
    }

    /// Sets the control field. `Err(Truncated)` if a two-octet field does not fit,
    /// `Err(BadField)` if the value contradicts its variant (see [`LlcControl`]).
    pub fn set_control(&mut self, control: LlcControl) -> Result<()> {
        if !control.is_well_formed() {
            return Err(Error::BadField { field: "control" });
        }
        let b = self.buffer.as_mut();
        match control {
            LlcControl::Unnumbered(c) => b[field::CONTROL] = c,
            LlcControl::Sequenced(c) => b
                .get_mut(field::CONTROL..field::CONTROL + 2)
                .ok_or(Error::Truncated)?
                .copy_from_slice(&c.to_be_bytes()),
        }
        Ok(())
    }

    /// What follows the header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// An owned LLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LlcRepr {
    /// Destination SAP.
    pub dsap: u8,
    /// Source SAP.
    pub ssap: u8,
    /// Control field.
    pub control: LlcControl,
}

impl LlcRepr {
    /// `FE FE 03`: the header of every IS-IS PDU.
    pub const ISIS: Self = Self {
        dsap: SAP_OSI,
        ssap: SAP_OSI,
        control: LlcControl::UI,
    };

    /// Parses the header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(llc: &Llc<&T>) -> Result<Self> {
        llc.check_len()?;
        Ok(Self {
            dsap: llc.dsap(),
            ssap: llc.ssap(),
            control: llc.control(),
        })
    }

    /// Header length [`emit`](Self::emit) writes: 3 or 4.
    pub const fn buffer_len(&self) -> usize {
        2 + self.control.wire_len()
    }

    /// Writes the header. `Err(Truncated)` if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len), `Err(BadField { field: "control" })` if the control
    /// value contradicts its variant.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, llc: &mut Llc<T>) -> Result<()> {
        if !self.control.is_well_formed() {
            return Err(Error::BadField { field: "control" });
        }
        if llc.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::Truncated);
        }
        llc.set_dsap(self.dsap);
        llc.set_ssap(self.ssap);
        llc.set_control(self.control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isis_header_byte_exact() {
        let bytes = [0xfe, 0xfe, 0x03, 0x83, 0x14];
        let llc = Llc::new_checked(&bytes[..]).unwrap();
        assert_eq!(LlcRepr::parse(&llc), Ok(LlcRepr::ISIS));
        assert_eq!(llc.header_len(), 3);
        assert_eq!(llc.payload(), &[0x83, 0x14]);
        let mut out = [0xa5u8; 3];
        LlcRepr::ISIS
            .emit(&mut Llc::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, bytes[..3]);
    }

    #[test]
    fn sequenced_control_is_two_octets() {
        let bytes = [0x06, 0x07, 0x0a, 0x0b, 0x99];
        let llc = Llc::new_checked(&bytes[..]).unwrap();
        let repr = LlcRepr::parse(&llc).unwrap();
        assert_eq!(repr.control, LlcControl::Sequenced(0x0a0b));
        assert_eq!((repr.buffer_len(), llc.payload()), (4, &[0x99][..]));
        let mut out = [0xa5u8; 4];
        repr.emit(&mut Llc::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out, bytes[..4]);
        // Three octets are not enough for an I-format header.
        assert_eq!(Llc::new_checked(&bytes[..3]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn ill_formed_control_is_rejected() {
        let mut out = [0u8; 4];
        for repr in [
            LlcRepr {
                control: LlcControl::Unnumbered(0x02),
                ..LlcRepr::ISIS
            },
            LlcRepr {
                control: LlcControl::Sequenced(0x0300),
                ..LlcRepr::ISIS
            },
        ] {
            assert_eq!(
                repr.emit(&mut Llc::new_unchecked(&mut out[..])),
                Err(Error::BadField { field: "control" })
            );
        }
        // A 3-byte view whose check_len passed cannot take a 2-octet control.
        let mut short = [0xfe, 0xfe, 0x03];
        let mut llc = Llc::new_checked(&mut short[..]).unwrap();
        assert_eq!(
            llc.set_control(LlcControl::Sequenced(0)),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn truncated_never_panics() {
        for bytes in [&[0xfe, 0xfe, 0x03][..], &[0xaa, 0xaa, 0x00, 0x00][..]] {
            for len in 0..bytes.len() {
                let llc = Llc::new_unchecked(&bytes[..len]);
                assert_eq!(
                    LlcRepr::parse(&llc),
                    Err(Error::Truncated),
                    "{bytes:?} {len}"
                );
            }
        }
    }
}
