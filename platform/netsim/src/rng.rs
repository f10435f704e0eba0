//! Seeded random streams.
//!
//! Every node, node clock, port timestamping unit and link direction draws from its own ChaCha8 stream of the one seed, so
//! adding a node or a link, or turning on loss on one link, does not change what the others
//! draw.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tsn_time::Duration;

/// Which part of the simulation a stream belongs to (the high bits of the ChaCha stream id).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    /// A node's oscillator: frequency random walk.
    Clock(u32),
    /// The timestamping unit of one port of a node: timestamp noise.
    PortTimestamps(u32, u16),
    /// A node's own randomness, offered to the node through `Ctx::random_u64`.
    Node(u32),
    /// One direction of a link: jitter, loss, duplication, reordering.
    Link(u32, usize),
}

/// A deterministic random stream.
#[derive(Clone, Debug)]
pub(crate) struct SimRng(ChaCha8Rng);

impl SimRng {
    pub(crate) fn new(seed: u64, stream: Stream) -> Self {
        let id = match stream {
            Stream::Clock(n) => (1u64 << 40) | u64::from(n),
            Stream::Node(n) => (2u64 << 40) | u64::from(n),
            Stream::Link(l, d) => (3u64 << 40) | (u64::from(l) << 1) | d as u64,
            Stream::PortTimestamps(n, p) => (4u64 << 40) | (u64::from(n) << 16) | u64::from(p),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(id);
        Self(rng)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`; draws nothing when `p <= 0`, so a feature that is off
    /// leaves the stream untouched.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Standard normal (Box-Muller, one of the pair).
    pub(crate) fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
    }

    /// Uniform in `[0, max]`, in whole 2^-16 ns; draws nothing when `max <= 0`.
    pub(crate) fn duration_upto(&mut self, max: Duration) -> Duration {
        let m = max.subnanos();
        if m <= 0 {
            return Duration::ZERO;
        }
        let span = (m as u128).min(u64::MAX as u128 - 1) as u64 + 1;
        // Multiply-shift: bias below 2^-64 * span, irrelevant here.
        let v = ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i128;
        Duration::from_subnanos(v)
    }
}
