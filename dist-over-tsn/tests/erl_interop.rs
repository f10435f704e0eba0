//! Interop with a real Erlang node (erlang-base). Runs when `escript` is on the PATH; with
//! `TSN_REAL_TESTS=1` it must run (a missing Erlang is a failure), otherwise it is skipped with
//! a note.
//!
//! 1. Regenerates the golden vectors with `gen_vectors.escript` and checks they equal the
//!    committed `etf_vectors.txt` (on another OTP release: that they still re-encode exactly).
//! 2. Encodes terms in Rust, has Erlang `binary_to_term` + `term_to_binary` them
//!    (`echo_terms.escript`) and checks Erlang accepted them and wrote the same bytes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use dist_over_tsn::term::{
    Atom, BitBinary, Export, Integer, Pid, Port, Reference, Term, decode, encode,
};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// Whether to run; panics when TSN_REAL_TESTS=1 demands Erlang and it is missing.
fn erlang_available(test: &str) -> bool {
    let found = Command::new("escript")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let required = std::env::var("TSN_REAL_TESTS").is_ok_and(|v| v == "1");
    if !found {
        assert!(
            !required,
            "TSN_REAL_TESTS=1 but `escript` (erlang-base) is not installed"
        );
        println!("note: {test} skipped: `escript` not found (install erlang-base)");
    }
    found
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn release_line(text: &str) -> Option<&str> {
    text.lines().find(|l| l.starts_with("# OTP "))
}

#[test]
fn live_vectors_match_the_committed_file() {
    if !erlang_available("live_vectors_match_the_committed_file") {
        return;
    }
    let out = Command::new("escript")
        .arg(vectors_dir().join("gen_vectors.escript"))
        .output()
        .expect("run gen_vectors.escript");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = String::from_utf8(out.stdout).expect("utf-8");
    let committed = std::fs::read_to_string(vectors_dir().join("etf_vectors.txt")).unwrap();
    if release_line(&live) == release_line(&committed) {
        assert!(
            live == committed,
            "regenerated vectors differ from etf_vectors.txt"
        );
        return;
    }
    // Another OTP release (e.g. OTP 26+ orders small maps with atom keys by atom index):
    // the committed file cannot match, but our codec must still reproduce what this node says.
    println!(
        "note: committed vectors are from {:?}, this node is {:?}; checking re-encoding only",
        release_line(&committed),
        release_line(&live)
    );
    for line in live.lines().filter(|l| !l.starts_with('#')) {
        let mut cols = line.split(' ');
        let key = cols.next().unwrap();
        let bytes = unhex(cols.next().unwrap());
        let term = decode(&bytes).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(encode(&term), bytes, "{key}");
    }
}

fn atom(s: &str) -> Atom {
    Atom::new(s).unwrap()
}

fn a(s: &str) -> Term {
    Term::Atom(atom(s))
}

/// Terms built in Rust, covering every variant and the encoder's form choices.
fn rust_terms() -> Vec<Term> {
    let node = atom("rust@127.0.0.1");
    let mut terms = vec![
        a("hello"),
        a(""),
        a("überflieger"),
        a("データ"),
        a(&"ü".repeat(200)),
        a(&"x".repeat(255)),
        Term::from(0i64),
        Term::from(255i64),
        Term::from(256i64),
        Term::from(-1i64),
        Term::from(i64::from(i32::MAX) + 1),
        Term::from(i64::MIN),
        Term::from(i64::MAX),
        Term::Integer(Integer::from(u128::MAX)),
        Term::Integer(Integer::from(i128::MIN)),
        Term::Integer(Integer::from_sign_magnitude(true, &[0x5a; 300])),
        Term::Float(-0.0),
        Term::Float(6.02214076e23),
        Term::Float(f64::MIN_POSITIVE),
        Term::from(vec![]),
        Term::from((0..=255).collect::<Vec<u8>>()),
        Term::BitBinary(BitBinary::new(vec![0xff, 0xff], 5).unwrap()),
        Term::Tuple(vec![]),
        Term::Tuple((0..1000i64).map(Term::from).collect()),
        Term::Nil,
        Term::charlist("abc"),
        Term::charlist("ŝtrange ☃"),
        Term::String(vec![7; 70_000]),
        Term::list(vec![a("x"), Term::Nil, Term::Float(1.0)]),
        Term::improper_list(vec![Term::from(1u8)], Term::binary(b"t")),
        Term::List {
            elements: vec![Term::from(1u8)],
            tail: Box::new(Term::String(b"ab".to_vec())),
        },
        Term::map(vec![]),
        Term::map(vec![
            (a("z"), Term::from(1u8)),
            (Term::from(2.0), a("float")),
            (Term::from(2i64), a("int")),
            (Term::charlist("k"), Term::Nil),
            (
                Term::Tuple(vec![a("t")]),
                Term::map(vec![(a("inner"), a("v"))]),
            ),
        ]),
        Term::Pid(Pid {
            node: node.clone(),
            id: 1,
            serial: 2,
            creation: 0xdead_beef,
        }),
        Term::Port(Port {
            node: node.clone(),
            id: 77,
            creation: 3,
        }),
        Term::Port(Port {
            node: node.clone(),
            id: u64::MAX >> 4,
            creation: 3,
        }),
        Term::Reference(Reference::new(node.clone(), 4, &[1, 2, 3]).unwrap()),
        Term::Reference(Reference::new(node.clone(), 4, &[9, 8, 7, 6, 5]).unwrap()),
        Term::Export(Export {
            module: atom("erlang"),
            function: atom("node"),
            arity: 0,
        }),
    ];
    // A control message as the carrier will send it.
    terms.push(Term::Tuple(vec![
        Term::from(6i64),
        terms[34].clone(),
        a(""),
        a("echo"),
    ]));
    terms
}

#[test]
fn erlang_accepts_and_reproduces_our_bytes() {
    if !erlang_available("erlang_accepts_and_reproduces_our_bytes") {
        return;
    }
    let terms = rust_terms();
    let mut child = Command::new("escript")
        .arg(vectors_dir().join("echo_terms.escript"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run echo_terms.escript");
    let mut input = String::new();
    for t in &terms {
        input.push_str(&hex(&encode(t)));
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("echo_terms output");
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let replies: Vec<&str> = stdout.lines().collect();
    assert_eq!(replies.len(), terms.len());
    for (term, reply) in terms.iter().zip(replies) {
        let ours = encode(term);
        let Some(theirs) = reply.strip_prefix("ok ") else {
            panic!("Erlang rejected {term:?}: {reply}")
        };
        assert_eq!(hex(&ours), theirs, "{term:?}");
    }
}
