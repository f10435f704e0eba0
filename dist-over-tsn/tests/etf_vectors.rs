//! Golden vectors from a real Erlang node (`tests/vectors/gen_vectors.escript`, OTP 25):
//! decode every vector, compare a large sample with terms built here, and re-encode every
//! vector byte for byte in both atom encodings.

use std::collections::HashMap;

use dist_over_tsn::term::{
    Atom, AtomEncoding, BitBinary, EncodeOptions, Export, Integer, Pid, Port, Reference, Term,
    decode, encode,
};

const VECTORS: &str = include_str!("vectors/etf_vectors.txt");

struct Vector {
    key: &'static str,
    /// `term_to_binary(T, [{minor_version, 2}])`.
    utf8: Vec<u8>,
    /// `term_to_binary(T, [{minor_version, 1}])`.
    latin1: Vec<u8>,
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn vectors() -> Vec<Vector> {
    VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split(' ').collect();
            assert_eq!(cols.len(), 3, "malformed line {line:.60}");
            let utf8 = unhex(cols[1]);
            let latin1 = if cols[2] == "=" {
                utf8.clone()
            } else {
                unhex(cols[2])
            };
            Vector {
                key: cols[0],
                utf8,
                latin1,
            }
        })
        .collect()
}

fn atom(s: &str) -> Atom {
    Atom::new(s).expect("valid atom")
}

fn a(s: &str) -> Term {
    Term::Atom(atom(s))
}

fn int(v: i64) -> Term {
    Term::from(v)
}

fn big(v: i128) -> Term {
    Term::Integer(Integer::from(v))
}

/// 2^k (k > 127) as sign and magnitude.
fn pow2(k: usize, negative: bool) -> Term {
    let mut mag = vec![0u8; k / 8 + 1];
    mag[k / 8] = 1 << (k % 8);
    Term::Integer(Integer::from_sign_magnitude(negative, &mag))
}

fn tuple(elements: Vec<Term>) -> Term {
    Term::Tuple(elements)
}

fn bin(b: &[u8]) -> Term {
    Term::binary(b)
}

fn bits(bytes: &[u8], bits: u8) -> Term {
    Term::BitBinary(BitBinary::new(bytes.to_vec(), bits).expect("bitstring"))
}

fn pid(node: &str, id: u32, serial: u32, creation: u32) -> Term {
    Term::Pid(Pid {
        node: atom(node),
        id,
        serial,
        creation,
    })
}

fn port(node: &str, id: u64, creation: u32) -> Term {
    Term::Port(Port {
        node: atom(node),
        id,
        creation,
    })
}

fn reference(node: &str, creation: u32, ids: &[u32]) -> Term {
    Term::Reference(Reference::new(atom(node), creation, ids).expect("reference"))
}

const NODE: &str = "a@127.0.0.1";
const NONODE: &str = "nonode@nohost";

