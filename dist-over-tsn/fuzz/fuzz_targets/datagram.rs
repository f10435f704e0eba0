#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_over_tsn::carrier::fuzz::datagram(data));
