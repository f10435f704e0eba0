//! A synthetic node that sends gPTP-shaped frames at gPTP rates, for benchmarks and tests
//! of the simulator itself.

use crate::ids::{PortId, TxToken};
use crate::node::{Ctx, Node};
use tsn_time::{Duration, Time};

/// PTP message types used by [`GptpRateNode`] (the low nibble of the first PTP byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PtpKind {
    /// Sync (event message, timestamped).
    Sync = 0x0,
    /// Pdelay_Req (event message, timestamped).
    PdelayReq = 0x2,
    /// Pdelay_Resp (event message, timestamped).
    PdelayResp = 0x3,
    /// Follow_Up.
    FollowUp = 0x8,
    /// Pdelay_Resp_Follow_Up.
    PdelayRespFollowUp = 0xa,
    /// Announce.
    Announce = 0xb,
}

impl PtpKind {
    const ALL: [Self; 6] = [
        Self::Sync,
        Self::PdelayReq,
        Self::PdelayResp,
        Self::FollowUp,
        Self::PdelayRespFollowUp,
        Self::Announce,
    ];

    fn from_nibble(v: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as u8 == v)
    }

    /// Frame length in bytes (Ethernet header included, FCS excluded), as 802.1AS frames.
    pub const fn frame_len(self) -> usize {
        match self {
            // 44-byte message padded to the 60-byte Ethernet minimum.
            Self::Sync => 60,
            Self::FollowUp => 90,
            Self::PdelayReq | Self::PdelayResp | Self::PdelayRespFollowUp => 68,
            Self::Announce => 90,
        }
    }

    /// Index into [`GptpRateNode::received`].
    pub const fn index(self) -> usize {
        match self {
            Self::Sync => 0,
            Self::PdelayReq => 1,
            Self::PdelayResp => 2,
            Self::FollowUp => 3,
            Self::PdelayRespFollowUp => 4,
            Self::Announce => 5,
        }
    }
}

const ETHERTYPE_PTP: [u8; 2] = [0x88, 0xf7];
const PTP_MULTICAST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
/// Offset of the PTP header in the frame.
const PTP: usize = 14;
/// Where the carried timestamp (i128 2^-16 ns, little-endian) sits: inside the PTP
/// header's reserved/body area, not where 1588 puts timestamps.
const TS_AT: usize = PTP + 34;

/// Builds a PTP-shaped frame: real Ethernet header, PTP transport-specific 1 / version 2 /
/// message type / length, sequence id and source port number, and `carried` (a timestamp in
/// 2^-16 ns) in the body of frames long enough for it (not Sync). Enough for Wireshark to label the messages; not valid gPTP.
pub fn ptp_frame(kind: PtpKind, src_node: u32, port: PortId, seq: u16, carried: Time) -> Vec<u8> {
    let len = kind.frame_len();
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&PTP_MULTICAST);
    f[6..12].copy_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x00, 0x00]);
    f[8..12].copy_from_slice(&src_node.to_be_bytes());
    f[12..14].copy_from_slice(&ETHERTYPE_PTP);
    f[PTP] = 0x10 | kind as u8;
    f[PTP + 1] = 0x02;
    let msg_len = (len - PTP).min(usize::from(u16::MAX)) as u16;
    f[PTP + 2..PTP + 4].copy_from_slice(&msg_len.to_be_bytes());
    f[PTP + 28..PTP + 30].copy_from_slice(&port.0.to_be_bytes());
    f[PTP + 30..PTP + 32].copy_from_slice(&seq.to_be_bytes());
    // Sync (60 bytes) carries nothing.
    if let Some(ts) = f.get_mut(TS_AT..TS_AT + 16) {
        ts.copy_from_slice(&carried.subnanos().to_le_bytes());
    }
    f
}

