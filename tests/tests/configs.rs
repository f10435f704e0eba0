//! Every file in `configs/` loads with the loader its name selects, and an unknown key injected
//! into any one of its mappings is rejected with that key's YAML path and a line number.
//!
//! A new kind of config file needs a row in `LOADERS`; a file no row claims fails the test, so
//! no example can slip past the check.

use std::path::{Path, PathBuf};

use tsn_config::mutation::unknown_key_mutations;
use tsn_config::{ConfigError, from_str_validated};

type Loader = fn(&str, &str) -> Result<(), ConfigError>;

/// File-name prefix -> the loader the tool for that kind of file uses.
const LOADERS: &[(&str, Loader)] = &[
    ("spb-topology-", |text, name| {
        from_str_validated::<switch_ctl::topology::TopologyFile>(text, name).map(drop)
    }),
    ("plant-", |text, name| {
        tsn::plant::Plant::from_yaml(text, name).map(drop)
    }),
    ("gptpd-", |text, name| {
        gptpd::config::parse(text, name).map(drop)
    }),
];

fn config_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
}

fn loader_for(path: &Path) -> Loader {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    LOADERS
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, loader)| *loader)
        .unwrap_or_else(|| {
            panic!(
                "configs/{name}: no loader claims this file; name it with one of the prefixes {:?} \
                 or add its kind to LOADERS in tests/tests/configs.rs",
                LOADERS.iter().map(|(p, _)| *p).collect::<Vec<_>>()
            )
        })
}

#[test]
fn every_example_config_loads() {
    let files = config_files();
    assert!(
        files.len() >= 4,
        "expected the example configs, found {files:?}"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable config");
        let name = path.display().to_string();
        if let Err(e) = loader_for(&path)(&text, &name) {
            panic!("{name} does not load:\n{e}");
        }
    }
}

#[test]
fn an_unknown_key_in_any_mapping_of_any_config_is_rejected() {
    let mut checked = 0;
    for path in config_files() {
        let loader = loader_for(&path);
        let text = std::fs::read_to_string(&path).expect("readable config");
        let mutations = unknown_key_mutations(&text).expect("example parses as YAML");
        assert!(!mutations.is_empty(), "{} has no mapping", path.display());
        for m in mutations {
            let name = format!("{} (unknown key in `{}`)", path.display(), m.mapping);
            let expected = m.expected_error_path().to_string();
            match loader(&m.text, &name) {
                Ok(()) => panic!("{name}: accepted"),
                Err(e) => {
                    let p = e
                        .problems()
                        .iter()
                        .find(|p| p.path == expected)
                        .unwrap_or_else(|| panic!("{name}: no problem names `{expected}`:\n{e}"));
                    assert!(p.line > 0, "{name}: no line number in {p:?}");
                    assert!(p.message.contains("unknown field"), "{name}: {}", p.message);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} mappings checked");
}
