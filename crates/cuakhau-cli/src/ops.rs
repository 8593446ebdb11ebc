//! What each command does, with the real clock, the operating system's randomness and the store
//! chosen by URL scheme.

use crate::config::redact;
use anyhow::{Context, Result, anyhow, bail};
use cuakhau_app::{App, Clock, Entropy, Ticker};
use cuakhau_core::{ReferenceData, Timestamp};
use cuakhau_data::{DataError, Table};
use cuakhau_server::{AppState, Config};
use cuakhau_store::{Actor, Store};
use indicatif::{ProgressBar, ProgressStyle};
use rand::TryRng;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

/// The wall clock. The only place cuakhau reads it.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the composition root owns the real clock
    fn now(&self) -> Timestamp {
        Timestamp(jiff::Timestamp::now().as_microsecond())
    }
}

/// The system clock shifted to start at a chosen instant: for browser tests, training and
/// rehearsals at a given hour of the border day. Time still passes at the normal rate.
#[derive(Debug)]
pub struct ShiftedClock {
    offset_us: i64,
}

impl ShiftedClock {
    pub fn starting_at(start: Timestamp) -> Self {
        ShiftedClock { offset_us: start.as_micros() - SystemClock.now().as_micros() }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp(SystemClock.now().as_micros() + self.offset_us)
    }
}

/// Monotonic time, from the process's start: the only place cuakhau reads `Instant::now`.
#[derive(Debug)]
pub struct SystemTicker(std::time::Instant);

impl SystemTicker {
    #[allow(clippy::disallowed_methods)] // the composition root owns the real timer
    pub fn start() -> Self {
        SystemTicker(std::time::Instant::now())
    }
}

impl Ticker for SystemTicker {
    fn elapsed(&self) -> std::time::Duration {
        self.0.elapsed()
    }
}

/// The operating system's random number generator.
#[derive(Debug)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    #[allow(clippy::disallowed_types)] // the composition root owns the OS randomness
    fn fill(&self, buf: &mut [u8]) {
        rand::rngs::SysRng.try_fill_bytes(buf).expect("the operating system's random number generator failed");
    }
}

/// Opens the store the URL names, applying migrations.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    open_store_with(url, cuakhau_store_postgres::PgStore::POOL).await
}

/// The host name and process id: a process's default instance name.
pub fn default_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

/// Opens the store of `url`, with at most `pool` connections on PostgreSQL.
pub async fn open_store_with(url: &str, pool: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let s = cuakhau_store_sqlite::SqliteStore::open(url).await.with_context(|| format!("cannot open {}", redact(url)))?;
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s =
            cuakhau_store_postgres::PgStore::open_with(url, None, pool).await.with_context(|| format!("cannot open {}", redact(url)))?;
        Ok(Arc::new(s))
    } else {
        bail!("unsupported database URL '{}': use sqlite:PATH or postgres://…", redact(url))
    }
}

/// A read replica of the PostgreSQL `database` at `url`: opened without migrations (a replica
/// is read-only; the primary's migrations reach it by replication).
async fn open_replica(database: &str, url: &str, pool: u32) -> Result<Arc<dyn Store>> {
    let postgres = |u: &str| u.starts_with("postgres://") || u.starts_with("postgresql://");
    if !postgres(database) || !postgres(url) {
        bail!("--read-database needs a postgres://… replica of a postgres://… --database (SQLite reads its own file)");
    }
    let s = cuakhau_store_postgres::PgStore::open_replica(url, None, pool).await.with_context(|| format!("cannot open {}", redact(url)))?;
    Ok(Arc::new(s))
}

/// The user's language, from `CUAKHAU_LANG`, then `LC_ALL`, `LC_MESSAGES`, `LANG` (e.g. `vi_VN.UTF-8`).
pub fn user_lang() -> cuakhau_core::Lang {
    ["CUAKHAU_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find_map(|v| cuakhau_core::Lang::from_code(&v))
        .unwrap_or(cuakhau_core::Lang::En)
}

fn nothing_written(lang: cuakhau_core::Lang) -> &'static str {
    match lang {
        cuakhau_core::Lang::Vi => "không có dòng nào được ghi",
        cuakhau_core::Lang::Zh => "未写入任何数据",
        cuakhau_core::Lang::En => "nothing was written",
    }
}

