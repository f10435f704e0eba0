//! TLV 10 authentication: cleartext, HMAC-MD5 (RFC 5304) and HMAC-SHA (RFC 5310).
//!
//! The digest covers the whole PDU with the digest field zeroed (RFC 5304) or filled with
//! Apad (RFC 5310), and for LSPs with the checksum and remaining lifetime zeroed too, so an
//! LSP can age and be re-flooded without being re-signed. An LSP is signed first and then
//! checksummed ([`super::fill_lsp_checksum`]).

use hmac::{Hmac, KeyInit, Mac};

use super::{
    AUTH_CLEARTEXT, AUTH_GENERIC_CRYPTO, AUTH_HMAC_MD5, Authentication, IsisPacket,
    LSP_CHECKSUM_OFFSET, LSP_LIFETIME_OFFSET, TLV_AUTHENTICATION, Tlv, pdu_type,
};

/// The SHA variants of RFC 5310.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShaAlgorithm {
    /// HMAC-SHA1, 20 octets.
    Sha1,
    /// HMAC-SHA256, 32 octets.
    Sha256,
    /// HMAC-SHA384, 48 octets.
    Sha384,
    /// HMAC-SHA512, 64 octets.
    Sha512,
}

impl ShaAlgorithm {
    /// Digest length.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// A configured key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum AuthKey {
    /// Cleartext password (type 1): no integrity, only for interop.
    Cleartext(Vec<u8>),
    /// HMAC-MD5 (type 54, RFC 5304).
    HmacMd5(Vec<u8>),
    /// HMAC-SHA with a key ID (type 3, RFC 5310).
    HmacSha {
        /// The hash.
        algorithm: ShaAlgorithm,
        /// Key ID carried in the TLV.
        key_id: u16,
        /// The key.
        key: Vec<u8>,
    },
}

impl core::fmt::Debug for AuthKey {
    // Never print key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Cleartext(_) => f.write_str("Cleartext(..)"),
            Self::HmacMd5(_) => f.write_str("HmacMd5(..)"),
            Self::HmacSha {
                algorithm, key_id, ..
            } => write!(f, "HmacSha({algorithm:?}, key {key_id})"),
        }
    }
}

/// Why a PDU failed authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The PDU did not parse far enough to find TLV 10.
    #[error("malformed PDU")]
    Malformed,
    /// No authentication TLV.
    #[error("no authentication TLV")]
    Missing,
    /// Another type, key ID or digest length than configured.
    #[error("authentication type or key does not match")]
    WrongType,
    /// The digest or password is wrong.
    #[error("authentication failed")]
    Mismatch,
}

const APAD: [u8; 4] = [0x87, 0x8f, 0xe1, 0xf3];

impl AuthKey {
    /// The TLV to put into a PDU before [`sign`]: the right type and length, digest zero.
    pub fn placeholder(&self) -> Tlv {
        let (auth_type, value) = match self {
            Self::Cleartext(p) => (AUTH_CLEARTEXT, p.clone()),
            Self::HmacMd5(_) => (AUTH_HMAC_MD5, vec![0; 16]),
            Self::HmacSha {
                algorithm, key_id, ..
            } => {
                let mut v = key_id.to_be_bytes().to_vec();
                v.resize(2 + algorithm.digest_len(), 0);
                (AUTH_GENERIC_CRYPTO, v)
            }
        };
        Tlv::Authentication(Authentication { auth_type, value })
    }

    /// Offset of the digest within the TLV value after the type octet, and its length.
    fn digest_field(&self) -> Option<(usize, usize)> {
        match self {
            Self::Cleartext(_) => None,
            Self::HmacMd5(_) => Some((0, 16)),
            Self::HmacSha { algorithm, .. } => Some((2, algorithm.digest_len())),
        }
    }
}

fn compute(key: &AuthKey, data: &[u8], tag: Option<&[u8]>) -> (Vec<u8>, bool) {
    fn run<M: Mac + KeyInit>(k: &[u8], data: &[u8], tag: Option<&[u8]>) -> (Vec<u8>, bool) {
        let Ok(mut m) = <M as KeyInit>::new_from_slice(k) else {
            return (Vec::new(), false);
        };
        m.update(data);
        match tag {
            Some(t) => (Vec::new(), m.verify_slice(t).is_ok()),
            None => (m.finalize().into_bytes().to_vec(), false),
        }
    }
    match key {
        AuthKey::Cleartext(_) => (Vec::new(), false),
        AuthKey::HmacMd5(k) => run::<Hmac<md5::Md5>>(k, data, tag),
        AuthKey::HmacSha { algorithm, key, .. } => match algorithm {
            ShaAlgorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, data, tag),
            ShaAlgorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, data, tag),
            ShaAlgorithm::Sha384 => run::<Hmac<sha2::Sha384>>(key, data, tag),
            ShaAlgorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, data, tag),
        },
    }
}

