//! The `cuakhau` command: the one composition root. It reads configuration, owns the real clock
//! and the operating system's randomness, picks the storage engine from the database URL, and
//! hands them to the libraries.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// jemalloc, not glibc's malloc: a booking burst spent about 15 % of its CPU in glibc's
/// allocator (its arenas' locks and `malloc_consolidate`), with the server's threads freeing
/// what others allocated. (mimalloc was as fast but held 26 KiB per idle board viewer against
/// jemalloc's 16 and glibc's 18: `bench/sse_fanout.sh`.)
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod backup;
mod config;
mod ops;
mod transparency;

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
    /// session_ttl_s, insecure_cookies, audit_key, checkpoints).
    #[arg(long, global = true, env = "CUAKHAU_CONFIG")]
    config: Option<PathBuf>,
    /// The node's audit checkpoint key (made by `cuakhau audit keygen`); keep it outside the
    /// database's host or at least out of the database administrator's reach.
    #[arg(long, global = true, env = "CUAKHAU_AUDIT_KEY")]
    audit_key: Option<PathBuf>,
    /// The directory signed audit checkpoints are exported to, one file per checkpoint, never
    /// rewritten; one the database administrator cannot write.
    #[arg(long, global = true, env = "CUAKHAU_CHECKPOINTS")]
    checkpoints: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Copy a SQLite database into a new file while it is in use (SQLite's online backup); never
    /// overwrites a file. PostgreSQL: pg_dump (docs/operations.md#backups).
    Backup {
        /// The new file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace a SQLite database with a backup, once the backup's audit log verifies on a staged
    /// copy. Stop the server first.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
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
        /// Fill an empty database with the demo day first (see `cuakhau demo`).
        #[arg(long)]
        demo: bool,
        /// Seconds between automatic dispatch rounds at every gate pair (0: only on request).
        #[arg(long, env = "CUAKHAU_DISPATCH_EVERY_S", default_value_t = 15)]
        dispatch_every_s: u64,
        /// URL of the SMS or chat gateway that is told "your turn" (POSTed JSON).
        #[arg(long, env = "CUAKHAU_WEBHOOK_URL")]
        webhook_url: Option<String>,
        /// Start the server's clock at this RFC 3339 instant (browser tests, training); time
        /// then runs at the normal rate.
        #[arg(long)]
        clock_start: Option<String>,
        /// Call-forward policy at every gate: `perishables-first`, `booked-first` or `fifo`.
        #[arg(long, env = "CUAKHAU_POLICY", default_value = "perishables-first")]
        policy: String,
        /// Seconds between signed audit checkpoints while the log grows (needs --audit-key and
        /// --checkpoints); one more is written at shutdown.
        #[arg(long, env = "CUAKHAU_CHECKPOINT_EVERY_S", default_value_t = 60)]
        checkpoint_every_s: u64,
        /// Requests handled at once; one more is answered 503 at once (open event streams do not count).
        #[arg(long, env = "CUAKHAU_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
        max_concurrent_requests: usize,
        /// This process's name among several on one PostgreSQL database (in /metrics, logs and
        /// lease rows); default: the host name and the process id.
        #[arg(long, env = "CUAKHAU_INSTANCE")]
        instance: Option<String>,
        /// Seconds a lease on background work (a gate pair's dispatch rounds, webhook delivery,
        /// checkpoint export) lasts unless renewed: another process takes over about this long
        /// after its holder dies.
        #[arg(long, env = "CUAKHAU_LEASE_TTL_S", default_value_t = 10)]
        lease_ttl_s: u64,
        /// PostgreSQL connections this process opens at most (share a total among processes).
        #[arg(long, env = "CUAKHAU_DATABASE_POOL", default_value_t = 16)]
        database_pool: u32,
        /// A PostgreSQL streaming replica of --database (postgres://…): the public boards and
        /// drivers' pages are read there, with its lag shown; writes and officers' reads stay on
        /// --database. Its own pool of --database-pool connections at most.
        #[arg(long, env = "CUAKHAU_READ_DATABASE")]
        read_database: Option<String>,
    },
    /// Fill an empty database with a demo day at Kim Thành (exports) and Hữu Nghị (imports),
    /// generated by the simulator and played through the real server logic; marked as demo data.
    Demo {
        /// Seed of the generated day (the same seed and time give the same day).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Play the day up to this RFC 3339 instant instead of now (the day is that instant's day in Vietnam).
        #[arg(long)]
        until: Option<String>,
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
    /// Reports from the database.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// The live gate from the command line.
    Gate {
        #[command(subcommand)]
        command: GateCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Dwell times the WCO Time Release Study way: per group, each interval's n, mean, p50, p95
    /// and max in seconds.
    Dwell {
        #[arg(long)]
        gate_pair: Option<String>,
        /// `export` or `import`.
        #[arg(long)]
        direction: Option<String>,
        /// Trucks that arrived at or after (RFC 3339); default: 30 days ago.
        #[arg(long)]
        from: Option<String>,
        /// Trucks that arrived before (RFC 3339); default: now.
        #[arg(long)]
        until: Option<String>,
        /// Comma-separated: gate-pair, direction, day, commodity, channel.
        #[arg(long, default_value = "gate-pair,direction")]
        by: String,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum GateCommand {
    /// One dispatch round at every gate pair with exit-side lanes (what `serve` does every few
    /// seconds): requeue unanswered calls, release no-shows, call trucks to free lanes.
    Dispatch,
    /// Print a gate pair's live queue board (full plates).
    Queue {
        #[arg(long)]
        gate_pair: String,
        /// `export` or `import`.
        #[arg(long)]
        direction: String,
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
    /// Check the audit log; exits 1 and names the first bad entry or business row. Always: the hash
    /// chain, and bookings and declarations against the log's last states. With --checkpoints:
    /// every signed checkpoint there (signature, and its root against the entries).
    Verify {
        /// The log's verifier key (`NAME+ID+KEY`, the `.pub` file keygen wrote), if --audit-key
        /// (the private key) is not at hand.
        #[arg(long)]
        log_key: Option<PathBuf>,
    },
    /// Make a key: the node's checkpoint key, or with --witness a witness's cosigning key. Writes
    /// PATH (secret) and PATH.pub (the verifier key to give to auditors and witnesses).
    Keygen {
        path: PathBuf,
        /// The key's name, which is also the log's origin line (e.g. `cuakhau.huu-nghi.vn/audit`).
        #[arg(long, default_value = "cuakhau/audit")]
        name: String,
        #[arg(long)]
        witness: bool,
    },
    /// Sign a checkpoint of the log now and export it (to --out, or --checkpoints).
    Checkpoint {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Act as a witness: cosign a checkpoint only if it is consistent with the last one this
    /// witness cosigned (kept in --state); prints the cosigned note.
    Cosign {
        /// The signed checkpoint to cosign.
        checkpoint: PathBuf,
        /// The witness's key (keygen --witness).
        #[arg(long)]
        witness_key: PathBuf,
        /// The log's verifier key.
        #[arg(long)]
        log_key: PathBuf,
        /// The file holding the last checkpoint this witness cosigned.
        #[arg(long)]
        state: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cli = match cli.command {
        // A simulation is plain computation on threads of its own: it starts no async runtime
        // (whose threads a planner's run would pay for at start and at exit).
        Command::Simulate { file, out, seed, replications, threads } => {
            let done = config::File::load(cli.config.as_deref())
                .and_then(|_| ops::simulate(&file, &out, cuakhau_sim::Overrides { seed, replications, threads }));
            return match done {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        command => Cli { command, ..cli },
    };
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
    let audit_key = cli.audit_key.clone().or(file.audit_key.clone());
    let checkpoints = cli.checkpoints.clone().or(file.checkpoints.clone());
    match cli.command {
        Command::Serve {
            listen,
            log_format,
            insecure_cookies,
            no_reference_data,
            demo,
            dispatch_every_s,
            webhook_url,
            clock_start,
            policy,
            checkpoint_every_s,
            max_concurrent_requests,
            instance,
            lease_ttl_s,
            database_pool,
            read_database,
        } => {
            let policy = cuakhau_core::goods::Policy::parse(&policy).ok_or_else(|| {
                anyhow::anyhow!("--policy: unknown policy '{policy}'; use one of: {}", cuakhau_core::goods::Policy::CODES.join(", "))
            })?;
            let clock_start = match clock_start {
                Some(s) => Some(
                    cuakhau_core::time::parse_rfc3339(&s)
                        .ok_or_else(|| anyhow::anyhow!("--clock-start: not an RFC 3339 time with offset: {s}"))?,
                ),
                None => None,
            };
            let listen = listen.or(file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
            let log_format = log_format.or(file.log_format.clone()).unwrap_or_else(|| "text".into());
            let insecure = insecure_cookies || file.insecure_cookies.unwrap_or(false);
            ops::init_logging(&log_format)?;
            if demo {
                ops::demo(&database, 1, None).await?;
            }
            let opts = ops::ServeOpts {
                listen,
                insecure_cookies: insecure,
                session_ttl_s: file.session_ttl_s,
                load_reference: !no_reference_data,
                dispatch_every_s,
                webhook_url,
                clock_start,
                policy,
                max_concurrent_requests,
                instance: instance.unwrap_or_else(ops::default_instance),
                lease_ttl_s,
                database_pool,
                read_database: read_database.or(file.read_database.clone()),
                audit: match (&audit_key, &checkpoints) {
                    (Some(k), Some(d)) => {
                        Some((transparency::load_signer(k)?, d.clone(), std::time::Duration::from_secs(checkpoint_every_s.max(1))))
                    }
                    (None, None) => None,
                    _ => bail!("signed audit checkpoints need both --audit-key and --checkpoints"),
                },
            };
            ops::serve(&database, opts).await?;
        }
        Command::Demo { seed, until } => {
            let until = match until {
                Some(s) => Some(
                    cuakhau_core::time::parse_rfc3339(&s)
                        .ok_or_else(|| anyhow::anyhow!("--until: not an RFC 3339 time with offset: {s}"))?,
                ),
                None => None,
            };
            ops::demo(&database, seed, until).await?
        }
        Command::Backup { to } => backup::backup(&database, &to).await?,
        Command::Restore { from, force } => return backup::restore(&database, &from, force).await,
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
        Command::Simulate { .. } => unreachable!("a simulation runs before the runtime starts (main)"),
        Command::ScenarioSchema => println!("{}", cuakhau_sim::Scenario::json_schema()),
        Command::Audit { command: AuditCommand::Verify { log_key } } => {
            let log = match log_key.as_ref().or(audit_key.as_ref()) {
                Some(p) => Some(transparency::load_verifier(p)?),
                None => None,
            };
            return transparency::verify_command(&database, log, checkpoints.as_deref()).await;
        }
        Command::Audit { command: AuditCommand::Keygen { path, name, witness } } => transparency::keygen(&path, &name, witness)?,
        Command::Audit { command: AuditCommand::Checkpoint { out } } => {
            let key = audit_key.ok_or_else(|| anyhow::anyhow!("signing a checkpoint needs --audit-key"))?;
            let dir = out.or(checkpoints).ok_or_else(|| anyhow::anyhow!("where to? --out DIR or --checkpoints DIR"))?;
            transparency::checkpoint_command(&database, &key, &dir).await?
        }
        Command::Audit { command: AuditCommand::Cosign { checkpoint, witness_key, log_key, state } } => {
            let log = transparency::load_verifier(&log_key)?;
            return transparency::cosign_command(&database, &witness_key, log, &state, &checkpoint).await;
        }
        Command::Report { command: ReportCommand::Dwell { gate_pair, direction, from, until, by, format, out } } => {
            ops::report_dwell(&database, ops::DwellArgs { gate_pair, direction, from, until, by, format, out }).await?
        }
        Command::Gate { command: GateCommand::Dispatch } => ops::gate_dispatch(&database).await?,
        Command::Gate { command: GateCommand::Queue { gate_pair, direction } } => {
            ops::gate_queue(&database, &gate_pair, &direction).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses an unknown value with the list of known ones.
pub fn one_of<'a>(what: &str, v: &'a str, allowed: &[&str]) -> Result<&'a str> {
    if allowed.contains(&v) { Ok(v) } else { bail!("unknown {what} '{v}'; use one of: {}", allowed.join(", ")) }
}
