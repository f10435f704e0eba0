//! The wire error.

/// Why a buffer could not be viewed, parsed or emitted.
///
/// Deliberately small: a malformed frame from a peer is dropped and counted by the caller, so
/// the error only says what was wrong, not where in a larger structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the header (or the length field) says it must be.
    #[error("buffer truncated")]
    Truncated,
    /// A field holds a value this layer does not accept.
    #[error("bad value in field `{field}`")]
    BadField {
        /// The field's name, as in the view's accessor.
        field: &'static str,
    },
}

/// `Result` with the wire [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
