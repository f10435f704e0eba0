use super::*;

/// A line `a - sw1 - sw2 - b` plus `c` on sw2; `{streams}` is spliced in.
fn plant_with(streams: &str) -> String {
    format!(
        "\
nodes:
  - {{ name: sw1, kind: bridge }}
  - {{ name: sw2, kind: bridge }}
  - {{ name: a, kind: end-station }}
  - {{ name: b, kind: end-station }}
  - {{ name: c, kind: end-station }}
  - {{ name: island, kind: end-station }}
links:
  - {{ ends: [a, sw1] }}
  - {{ ends: [sw1, sw2] }}
  - {{ ends: [sw2, b] }}
  - {{ ends: [sw2, c], speed: 10Mbps }}
streams:
{streams}"
    )
}

/// The single problem of a failing load: (path, line, message).
fn problem(text: &str) -> (String, usize, String) {
    let problems = all_problems(text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems.into_iter().next().unwrap()
}

fn all_problems(text: &str) -> Vec<(String, usize, String)> {
    let err = Plant::from_yaml(text, "plant.yaml").unwrap_err();
    err.problems()
        .iter()
        .map(|p| (p.path.clone(), p.line, p.message.clone()))
        .collect()
}

const GOOD: &str = "  - name: s
    talker: a
    listeners: [b, c]
    period: 1ms
    frame-size: 100
    max-latency: 500us
    priority: 5
";

#[test]
fn defaults_and_routes() {
    let plant = Plant::from_yaml(&plant_with(GOOD), "plant.yaml").unwrap();
    assert_eq!(plant.hyperperiod_ns, 1_000_000);
    assert_eq!(plant.max_best_effort_frame, 1522);
    let sw1 = plant.node_id("sw1").unwrap();
    let sw2 = plant.node_id("sw2").unwrap();
    assert_eq!(plant.nodes[sw1].processing_ns, 2_000);
    assert_eq!(plant.nodes[plant.node_id("a").unwrap()].processing_ns, 0);
    let p = &plant.ports[plant.port_id(sw1, sw2).unwrap()];
    assert_eq!(
        (p.speed_bps, p.propagation_ns, p.traffic_classes),
        (1_000_000_000, 0, 8)
    );
    assert_eq!(p.priority_map, [0, 1, 2, 3, 4, 5, 6, 7]);
    // 1542 bytes at 1 Gbit/s.
    assert_eq!(
        plant.guard_band_ns(plant.port_id(sw1, sw2).unwrap()),
        12_336
    );
    // Multicast tree: a->sw1, sw1->sw2, then sw2->b and sw2->c, sharing sw1->sw2.
    let s = &plant.streams[0];
    let hops: Vec<(String, Option<usize>)> = s
        .route
        .hops
        .iter()
        .map(|h| (plant.port_label(h.port), h.parent))
        .collect();
    assert_eq!(
        hops,
        [
            ("a->sw1".into(), None),
            ("sw1->sw2".into(), Some(0)),
            ("sw2->b".into(), Some(1)),
            ("sw2->c".into(), Some(1)),
        ]
    );
}

#[test]
fn transmission_time_counts_overhead_and_padding() {
    assert_eq!(transmission_ns(1500, 1_000_000_000), 12_160);
    assert_eq!(transmission_ns(10, 1_000_000_000), 672); // padded to 64
    assert_eq!(transmission_ns(64, 100_000_000), 6_720);
    assert_eq!(transmission_ns(100, 3_000_000_000), 320); // 960 bits / 3 -> exactly 320
    assert_eq!(transmission_ns(101, 3_000_000_000), 323); // 968 / 3 = 322.67, rounded up
}

#[test]
fn unknown_talker_and_listener() {
    let text = plant_with(&GOOD.replace("talker: a", "talker: nobody"));
    let (path, line, msg) = problem(&text);
    assert_eq!(path, "streams[0].talker");
    assert_eq!(line, 15);
    assert!(
        msg.starts_with("unknown node \"nobody\" (known: sw1, sw2, a"),
        "{msg}"
    );

    let text = plant_with(&GOOD.replace("[b, c]", "[b, ghost]"));
    let (path, line, msg) = problem(&text);
    assert_eq!((path.as_str(), line), ("streams[0].listeners[1]", 16));
    assert!(msg.contains("unknown node \"ghost\""), "{msg}");
}

#[test]
fn unknown_link_end() {
    let text = plant_with(GOOD).replace("ends: [sw2, b]", "ends: [sw9, b]");
    let problems = all_problems(&text);
    // Without that link, b is unreachable too.
    assert_eq!(problems.len(), 2, "{problems:?}");
    let (path, line, msg) = problems[0].clone();
    assert_eq!((path.as_str(), line), ("links[2].ends[0]", 11));
    assert!(msg.contains("unknown node \"sw9\""), "{msg}");
}

#[test]
fn unreachable_listener() {
    let text = plant_with(&GOOD.replace("[b, c]", "[b, island]"));
    let (path, line, msg) = problem(&text);
    assert_eq!((path.as_str(), line), ("streams[0].listeners[1]", 16));
    assert_eq!(
        msg,
        "listener island is unreachable from talker a (frames cross bridges only)"
    );
}

#[test]
fn frames_do_not_cross_end_stations() {
    // b-c would be a shortcut, but b does not forward.
    let text = plant_with(&GOOD.replace("[b, c]", "[b]"))
        .replace(
            "  - { ends: [sw2, c], speed: 10Mbps }\n",
            "  - { ends: [b, c] }\n",
        )
        .replace("listeners: [b]", "listeners: [c]");
    let (path, _, msg) = problem(&text);
    assert_eq!(path, "streams[0].listeners[0]");
    assert!(msg.contains("unreachable"), "{msg}");
}

#[test]
fn frame_does_not_fit_the_period() {
    // 1500 B at 10 Mbit/s (sw2->c) takes 1_216_000 ns > 1 ms.
    let text = plant_with(&GOOD.replace("frame-size: 100", "frame-size: 1500"));
    let (path, line, msg) = problem(&text);
    assert_eq!((path.as_str(), line), ("streams[0].frame-size", 18));
    assert_eq!(
        msg,
        "a 1500-byte frame takes 1216000 ns on link sw2->c, longer than the period of 1000000 ns"
    );
}

#[test]
fn frame_too_large() {
    let text = plant_with(&GOOD.replace("frame-size: 100", "frame-size: 9000"));
    let (path, line, msg) = problem(&text);
    assert_eq!((path.as_str(), line), ("streams[0].frame-size", 18));
    assert!(msg.contains("must be 1..=1522 bytes"), "{msg}");
}

#[test]
fn unknown_key() {
    let text = plant_with(&GOOD.replace("    priority: 5\n", "    priority: 5\n    prio: 5\n"));
    let (path, line, msg) = problem(&text);
    assert_eq!((path.as_str(), line), ("streams[0].prio", 21));
    assert!(msg.contains("unknown field `prio`"), "{msg}");
}

#[test]
fn given_paths_are_checked() {
    let with_paths = |paths: &str| {
        plant_with(&GOOD.replace("[b, c]", "[b]").replace(
            "    priority: 5\n",
            &format!("    priority: 5\n    paths:\n{paths}"),
        ))
    };
    let ok = Plant::from_yaml(&with_paths("      - [a, sw1, sw2, b]\n"), "p").unwrap();
    assert_eq!(ok.streams[0].route.hops.len(), 3);

    let (path, line, msg) = problem(&with_paths("      - [a, sw2, b]\n"));
    assert_eq!((path.as_str(), line), ("streams[0].paths[0][1]", 22));
    assert_eq!(msg, "a and sw2 are not linked");

    let (path, _, msg) = problem(&with_paths("      - [a, sw1, sw2, c]\n"));
    assert_eq!(path, "streams[0].paths[0]");
    assert_eq!(msg, "each path must end at a different listener");

    let (path, _, msg) = problem(&with_paths("      - [sw1, sw2, b]\n"));
    assert_eq!(path, "streams[0].paths[0][0]");
    assert!(msg.contains("must start at the talker a"), "{msg}");
}

#[test]
fn multicast_paths_must_form_a_tree() {
    // sw2 reached from sw1 in the first path and from c (an end station) in the second.
    let text = plant_with(
        "  - name: s\n    talker: a\n    listeners: [b, c]\n    period: 1ms\n    frame-size: 100\n    \
         max-latency: 500us\n    priority: 5\n    paths:\n      - [a, sw1, sw2, b]\n      - [a, sw1, sw2, c]\n",
    );
    assert!(Plant::from_yaml(&text, "p").is_ok());
}

#[test]
fn semantic_problems_are_all_reported() {
    let text = plant_with(
        &GOOD
            .replace("period: 1ms", "period: 0")
            .replace("priority: 5", "priority: 9")
            .replace("talker: a", "talker: sw1"),
    ) + "  - { name: s, talker: a, listeners: [a], period: 1ms, frame-size: 64, max-latency: 1ms, priority: 1 }\n";
    let problems = all_problems(&text);
    let paths: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "streams[0].talker",
            "streams[0].period",
            "streams[0].priority",
            "streams[1].listeners[0]",
        ]
    );
    assert!(problems[0].2.contains("sw1 is a bridge"), "{problems:?}");
}