pub fn init_logging(format: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUAKHAU_LOG").unwrap_or_else(|_| "info".into());
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match crate::one_of("log format", format, &["text", "json"])? {
        "json" => b.json().init(),
        _ => b.init(),
    }
    Ok(())
}

fn system_actor() -> Actor<'static> {
    Actor { name: "cuakhau-cli", at: SystemClock.now() }
}

/// How `serve` runs.
#[derive(Debug)]
pub struct ServeOpts {
    pub listen: String,
    pub insecure_cookies: bool,
    pub session_ttl_s: Option<i64>,
    pub load_reference: bool,
    pub dispatch_every_s: u64,
    pub webhook_url: Option<String>,
    /// Start the server's clock at this instant instead of now.
    pub clock_start: Option<Timestamp>,
    /// The call-forward policy of every gate.
    pub policy: cuakhau_core::goods::Policy,
    /// Requests handled at once.
    pub max_concurrent_requests: usize,
    /// This process's name among several on one database.
    pub instance: String,
    /// How long a lease on background work lasts unless renewed.
    pub lease_ttl_s: u64,
    /// PostgreSQL connections at most.
    pub database_pool: u32,
    /// A streaming replica of the database, for the public boards and drivers' pages.
    pub read_database: Option<String>,
    /// Signed audit checkpoints: the key, the directory, how often.
    pub audit: Option<(cuakhau_core::transparency::NoteSigner, std::path::PathBuf, std::time::Duration)>,
}

