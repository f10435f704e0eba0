//! Erlang-style distribution over a prioritised UDP carrier for TSN.
//!
//! Status: only the pure [`term`] codec (the Erlang external term format) exists so far; the
//! node model and the UDP carrier will live in sibling modules. See the README's status table.

pub mod term;
