//! parse -> emit -> parse -> emit of IS-IS PDUs on arbitrary bytes; the property is
//! `switch_ctl_core::isis::wire::fuzz_roundtrip`. Seed corpus: `corpus/wire_roundtrip/`
//! (the PDUs of the FRR captures).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| switch_ctl_core::isis::wire::fuzz_roundtrip(data));
