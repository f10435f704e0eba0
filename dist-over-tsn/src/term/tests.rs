//! Unit tests: hostile input, canonical forms, and the fuzz property over the golden vectors
//! plus deterministic mutations of them (so the property runs in every CI, not only under
//! cargo-fuzz).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::fuzz::term_roundtrip;
use super::*;

const VECTORS: &str = include_str!("../../tests/vectors/etf_vectors.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Every encoding in the vector file (both columns).
fn vector_bytes() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let mut cols = line.split(' ').skip(1);
        for col in cols.by_ref() {
            if col != "=" {
                out.push(unhex(col));
            }
        }
    }
    out
}

/// Seeded, so every CI run mutates the same way.
struct Rng(ChaCha8Rng);

impl Rng {
    fn seeded(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n.max(1))
    }
}

const INTERESTING: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xfe, 0xff, 70, 77, 88, 89, 90, 97, 98, 99, 100, 104, 105, 106, 107, 108,
    109, 110, 111, 112, 113, 115, 116, 118, 119, 120, 131,
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(3) {
        let len = v.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => v.truncate(rng.below(len + 1)),
            3 => {
                let i = rng.below(len + 1);
                v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            4 if len > 0 => {
                v.remove(rng.below(len));
            }
            5 if len > 1 => {
                // Duplicate a slice: nests containers, repeats elements.
                let a = rng.below(len);
                let b = a + rng.below(len - a).min(64);
                let chunk = v[a..b].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            _ if len > 4 => {
                // Large length fields.
                let i = rng.below(len - 4);
                v[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, rng.below(256) as u8]);
            }
            _ => {}
        }
    }
    v
}