/// Terms built in Rust for the vector keys (the Erlang source is in gen_vectors.escript).
fn expected() -> Vec<(&'static str, Term)> {
    let seq = |n: i64| (1..=n).map(int).collect::<Vec<_>>();
    let bytes_mod = |n: usize| (1..=n).map(|x| (x % 256) as u8).collect::<Vec<_>>();
    vec![
        ("atom_foo", a("foo")),
        ("atom_empty", a("")),
        ("atom_true", a("true")),
        ("atom_node", a(NODE)),
        ("atom_helo_latin1", a("hélo")),
        ("atom_nihon", a("日本")),
        ("atom_emoji", a("😀")),
        ("atom_255_bytes", a(&"a".repeat(255))),
        ("atom_256_bytes", a(&"é".repeat(128))),
        ("atom_255_chars_4byte", a(&"😀".repeat(255))),
        ("int_0", int(0)),
        ("int_1", int(1)),
        ("int_255", int(255)),
        ("int_256", int(256)),
        ("int_m1", int(-1)),
        ("int_m256", int(-256)),
        ("int_2p31m1", int((1 << 31) - 1)),
        ("int_m2p31", int(-(1 << 31))),
        ("int_2p31", int(1 << 31)),
        ("int_m2p31m1", int(-(1 << 31) - 1)),
        ("int_2p32", int(1 << 32)),
        ("int_2p63m1", int(i64::MAX)),
        ("int_m2p63", int(i64::MIN)),
        ("int_2p63", big(1 << 63)),
        ("int_m2p63m1", big(-(1 << 63) - 1)),
        ("int_2p64m1", big((1 << 64) - 1)),
        ("int_2p64", big(1 << 64)),
        ("int_m2p64", big(-(1 << 64))),
        ("int_2p127", Term::Integer(Integer::from(1u128 << 127))),
        ("int_2p2039", pow2(2039, false)),
        ("int_2p2040", pow2(2040, false)),
        ("int_m2p2040", pow2(2040, true)),
        (
            "int_2p2040m1",
            Term::Integer(Integer::from_sign_magnitude(false, &[0xff; 255])),
        ),
        ("int_big_pattern", big(0x0123456789abcdef0123456789abcdef)),
        ("float_0", Term::Float(0.0)),
        ("float_m0", Term::Float(-0.0)),
        ("float_1", Term::Float(1.0)),
        ("float_m1_5", Term::Float(-1.5)),
        ("float_pi", Term::Float(std::f64::consts::PI)),
        ("float_1e300", Term::Float(1.0e300)),
        ("float_m1em300", Term::Float(-1.0e-300)),
        ("float_min_subnormal", Term::Float(5.0e-324)),
        ("float_max", Term::Float(f64::MAX)),
        ("bin_empty", bin(b"")),
        ("bin_hello", bin(b"hello")),
        ("bin_all_bytes", bin(&(0..=255).collect::<Vec<u8>>())),
        ("bits_1_3", bits(&[0b0010_0000], 3)),
        ("bits_255_7_3", bits(&[255, 0b1110_0000], 3)),
        ("bits_1_bit", bits(&[0x80], 1)),
        ("bits_7", bits(&[0xab, 0xcd << 1], 7)),
        ("tuple_empty", tuple(vec![])),
        ("tuple_ok", tuple(vec![a("ok"), int(1)])),
        (
            "tuple_nested",
            tuple(vec![
                a("a"),
                tuple(vec![a("b"), tuple(vec![a("c"), tuple(vec![])])]),
                Term::list(vec![int(1), tuple(vec![int(2)])]),
            ]),
        ),
        ("tuple_255", tuple(seq(255))),
        ("tuple_256", tuple(seq(256))),
        (
            "tuple_300",
            tuple((1..=300).map(|i| tuple(vec![int(i), int(i * i)])).collect()),
        ),
        ("nil", Term::Nil),
        ("list_atoms", Term::list(vec![a("a"), a("b"), a("c")])),
        (
            "list_mixed",
            Term::list(vec![
                int(1),
                a("foo"),
                bin(b"x"),
                Term::Float(2.5),
                Term::Nil,
            ]),
        ),
        ("list_improper", Term::improper_list(vec![int(1)], int(2))),
        (
            "list_improper_atoms",
            Term::improper_list(vec![a("a"), a("b")], a("c")),
        ),
        (
            "list_improper_bytes",
            Term::improper_list(vec![int(1), int(2), int(3)], int(4)),
        ),
        (
            "list_big_ints",
            Term::list(vec![int(256), int(1000), int(-1)]),
        ),
        ("list_with_nil", Term::list(vec![Term::Nil])),
        (
            "list_nested",
            Term::list(vec![
                Term::String(vec![1, 2]),
                Term::list(vec![int(3), Term::String(vec![4])]),
            ]),
        ),
        ("string_abc", Term::String(b"abc".to_vec())),
        ("string_bytes", Term::String(vec![0, 255, 10])),
        ("string_unicode_chars", Term::charlist("hé日")),
        ("string_one", Term::String(vec![1])),
        ("string_65534", Term::String(bytes_mod(65534))),
        ("string_65535", Term::String(bytes_mod(65535))),
        ("list_65536_bytes", Term::String(bytes_mod(65536))),
        (
            "string_nested_in_list",
            Term::list(vec![Term::charlist("ab"), Term::charlist("cd")]),
        ),
        ("map_empty", Term::map(vec![])),
        ("map_one", Term::map(vec![(a("a"), int(1))])),
        (
            "map_atoms",
            Term::map(vec![(a("c"), int(3)), (a("a"), int(1)), (a("b"), int(2))]),
        ),
        (
            "map_numbers",
            Term::map(vec![
                (int(2), a("a")),
                (Term::Float(1.5), a("b")),
                (int(1), a("c")),
                (Term::Float(1.0), a("d")),
                (int(-5), a("e")),
                (big(1 << 70), a("f")),
            ]),
        ),
        (
            "map_mixed_keys",
            Term::map(vec![
                (a("b"), int(1)),
                (a("a"), int(2)),
                (bin(b"x"), int(3)),
                (Term::list(vec![int(1)]), int(4)),
                (tuple(vec![]), int(5)),
                (Term::Nil, int(6)),
                (Term::map(vec![]), int(7)),
                (int(3), int(8)),
                (Term::charlist("ab"), int(9)),
                (Term::improper_list(vec![a("a")], a("b")), int(10)),
                (bits(&[0x20], 3), int(11)),
                (tuple(vec![int(1), int(2)]), int(12)),
                (tuple(vec![int(0), int(0), int(0)]), int(13)),
                (
                    Term::Export(Export {
                        module: atom("lists"),
                        function: atom("map"),
                        arity: 2,
                    }),
                    int(14),
                ),
            ]),
        ),
        (
            "map_nested",
            Term::map(vec![
                (
                    a("config"),
                    Term::map(vec![(a("port"), int(4369)), (a("name"), bin(b"n"))]),
                ),
                (a("list"), Term::String(vec![1, 2, 3])),
            ]),
        ),
        (
            "map_32_keys",
            Term::map((1..=32).rev().map(|i| (int(i), int(i))).collect()),
        ),
        (
            "map_pid_keys",
            Term::map(vec![
                (pid("b@h", 0, 0, 1), int(1)),
                (pid("a@h", 1, 0, 1), int(2)),
                (pid("a@h", 0, 0, 2), int(3)),
                (pid("a@h", 0, 0, 1), int(4)),
                (pid("a@h", 0, 1, 1), int(5)),
                (pid(NONODE, 3, 0, 0), int(6)),
            ]),
        ),
        (
            "map_ref_keys",
            Term::map(vec![
                (reference("b@h", 1, &[0, 0, 0]), int(1)),
                (reference("a@h", 1, &[1, 0, 0]), int(2)),
                (reference("a@h", 2, &[0, 0, 0]), int(3)),
                (reference("a@h", 1, &[0, 0, 0, 0, 0]), int(4)),
                (reference("a@h", 1, &[5]), int(5)),
                (reference("a@h", 1, &[0, 0, 7]), int(6)),
            ]),
        ),
        (
            "map_port_keys",
            Term::map(vec![
                (port("b@h", 0, 1), int(1)),
                (port("a@h", 1, 1), int(2)),
                (port("a@h", 0, 2), int(3)),
                (port("a@h", 0, 1), int(4)),
                (port("a@h", 1 << 40, 1), int(5)),
            ]),
        ),
        ("pid_local", pid(NONODE, 42, 7, 0)),
        ("pid_local_zero", pid(NONODE, 0, 0, 0)),
        ("pid_ext", pid(NODE, 77, 3, 0x12345678)),
        ("pid_ext_max", pid(NODE, u32::MAX, u32::MAX, u32::MAX)),
        ("port_local", port(NONODE, 9, 0)),
        ("port_ext", port(NODE, 1234, 0xabcdef01)),
        ("port_ext_2p28m1", port(NODE, (1 << 28) - 1, 7)),
        ("port_ext_2p28", port(NODE, 1 << 28, 7)),
        ("port_ext_u32max", port(NODE, u32::MAX.into(), 7)),
        ("port_ext_64bit", port(NODE, 0x1234_5678_9abc, 7)),
        ("ref_local", reference(NONODE, 0, &[3, 2, 1])),
        ("ref_ext_3", reference(NODE, 0xabcdef01, &[1, 2, 3])),
        ("ref_ext_1", reference(NODE, 5, &[42])),
        ("ref_ext_5", reference(NODE, 9, &[1, 2, 3, 4, 5])),
        (
            "export_lists_map",
            Term::Export(Export {
                module: atom("lists"),
                function: atom("map"),
                arity: 2,
            }),
        ),
        (
            "export_utf8",
            Term::Export(Export {
                module: atom("мод"),
                function: atom("функция"),
                arity: 0,
            }),
        ),
        (
            "ctl_reg_send",
            tuple(vec![int(6), pid(NODE, 77, 3, 0x12345678), a(""), a("echo")]),
        ),
        (
            "msg_mixed",
            tuple(vec![
                pid(NODE, 1, 0, 2),
                tuple(vec![
                    a("hello"),
                    bin(b"world"),
                    Term::list(vec![Term::Float(1.5), int(-300), big(1 << 100)]),
                    Term::map(vec![(a("k"), Term::charlist("v"))]),
                    reference(NONODE, 0, &[3, 2, 1]),
                ]),
            ]),
        ),
    ]
}