fn parse(frame: &[u8]) -> Option<(PtpKind, u16, Time)> {
    if frame.len() < PTP + 32 || frame[12..14] != ETHERTYPE_PTP {
        return None;
    }
    let kind = PtpKind::from_nibble(frame[PTP] & 0x0f)?;
    let seq = u16::from_be_bytes([frame[PTP + 30], frame[PTP + 31]]);
    let carried = frame.get(TS_AT..TS_AT + 16).map_or(Time::EPOCH, |b| {
        let mut ts = [0u8; 16];
        ts.copy_from_slice(b);
        Time::from_subnanos(i128::from_le_bytes(ts))
    });
    Some((kind, seq, carried))
}

/// Per-port state of [`GptpRateNode`].
#[derive(Clone, Debug, Default)]
struct PortState {
    next_sync: Time,
    next_pdelay: Time,
    next_announce: Time,
    sync_seq: u16,
    pdelay_seq: u16,
    /// t1: our Pdelay_Req transmit timestamp.
    t1: Option<Time>,
    /// t2 (from the peer's Pdelay_Resp) and t4 (our receive timestamp of it).
    t2_t4: Option<(Time, Time)>,
    last_delay: Option<Duration>,
}

/// Sends, on every port, the frames a gPTP port sends per second: 8 Sync (timestamped)
/// each followed by a Follow_Up carrying its timestamp, 1 Pdelay_Req (timestamped), a
/// Pdelay_Resp (timestamped) and Pdelay_Resp_Follow_Up for each Pdelay_Req received, and
/// 1 Announce; all in traffic class 6 (`Sync` intervals 125 ms, others 1 s, each with a
/// random phase from the node's stream). From the peer delay exchange it computes the mean
/// link delay `((t4 - t1) - (t3 - t2)) / 2` in its own clock's units, which a test can
/// compare with the link's propagation delay.
#[derive(Clone, Debug)]
pub struct GptpRateNode {
    ports: Vec<PortState>,
    started: bool,
    /// Frames received, by [`PtpKind::index`].
    pub received: [u64; 6],
    /// Transmit timestamps received.
    pub tx_timestamps: u64,
    /// Peer delay measurements completed.
    pub pdelay_measurements: u64,
}

/// Traffic class of the synthetic frames.
const TC: u8 = 6;

impl GptpRateNode {
    /// Sync interval.
    pub const SYNC_INTERVAL: Duration = Duration::from_millis(125);
    /// Pdelay_Req and Announce interval.
    pub const SLOW_INTERVAL: Duration = Duration::from_secs(1);

    /// A node with `ports` ports.
    pub fn new(ports: u16) -> Self {
        Self {
            ports: vec![PortState::default(); usize::from(ports)],
            started: false,
            received: [0; 6],
            tx_timestamps: 0,
            pdelay_measurements: 0,
        }
    }

    /// The last mean link delay measured on `port`, in local clock units.
    pub fn link_delay(&self, port: PortId) -> Option<Duration> {
        self.ports.get(port.index()).and_then(|p| p.last_delay)
    }

    fn token(kind: PtpKind, port: PortId) -> TxToken {
        TxToken(u64::from(kind as u8) | (u64::from(port.0) << 8))
    }
}

fn random_phase(ctx: &mut Ctx<'_>, interval: Duration) -> Duration {
    let span = interval.subnanos().max(1) as u128;
    Duration::from_subnanos((u128::from(ctx.random_u64()) % span) as i128)
}

