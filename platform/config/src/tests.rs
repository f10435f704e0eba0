//! Loader behaviour: every error names path, line and column.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::mutation::{UNKNOWN_KEY, unknown_key_mutations};
use crate::source_map::{Pos, SourceMap};
use crate::{
    BitRate, ConfigError, DurationNs, Issue, Problem, Validate, YamlPath, from_path, from_str,
    from_str_validated,
};

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Plant {
    name: String,
    #[serde(default)]
    cycle_time: Option<DurationNs>,
    streams: Vec<Stream>,
    #[serde(default)]
    labels: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Stream {
    id: u32,
    period: DurationNs,
    #[serde(default)]
    rate: Option<BitRate>,
    #[serde(default)]
    talker: Option<Talker>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Talker {
    mac: String,
    #[serde(default)]
    pcp: u8,
}

/// Streams need a positive period, a rate, and unique ids.
impl Validate for Plant {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        for (i, s) in self.streams.iter().enumerate() {
            let at = YamlPath::root().key("streams").index(i);
            if s.period.as_nanos() == 0 {
                issues.push(Issue::new(at.key("period"), "must be > 0"));
            }
            if s.rate.is_none() {
                issues.push(Issue::new(at.key("rate"), "is required, e.g. \"100Mbps\""));
            }
            if self.streams[..i].iter().any(|o| o.id == s.id) {
                issues.push(Issue::new(at.key("id"), format!("{} is used twice", s.id)));
            }
        }
        issues
    }
}

const GOOD: &str = "\
name: plant
cycle-time: 1ms
streams:
  - id: 1
    period: 125us
    rate: 100Mbps
    talker:
      mac: 00:11:22:33:44:55
  - {id: 2, period: 1000000, rate: 1Gbps, talker: {mac: aa, pcp: 3}}
labels: {a: 1}
";

/// The one problem of a failed load.
#[track_caller]
fn problem<T: std::fmt::Debug>(result: Result<T, ConfigError>) -> Problem {
    let err = result.unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    err.problems()[0].clone()
}

#[track_caller]
fn assert_at(p: &Problem, path: &str, line: usize, column: usize) {
    assert_eq!(
        (p.path.as_str(), p.line, p.column),
        (path, line, column),
        "{p:?}"
    );
}

#[test]
fn good_document_loads() {
    let plant: Plant = from_str_validated(GOOD, "plant.yaml").unwrap();
    assert_eq!(plant.cycle_time, Some(DurationNs(1_000_000)));
    assert_eq!(plant.streams[0].period, DurationNs(125_000));
    assert_eq!(plant.streams[1].rate, Some(BitRate(1_000_000_000)));
    assert_eq!(plant.streams[1].talker.as_ref().unwrap().pcp, 3);
}

#[test]
fn unknown_key_at_top_level() {
    let text = GOOD.replace("labels:", "lables:");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "lables", 10, 1);
    assert!(
        p.message.contains("unknown field `lables`"),
        "{}",
        p.message
    );
    assert!(
        p.message
            .contains("expected one of `name`, `cycle-time`, `streams`, `labels`")
    );
}

#[test]
fn unknown_key_in_list_items_block_and_flow() {
    let text = GOOD.replace("      mac:", "      mac-address:");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[0].talker.mac-address", 8, 7);
    assert!(
        p.message.contains("expected `mac` or `pcp`"),
        "{}",
        p.message
    );

    let text = GOOD.replace("rate: 1Gbps", "rtae: 1Gbps");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[1].rtae", 9, 30);
}

#[test]
fn type_error_and_missing_field() {
    let text = GOOD.replace("id: 2", "id: two");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[1].id", 9, 10);
    assert_eq!(p.message, "invalid type: string \"two\", expected u32");

    let text = GOOD.replace("    period: 125us\n", "");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[0]", 4, 5);
    assert_eq!(p.message, "missing field `period`");
}

#[test]
fn newtype_errors_name_path_and_line() {
    let text = GOOD.replace("period: 125us", "period: 125 parsecs");
    let err = from_str::<Plant>(&text, "plant.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "plant.yaml:5:13: streams[0].period: invalid duration \"125 parsecs\": unknown unit \
         \"parsecs\" (accepted: ns, us (or µs), ms, s); expected a duration such as \"1ms\" or \
         an integer in ns"
    );
    let text = GOOD.replace("cycle-time: 1ms", "cycle-time: -5");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "cycle-time", 2, 13);
    assert!(p.message.contains("must not be negative"), "{}", p.message);

    let text = GOOD.replace("rate: 1Gbps", "rate: 1GB/s");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[1].rate", 9, 36);
    assert!(
        p.message.contains("accepted: bps or bit/s"),
        "{}",
        p.message
    );
}

#[test]
fn all_semantic_issues_are_reported_with_positions() {
    let text = "\
name: plant
streams:
  - id: 7
    period: 0
  - id: 8
    period: 1ms
    rate: 1Gbps
  - id: 7
    rate: 1Gbps
    period: 0ns
";
    let err = from_str_validated::<Plant>(text, "plant.yaml").unwrap_err();
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.path.as_str(), p.line, p.column))
        .collect();
    assert_eq!(
        got,
        [
            // `rate` is absent: reported at the stream that lacks it.
            ("streams[0].rate", 3, 5),
            ("streams[0].period", 4, 5),
            ("streams[2].id", 8, 5),
            ("streams[2].period", 10, 5),
        ]
    );
    let rendered = err.to_string();
    assert_eq!(rendered.lines().count(), 4);
    assert!(rendered.starts_with("plant.yaml:3:5: streams[0].rate: is required"));
    assert!(rendered.contains("\nplant.yaml:8:5: streams[2].id: 7 is used twice\n"));
    // The snippet shows the source line with a caret under the column.
    assert!(
        err.render_snippets()
            .contains("10 |     period: 0ns\n   |     ^\n")
    );
}