/// Fills an empty database with the demo day, with a progress bar.
pub async fn demo(database: &str, seed: u64, until: Option<Timestamp>) -> Result<()> {
    let store = open_store(database).await?;
    let pb = ProgressBar::new(1);
    pb.set_style(
        ProgressStyle::with_template("demo day [{bar:40}] {pos}/{len} ticks ({eta})").expect("valid template").progress_chars("=> "),
    );
    let now = until.unwrap_or_else(|| SystemClock.now());
    let r = cuakhau_app::demo::fill(store, now, seed, |done, total| {
        pb.set_length(total);
        pb.set_position(done);
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    pb.finish_and_clear();
    println!(
        "Demo day written (DEMO DATA, invented firms, plates and drivers): {} declarations, {} bookings, {} trucks at the gate, {} crossed, {} waiting.",
        r.declarations, r.bookings, r.trips, r.crossed, r.waiting
    );
    Ok(())
}

pub async fn serve(database: &str, opts: ServeOpts) -> Result<()> {
    let ServeOpts {
        listen,
        insecure_cookies,
        session_ttl_s,
        load_reference,
        dispatch_every_s,
        webhook_url,
        clock_start,
        policy,
        max_concurrent_requests,
        instance,
        lease_ttl_s,
        database_pool,
        read_database,
        audit,
    } = opts;
    let listen = listen.as_str();
    let store = open_store_with(database, database_pool).await?;
    if load_reference && store.is_empty().await? {
        let data = cuakhau_data::bundled().map_err(|e| anyhow!("the bundled reference data is invalid: {e}"))?;
        let r = store.load_reference(&data, system_actor()).await?;
        println!("Loaded the reference data: {} rows ({} gate pairs).", r.inserted, data.gate_pairs.len());
    }
    if let Some(u) = webhook_url.as_ref().filter(|u| !u.starts_with("http://")) {
        anyhow::bail!("the webhook URL must start with http:// (put a TLS-terminating relay in front of an https gateway): {u}");
    }
    if max_concurrent_requests == 0 {
        anyhow::bail!("--max-concurrent-requests must be at least 1");
    }
    let config = Config { secure_cookies: !insecure_cookies, max_concurrent_requests, instance: instance.clone(), ..Config::default() };
    // Leases only where other processes can share the database: SQLite grants every one.
    let shared = store.engine() == "postgres";
    let lease_ttl_s = i64::try_from(lease_ttl_s.max(1)).unwrap_or(10);
    let mut rules = cuakhau_app::Config { webhook_url, instance: shared.then(|| instance.clone()), lease_ttl_s, ..Default::default() };
    rules.gate_rules.policy = policy;
    if let Some(ttl) = session_ttl_s {
        rules.session_ttl_s = ttl;
    }
    let clock: Arc<dyn Clock> = match clock_start {
        Some(t) => {
            println!("The server's clock starts at {} (--clock-start).", t.to_rfc3339());
            Arc::new(ShiftedClock::starting_at(t))
        }
        None => Arc::new(SystemClock),
    };
    let mut app = App::new(store.clone(), clock, Arc::new(SystemTicker::start()), Arc::new(OsEntropy), rules);
    if let Some(url) = &read_database {
        app = app.reading_from(open_replica(database, url, database_pool).await?);
        println!("Public boards and drivers' pages are read from {} (--read-database).", redact(url));
    }
    // Every process on a PostgreSQL database delivers every process's changes (SQLite: no-op).
    let follower = tokio::spawn(cuakhau_app::events::follow(app.clone()));
    let app_for_leases = app.clone();
    let state = AppState::new(app, config);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!(
        "cuakhau is serving http://{addr}/ (API: http://{addr}/api/v1/gate-pairs) on {} {} as instance {instance}",
        store.engine(),
        redact(database)
    );
    tracing::info!(instance = instance.as_str(), %addr, engine = store.engine(), "serving");
    std::io::stdout().flush()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let background = (dispatch_every_s > 0).then(|| {
        tokio::spawn(cuakhau_server::background::run(state.clone(), std::time::Duration::from_secs(dispatch_every_s), async move {
            let _ = stop_rx.await;
        }))
    });
    let exporter = audit.map(|(key, dir, every)| {
        println!("Signed audit checkpoints go to {} every {} s.", dir.display(), every.as_secs());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        (tx, tokio::spawn(crate::transparency::exporter(state.clone(), key, dir, every, rx)))
    });
    cuakhau_server::serve(listener, state, shutdown_signal()).await?;
    follower.abort();
    let _ = stop_tx.send(());
    if let Some(b) = background {
        let _ = b.await;
    }
    if let Some((tx, task)) = exporter {
        let _ = tx.send(());
        let _ = task.await;
    }
    // Another process takes the work at once rather than after the leases run out.
    app_for_leases.give_up_leases().await;
    println!("cuakhau stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})").expect("valid template").progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

pub async fn import(database: &str, path: &Path, table: Option<&str>, format: Option<&str>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let table = match table {
        Some(t) => Table::parse(t).ok_or_else(|| anyhow!("unknown table '{t}'; use provinces, pairings, gate_pairs or lanes"))?,
        None => Table::from_file_name(name).ok_or_else(|| anyhow!("cannot tell the table from the file name '{name}'; add --table"))?,
    };
    let format = format.map(str::to_string).unwrap_or_else(|| if name.ends_with(".json") { "json".into() } else { "csv".into() });
    let format = crate::one_of("format", &format, &["csv", "json"])?.to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata()?.len();
    let pb = bar(len, &format!("reading {name}"));
    let reader = pb.wrap_read(std::io::BufReader::new(file));
    let rows = match format.as_str() {
        "json" => cuakhau_data::parse_json(table, reader),
        _ => cuakhau_data::parse_csv(table, reader, &mut |_| {}),
    };
    pb.finish_and_clear();
    let lang = user_lang();
    let rows = rows.map_err(|e| match &e {
        DataError::Io(_) => anyhow!("cannot read {}: {e}", path.display()),
        _ => anyhow!("{}: {}", path.display(), e.message(lang).detail(lang)),
    })?;
    let n = rows.len();
    let data: ReferenceData = rows.into_reference();
    let store = open_store(database).await?;
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("writing {n} rows in one transaction"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let r = store.load_reference(&data, system_actor()).await;
    spinner.finish_and_clear();
    let r = r.map_err(|e| anyhow!("{}: {e} — {}", path.display(), nothing_written(lang)))?;
    println!("{name}: {n} rows read; {} inserted, {} updated, {} unchanged.", r.inserted, r.updated, r.unchanged);
    Ok(())
}

pub async fn export(database: &str, table: &str, format: &str, out: Option<&Path>) -> Result<()> {
    let t = Table::parse(table).ok_or_else(|| anyhow!("unknown table '{table}'; use provinces, pairings, gate_pairs or lanes"))?;
    let format = crate::one_of("format", format, &["csv", "json"])?;
    let store = open_store(database).await?;
    let data = store.reference().await?;
    let mut buf = Vec::new();
    match format {
        "json" => cuakhau_data::write_json(t, &data, &mut buf)?,
        _ => cuakhau_data::write_csv(t, &data, &mut buf)?,
    }
    match out {
        Some(p) => {
            let pb = bar(buf.len() as u64, &format!("writing {}", p.display()));
            let mut f = pb.wrap_write(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?);
            for chunk in buf.chunks(64 * 1024) {
                f.write_all(chunk)?;
            }
            pb.finish_and_clear();
            eprintln!("wrote {} ({} bytes)", p.display(), buf.len());
        }
        None => std::io::stdout().write_all(&buf)?,
    }
    Ok(())
}

fn read_password() -> Result<String> {
    eprintln!("Password (one line on standard input, at least 10 characters):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.chars().count() < 10 {
        bail!("the password must have at least 10 characters");
    }
    Ok(p)
}

pub async fn create_user(database: &str, username: String, display_name: String, roles: Vec<String>) -> Result<()> {
    let password = read_password()?;
    let store = open_store(database).await?;
    let app = live_app(store.clone());
    let req = cuakhau_app::accounts::NewAccount { username: &username, display_name: &display_name, password: &password, roles: &roles };
    let nu = cuakhau_app::accounts::new_user(&app, &req).map_err(|e| anyhow!("{e}"))?;
    let u = store.create_user(nu, system_actor()).await?;
    println!("created user {} with roles {}", u.username, u.roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(", "));
    Ok(())
}

pub async fn reset_password(database: &str, username: &str) -> Result<()> {
    let password = read_password()?;
    let store = open_store(database).await?;
    let phc = cuakhau_app::secrets::hash_password(&OsEntropy, &password);
    store.set_password(username, &phc, system_actor()).await?;
    println!("password of {username} changed; their sessions have ended");
    Ok(())
}

pub async fn list_users(database: &str) -> Result<()> {
    let store = open_store(database).await?;
    for u in store.list_users().await? {
        println!("{}\t{}\t{}", u.username, u.display_name, u.roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(" "));
    }
    Ok(())
}

pub fn simulate(file: &Path, out: &Path, o: cuakhau_sim::Overrides) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let scenario = cuakhau_sim::Scenario::from_toml(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let progress = Arc::new(cuakhau_sim::Progress::default());
    let p2 = progress.clone();
    // The result comes back on a channel: waiting on it returns the moment the run ends (a
    // one-hour scenario pays no polling delay), and wakes every 100 ms to move the bar.
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(cuakhau_sim::simulate(&scenario, &base, &o, &p2));
    });
    let pb = ProgressBar::new(1000);
    pb.set_style(
        ProgressStyle::with_template("simulating [{bar:40}] {percent}% ({elapsed}, {eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let result = loop {
        match rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(r) => break r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => pb.set_position((progress.fraction() * 1000.0) as u64),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                pb.finish_and_clear();
                return Err(anyhow!("the simulation crashed"));
            }
        }
    };
    pb.finish_and_clear();
    let _ = worker.join();
    let (summary, runs) = result.map_err(|e| anyhow!("{}: {e}", file.display()))?;
    cuakhau_sim::report::write_all(out, &summary, &runs)?;
    println!("{} — {} replication(s), seed {}, {:.2} s", summary.scenario, summary.replications, summary.seed, summary.wall_s);
    println!(
        "{:<28} {:>10} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9}",
        "variant", "arrived", "served", "wait mean h", "±95%", "p95 h", "spoiled", "events"
    );
    for v in &summary.variants {
        println!(
            "{:<28} {:>10.0} {:>10.0} {:>12.2} {:>9.2} {:>9.2} {:>9.1} {:>9}",
            v.name, v.arrived, v.served, v.wait_h.mean, v.wait_h_mean_ci.half_width, v.wait_h.p95, v.spoiled, v.events
        );
    }
    println!("results in {}: summary.json, summary.csv, queue.csv, waits.csv, queue.svg, waits.svg, variants.svg", out.display());
    Ok(())
}

/// What `cuakhau report dwell` was asked.
#[derive(Debug)]
pub struct DwellArgs {
    pub gate_pair: Option<String>,
    pub direction: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub by: String,
    pub format: String,
    pub out: Option<std::path::PathBuf>,
}

fn when(flag: &str, v: &Option<String>, default: Timestamp) -> Result<Timestamp> {
    match v {
        Some(s) => cuakhau_core::time::parse_rfc3339(s).ok_or_else(|| anyhow!("--{flag}: not an RFC 3339 time with offset: {s}")),
        None => Ok(default),
    }
}

pub async fn report_dwell(database: &str, a: DwellArgs) -> Result<()> {
    use cuakhau_store::trips::{DWELL_GROUPS, REPORTED, TripQuery, dwell_csv, dwell_report};
    let format = crate::one_of("format", &a.format, &["csv", "json"])?.to_string();
    let by: Vec<&str> = a.by.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if by.is_empty() || by.iter().any(|g| !DWELL_GROUPS.contains(g)) {
        bail!("--by: use any of {}", DWELL_GROUPS.join(", "));
    }
    let pair = a.gate_pair.as_deref().map(cuakhau_core::GatePairId::parse).transpose().map_err(|e| anyhow!("--gate-pair: {e}"))?;
    let direction = a
        .direction
        .as_deref()
        .map(|d| cuakhau_core::Direction::parse("direction", d))
        .transpose()
        .map_err(|e| anyhow!("--direction: {e}"))?;
    let now = SystemClock.now();
    let (from, until) = (when("from", &a.from, now.plus_seconds(-30 * 86_400))?, when("until", &a.until, now.plus_seconds(1))?);
    let store = open_store(database).await?;
    let trips = store
        .trips(TripQuery {
            gate_pair: pair.as_ref(),
            direction,
            statuses: REPORTED,
            from: Some(from),
            until: Some(until),
            ..Default::default()
        })
        .await?;
    let report = dwell_report(&trips, &by);
    let text = if format == "csv" { dwell_csv(&report) } else { serde_json::to_string_pretty(&cuakhau_api::dwell_rows(&report))? + "\n" };
    match &a.out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The use cases on `store` with the real clock, timer and randomness and the shipped rules.
fn live_app(store: Arc<dyn Store>) -> App {
    App::new(store, Arc::new(SystemClock), Arc::new(SystemTicker::start()), Arc::new(OsEntropy), Default::default())
}

pub async fn gate_dispatch(database: &str) -> Result<()> {
    let app = live_app(open_store(database).await?);
    let called = app.gate().dispatch_all().await;
    println!("Dispatch round done: {called} truck(s) called.");
    Ok(())
}

pub async fn gate_queue(database: &str, pair: &str, direction: &str) -> Result<()> {
    let pair = cuakhau_core::GatePairId::parse(pair).map_err(|e| anyhow!("--gate-pair: {e}"))?;
    let direction = cuakhau_core::Direction::parse("direction", direction).map_err(|e| anyhow!("--direction: {e}"))?;
    let app = live_app(open_store(database).await?);
    let q = app.gate().board(&pair, direction, true).await?;
    let vn = |t: Timestamp| t.to_rfc3339_in(cuakhau_core::time::VN_ZONE);
    let open = |o: Option<bool>| match o {
        Some(true) => "open",
        Some(false) => "closed",
        None => "hours unknown",
    };
    println!("{} {} at {} (VN {}, CN {})", q.gate_pair.as_str(), q.direction.code(), vn(q.at), open(q.vn_open), open(q.cn_open));
    println!(
        "congestion {} · yard {} · virtual queue {} · called {} · clearing {} · far-side limit {}/h",
        q.congestion.code(),
        q.yard,
        q.virtual_queue,
        q.called,
        q.clearing,
        q.far_side_limit
    );
    for l in &q.lanes {
        let lane = &l.lane;
        let plate = l.plate.as_deref().unwrap_or("—");
        println!("  lane {:<28} {} {:<10} {:>3}/h  {plate}", lane.id.as_str(), lane.side.code(), lane.class.code(), lane.capacity_per_hour);
    }
    for e in &q.queue {
        println!(
            "  {:>4}. {:<14} {:<10} {:<7} {}",
            e.position,
            e.plate,
            e.class.code(),
            e.status.code(),
            e.estimated_call.map_or("—".to_string(), vn)
        );
    }
    Ok(())
}
