//! Fuzzing properties, shared by the cargo-fuzz targets in `fuzz/` (feature `fuzz`) and the
//! unit tests. Each takes arbitrary bytes and panics when a property fails.

use super::{
    AtomEncoding, Bytes, DecodeOptions, EncodeOptions, Segments, decode, decode_prefix,
    decode_shared, encode, encode_segments,
};

/// Decode -> encode -> decode: whatever decodes must re-encode to bytes that decode to the
/// same term and re-encode to the same bytes (also with Latin-1 atoms, without the version
/// byte and as segments), and prefix and shared decoding must agree with whole-input
/// decoding. Never panics on
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
    // Sharing the input changes nothing but where binaries live.
    let shared = decode_shared(&Bytes::copy_from_slice(data));
    assert_eq!(shared, whole, "decode_shared and decode disagree");
    let Ok(term) = whole else { return };

    let bytes = encode(&term);
    let again = decode(&bytes).expect("re-encoded term does not decode");
    assert_eq!(again, term, "decode(encode(t)) != t");
    assert_eq!(encode(&again), bytes, "encoding is not stable");
    let mut segments = Segments::new();
    encode_segments(&term, &mut segments);
    assert_eq!(segments.len(), bytes.len(), "Segments::len");
    assert_eq!(
        segments.into_parts().concat(),
        bytes,
        "segments differ from encode"
    );

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
