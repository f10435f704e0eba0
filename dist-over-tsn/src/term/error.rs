//! The codec's error type.

/// Why a byte string is not a term this codec accepts, or why a value cannot become a term.
///
/// Decoding never panics and never allocates more than a small multiple of the input, whatever
/// the input; every problem ends up here instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TermError {
    /// The input ended inside a fixed-size field.
    #[error("input truncated: {needed} more bytes needed, {remaining} left")]
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or element count is larger than the rest of the input could hold.
    #[error("declared length {declared} does not fit in the {remaining} bytes left")]
    LengthExceedsInput {
        /// The declared length (bytes or elements).
        declared: u64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// The first byte is not the version magic 131.
    #[error("expected version byte 131, found {0}")]
    BadVersion(u8),
    /// A tag byte that is not part of the external term format.
    #[error("unknown term tag {0}")]
    UnknownTag(u8),
    /// A valid tag this codec deliberately does not handle.
    #[error("unsupported term tag {tag} ({what})")]
    Unsupported {
        /// The tag byte.
        tag: u8,
        /// What the tag encodes.
        what: &'static str,
    },
    /// A field holds a value the format or Erlang does not allow.
    #[error("invalid {field}")]
    BadField {
        /// Which field.
        field: &'static str,
    },
    /// An atom with more than 255 characters (Erlang's limit).
    #[error("atom longer than 255 characters")]
    AtomTooLong,
    /// Containers nested deeper than the configured limit.
    #[error("terms nested deeper than {limit}")]
    TooDeep {
        /// The configured limit ([`DecodeOptions::max_depth`](super::DecodeOptions::max_depth)).
        limit: usize,
    },
    /// [`decode`](super::decode) found bytes after the term.
    #[error("{0} trailing bytes after the term")]
    TrailingBytes(usize),
}