impl Node for GptpRateNode {
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        for i in 0..self.ports.len() {
            let sync = random_phase(ctx, Self::SYNC_INTERVAL);
            let pdelay = random_phase(ctx, Self::SLOW_INTERVAL);
            let announce = random_phase(ctx, Self::SLOW_INTERVAL);
            let p = &mut self.ports[i];
            p.next_sync = now + sync;
            p.next_pdelay = now + pdelay;
            p.next_announce = now + announce;
        }
        self.started = true;
    }

    fn on_frame(&mut self, ctx: &mut Ctx<'_>, port: PortId, frame: &[u8], rx_ts: Time) {
        let Some((kind, seq, carried)) = parse(frame) else {
            return;
        };
        self.received[kind.index()] += 1;
        let node = ctx.node_id().index() as u32;
        let Some(p) = self.ports.get_mut(port.index()) else {
            return;
        };
        match kind {
            PtpKind::PdelayReq => {
                // Answer with t2 = rx_ts; t3 follows once the response is timestamped.
                let resp = ptp_frame(PtpKind::PdelayResp, node, port, seq, rx_ts);
                ctx.send_timestamped(port, TC, resp, Self::token(PtpKind::PdelayResp, port));
            }
            PtpKind::PdelayResp => p.t2_t4 = Some((carried, rx_ts)),
            PtpKind::PdelayRespFollowUp => {
                if let (Some(t1), Some((t2, t4))) = (p.t1, p.t2_t4.take()) {
                    let t3 = carried;
                    p.last_delay = Some(((t4 - t1) - (t3 - t2)) / 2);
                    self.pdelay_measurements += 1;
                }
            }
            PtpKind::Sync | PtpKind::FollowUp | PtpKind::Announce => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let node = ctx.node_id().index() as u32;
        for i in 0..self.ports.len() {
            let port = PortId(i as u16);
            let p = &mut self.ports[i];
            if p.next_sync <= now {
                p.sync_seq = p.sync_seq.wrapping_add(1);
                let f = ptp_frame(PtpKind::Sync, node, port, p.sync_seq, Time::EPOCH);
                ctx.send_timestamped(port, TC, f, Self::token(PtpKind::Sync, port));
                p.next_sync = advance(p.next_sync, Self::SYNC_INTERVAL, now);
            }
            if p.next_pdelay <= now {
                p.pdelay_seq = p.pdelay_seq.wrapping_add(1);
                p.t1 = None;
                p.t2_t4 = None;
                let f = ptp_frame(PtpKind::PdelayReq, node, port, p.pdelay_seq, Time::EPOCH);
                ctx.send_timestamped(port, TC, f, Self::token(PtpKind::PdelayReq, port));
                p.next_pdelay = advance(p.next_pdelay, Self::SLOW_INTERVAL, now);
            }
            if p.next_announce <= now {
                let f = ptp_frame(PtpKind::Announce, node, port, 0, Time::EPOCH);
                ctx.send(port, TC, f);
                p.next_announce = advance(p.next_announce, Self::SLOW_INTERVAL, now);
            }
        }
    }

    fn poll_timeout(&self) -> Option<Time> {
        if !self.started {
            return None;
        }
        self.ports
            .iter()
            .map(|p| p.next_sync.min(p.next_pdelay).min(p.next_announce))
            .min()
    }

    fn on_tx_timestamp(&mut self, ctx: &mut Ctx<'_>, port: PortId, token: TxToken, tx_ts: Time) {
        self.tx_timestamps += 1;
        let node = ctx.node_id().index() as u32;
        let Some(p) = self.ports.get_mut(port.index()) else {
            return;
        };
        match PtpKind::from_nibble((token.0 & 0xff) as u8) {
            Some(PtpKind::Sync) => {
                let f = ptp_frame(PtpKind::FollowUp, node, port, p.sync_seq, tx_ts);
                ctx.send(port, TC, f);
            }
            Some(PtpKind::PdelayReq) => p.t1 = Some(tx_ts),
            Some(PtpKind::PdelayResp) => {
                let f = ptp_frame(PtpKind::PdelayRespFollowUp, node, port, 0, tx_ts);
                ctx.send(port, TC, f);
            }
            _ => {}
        }
    }
}

/// The next deadline of a periodic timer: one interval on, or one interval after `now` if
/// the node fell behind.
fn advance(deadline: Time, interval: Duration, now: Time) -> Time {
    let next = deadline + interval;
    if next <= now { now + interval } else { next }
}
