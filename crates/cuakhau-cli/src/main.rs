//! The `cuakhau` command: the one composition root. It reads configuration, owns the real clock
//! and the operating system's randomness, picks the storage engine from the database URL, and
//! hands them to the libraries.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod config;
mod ops;

/// cuakhau — the smart border gate platform for the Vietnam–China land border.
///
/// Start here: `cuakhau serve` runs the web server on a local SQLite file (cuakhau.db), loading the
/// border's reference data on first start, and prints the address to open.
/// Configuration comes from flags, then CUAKHAU_* environment variables, then an optional TOML file
/// (--config), in that order.
#[derive(Debug, Parser)]
#[command(name = "cuakhau", version, propagate_version = true)]
pub struct Cli {
    /// Database URL: `sqlite:PATH` (default `sqlite:cuakhau.db`) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, global = true, env = "CUAKHAU_DATABASE")]
    database: Option<String>,
    /// A TOML file with defaults for any of the settings (keys: database, listen, log_format,
    /// session_ttl_s, insecure_cookies).
    #[arg(long, global = true, env = "CUAKHAU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (API at /api/v1, health at /healthz, metrics at /metrics).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long, env = "CUAKHAU_LISTEN")]
        listen: Option<String>,
        /// Log format: `text` or `json`.
        #[arg(long, env = "CUAKHAU_LOG_FORMAT")]
        log_format: Option<String>,
        /// Send the session cookie without `Secure` (plain-HTTP development only).
        #[arg(long, env = "CUAKHAU_INSECURE_COOKIES")]
        insecure_cookies: bool,
        /// Do not load the bundled reference data into an empty database.
        #[arg(long)]
        no_reference_data: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import reference data from a CSV or JSON file (all rows or none).
    Import {
        /// The file; its name tells the table (provinces, pairings, gate_pairs, lanes) unless --table is given.
        file: PathBuf,
        #[arg(long)]
        table: Option<String>,
        /// `csv` or `json`; by default from the file's extension.
        #[arg(long)]
        format: Option<String>,
    },
    /// Export reference data as CSV or JSON.
    Export {
        /// provinces, pairings, gate_pairs or lanes.
        #[arg(long)]
        table: String,
        /// `csv` (default) or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Manage users.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Run a capacity-planning scenario (TOML, see docs/scenarios.md) and write summary.json,
    /// CSV files and SVG plots.
    Simulate {
        /// The scenario file.
        file: PathBuf,
        /// Folder for the results (created if missing).
        #[arg(long, default_value = "sim-out")]
        out: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the scenario's number of replications.
        #[arg(long)]
        replications: Option<u32>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Print the JSON schema of the scenario format.
    ScenarioSchema,
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user. The password is read from standard input (one line).
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// A role, repeatable: admin, officer:VN:customs:huu-nghi, officer:CN:gate-board:*, enterprise:CODE, driver.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Set a user's password (read from standard input); ends their sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// List users and their roles.
    ListUsers,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit hash chain; exits 1 and names the first broken entry if it does not hold.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let file = config::File::load(cli.config.as_deref())?;
    let database = cli.database.clone().or(file.database.clone()).unwrap_or_else(|| "sqlite:cuakhau.db".to_string());
    match cli.command {
        Command::Serve { listen, log_format, insecure_cookies, no_reference_data } => {
            let listen = listen.or(file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
            let log_format = log_format.or(file.log_format.clone()).unwrap_or_else(|| "text".into());
            let insecure = insecure_cookies || file.insecure_cookies.unwrap_or(false);
            ops::init_logging(&log_format)?;
            ops::serve(&database, &listen, insecure, file.session_ttl_s, !no_reference_data).await?;
        }
        Command::Migrate => {
            ops::open_store(&database).await?;
            println!("migrations applied to {}", config::redact(&database));
        }
        Command::Import { file: path, table, format } => ops::import(&database, &path, table.as_deref(), format.as_deref()).await?,
        Command::Export { table, format, out } => ops::export(&database, &table, &format, out.as_deref()).await?,
        Command::Admin { command } => match command {
            AdminCommand::CreateUser { username, display_name, roles } => {
                ops::create_user(&database, username, display_name, roles).await?
            }
            AdminCommand::ResetPassword { username } => ops::reset_password(&database, &username).await?,
            AdminCommand::ListUsers => ops::list_users(&database).await?,
        },
        Command::Simulate { file, out, seed, replications, threads } => {
            ops::simulate(&file, &out, cuakhau_sim::Overrides { seed, replications, threads })?;
        }
        Command::ScenarioSchema => println!("{}", cuakhau_sim::Scenario::json_schema()),
        Command::Audit { command: AuditCommand::Verify } => return ops::audit_verify(&database).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses an unknown value with the list of known ones.
pub fn one_of<'a>(what: &str, v: &'a str, allowed: &[&str]) -> Result<&'a str> {
    if allowed.contains(&v) { Ok(v) } else { bail!("unknown {what} '{v}'; use one of: {}", allowed.join(", ")) }
}