/// Finds the first TLV 10 and returns (offset of its value in `pdu`, value length).
fn find_auth(pdu: &[u8]) -> Result<(usize, usize), AuthError> {
    let p = IsisPacket::new_checked(pdu).map_err(|_| AuthError::Malformed)?;
    let base = p.header().len();
    for item in p.tlvs() {
        let (at, typ, value) = item.map_err(|_| AuthError::Malformed)?;
        if typ == TLV_AUTHENTICATION {
            return Ok((base + at + 2, value.len()));
        }
    }
    Err(AuthError::Missing)
}

/// The bytes the digest covers: the PDU with the digest field replaced by `fill` and, for an
/// LSP, checksum and lifetime zeroed.
fn covered(pdu: &[u8], digest_at: usize, digest_len: usize, sha: bool) -> Vec<u8> {
    let mut v = pdu.to_vec();
    for (i, b) in v[digest_at..digest_at + digest_len].iter_mut().enumerate() {
        *b = if sha { APAD[i % 4] } else { 0 };
    }
    let t = v[4] & 0x1f;
    if t == pdu_type::L1_LSP || t == pdu_type::L2_LSP {
        v[LSP_LIFETIME_OFFSET..LSP_LIFETIME_OFFSET + 2].fill(0);
        v[LSP_CHECKSUM_OFFSET..LSP_CHECKSUM_OFFSET + 2].fill(0);
    }
    v
}

/// Signs an encoded PDU (up to its PDU length) in place: its first TLV 10 must be
/// `key.placeholder()`. For an LSP, fill the checksum afterwards.
pub fn sign(pdu: &mut [u8], key: &AuthKey) -> Result<(), AuthError> {
    let (at, len) = find_auth(pdu)?;
    let Some((off, dlen)) = key.digest_field() else {
        return Ok(());
    };
    if len != 1 + off + dlen {
        return Err(AuthError::WrongType);
    }
    let d_at = at + 1 + off;
    let sha = matches!(key, AuthKey::HmacSha { .. });
    let data = covered(pdu, d_at, dlen, sha);
    let (digest, _) = compute(key, &data, None);
    pdu[d_at..d_at + dlen].copy_from_slice(&digest);
    Ok(())
}

/// Checks an encoded PDU (an LLC payload) against `key`.
pub fn verify(pdu: &[u8], key: &AuthKey) -> Result<(), AuthError> {
    let p = IsisPacket::new_checked(pdu).map_err(|_| AuthError::Malformed)?;
    let pdu = p.pdu();
    let (at, len) = find_auth(pdu)?;
    let value = &pdu[at..at + len];
    let want_type = match key {
        AuthKey::Cleartext(_) => AUTH_CLEARTEXT,
        AuthKey::HmacMd5(_) => AUTH_HMAC_MD5,
        AuthKey::HmacSha { .. } => AUTH_GENERIC_CRYPTO,
    };
    if value.first() != Some(&want_type) {
        return Err(AuthError::WrongType);
    }
    match key {
        AuthKey::Cleartext(p) => {
            return if &value[1..] == p.as_slice() {
                Ok(())
            } else {
                Err(AuthError::Mismatch)
            };
        }
        AuthKey::HmacSha { key_id, .. } if value.get(1..3) != Some(&key_id.to_be_bytes()[..]) => {
            return Err(AuthError::WrongType);
        }
        _ => {}
    }
    let Some((off, dlen)) = key.digest_field() else {
        return Err(AuthError::WrongType);
    };
    if len != 1 + off + dlen {
        return Err(AuthError::WrongType);
    }
    let d_at = at + 1 + off;
    let sha = matches!(key, AuthKey::HmacSha { .. });
    let data = covered(pdu, d_at, dlen, sha);
    let (_, ok) = compute(key, &data, Some(&pdu[d_at..d_at + dlen]));
    if ok { Ok(()) } else { Err(AuthError::Mismatch) }
}
