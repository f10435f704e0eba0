//! Runs the fuzzing property ([`fuzz_roundtrip`]) in every `cargo test`: over the capture
//! frames (the fuzz seed corpus) and over a few thousand deterministic mutations of them.

use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SAMPLE: &[u8] = include_bytes!("../../tests/data/gptp-ptp4l-swts-sample.pcap");
const SIGNALING: &[u8] = include_bytes!("../../tests/data/gptp-signaling-crafted.pcap");
const ETHERNET_HEADER_LEN: usize = 14;

/// PTP payloads of every captured frame.
fn seeds() -> Vec<Vec<u8>> {
    [SAMPLE, SIGNALING]
        .iter()
        .flat_map(|pcap| tsn_wire::pcap::read_pcap(pcap).expect("capture reads"))
        .map(|p| p.data[ETHERNET_HEADER_LEN..].to_vec())
        .collect()
}

/// The mutation stream: seeded ChaCha8, so every run tests the same mutants.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }
    fn next(&mut self) -> u64 {
        self.0.random()
    }
    /// Uniform in `0..n` (`0` for `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n.max(1))
    }
    fn byte(&mut self) -> u8 {
        self.0.random()
    }
}

/// One random edit of `m`, biased towards the fields that steer the parser.
fn mutate(rng: &mut Rng, m: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    match rng.below(9) {
        // Flip a random bit.
        0 if !m.is_empty() => {
            let i = rng.below(m.len());
            m[i] ^= 1 << rng.below(8);
        }
        // Overwrite a random byte.
        1 if !m.is_empty() => {
            let i = rng.below(m.len());
            m[i] = rng.byte();
        }
        // Truncate.
        2 => {
            let n = rng.below(m.len() + 1);
            m.truncate(n);
        }
        // Append random bytes (padding or a new TLV).
        3 => {
            for _ in 0..rng.below(40) {
                m.push(rng.byte());
            }
        }
        // Rewrite messageLength, sometimes to the real length.
        4 if m.len() >= 4 => {
            let len = if rng.below(2) == 0 {
                m.len() as u16
            } else {
                rng.next() as u16
            };
            m[2..4].copy_from_slice(&len.to_be_bytes());
        }
        // Change messageType and keep the rest.
        5 if !m.is_empty() => m[0] = (m[0] & 0xf0) | (rng.byte() & 0x0f),
        // Append a TLV header with a plausible type and length, then fix messageLength.
        6 if m.len() >= 4 => {
            let tlv_type: u16 = [3, 8, 0x8000, rng.next() as u16][rng.below(4)];
            let len = rng.below(40);
            m.extend_from_slice(&tlv_type.to_be_bytes());
            m.extend_from_slice(&(len as u16).to_be_bytes());
            if tlv_type == 3 && rng.below(2) == 0 {
                m.extend_from_slice(&[0x00, 0x80, 0xc2, 0, 0, rng.byte() & 3]);
            }
            for _ in 0..len {
                m.push(rng.byte());
            }
            let total = m.len() as u16;
            m[2..4].copy_from_slice(&total.to_be_bytes());
        }
        // Splice the tail of another seed in.
        7 => {
            let other = &seeds[rng.below(seeds.len())];
            let at = rng.below(m.len() + 1);
            let from = rng.below(other.len() + 1);
            m.truncate(at);
            m.extend_from_slice(&other[from..]);
        }
        // Corrupt a TLV length field of a seed that has TLVs.
        _ if m.len() > 48 => {
            let i = 44 + rng.below(m.len() - 44);
            m[i] = rng.byte();
        }
        _ => {}
    }
}

#[test]
fn property_holds_on_capture_frames() {
    let seeds = seeds();
    assert_eq!(seeds.len(), 61);
    for seed in &seeds {
        // Every seed parses: the property is not vacuous on them.
        Message::parse_bytes(seed).expect("capture frame parses");
        fuzz_roundtrip(seed);
    }
}

#[test]
fn property_holds_on_mutations() {
    let seeds = seeds();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut rejected) = (0usize, 0usize);
    for _ in 0..6_000 {
        let mut m = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut m, &seeds);
        }
        if Message::parse_bytes(&m).is_ok() {
            parsed += 1;
        } else {
            rejected += 1;
        }
        fuzz_roundtrip(&m);
    }
    // Both outcomes must be well represented, or the mutator is not testing much.
    assert!(parsed > 1_000, "only {parsed} mutants parsed");
    assert!(rejected > 1_000, "only {rejected} mutants rejected");
}

#[test]
fn property_holds_on_random_bytes() {
    let mut rng = Rng::new(42);
    for _ in 0..3_000 {
        let len = rng.below(120);
        let mut m: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        // Half of them get a valid gPTP version prefix so they reach the body parsers.
        if m.len() >= 4 && rng.below(2) == 0 {
            m[0] = 0x10 | (m[0] & 0x0f);
            m[1] = 0x02;
            let l = (m.len() as u16).min(u16::from_be_bytes([m[2], m[3]]));
            m[2..4].copy_from_slice(&l.to_be_bytes());
        }
        fuzz_roundtrip(&m);
    }
}
