//! Automation for the cuakhau workspace: `cargo xtask check` verifies the architecture's
//! boundaries and the tidy rules. The same checks run as tests (`cargo test -p xtask`).

#![allow(clippy::print_stdout)] // a command-line tool

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The engine crates: only the composition root (the CLI) and the benchmarks may depend on them.
const BACKENDS: [&str; 2] = ["cuakhau-store-sqlite", "cuakhau-store-postgres"];

/// Crates and the dependencies they must never gain (directly or transitively, normal edges).
pub const BOUNDARIES: &[(&str, &[&str])] = &[
    ("cuakhau-core", &["tokio", "sqlx", "axum", "serde", "serde_json", "hyper", "rand"]),
    ("cuakhau-api", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-data", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-store", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-sim", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-app", &["axum", "hyper", "utoipa", "sqlx", "cuakhau-api", BACKENDS[0], BACKENDS[1]]),
    ("cuakhau-server", &["sqlx", BACKENDS[0], BACKENDS[1]]),
];

/// The workspace crates each workspace crate may depend on directly (normal edges): the layers'
/// allowed edges. A crate missing from this list is a failure, so a new crate states its place.
pub const INTERNAL_EDGES: &[(&str, &[&str])] = &[
    ("cuakhau-core", &[]),
    ("cuakhau-data", &["cuakhau-core"]),
    ("cuakhau-api", &["cuakhau-core"]),
    ("cuakhau-store", &["cuakhau-core"]),
    ("cuakhau-store-sqlite", &["cuakhau-core", "cuakhau-store"]),
    ("cuakhau-store-postgres", &["cuakhau-core", "cuakhau-store"]),
    ("cuakhau-sim", &["cuakhau-core"]),
    ("cuakhau-app", &["cuakhau-core", "cuakhau-data", "cuakhau-sim", "cuakhau-store"]),
    ("cuakhau-server", &["cuakhau-api", "cuakhau-app", "cuakhau-core", "cuakhau-data", "cuakhau-store"]),
    (
        "cuakhau-cli",
        &[
            "cuakhau-api",
            "cuakhau-app",
            "cuakhau-core",
            "cuakhau-data",
            "cuakhau-server",
            "cuakhau-sim",
            "cuakhau-store",
            BACKENDS[0],
            BACKENDS[1],
        ],
    ),
    ("cuakhau-bench", &["cuakhau-app", "cuakhau-core", "cuakhau-server", "cuakhau-store", BACKENDS[0], BACKENDS[1]]),
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// The package names `cargo tree` lists for `krate` alone through normal edges (itself first),
/// with `extra` arguments.
fn cargo_tree(krate: &str, extra: &[&str]) -> Result<Vec<String>, String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(extra)
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect())
}

/// The packages `krate` depends on through normal edges, as `cargo tree` resolves them for it alone.
pub fn dependencies(krate: &str) -> Result<Vec<String>, String> {
    cargo_tree(krate, &[])
}

/// The workspace crates `krate` depends on directly through normal edges.
pub fn internal_dependencies(krate: &str) -> Result<Vec<String>, String> {
    let mut deps: Vec<String> =
        cargo_tree(krate, &["--depth", "1"])?.into_iter().filter(|n| n.starts_with("cuakhau-") && n != krate).collect();
    deps.sort();
    deps.dedup();
    Ok(deps)
}

