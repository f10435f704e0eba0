//! Erlang's exact term order, the order OTP keeps small-map keys in.
//!
//! number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
//! Checked against OTP 25 by the `map_*_keys` vectors.

use std::cmp::Ordering;

use super::encode::{Elem, spine};
use super::{Integer, Pid, Port, Reference, Term};

impl Term {
    /// Compares in Erlang's exact term order (as `erts_cmp` does for map keys):
    ///
    /// - integers compare numerically and are all below floats (`1 < 2 < 1.0`);
    /// - atoms by their text; tuples by size, then element by element; maps by size, then
    ///   sorted keys, then the values in key order; lists element by element, then tails;
    ///   bitstrings bit by bit, a prefix first;
    /// - pids by serial, number, node name, creation; ports and references by node name,
    ///   creation, then number (references as the number their words spell, least
    ///   significant word first); external funs by module, function, arity.
    pub fn erlang_cmp(&self, other: &Self) -> Ordering {
        let (this, other) = (canonical_head(self), canonical_head(other));
        let (ra, rb) = (rank(this), rank(other));
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (this, other) {
            (Self::Integer(a), Self::Integer(b)) => cmp_int(a, b),
            (Self::Float(a), Self::Float(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            // Exact order: an integer is below any float.
            (Self::Integer(_), Self::Float(_)) => Ordering::Less,
            (Self::Float(_), Self::Integer(_)) => Ordering::Greater,
            (Self::Atom(a), Self::Atom(b)) => a.as_str().cmp(b.as_str()),
            (Self::Reference(a), Self::Reference(b)) => cmp_ref(a, b),
            (Self::Export(a), Self::Export(b)) => a
                .module
                .as_str()
                .cmp(b.module.as_str())
                .then_with(|| a.function.as_str().cmp(b.function.as_str()))
                .then(a.arity.cmp(&b.arity)),
            (Self::Port(a), Self::Port(b)) => cmp_port(a, b),
            (Self::Pid(a), Self::Pid(b)) => cmp_pid(a, b),
            (Self::Tuple(a), Self::Tuple(b)) => a.len().cmp(&b.len()).then_with(|| cmp_seq(a, b)),
            (Self::Map(a), Self::Map(b)) => cmp_map(a, b),
            (Self::Nil, Self::Nil) => Ordering::Equal,
            (a, b) if rank(a) == Rank::List => cmp_list(a, b),
            (a, b) => cmp_bits(bits_of(a), bits_of(b)),
        }
    }
}

/// Sees through the non-canonical shapes of an empty list: `""` and `[ | Tail]`.
fn canonical_head(term: &Term) -> &Term {
    match term {
        Term::String(s) if s.is_empty() => &NIL,
        Term::List { elements, tail } if elements.is_empty() => canonical_head(tail),
        other => other,
    }
}

static NIL: Term = Term::Nil;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Rank {
    Number,
    Atom,
    Reference,
    Fun,
    Port,
    Pid,
    Tuple,
    Map,
    Nil,
    List,
    BitString,
}

fn rank(term: &Term) -> Rank {
    match term {
        Term::Integer(_) | Term::Float(_) => Rank::Number,
        Term::Atom(_) => Rank::Atom,
        Term::Reference(_) => Rank::Reference,
        Term::Export(_) => Rank::Fun,
        Term::Port(_) => Rank::Port,
        Term::Pid(_) => Rank::Pid,
        Term::Tuple(_) => Rank::Tuple,
        Term::Map(_) => Rank::Map,
        Term::Nil => Rank::Nil,
        Term::String(s) if s.is_empty() => Rank::Nil,
        Term::List { elements, tail } if elements.is_empty() => rank(tail),
        Term::String(_) | Term::List { .. } => Rank::List,
        Term::Binary(_) | Term::BitBinary(_) => Rank::BitString,
    }
}

fn cmp_int(a: &Integer, b: &Integer) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x.cmp(&y);
    }
    match (a.is_negative(), b.is_negative()) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (negative, _) => {
            let (ma, mb) = (a.magnitude_le(), b.magnitude_le());
            let by_magnitude = ma
                .len()
                .cmp(&mb.len())
                .then_with(|| ma.iter().rev().cmp(mb.iter().rev()));
            if negative {
                by_magnitude.reverse()
            } else {
                by_magnitude
            }
        }
    }
}

