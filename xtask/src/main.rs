//! Automation for the cuakhau workspace: `cargo xtask check` verifies the architecture's
//! boundaries and the tidy rules. The same checks run as tests (`cargo test -p xtask`).

#![allow(clippy::print_stdout)] // a command-line tool

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Crates and the dependencies they must never gain (directly or transitively, normal edges).
pub const BOUNDARIES: &[(&str, &[&str])] = &[
    ("cuakhau-core", &["tokio", "sqlx", "axum", "serde", "serde_json", "hyper", "rand"]),
    ("cuakhau-api", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-data", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-store", &["tokio", "sqlx", "axum", "hyper"]),
    ("cuakhau-server", &["sqlx"]),
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// The packages `krate` depends on through normal edges, as `cargo tree` resolves them for it alone.
pub fn dependencies(krate: &str) -> Result<Vec<String>, String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect())
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
            let problems: Vec<String> = check_boundaries().into_iter().chain(check_docs()).collect();
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
    fn every_source_file_says_what_it_is_for() {
        let p = check_docs();
        assert!(p.is_empty(), "{}", p.join("\n"));
    }
}
