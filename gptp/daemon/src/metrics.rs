//! The opt-in Prometheus endpoint (`--metrics ADDR`): a minimal HTTP/1.0 responder that
//! answers every request with the text exposition of the current [`Status`].

use std::sync::atomic::AtomicU64;
use std::time::Duration as StdDuration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::warn;

use crate::daemon::{Query, query};
use crate::status::{PortStatusJson, Status};

type G = Gauge<f64, AtomicU64>;
type Labels = Vec<(&'static str, String)>;
type PortMetric = (&'static str, &'static str, fn(&PortStatusJson) -> f64);

fn gauge(r: &mut Registry, name: &str, help: &str, v: f64) {
    let g = G::default();
    g.set(v);
    r.register(name, help, g);
}

/// Renders `s` in the Prometheus text format.
pub fn render(s: &Status) -> String {
    let mut r = Registry::with_prefix("gptp");
    gauge(
        &mut r,
        "offset_from_master_ns",
        "Last offset of the local clock from the grandmaster",
        s.offset_from_master_ns.unwrap_or(f64::NAN),
    );
    gauge(
        &mut r,
        "freq_adj_ppb",
        "Servo frequency adjustment",
        s.freq_adj_ppb,
    );
    gauge(
        &mut r,
        "steps_removed",
        "stepsRemoved from the grandmaster",
        s.steps_removed.map_or(f64::NAN, f64::from),
    );
    gauge(
        &mut r,
        "servo_locked",
        "1 when the servo is locked",
        f64::from(u8::from(s.servo_state == "locked")),
    );
    gauge(
        &mut r,
        "is_grandmaster",
        "1 when this system is the grandmaster",
        f64::from(u8::from(s.is_grandmaster)),
    );
    if let Some(v) = s.virtual_offset_from_host_ns {
        gauge(
            &mut r,
            "virtual_offset_from_host_ns",
            "Virtual clock minus host CLOCK_TAI",
            v as f64,
        );
    }
    let per_port: [PortMetric; 7] = [
        ("port_as_capable", "asCapable", |p| {
            f64::from(u8::from(p.as_capable))
        }),
        ("port_mean_link_delay_ns", "meanLinkDelay", |p| {
            p.mean_link_delay_ns.unwrap_or(f64::NAN)
        }),
        ("port_neighbor_rate_ratio", "neighborRateRatio", |p| {
            p.neighbor_rate_ratio.unwrap_or(f64::NAN)
        }),
        ("port_rx_frames", "Frames received", |p| p.rx_frames as f64),
        ("port_tx_frames", "Frames sent", |p| p.tx_frames as f64),
        (
            "port_tx_timestamp_timeouts",
            "Transmit timestamps that did not come",
            |p| p.tx_timestamp_timeouts as f64,
        ),
        ("port_link_up", "Link operstate up", |p| {
            f64::from(u8::from(p.link_up))
        }),
    ];
    for (name, help, f) in per_port {
        let fam = Family::<Labels, G>::default();
        for p in &s.ports {
            fam.get_or_create(&vec![("port", p.name.clone()), ("state", p.state.clone())])
                .set(f(p));
        }
        r.register(name, help, fam);
    }
    let c = &s.counters;
    let dropped = Family::<Labels, G>::default();
    for (reason, v) in [
        ("malformed", c.malformed),
        ("other_domain", c.other_domain),
        ("path_trace", c.path_trace_rejected),
        ("ignored", c.ignored),
        ("unmatched", c.unmatched),
        ("unsupported", c.unsupported),
    ] {
        dropped
            .get_or_create(&vec![("reason", reason.to_owned())])
            .set(v as f64);
    }
    r.register(
        "dropped_frames",
        "Received frames dropped, by reason",
        dropped,
    );
    gauge(
        &mut r,
        "syncs_received",
        "Sync/Follow_Up pairs received",
        c.syncs_received as f64,
    );
    gauge(&mut r, "syncs_sent", "Syncs sent", c.syncs_sent as f64);
    gauge(
        &mut r,
        "servo_outliers",
        "Sync offsets the servo ignored as outliers",
        c.servo_outliers as f64,
    );
    gauge(
        &mut r,
        "lost_pdelay_responses",
        "Pdelay responses lost",
        c.lost_responses as f64,
    );
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &r);
    out
}

/// Serves metrics until the task is aborted.
pub async fn serve(l: TcpListener, queries: mpsc::Sender<Query>) {
    loop {
        let (mut stream, _) = match l.accept().await {
            Ok(c) => c,
            Err(e) => {
                warn!("metrics accept: {e}");
                tokio::time::sleep(StdDuration::from_millis(100)).await;
                continue;
            }
        };
        let queries = queries.clone();
        tokio::spawn(async move {
            // Read (and ignore) the request head; every path gets the metrics.
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(StdDuration::from_secs(2), stream.read(&mut buf)).await;
            let Some(status) = query(&queries).await else {
                return;
            };
            let body = render(&status);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{CountersJson, PortStatusJson};

    #[test]
    fn status_becomes_prometheus_text() {
        let s = Status {
            clock_identity: "020000.fffe.000001".into(),
            grandmaster_id: Some("020000.fffe.000002".into()),
            is_grandmaster: false,
            steps_removed: Some(1),
            offset_from_master_ns: Some(-12.5),
            freq_adj_ppb: 40.0,
            servo_freq_ppb: 40.0,
            servo_state: "locked".into(),
            virtual_offset_from_host_ns: None,
            clock: "system".into(),
            clock_steered: false,
            timestamping: "software".into(),
            kernel_tai_offset_s: 0,
            uptime_s: 1.0,
            ports: vec![PortStatusJson {
                name: "eth0".into(),
                state: "slave".into(),
                as_capable: true,
                mean_link_delay_ns: Some(800.0),
                neighbor_rate_ratio: Some(1.0),
                lost_responses: 0,
                link_up: true,
                rx_frames: 5,
                tx_frames: 6,
                tx_errors: 0,
                tx_timestamp_timeouts: 0,
                rx_without_timestamp: 0,
            }],
            counters: CountersJson {
                malformed: 3,
                servo_outliers: 2,
                ..CountersJson::default()
            },
        };
        let text = render(&s);
        assert!(text.contains("gptp_offset_from_master_ns -12.5"), "{text}");
        assert!(text.contains("gptp_servo_locked 1"), "{text}");
        assert!(text.contains("gptp_servo_outliers 2"), "{text}");
        assert!(
            text.contains(r#"gptp_port_mean_link_delay_ns{port="eth0",state="slave"} 800"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gptp_dropped_frames{reason="malformed"} 3"#),
            "{text}"
        );
        assert!(!text.contains("virtual_offset"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