#[test]
fn vectors_decode_to_the_expected_terms() {
    let vectors: HashMap<&str, Vector> = vectors().into_iter().map(|v| (v.key, v)).collect();
    let expected = expected();
    assert!(expected.len() >= 40);
    for (key, term) in &expected {
        let v = vectors
            .get(key)
            .unwrap_or_else(|| panic!("no vector {key}"));
        assert_eq!(decode(&v.utf8).as_ref(), Ok(term), "{key} (UTF-8 atoms)");
        assert_eq!(
            decode(&v.latin1).as_ref(),
            Ok(term),
            "{key} (Latin-1 atoms)"
        );
        // Terms built in Rust encode exactly as Erlang did (maps: see map_*_keys).
        assert_eq!(encode(term), v.utf8, "{key}: encode of the Rust-built term");
    }
    // Every Term variant is covered by the sample.
    let variants: std::collections::HashSet<_> = expected
        .iter()
        .map(|(_, t)| std::mem::discriminant(t))
        .collect();
    assert_eq!(
        variants.len(),
        14,
        "every Term variant has an expected vector"
    );
}

#[test]
fn every_vector_reencodes_byte_exactly() {
    let latin1 = EncodeOptions {
        atoms: AtomEncoding::Latin1,
        ..EncodeOptions::default()
    };
    let all = vectors();
    assert!(all.len() >= 100, "{} vectors", all.len());
    for v in &all {
        let term = decode(&v.utf8).unwrap_or_else(|e| panic!("{}: {e}", v.key));
        assert_eq!(encode(&term), v.utf8, "{}: minor_version 2", v.key);
        assert_eq!(latin1.encode(&term), v.latin1, "{}: minor_version 1", v.key);
        assert_eq!(decode(&v.latin1).as_ref(), Ok(&term), "{}", v.key);
    }
}

#[test]
fn large_maps_keep_wire_order_and_hold_the_right_pairs() {
    let all = vectors();
    for (key, n) in [("map_33_keys", 33), ("map_40_atom_keys", 40)] {
        let v = all.iter().find(|v| v.key == key).expect("vector");
        let Ok(Term::Map(pairs)) = decode(&v.utf8) else {
            panic!("{key} is not a map")
        };
        assert_eq!(pairs.len(), n);
        // Not sorted: hash order, reproduced only because decode keeps it.
        assert!(pairs.windows(2).any(|w| w[0].0.erlang_cmp(&w[1].0).is_gt()));
        let mut sorted = pairs.clone();
        sorted.sort_by(|x, y| x.0.erlang_cmp(&y.0));
        let want: Vec<(Term, Term)> = (1..=n as i64)
            .map(|i| {
                let k = if n == 33 { int(i) } else { a(&format!("k{i}")) };
                (k, int(i))
            })
            .collect();
        let mut want_sorted = want.clone();
        want_sorted.sort_by(|x, y| x.0.erlang_cmp(&y.0));
        assert_eq!(sorted, want_sorted, "{key}");
    }
}
