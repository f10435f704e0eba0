//! The best master clock algorithm of 802.1AS-2020 clause 10.3: priority vectors and their
//! comparison.

use core::cmp::Ordering;

use crate::wire::{AnnounceBody, ClockIdentity, ClockQuality, PortIdentity};

/// `systemIdentity` (802.1AS-2020 10.3.2): the fields compared first, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemIdentity {
    /// priority1.
    pub priority1: u8,
    /// clockQuality.
    pub clock_quality: ClockQuality,
    /// priority2.
    pub priority2: u8,
    /// clockIdentity.
    pub clock_identity: ClockIdentity,
}

impl SystemIdentity {
    fn key(&self) -> (u8, u8, u8, u16, u8, ClockIdentity) {
        let q = self.clock_quality;
        (
            self.priority1,
            q.clock_class,
            q.clock_accuracy.0,
            q.offset_scaled_log_variance,
            self.priority2,
            self.clock_identity,
        )
    }

    /// The grandmaster's identity carried by an Announce.
    pub fn from_announce(a: &AnnounceBody) -> Self {
        Self {
            priority1: a.priority_1,
            clock_quality: a.grandmaster_clock_quality,
            priority2: a.priority_2,
            clock_identity: a.grandmaster_identity,
        }
    }
}

impl PartialOrd for SystemIdentity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SystemIdentity {
    /// Smaller is better.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A priority vector (802.1AS-2020 10.3.4): smaller is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PriorityVector {
    /// rootSystemIdentity: the grandmaster.
    pub root: SystemIdentity,
    /// stepsRemoved from the grandmaster.
    pub steps_removed: u16,
    /// sourcePortIdentity: the port that sent (or would send) the information.
    pub source_port: PortIdentity,
    /// portNumber of the receiving port (0 for this system's own vector).
    pub port_number: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockAccuracy;

    fn id(p1: u8, last: u8) -> SystemIdentity {
        SystemIdentity {
            priority1: p1,
            clock_quality: ClockQuality {
                clock_class: 248,
                clock_accuracy: ClockAccuracy::UNKNOWN,
                offset_scaled_log_variance: 0x436a,
            },
            priority2: 248,
            clock_identity: ClockIdentity([0, 0, 0, 0, 0, 0, 0, last]),
        }
    }

    #[test]
    fn priority1_then_identity_then_steps() {
        assert!(id(246, 9) < id(248, 1));
        assert!(id(248, 1) < id(248, 2));
        let v = |steps, port: u8| PriorityVector {
            root: id(246, 9),
            steps_removed: steps,
            source_port: PortIdentity {
                clock_identity: ClockIdentity([port; 8]),
                port_number: 1,
            },
            port_number: 1,
        };
        assert!(v(1, 9) < v(2, 1));
        assert!(v(2, 1) < v(2, 9));
    }
}