#[test]
fn priority_map_must_fit_the_classes() {
    let text = plant_with(GOOD).replace(
        "  - { name: sw2, kind: bridge }",
        "  - { name: sw2, kind: bridge, traffic-classes: 4, ports: [{ to: b, traffic-classes: 2, priority-map: [0, 0, 0, 0, 1, 1, 1, 2] }] }",
    );
    let problems = all_problems(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (path, line, msg) = &problems[0];
    assert_eq!(
        (path.as_str(), *line),
        ("nodes[1].ports[0].priority-map[7]", 3)
    );
    assert!(
        msg.contains("priority 7 maps to traffic class 2, but port sw2->b has only 2"),
        "{msg}"
    );

    let text = plant_with(GOOD).replace(
        "  - { name: sw2, kind: bridge }",
        "  - { name: sw2, kind: bridge, traffic-classes: 4, ports: [{ to: a }] }",
    );
    let (path, _, msg) = problem(&text);
    assert_eq!(path, "nodes[1].ports[0].to");
    assert_eq!(msg, "sw2 has no link to a");

    // Node-level class count with the default identity map clamps high priorities.
    let text = plant_with(GOOD).replace(
        "  - { name: sw2, kind: bridge }",
        "  - { name: sw2, kind: bridge, traffic-classes: 4 }",
    );
    let plant = Plant::from_yaml(&text, "p").unwrap();
    let sw2 = plant.node_id("sw2").unwrap();
    let b = plant.node_id("b").unwrap();
    assert_eq!(
        plant.ports[plant.port_id(sw2, b).unwrap()].priority_map,
        [0, 1, 2, 3, 3, 3, 3, 3]
    );
}

#[test]
fn duplicate_names_and_links() {
    let text = plant_with(GOOD)
        .replace(
            "  - { name: c, kind: end-station }",
            "  - { name: b, kind: end-station }",
        )
        .replace(
            "  - { ends: [sw2, b] }",
            "  - { ends: [sw2, b] }\n  - { ends: [b, sw2] }",
        );
    let paths: Vec<String> = all_problems(&text).into_iter().map(|p| p.0).collect();
    assert!(paths.contains(&"nodes[4].name".to_owned()), "{paths:?}");
    assert!(paths.contains(&"links[3].ends".to_owned()), "{paths:?}");
}

#[test]
fn end_stations_have_no_processing_delay() {
    let text = plant_with(GOOD).replace(
        "  - { name: a, kind: end-station }",
        "  - { name: a, kind: end-station, processing-delay: 1us }",
    );
    let (path, line, _) = problem(&text);
    assert_eq!((path.as_str(), line), ("nodes[2].processing-delay", 4));
}

/// A square of bridges: `t` on b0, `l` on b3, two equal-cost paths (via b1, first in the
/// file, and via b2).
const SQUARE: &str = "
nodes:
  - { name: b0, kind: bridge }
  - { name: b1, kind: bridge }
  - { name: b2, kind: bridge }
  - { name: b3, kind: bridge }
  - { name: t, kind: end-station }
  - { name: l, kind: end-station }
  - { name: m, kind: end-station }
links:
  - { ends: [b0, b1] }
  - { ends: [b0, b2] }
  - { ends: [b1, b3] }
  - { ends: [b2, b3] }
  - { ends: [t, b0] }
  - { ends: [b3, l] }
  - { ends: [b3, m] }
streams:
";

fn via(plant: &Plant, stream: usize) -> Vec<String> {
    plant.streams[stream]
        .route
        .hops
        .iter()
        .map(|h| plant.port_label(h.port))
        .collect()
}

#[test]
fn computed_routes_spread_over_equal_cost_paths() {
    // A given path counts towards the load: 12.16 us per ms on b0->b2->b3.
    let mut text = SQUARE.to_owned()
        + "  - { name: fixed, talker: t, listeners: [m], period: 1ms, frame-size: 1500, \
           max-latency: 1ms, priority: 7, paths: [[t, b0, b2, b3, m]] }\n";
    // Then four streams of 8.16 us per ms each.
    for i in 0..4 {
        text += &format!(
            "  - {{ name: s{i}, talker: t, listeners: [l], period: 1ms, frame-size: 1000, \
             max-latency: 1ms, priority: 7 }}\n"
        );
    }
    let plant = Plant::from_yaml(&text, "square.yaml").unwrap();
    let b1 = ["t->b0", "b0->b1", "b1->b3", "b3->l"];
    let b2 = ["t->b0", "b0->b2", "b2->b3", "b3->l"];
    // b1 is empty (8.16 after s0, below b2's 12.16), s1 too (16.32), then b2 is lighter
    // (20.32 after s2), then b1 again.
    assert_eq!(via(&plant, 1), b1);
    assert_eq!(via(&plant, 2), b1);
    assert_eq!(via(&plant, 3), b2);
    assert_eq!(via(&plant, 4), b1);
    // The public shortest path (no load) keeps the link-order tie-break.
    let (t, l) = (plant.node_id("t").unwrap(), plant.node_id("l").unwrap());
    let names = |p: Vec<usize>| -> Vec<&str> {
        p.into_iter()
            .map(|n| plant.nodes[n].name.as_str())
            .collect()
    };
    assert_eq!(
        names(shortest_paths(&plant, t, &[l])[0].clone().unwrap()),
        ["t", "b0", "b1", "b3", "l"]
    );
}