/// The workspace's crates (the folders under `crates/`).
pub fn workspace_crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("crates"))
        .map(|d| d.flatten().filter(|e| e.path().join("Cargo.toml").exists()).filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Every edge between workspace crates that `allowed` does not list, and every crate it does
/// not list, as sentences; `deps` tells a crate's direct workspace dependencies.
pub fn edge_problems(crates: &[String], allowed: &[(&str, &[&str])], deps: impl Fn(&str) -> Result<Vec<String>, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for krate in crates {
        let Some((_, ok)) = allowed.iter().find(|(k, _)| k == krate) else {
            problems.push(format!("{krate} is not in xtask's INTERNAL_EDGES: say which workspace crates it may depend on"));
            continue;
        };
        match deps(krate) {
            Ok(list) => {
                for d in list.iter().filter(|d| !ok.contains(&d.as_str())) {
                    problems.push(format!("{krate} must not depend on {d} (see ARCHITECTURE.md, boundaries)"));
                }
            }
            Err(e) => problems.push(format!("cannot list the dependencies of {krate}: {e}")),
        }
    }
    problems
}

/// Every internal edge outside the allowed list.
pub fn check_internal_edges() -> Vec<String> {
    edge_problems(&workspace_crates(), INTERNAL_EDGES, internal_dependencies)
}

/// Every violated boundary, as a sentence.
pub fn check_boundaries() -> Vec<String> {
    let mut problems = Vec::new();
    for (krate, banned) in BOUNDARIES {
        match dependencies(krate) {
            Ok(deps) => {
                for b in *banned {
                    if deps.iter().any(|d| d == b) {
                        problems.push(format!("{krate} must not depend on {b} (see ARCHITECTURE.md)"));
                    }
                }
            }
            Err(e) => problems.push(format!("cannot list the dependencies of {krate}: {e}")),
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target" || n == "node_modules") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every Rust source file that does not open with a `//!` doc comment.
pub fn check_docs() -> Vec<String> {
    let root = workspace_root();
    let mut files = Vec::new();
    for d in ["crates", "xtask", "bench"] {
        rust_files(&root.join(d), &mut files);
    }
    files
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().trim_start().starts_with("//!"))
        .map(|f| format!("{} does not start with a //! doc comment saying what it is for", f.strip_prefix(&root).unwrap_or(&f).display()))
        .collect()
}

fn main() -> ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    match cmd.as_str() {
        "check" => {
            let problems: Vec<String> = check_boundaries().into_iter().chain(check_internal_edges()).chain(check_docs()).collect();
            if problems.is_empty() {
                println!("xtask check: boundaries and docs hold");
                ExitCode::SUCCESS
            } else {
                for p in &problems {
                    eprintln!("xtask check: {p}");
                }
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo xtask check   (architecture boundaries and //! docs)");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_architecture_boundaries_hold() {
        let p = check_boundaries();
        assert!(p.is_empty(), "{}", p.join("\n"));
    }

    #[test]
    fn the_boundary_check_can_fail() {
        // The server legitimately depends on axum; asking the same question about it must say yes,
        // or the check above would pass vacuously.
        assert!(dependencies("cuakhau-server").unwrap().iter().any(|d| d == "axum"));
        assert!(dependencies("cuakhau-core").unwrap().iter().any(|d| d == "jiff"));
    }

    #[test]
    fn only_the_allowed_edges_join_workspace_crates() {
        let p = check_internal_edges();
        assert!(p.is_empty(), "{}", p.join("\n"));
    }

    #[test]
    fn the_edge_check_can_fail() {
        // Real edges, read from cargo: the server reaches the app, the CLI a backend.
        assert!(internal_dependencies("cuakhau-server").unwrap().contains(&"cuakhau-app".to_string()));
        assert!(internal_dependencies("cuakhau-cli").unwrap().contains(&"cuakhau-store-sqlite".to_string()));
        assert!(workspace_crates().len() >= 11);
        // A server that reached a backend, and a crate nobody placed, are both named.
        let crates = vec!["cuakhau-server".to_string(), "cuakhau-people".to_string()];
        let fake = |k: &str| Ok(if k == "cuakhau-server" { vec!["cuakhau-app".into(), "cuakhau-store-sqlite".into()] } else { vec![] });
        let p = edge_problems(&crates, INTERNAL_EDGES, fake);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("cuakhau-server must not depend on cuakhau-store-sqlite"), "{p:?}");
        assert!(p[1].contains("cuakhau-people is not in"), "{p:?}");
    }

    #[test]
    fn the_banned_crates_are_real_edges_somewhere() {
        // Each kind of ban names a crate that some other workspace crate does depend on, so a
        // misspelt name cannot pass vacuously.
        let cli = dependencies("cuakhau-cli").unwrap();
        let server = dependencies("cuakhau-server").unwrap();
        for banned in ["tokio", "sqlx", "utoipa", "cuakhau-api", "cuakhau-store-sqlite", "cuakhau-store-postgres"] {
            assert!(cli.iter().any(|d| d == banned), "{banned} is not a dependency of anything: the ban would pass vacuously");
        }
        for banned in ["axum", "hyper"] {
            assert!(server.iter().any(|d| d == banned), "{banned}");
        }
    }

    #[test]
    fn every_source_file_says_what_it_is_for() {
        let p = check_docs();
        assert!(p.is_empty(), "{}", p.join("\n"));
    }
}
