//! Fuzzing properties, shared by the cargo-fuzz targets in `fuzz/` (feature `fuzz`) and the
//! unit tests. Each takes arbitrary bytes and panics when a property fails.

use super::{AtomEncoding, DecodeOptions, EncodeOptions, decode, decode_prefix, encode};

/// Decode -> encode -> decode: whatever decodes must re-encode to bytes that decode to the
/// same term and re-encode to the same bytes (also with Latin-1 atoms and without the
/// version byte), and prefix decoding must agree with whole-input decoding. Never panics on
/// its own: a panic is a bug.
pub fn term_roundtrip(data: &[u8]) {
    let whole = decode(data);
    match decode_prefix(data) {
        Ok((term, [])) => {
            assert_eq!(
                whole.as_ref().ok(),
                Some(&term),
                "decode and decode_prefix disagree"
            );
        }
        _ => assert!(whole.is_err(), "decode accepted what decode_prefix did not"),
    }
    let Ok(term) = whole else { return };

    let bytes = encode(&term);
    let again = decode(&bytes).expect("re-encoded term does not decode");
    assert_eq!(again, term, "decode(encode(t)) != t");
    assert_eq!(encode(&again), bytes, "encoding is not stable");

    let legacy = EncodeOptions {
        atoms: AtomEncoding::Latin1,
        ..EncodeOptions::default()
    }
    .encode(&term);
    assert_eq!(
        decode(&legacy).as_ref(),
        Ok(&term),
        "Latin-1 atoms round trip"
    );

    let bare = EncodeOptions {
        version_byte: false,
        ..EncodeOptions::default()
    }
    .encode(&term);
    assert_eq!(&bare[..], &bytes[1..], "version byte option");
    let no_version = DecodeOptions {
        version_byte: false,
        ..DecodeOptions::default()
    };
    assert_eq!(
        no_version.decode(&bare).as_ref(),
        Ok(&term),
        "bare round trip"
    );
}