#[test]
fn property_holds_on_vectors_and_mutations() {
    let vectors = vector_bytes();
    assert!(vectors.len() > 100);
    let mut rng = Rng::seeded(0x9e37_79b9_7f4a_7c15);
    let mut decoded_ok = 0;
    let mut runs = 0;
    for v in &vectors {
        term_roundtrip(v);
        assert!(decode(v).is_ok());
        // Large vectors only as they are: mutating 130 KB strings adds time, not coverage.
        let mutations = if v.len() > 4096 { 0 } else { 40 };
        for _ in 0..mutations {
            let m = mutate(&mut rng, v);
            term_roundtrip(&m);
            decoded_ok += usize::from(decode(&m).is_ok());
            runs += 1;
        }
    }
    assert!(runs > 3000, "{runs} mutations");
    // Some mutations must still decode, or the property is only exercised on the vectors.
    assert!(
        decoded_ok > runs / 20,
        "{decoded_ok} of {runs} mutations decoded"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in [
        [104u8, 1].as_slice(),
        &[108, 0, 0, 0, 1],
        &[116, 0, 0, 0, 1, 106],
    ] {
        let mut bytes = vec![131];
        for _ in 0..100_000 {
            bytes.extend_from_slice(open);
        }
        bytes.push(106);
        assert_eq!(
            decode(&bytes),
            Err(TermError::TooDeep {
                limit: DecodeOptions::DEFAULT_MAX_DEPTH
            })
        );
    }
    // At the default limit, decode, encode, compare and drop all fit a test thread's stack.
    for open in [
        [104u8, 1].as_slice(),
        &[108, 0, 0, 0, 1],
        &[116, 0, 0, 0, 1, 106],
    ] {
        let mut bytes = vec![131];
        for _ in 0..DecodeOptions::DEFAULT_MAX_DEPTH {
            bytes.extend_from_slice(open);
        }
        bytes.push(106);
        if open[0] == 108 {
            // Each list's tail follows its element.
            bytes.extend([106; DecodeOptions::DEFAULT_MAX_DEPTH]);
        }
        let term = decode(&bytes).expect("at the limit");
        assert_eq!(encode(&term), bytes);
        term_roundtrip(&bytes);
        assert!(term.erlang_cmp(&term).is_eq());
    }
    // Exactly at the limit is fine; one more is not.
    let nested = |n: usize| {
        let mut bytes = vec![131];
        bytes.extend(std::iter::repeat_n([104, 1], n).flatten());
        bytes.push(106);
        bytes
    };
    let opts = DecodeOptions {
        max_depth: 8,
        ..DecodeOptions::default()
    };
    assert!(opts.decode(&nested(8)).is_ok());
    assert_eq!(
        opts.decode(&nested(9)),
        Err(TermError::TooDeep { limit: 8 })
    );
}

#[test]
fn long_list_tail_chains_do_not_recurse() {
    // [1 | [2 | [3 | ...]]] written as LIST_EXT tails, 100 000 deep: one flat list.
    let mut bytes = vec![131];
    for _ in 0..100_000 {
        bytes.extend_from_slice(&[108, 0, 0, 0, 1, 97, 7]);
    }
    bytes.push(106);
    assert_eq!(decode(&bytes), Ok(Term::String(vec![7; 100_000])));
}

#[test]
fn lengths_larger_than_the_input_are_errors() {
    let cases: &[&[u8]] = &[
        &[131, 109, 0xff, 0xff, 0xff, 0xff],
        &[131, 105, 0xff, 0xff, 0xff, 0xff, 106],
        &[131, 108, 0xff, 0xff, 0xff, 0xff, 106],
        &[131, 116, 0xff, 0xff, 0xff, 0xff, 106, 106],
        &[131, 111, 0xff, 0xff, 0xff, 0xff, 0, 1],
        &[131, 107, 0xff, 0xff, 1],
        &[131, 118, 0xff, 0xff, b'a'],
        &[131, 77, 0xff, 0xff, 0xff, 0xff, 3, 0],
    ];
    for case in cases {
        assert!(
            matches!(decode(case), Err(TermError::LengthExceedsInput { .. })),
            "{case:?}: {:?}",
            decode(case)
        );
    }
    assert!(matches!(
        decode(&[131, 98, 0]),
        Err(TermError::Truncated { .. })
    ));
    assert_eq!(
        decode(&[]),
        Err(TermError::Truncated {
            needed: 1,
            remaining: 0
        })
    );
}

#[test]
fn malformed_input_is_rejected() {
    assert_eq!(decode(&[130, 106]), Err(TermError::BadVersion(130)));
    assert_eq!(decode(&[131, 106, 106]), Err(TermError::TrailingBytes(1)));
    assert_eq!(decode(&[131, 1]), Err(TermError::UnknownTag(1)));
    assert!(matches!(
        decode(&[131, 80, 0, 0, 0, 1]),
        Err(TermError::Unsupported { tag: 80, .. })
    ));
    assert!(matches!(
        decode(&[131, 112, 0, 0, 0, 0]),
        Err(TermError::Unsupported { tag: 112, .. })
    ));
    // NaN and infinity do not exist in Erlang.
    assert!(decode(&[131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(decode(&[131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1]).is_err());
    // Invalid UTF-8 atom, pid whose node is not an atom, 6-word reference, bits 0 in a
    // non-empty bitstring.
    assert!(decode(&[131, 119, 1, 0xff]).is_err());
    assert!(decode(&[131, 88, 106, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    let mut six = vec![131, 90, 0, 6, 119, 1, b'a', 0, 0, 0, 1];
    six.extend([0; 24]);
    assert!(decode(&six).is_err());
    assert!(decode(&[131, 77, 0, 0, 0, 1, 0, 0xff]).is_err());
    assert!(decode(&[131, 77, 0, 0, 0, 0, 8]).is_err());
    // 256-character atom.
    let mut long = vec![131, 118, 1, 0];
    long.extend([b'a'; 256]);
    assert_eq!(decode(&long), Err(TermError::AtomTooLong));
    assert_eq!(Atom::new(&"a".repeat(256)), Err(TermError::AtomTooLong));
}

#[test]
fn decode_normalises_like_binary_to_term() {
    // Shapes binary_to_term accepts and term_to_binary never writes (checked on OTP 25).
    let one = |b: &[u8]| decode(b).expect("decodes");
    assert_eq!(one(&[131, 108, 0, 0, 0, 0, 97, 1]), Term::from(1u8));
    assert_eq!(one(&[131, 107, 0, 0]), Term::Nil);
    assert_eq!(one(&[131, 77, 0, 0, 0, 1, 8, 255]), Term::from(vec![255]));
    assert_eq!(one(&[131, 77, 0, 0, 0, 0, 0]), Term::from(vec![]));
    assert_eq!(
        one(&[131, 77, 0, 0, 0, 1, 3, 255]),
        Term::BitBinary(BitBinary::new(vec![0xe0], 3).unwrap())
    );
    assert_eq!(one(&[131, 110, 2, 0, 1, 0]), Term::from(1u8));
    assert_eq!(one(&[131, 110, 0, 1]), Term::from(0u8));
    assert_eq!(
        one(&[131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 97, 98]),
        Term::String(vec![1, 97, 98])
    );
    assert_eq!(
        encode(&one(&[131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 97, 98])),
        [131, 107, 0, 3, 1, 97, 98]
    );
    let mut old_float = vec![131, 99];
    old_float.extend(b"1.00000000000000000000e+00\0\0\0\0\0");
    assert_eq!(one(&old_float), Term::Float(1.0));
    assert_eq!(one(&[131, 115, 2, b'o', b'k']), Term::atom("ok").unwrap());
}

#[test]
fn prefix_decoding_returns_the_rest() {
    let mut buf = encode(&Term::atom("a").unwrap());
    encode_into(&Term::from(7u8), &mut buf);
    buf.push(0xee);
    let (first, rest) = decode_prefix(&buf).unwrap();
    assert_eq!(first, Term::atom("a").unwrap());
    let (second, rest) = decode_prefix(rest).unwrap();
    assert_eq!(second, Term::from(7u8));
    assert_eq!(rest, [0xee]);
}

#[test]
fn encode_writes_erlang_bytes_for_non_canonical_lists() {
    let bytes = |elements: Vec<Term>, tail: Term| {
        encode(&Term::List {
            elements,
            tail: Box::new(tail),
        })
    };
    // [1, 2] as a List is still STRING_EXT; [1 | "ab"] is the string [1, $a, $b].
    assert_eq!(
        bytes(vec![1u8.into(), 2u8.into()], Term::Nil),
        [131, 107, 0, 2, 1, 2]
    );
    assert_eq!(
        bytes(vec![1u8.into()], Term::String(b"ab".to_vec())),
        [131, 107, 0, 3, 1, b'a', b'b']
    );
    assert_eq!(bytes(vec![], Term::from(5u8)), [131, 97, 5]);
    assert_eq!(encode(&Term::String(vec![])), [131, 106]);
    // [a | [b | c]] is [a, b | c].
    let a = Term::atom("a").unwrap();
    let inner = Term::List {
        elements: vec![Term::atom("b").unwrap()],
        tail: Box::new(Term::atom("c").unwrap()),
    };
    assert_eq!(
        bytes(vec![a.clone()], inner.clone()),
        encode(&Term::improper_list(
            vec![a, Term::atom("b").unwrap()],
            Term::atom("c").unwrap()
        ))
    );
}

#[test]
fn integers_are_canonical() {
    assert_eq!(Integer::from(u64::MAX).as_i64(), None);
    assert_eq!(Integer::from(i128::from(i64::MIN)).as_i64(), Some(i64::MIN));
    assert_eq!(
        Integer::from_sign_magnitude(true, &[0, 0, 0]),
        Integer::from(0)
    );
    assert_eq!(
        Integer::from_sign_magnitude(false, &[5, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Integer::from(5)
    );
    assert_eq!(
        Integer::from(-(1i128 << 100)).to_i128(),
        Some(-(1i128 << 100))
    );
    assert_eq!(Integer::from(i128::MIN).to_i128(), Some(i128::MIN));
    assert_eq!(Integer::from(u128::MAX).to_i128(), None);
    assert_eq!(
        Integer::from(1u64 << 63).magnitude_le(),
        [0, 0, 0, 0, 0, 0, 0, 0x80]
    );
}

#[test]
fn term_order_basics() {
    use std::cmp::Ordering::*;
    let atom = |s| Term::atom(s).unwrap();
    let big = Term::Integer(Integer::from(1i128 << 70));
    let neg_big = Term::Integer(Integer::from(-(1i128 << 70)));
    let ordered = [
        neg_big,
        Term::from(-1i64),
        Term::from(2i64),
        big,
        Term::Float(-5.0),
        Term::Float(1.0),
        atom("a"),
        atom("b"),
        Term::Tuple(vec![]),
        Term::Tuple(vec![atom("z")]),
        Term::Map(vec![]),
        Term::Nil,
        Term::improper_list(vec![Term::from(1u8)], atom("x")),
        Term::String(vec![1]),
        Term::String(vec![1, 2]),
        Term::list(vec![Term::from(1u8), Term::from(300i64)]),
        Term::from(vec![]),
        Term::from(vec![1]),
        Term::BitBinary(BitBinary::new(vec![1, 0x80], 1).unwrap()),
        Term::from(vec![2]),
    ];
    for (i, a) in ordered.iter().enumerate() {
        for (j, b) in ordered.iter().enumerate() {
            assert_eq!(a.erlang_cmp(b), i.cmp(&j), "{a:?} vs {b:?}");
        }
    }
    assert_eq!(Term::Float(0.0).erlang_cmp(&Term::Float(-0.0)), Equal);
}

#[test]
fn shared_decoding_points_large_binaries_into_the_input() {
    use super::{Bytes, SHARE_MIN, decode_shared};
    let big = vec![5u8; SHARE_MIN];
    let small = vec![6u8; SHARE_MIN - 1];
    let term = Term::Tuple(vec![Term::from(big), Term::from(small)]);
    let input = Bytes::from(encode(&term));
    let decoded = decode_shared(&input).unwrap();
    assert_eq!(decoded, term);
    let Term::Tuple(fields) = &decoded else {
        panic!("not a tuple: {decoded:?}");
    };
    let within = |t: &Term| {
        let b = t.as_binary().unwrap();
        input.as_ptr_range().contains(&b.as_ptr())
    };
    assert!(within(&fields[0]), "a large binary was copied");
    assert!(!within(&fields[1]), "a small binary pins the input");
    // Same result and same errors as the copying decoder.
    assert_eq!(decode(&input).unwrap(), decoded);
    let cut = input.slice(..input.len() - 1);
    assert_eq!(decode_shared(&cut), decode(&cut));
}

#[test]
fn segments_share_large_binaries_and_concatenate_to_the_encoding() {
    use super::{Bytes, SEGMENT_MIN, Segments, encode_segments};
    let big = Bytes::from(vec![7u8; SEGMENT_MIN]);
    let term = Term::Tuple(vec![
        Term::atom("data").unwrap(),
        Term::Binary(big.clone()),
        Term::from(vec![8u8; SEGMENT_MIN - 1]),
        Term::Binary(big.clone()),
    ]);
    let mut segs = Segments::new();
    encode_segments(&term, &mut segs);
    encode_segments(&Term::Nil, &mut segs);
    let mut expected = encode(&term);
    expected.extend(encode(&Term::Nil));
    assert_eq!(segs.len(), expected.len());
    let parts = segs.into_parts();
    assert_eq!(parts.concat(), expected);
    // head, big, small copied between, big, tail.
    assert_eq!(parts.len(), 5);
    let shared: Vec<_> = parts
        .iter()
        .filter(|p| p.as_ptr() == big.as_ptr())
        .collect();
    assert_eq!(shared.len(), 2, "the large binary was copied");
}
