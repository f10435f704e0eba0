//! parse -> emit -> parse -> emit on arbitrary bytes; the property is
//! `gptp_core::wire::fuzz_roundtrip`. Seed corpus: `corpus/wire_roundtrip/` (capture frames).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gptp_core::wire::fuzz_roundtrip(data));
