//! The core never reads a clock on its message paths.
//!
//! A minimal shell drives a grandmaster and a slave [`Instance`] over an ideal 100 ns wire.
//! Each node owns a [`PanicClock`]: a `tsn_time::Clock` whose `now()` panics while a
//! received frame or a transmit timestamp is being handled (the "message path"). The shell
//! reads the clock only to serve timer deadlines, passes hardware timestamps in, and applies
//! the servo's steps and frequency changes to the clock. The slave still synchronises, so
//! everything the core needs on those paths came in as arguments.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;

use gptp_core::wire::ClockIdentity;
use gptp_core::{Action, Instance, InstanceConfig, TxToken};
use tsn_time::{Clock, Duration, Time, VirtualTimescale};

struct PanicClock {
    ts: RefCell<VirtualTimescale>,
    osc_ppb: f64,
    servo_ppb: Cell<f64>,
    /// The simulator's ideal time (what the oscillator integrates).
    global: Cell<Time>,
    message_path: Cell<bool>,
}

impl PanicClock {
    fn new(offset: Duration, osc_ppb: f64) -> Self {
        let start = Time::EPOCH + Duration::from_secs(1_700_000_000) + offset;
        Self {
            ts: RefCell::new(VirtualTimescale::new(Time::EPOCH, start, osc_ppb)),
            osc_ppb,
            servo_ppb: Cell::new(0.0),
            global: Cell::new(Time::EPOCH),
            message_path: Cell::new(false),
        }
    }
    /// What the NIC's timestamping unit latches (not a read through `Clock::now`).
    fn hw_timestamp(&self, global: Time) -> Time {
        self.ts
            .borrow()
            .read(global)
            .floor_to(Duration::from_nanos(8))
    }
    fn global_at(&self, local: Time) -> Time {
        self.ts.borrow().reference_at(local) + Duration::from_nanos(1)
    }
}

impl Clock for PanicClock {
    type Error = Infallible;
    fn now(&self) -> Result<Time, Infallible> {
        assert!(
            !self.message_path.get(),
            "the core's message path needed the clock"
        );
        Ok(self.ts.borrow().read(self.global.get()))
    }
    fn step(&self, offset: Duration) -> Result<(), Infallible> {
        self.ts.borrow_mut().step(offset);
        Ok(())
    }
    fn set_frequency_ppb(&self, ppb: f64) -> Result<(), Infallible> {
        self.servo_ppb.set(ppb);
        let eff = self.osc_ppb + ppb + self.osc_ppb * ppb * 1e-9;
        self.ts
            .borrow_mut()
            .set_frequency_ppb(self.global.get(), eff);
        Ok(())
    }
    fn frequency_ppb(&self) -> Result<f64, Infallible> {
        Ok(self.servo_ppb.get())
    }
    fn max_frequency_ppb(&self) -> f64 {
        1e6
    }
}

enum Ev {
    Frame { node: usize, data: Vec<u8> },
    TxStamp { node: usize, token: TxToken },
}

struct Shell {
    cores: [Instance; 2],
    clocks: [PanicClock; 2],
    events: Vec<(Time, u64, Ev)>,
    seq: u64,
}

impl Shell {
    fn apply(&mut self, node: usize, global: Time) {
        while let Some(a) = self.cores[node].poll_action() {
            match a {
                Action::Send { data, token, .. } => {
                    self.seq += 1;
                    if let Some(token) = token {
                        self.events
                            .push((global, self.seq, Ev::TxStamp { node, token }));
                    }
                    self.seq += 1;
                    let rx = global + Duration::from_nanos(100);
                    self.events.push((
                        rx,
                        self.seq,
                        Ev::Frame {
                            node: 1 - node,
                            data,
                        },
                    ));
                }
                Action::AdjustFrequency { ppb } => {
                    self.clocks[node].set_frequency_ppb(ppb).unwrap();
                }
                Action::StepClock { offset } => self.clocks[node].step(offset).unwrap(),
                Action::Event(_) => {}
            }
        }
    }

    fn run_until(&mut self, end: Time) {
        loop {
            let timers = (0..2).filter_map(|n| {
                self.cores[n]
                    .poll_timeout()
                    .map(|d| (self.clocks[n].global_at(d), n))
            });
            let next_timer = timers.min_by_key(|(t, _)| *t);
            let next_ev = self
                .events
                .iter()
                .enumerate()
                .min_by_key(|(_, (t, s, _))| (*t, *s))
                .map(|(i, (t, _, _))| (*t, i));
            let take_ev = match (next_timer, next_ev) {
                (Some((tt, _)), Some((te, _))) => te <= tt,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => return,
            };
            if take_ev {
                let (t, i) = next_ev.unwrap();
                if t > end {
                    return;
                }
                let (t, _, ev) = self.events.swap_remove(i);
                let node = match &ev {
                    Ev::Frame { node, .. } | Ev::TxStamp { node, .. } => *node,
                };
                let c = &self.clocks[node];
                c.global.set(t);
                c.message_path.set(true);
                let ts = c.hw_timestamp(t);
                match ev {
                    Ev::Frame { data, .. } => self.cores[node].handle_frame(0, &data, ts),
                    Ev::TxStamp { token, .. } => {
                        self.cores[node].handle_tx_timestamp(0, token, ts);
                    }
                }
                self.apply(node, t);
                self.clocks[node].message_path.set(false);
            } else {
                let (t, node) = next_timer.unwrap();
                if t > end {
                    return;
                }
                let t = t.max(self.clocks[node].global.get());
                self.clocks[node].global.set(t);
                let now = self.clocks[node].now().unwrap();
                self.cores[node].handle_timer(now);
                self.apply(node, t);
            }
        }
    }
}

#[test]
fn message_paths_never_read_the_clock() {
    let id = |b| ClockIdentity::from_mac([2, 0, 0, 0, 0, b]);
    let gm = InstanceConfig::new(id(1), 1).with_priority1(246);
    let slave = InstanceConfig::new(id(2), 1);
    let mut shell = Shell {
        cores: [Instance::new(gm), Instance::new(slave)],
        clocks: [
            PanicClock::new(Duration::ZERO, 0.0),
            PanicClock::new(Duration::from_millis(3), 80_000.0),
        ],
        events: Vec::new(),
        seq: 0,
    };
    let end = Time::EPOCH + Duration::from_secs(20);
    shell.run_until(end);
    let received = shell.cores[1].counters().syncs_received;
    assert!(received > 100, "only {received} syncs");
    let err = shell.clocks[1].ts.borrow().read(end) - shell.clocks[0].ts.borrow().read(end);
    assert!(err.abs() < Duration::from_nanos(100), "error {err}");
}

#[test]
#[should_panic(expected = "message path")]
fn the_panic_clock_does_panic() {
    let c = PanicClock::new(Duration::ZERO, 0.0);
    c.message_path.set(true);
    let _ = c.now();
}