#[test]
fn duplicate_keys_are_rejected() {
    // A struct field twice: serde would notice, but without a path or line.
    let text = GOOD.replace("cycle-time: 1ms", "cycle-time: 1ms\nname: again");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "name", 3, 1);
    assert!(p.message.contains("first written at line 1 column 1"));
    // A map key twice, in flow style: serde would silently keep the last value.
    let text = GOOD.replace("{a: 1}", "{a: 1, b: 2, a: 3}");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "labels.a", 10, 22);
    // Nested in a list item.
    let text = GOOD.replace("    rate: 100Mbps\n", "    rate: 100Mbps\n    id: 3\n");
    let p = problem(from_str::<Plant>(&text, "plant.yaml"));
    assert_at(&p, "streams[0].id", 7, 5);
}

#[test]
fn syntax_error_has_position_without_repeating_it() {
    let p = problem(from_str::<Plant>(
        "name: plant\nstreams: []\n  labels: {}\n",
        "x.yaml",
    ));
    assert_at(&p, ".", 3, 3);
    assert_eq!(
        p.message,
        "did not find expected key, while parsing a block mapping"
    );
}

#[test]
fn source_map_positions() {
    let text =
        "a:\n  - b: {c: 1, d: [x, y]}\n  - &anchor\n    e: f\n? [complex, key]\n: 2\ng: *anchor\n";
    let map = SourceMap::parse(text).unwrap();
    let pos = |p: &YamlPath| map.locate(p).map(|Pos { line, column }| (line, column));
    let a = YamlPath::root().key("a");
    assert_eq!(pos(&YamlPath::root()), Some((1, 1)));
    assert_eq!(pos(&a.index(0).key("b").key("d").index(1)), Some((2, 22)));
    assert_eq!(pos(&a.index(1).key("e")), Some((4, 5)));
    assert_eq!(pos(&YamlPath::root().key("g")), Some((7, 1)));
    // Not written: the nearest written ancestor.
    assert_eq!(pos(&YamlPath::root().key("g").key("e")), Some((7, 1)));
    assert_eq!(pos(&a.index(9).key("z")), Some((1, 1)));
    assert!(map.duplicates.is_empty());
}

#[test]
fn paths_render_like_serde_path_to_error() {
    let p = YamlPath::root()
        .key("ports")
        .index(0)
        .key("gate-control-list")
        .index(1);
    assert_eq!(
        p.key("interval-ns").to_string(),
        "ports[0].gate-control-list[1].interval-ns"
    );
    assert_eq!(YamlPath::root().to_string(), ".");
    assert_eq!(YamlPath::root().index(2).key("a").to_string(), "[2].a");
    assert_eq!(
        p.parent().unwrap().to_string(),
        "ports[0].gate-control-list"
    );
}

#[test]
fn one_mutation_per_mapping_and_each_is_rejected() {
    let mutations = unknown_key_mutations(GOOD).unwrap();
    let mappings: Vec<String> = mutations.iter().map(|m| m.mapping.to_string()).collect();
    assert_eq!(
        mappings,
        [
            ".",
            "streams[0]",
            "streams[0].talker",
            "streams[1]",
            "streams[1].talker",
            "labels",
        ]
    );
    for m in &mutations {
        if m.mapping.to_string() == "labels" {
            // A free-form map accepts any key of the right type: the value 1 is a valid u32.
            assert!(from_str::<Plant>(&m.text, "mutated.yaml").is_ok());
            continue;
        }
        // The original document is otherwise intact, so the unknown key is the only error.
        let p = problem(from_str::<Plant>(&m.text, "mutated.yaml"));
        assert_eq!(p.path, m.expected_error_path().to_string(), "{}", m.text);
        assert!(
            p.message
                .contains(&format!("unknown field `{UNKNOWN_KEY}`"))
        );
        let line = m.text.lines().nth(p.line - 1).unwrap();
        assert!(line.contains(UNKNOWN_KEY), "line {} of\n{}", p.line, m.text);
    }
}

#[test]
fn mutations_cover_empty_and_nested_flow_mappings() {
    let text = "a: {}\nb: [[{c: {}}]]\nd: 1\n";
    let mutations = unknown_key_mutations(text).unwrap();
    let mappings: Vec<String> = mutations.iter().map(|m| m.mapping.to_string()).collect();
    assert_eq!(mappings, [".", "a", "b[0][0]", "b[0][0].c"]);
    let value: yaml_serde::Value = from_str(&mutations[3].text, "m.yaml").unwrap();
    assert_eq!(
        value["b"][0][0]["c"][UNKNOWN_KEY],
        yaml_serde::Value::from(1)
    );
    assert_eq!(value["b"][0][0].as_mapping().unwrap().len(), 1);
    assert!(unknown_key_mutations("a: [").is_err());
}

#[test]
fn from_path_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plant.yaml");
    std::fs::write(&file, GOOD.replace("id: 2", "id: -2")).unwrap();
    let err = from_path::<Plant>(&file).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:9:10: streams[1].id: ", file.display())),
        "{err}"
    );
    let missing = from_path::<Plant>(dir.path().join("absent.yaml")).unwrap_err();
    assert!(matches!(missing, ConfigError::Read { .. }));
}
