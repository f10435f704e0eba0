//! Identifiers handed out by the simulator, and the small value types of its API.

use core::fmt;

/// A node of a [`Simulator`](crate::Simulator), returned by
/// [`add_node`](crate::Simulator::add_node).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// Position of the node in the order nodes were added (0 for the first).
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A port of a node, numbered from 0 up to the node's port count.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u16);

impl PortId {
    /// The port number as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}
impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A full-duplex link, returned by [`connect`](crate::Simulator::connect).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub(crate) u32);

impl LinkId {
    /// Position of the link in the order links were connected (0 for the first).
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "l{}", self.0)
    }
}
impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One direction of a link: from its first end `a` to its second end `b`, or back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From the first end passed to [`connect`](crate::Simulator::connect) to the second.
    AtoB,
    /// From the second end to the first.
    BtoA,
}

impl Direction {
    pub(crate) const fn index(self) -> usize {
        match self {
            Self::AtoB => 0,
            Self::BtoA => 1,
        }
    }
    pub(crate) const fn from_index(i: usize) -> Self {
        if i == 0 { Self::AtoB } else { Self::BtoA }
    }
}

/// Names a frame sent with a transmit-timestamp request; the node gets it back in
/// [`Node::on_tx_timestamp`](crate::Node::on_tx_timestamp) together with the timestamp. The
/// simulator does not interpret the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxToken(pub u64);

/// Number of traffic classes per egress port (802.1Q: 0 lowest .. 7 highest priority).
pub const NUM_TRAFFIC_CLASSES: usize = 8;