fn cmp_seq(a: &[Term], b: &[Term]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.erlang_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn sorted_by_key(pairs: &[(Term, Term)]) -> Vec<&(Term, Term)> {
    let mut v: Vec<_> = pairs.iter().collect();
    v.sort_by(|x, y| x.0.erlang_cmp(&y.0));
    v
}

fn cmp_map(a: &[(Term, Term)], b: &[(Term, Term)]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let (sa, sb) = (sorted_by_key(a), sorted_by_key(b));
        let keys = sa.iter().zip(&sb).map(|(x, y)| x.0.erlang_cmp(&y.0));
        let values = sa.iter().zip(&sb).map(|(x, y)| x.1.erlang_cmp(&y.1));
        keys.chain(values)
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

fn list_parts(term: &Term) -> (Vec<Elem<'_>>, &Term) {
    match term {
        Term::List { elements, tail } => spine(elements, tail),
        Term::String(_) => spine(&[], term),
        other => (Vec::new(), other),
    }
}

fn cmp_elem(a: Elem<'_>, b: Elem<'_>) -> Ordering {
    match (a, b) {
        (Elem::Byte(x), Elem::Byte(y)) => x.cmp(&y),
        (Elem::Byte(x), Elem::Term(t)) => Term::from(x).erlang_cmp(t),
        (Elem::Term(t), Elem::Byte(y)) => t.erlang_cmp(&Term::from(y)),
        (Elem::Term(s), Elem::Term(t)) => s.erlang_cmp(t),
    }
}

/// Lists cons cell by cons cell; where one runs out, its tail meets the other's rest.
fn cmp_list(a: &Term, b: &Term) -> Ordering {
    let ((ea, ta), (eb, tb)) = (list_parts(a), list_parts(b));
    let common = ea.len().min(eb.len());
    for (x, y) in ea.iter().zip(&eb) {
        let o = cmp_elem(*x, *y);
        if o.is_ne() {
            return o;
        }
    }
    match (ea.len() > common, eb.len() > common) {
        (false, false) => ta.erlang_cmp(tb),
        // b's tail (not a list) against the non-empty rest of a.
        (true, _) => Rank::List.cmp(&rank(tb)),
        (_, true) => rank(ta).cmp(&Rank::List),
    }
}

fn bits_of(term: &Term) -> (&[u8], u64) {
    match term {
        Term::Binary(b) => (b, b.len() as u64 * 8),
        Term::BitBinary(b) => (b.bytes(), b.bit_len()),
        _ => (&[], 0),
    }
}

fn cmp_bits((a, alen): (&[u8], u64), (b, blen): (&[u8], u64)) -> Ordering {
    let common = alen.min(blen);
    let whole = (common / 8) as usize;
    a[..whole]
        .cmp(&b[..whole])
        .then_with(|| {
            let rest = (common % 8) as u32;
            if rest == 0 {
                return Ordering::Equal;
            }
            let mask = !(0xffu8 >> rest);
            (a[whole] & mask).cmp(&(b[whole] & mask))
        })
        .then(alen.cmp(&blen))
}

fn cmp_node(a: &super::Atom, ca: u32, b: &super::Atom, cb: u32) -> Ordering {
    a.as_str().cmp(b.as_str()).then(ca.cmp(&cb))
}

fn cmp_pid(a: &Pid, b: &Pid) -> Ordering {
    (a.serial, a.id)
        .cmp(&(b.serial, b.id))
        .then_with(|| cmp_node(&a.node, a.creation, &b.node, b.creation))
}

fn cmp_port(a: &Port, b: &Port) -> Ordering {
    cmp_node(&a.node, a.creation, &b.node, b.creation).then(a.id.cmp(&b.id))
}

fn cmp_ref(a: &Reference, b: &Reference) -> Ordering {
    cmp_node(&a.node, a.creation, &b.node, b.creation).then_with(|| {
        // The words spell one number, least significant first; missing words are zero.
        let len = a.ids().len().max(b.ids().len());
        let word = |ids: &[u32], i: usize| ids.get(i).copied().unwrap_or(0);
        (0..len)
            .rev()
            .map(|i| word(a.ids(), i).cmp(&word(b.ids(), i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}
