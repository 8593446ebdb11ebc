//! The scenarios shipped in `scenarios/` run, carry their assumptions and sources, and write
//! every output; the JSON schema in docs/ matches the scenario types.

use cuakhau_sim::{Overrides, Progress, Scenario};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_shipped_scenario_runs_and_writes_its_outputs() {
    let dir = root().join("scenarios");
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    for path in names {
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(!s.assumptions.is_empty() && !s.sources.is_empty(), "{} must state its assumptions and sources", path.display());
        assert!(!s.variants.is_empty(), "{} compares variants", path.display());
        let progress = Progress::default();
        let (summary, runs) =
            cuakhau_sim::simulate(&s, &dir, &Overrides { replications: Some(2), ..Default::default() }, &progress).unwrap();
        assert!((progress.fraction() - 1.0).abs() < 1e-9, "progress reaches 100 %");
        for v in &summary.variants {
            assert!(v.served > 0.0 && v.events > 0, "{}: {}", path.display(), v.name);
            assert!(v.arrived >= v.served);
        }
        let out = tempfile::tempdir().unwrap();
        cuakhau_sim::report::write_all(out.path(), &summary, &runs).unwrap();
        for f in ["summary.json", "summary.csv", "queue.csv", "waits.csv", "queue.svg", "waits.svg", "variants.svg"] {
            let text = std::fs::read_to_string(out.path().join(f)).unwrap();
            assert!(text.len() > 100, "{f} is written");
        }
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap()).unwrap();
        for key in ["arrived", "served", "spoiled", "events", "sim_s", "measured", "mean_entry_queue"] {
            assert!(json["variants"][0][key].is_number(), "summary.json has {key}");
        }
        let p0 = &json["variants"][0]["p_wait_positive"]["mean"];
        assert!(p0.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)), "summary.json has P(wait > 0): {p0}");
        assert!(!json["variants"][0]["side_utilisation"].as_array().unwrap().is_empty(), "summary.json has side_utilisation");
        for key in ["mean", "p50", "p95", "max"] {
            assert!(json["variants"][0]["wait_h"][key].is_number(), "summary.json has wait_h.{key}");
        }
        assert!(std::fs::read_to_string(out.path().join("variants.svg")).unwrap().contains(&v_name(&summary)));
    }
}

fn v_name(s: &cuakhau_sim::SummaryOut) -> String {
    s.variants.last().unwrap().name.replace('&', "&amp;")
}

#[test]
fn the_published_schema_is_up_to_date() {
    // `CUAKHAU_BLESS=1 cargo test -p cuakhau-sim --test shipped` rewrites it from the code.
    if std::env::var_os("CUAKHAU_BLESS").is_some() {
        std::fs::write(root().join("docs/scenario.schema.json"), Scenario::json_schema() + "\n").unwrap();
    }
    let published = std::fs::read_to_string(root().join("docs/scenario.schema.json")).unwrap_or_default();
    assert!(
        published.trim() == Scenario::json_schema().trim(),
        "docs/scenario.schema.json is stale: run `CUAKHAU_BLESS=1 cargo test -p cuakhau-sim --test shipped` \
         (or `cargo run -p cuakhau-cli -- scenario-schema > docs/scenario.schema.json`)"
    );
}

/// Everything a run reports but its own timings, as JSON text (object keys sorted).
fn figures(s: &cuakhau_sim::SummaryOut) -> String {
    fn strip(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                m.into_iter().filter(|(k, _)| !matches!(k.as_str(), "sim_s" | "wall_s")).map(|(k, v)| (k, strip(v))).collect()
            }
            serde_json::Value::Array(a) => a.into_iter().map(strip).collect(),
            v => v,
        }
    }
    strip(serde_json::to_value(s).unwrap()).to_string()
}

/// FNV-1a, 64 bits: a short, stable digest of the figures.
fn digest(text: &str) -> String {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    format!("{h:016x}")
}

/// A seeded run reports exactly the figures it reported when they were recorded, for every
/// shipped scenario and the benchmark's year (two seeds each). Work on the engine's speed must
/// keep every draw and every event in its place; a change meant to move the figures records them
/// again with `CUAKHAU_BLESS=1 cargo test -p cuakhau-sim --test shipped`, and says why. The
/// figures were recorded on x86_64 Linux with glibc: the samplers' `ln` and `exp` come from the
/// platform's maths library, and another one may round a draw differently. The digest covers the
/// summary as written, scenario texts included, so editing a shipped scenario's wording records
/// them again too.
#[test]
fn a_seeded_run_reports_the_figures_it_reported_when_recorded() {
    let pinned_path = root().join("crates/cuakhau-sim/tests/figures.txt");
    let mut paths: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.push(root().join("bench/simulator/year.toml"));
    let mut lines = Vec::new();
    for path in &paths {
        let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
        for seed in [1, 7] {
            let o = Overrides { seed: Some(seed), replications: Some(2), threads: Some(2) };
            let (summary, _) = cuakhau_sim::simulate(&s, path.parent().unwrap(), &o, &Progress::default()).unwrap();
            lines.push(format!("{} {seed} {}", path.file_name().unwrap().to_string_lossy(), digest(&figures(&summary))));
        }
    }
    let got = lines.join("\n") + "\n";
    if std::env::var_os("CUAKHAU_BLESS").is_some() {
        std::fs::write(&pinned_path, &got).unwrap();
    }
    let pinned = std::fs::read_to_string(&pinned_path).unwrap_or_default();
    assert_eq!(got, pinned, "a seeded run's figures changed (see this test's comment)");
}
