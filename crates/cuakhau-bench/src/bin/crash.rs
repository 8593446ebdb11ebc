//! kill -9 in the middle of a booking burst: is every acknowledged booking still there, is no hour
//! booked beyond its capacity, and does the audit log still verify?
//!
//! Each trial starts the server in a child process (this program again, with `--serve`), on a
//! fresh SQLite file or a fresh PostgreSQL schema, lets 32 signed-in clients book as fast as they
//! can, and kills the child with SIGKILL at a seeded random moment of the burst: once the answers
//! (bookings and "full" alike) reach a seeded share (5–85 %) of the burst's declarations, so the kill falls inside the burst however fast
//! the engine is (a fixed delay let a fast engine finish first). A trial counts as `cut_off` when
//! the kill broke off at least one client's booking loop. The parent then
//! opens the same database as a restarted server would and checks it through the `Store` trait.
//! Prints one JSON line per engine and one JSON object last.
//!
//! Usage: `crash TRIALS [ENGINES] [SEED]` — ENGINES is `sqlite`, `postgres` or `sqlite,postgres`
//! (default both; PostgreSQL at `DATABASE_URL`).

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use cuakhau_bench::Mix;
use cuakhau_bench::server::{Counter, Fixed, H0, login, reference_with_lanes, state};
use cuakhau_core::DeclarationId;
use cuakhau_core::goods::declaration::DeclEvent;
use cuakhau_core::goods::parties::{EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::{Direction, GatePairId, Role, Side, Timestamp};
use cuakhau_server::Clock;
use cuakhau_store::goods::NewDeclaration;
use cuakhau_store::{Actor, NewUser, Store};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 32;
const PER_CLIENT: usize = 40;
const HOURS: i64 = 3;
const PASSWORD: &str = "bench password";
/// One lane: a few hundred slots an hour, so the burst fills hours and meets "full".
const LANES: [u32; 1] = [600];

fn pg_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn open(engine: &str, place: &str) -> Arc<dyn Store> {
    match engine {
        "sqlite" => Arc::new(cuakhau_store_sqlite::SqliteStore::open(&format!("sqlite:{place}")).await.expect("SQLite opens")),
        "postgres" => Arc::new(cuakhau_store_postgres::PgStore::open_in_schema(&pg_url(), Some(place)).await.expect("PostgreSQL opens")),
        other => panic!("unknown engine {other}"),
    }
}

/// The child: a server on `engine` at `place` with the clients' accounts and accepted
/// declarations; prints `IDS <json>` (each client's declarations), then `ADDR <addr>`, and serves
/// until it is killed.
async fn serve(engine: &str, place: &str) {
    let store = open(engine, place).await;
    let at = Actor { name: "bench", at: Fixed.now() };
    store.load_reference(&reference_with_lanes(&LANES), at.clone()).await.expect("the reference loads");
    let entropy = Arc::new(Counter(AtomicU64::new(1)));
    let phc = cuakhau_server::hash_password(entropy.as_ref(), PASSWORD);
    let mut ids: Vec<Vec<i64>> = Vec::new();
    for c in 0..CLIENTS {
        // Three enterprises a client, so the daily limit is not what stops the burst.
        let codes: Vec<String> = (0..3).map(|k| format!("{:010}", 1_000_000 + c * 3 + k)).collect();
        let roles = codes.iter().map(|code| Role::Enterprise { code: code.clone() }).collect();
        let user = NewUser { username: format!("u{c}"), display_name: "bench".into(), password_hash: phc.clone(), roles };
        store.create_user(user, at.clone()).await.expect("the user is made");
        let mut mine = Vec::new();
        for i in 0..PER_CLIENT {
            let new = NewDeclaration {
                enterprise: EnterpriseCode::parse(&codes[i % 3]).expect("a code"),
                gate_pair: GatePairId::parse("bench").expect("an id"),
                direction: Direction::Export,
                plate: Plate::parse(&format!("29C-{c:03}.{i:02}"), Side::Vn).expect("a plate"),
                vehicle_kind: VehicleKind::Truck,
                driver: None,
                consignments: vec![cuakhau_store::conformance::durian_free()],
                track_code: format!("crash{c}x{i}"),
            };
            let d = store.create_declaration(new, at.clone()).await.expect("declared");
            store.declaration_event(d.id, DeclEvent::Submit, at.clone()).await.expect("submitted");
            store.declaration_event(d.id, DeclEvent::Accept { at: at.at, validity_h: 72 }, at.clone()).await.expect("accepted");
            mine.push(d.id.get());
        }
        ids.push(mine);
    }
    let state = state(store, entropy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    println!("IDS {}", serde_json::to_string(&ids).expect("json"));
    println!("ADDR {}", listener.local_addr().expect("bound"));
    std::io::stdout().flush().expect("stdout");
    cuakhau_server::serve(listener, state, std::future::pending()).await.expect("serves");
}

/// One request on a kept-alive connection; `None` once the server is gone.
async fn try_request(s: &mut TcpStream, path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    loop {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok())?;
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let status: u16 = head.get(9..12)?.parse().ok()?;
            return Some((status, String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned()));
        }
    }
}

/// Books the client's declarations hour after hour until the server disappears, counting each
/// answer in `answered`; returns the declarations whose booking was acknowledged (201) and whether
/// the server disappeared before the client was done.
async fn client(addr: std::net::SocketAddr, token: String, ids: Vec<i64>, answered: Arc<AtomicUsize>) -> (Vec<i64>, bool) {
    let mut acknowledged = Vec::new();
    let Ok(mut s) = TcpStream::connect(addr).await else { return (acknowledged, true) };
    let _ = s.set_nodelay(true);
    let mut hour = 0;
    for id in ids {
        while hour < HOURS {
            let body = format!(r#"{{"hour":"{}"}}"#, Timestamp(H0 + hour * 3_600_000_000).to_rfc3339());
            let answer = try_request(&mut s, &format!("/api/v1/declarations/{id}/booking"), &token, &body).await;
            if answer.is_some() {
                answered.fetch_add(1, Ordering::Relaxed);
            }
            match answer {
                Some((201, _)) => {
                    acknowledged.push(id);
                    break;
                }
                Some((409, b)) if b.contains("full") => hour += 1,
                Some((status, b)) => panic!("unexpected {status}: {b}"),
                None => return (acknowledged, true),
            }
        }
    }
    (acknowledged, false)
}

#[derive(Debug, Default)]
struct Tally {
    trials: usize,
    acknowledged: usize,
    lost: usize,
    over_capacity: usize,
    counter_mismatch: usize,
    /// Trials whose kill broke off a client's booking loop (the kill came mid-burst).
    cut_off: usize,
    audit_ok: bool,
    killed_after_ms: Vec<u64>,
}

async fn trial(engine: &str, n: usize, mix: &mut Mix, tally: &mut Tally) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let place = match engine {
        "sqlite" => dir.path().join("crash.db").display().to_string(),
        _ => format!("crash_{}_{n}", std::process::id()),
    };
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .args(["--serve", engine, &place])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let (mut ids_line, mut addr_line) = (String::new(), String::new());
    out.read_line(&mut ids_line).expect("the IDS line");
    out.read_line(&mut addr_line).expect("the ADDR line");
    let ids: Vec<Vec<i64>> = serde_json::from_str(ids_line.trim().strip_prefix("IDS ").expect("IDS")).expect("ids");
    let addr: std::net::SocketAddr = addr_line.trim().strip_prefix("ADDR ").expect("ADDR").parse().expect("an address");
    let mut tokens = Vec::new();
    for c in 0..CLIENTS {
        tokens.push(login(addr, &format!("u{c}"), PASSWORD).await);
    }
    // Kill once a seeded share of the burst's bookings has been answered.
    let kill_at = CLIENTS * PER_CLIENT * (5 + (mix.next_u64() % 81) as usize) / 100;
    let answered = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = tokens.into_iter().zip(ids.clone()).map(|(t, ids)| tokio::spawn(client(addr, t, ids, answered.clone()))).collect();
    while answered.load(Ordering::Relaxed) < kill_at && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let killed_ms = started.elapsed().as_millis() as u64;
    tally.killed_after_ms.push(killed_ms);
    let mut acknowledged = Vec::new();
    let mut cut_off = false;
    for t in tasks {
        let (mine, cut) = t.await.expect("a client ends");
        acknowledged.extend(mine);
        cut_off |= cut;
    }

    // What a restarted server finds.
    let store = open(engine, &place).await;
    let mut lost = 0;
    for id in &acknowledged {
        if store.live_booking(DeclarationId(*id)).await.expect("readable").is_none() {
            lost += 1;
        }
    }
    let mut per_hour: HashMap<i64, u32> = HashMap::new();
    for id in ids.iter().flatten() {
        if let Some(b) = store.live_booking(DeclarationId(*id)).await.expect("readable") {
            *per_hour.entry(b.hour.as_micros()).or_default() += 1;
        }
    }
    let pair = GatePairId::parse("bench").expect("an id");
    let usage = store.slot_usage(&pair, Direction::Export, Timestamp(H0), Timestamp(H0 + HOURS * 3_600_000_000)).await.expect("readable");
    let mut capacity: HashMap<i64, u32> = HashMap::new();
    let mut counted: HashMap<i64, u32> = HashMap::new();
    for u in &usage {
        *capacity.entry(u.hour.as_micros()).or_default() += u.capacity;
        *counted.entry(u.hour.as_micros()).or_default() += u.used;
    }
    let over = per_hour.iter().filter(|(h, n)| **n > capacity.get(h).copied().unwrap_or(0)).count()
        + usage.iter().filter(|u| u.used > u.capacity).count();
    let mismatch = per_hour.iter().filter(|(h, n)| counted.get(h).copied().unwrap_or(0) != **n).count();
    let audit_ok = store.verify_audit().await.expect("readable").is_ok();
    println!(
        "{engine} trial {n}: killed after {killed_ms} ms ({} answers{}); {} acknowledged, {lost} lost, {over} hours over capacity, {mismatch} counters off, audit {}",
        answered.load(Ordering::Relaxed),
        if cut_off { ", clients cut off" } else { ", NOT mid-burst: every client had finished" },
        acknowledged.len(),
        if audit_ok { "ok" } else { "BROKEN" }
    );
    tally.trials += 1;
    tally.cut_off += usize::from(cut_off);
    tally.acknowledged += acknowledged.len();
    tally.lost += lost;
    tally.over_capacity += over;
    tally.counter_mismatch += mismatch;
    tally.audit_ok &= audit_ok;
    if engine == "postgres" {
        drop(store);
        let pool = sqlx::PgPool::connect(&pg_url()).await.expect("PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{place}\" CASCADE"))).execute(&pool).await.expect("dropped");
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2], &args[3]).await;
    }
    let trials: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let engines = args.get(2).cloned().unwrap_or_else(|| "sqlite,postgres".into());
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut mix = Mix(seed);
    let mut all = Vec::new();
    for engine in engines.split(',') {
        let mut tally = Tally { audit_ok: true, ..Default::default() };
        for n in 0..trials {
            trial(engine, n, &mut mix, &mut tally).await;
        }
        let json = serde_json::json!({
            "engine": engine, "trials": tally.trials, "acknowledged": tally.acknowledged, "lost": tally.lost,
            "over_capacity": tally.over_capacity, "counter_mismatch": tally.counter_mismatch, "audit_ok": tally.audit_ok,
            "cut_off": tally.cut_off, "killed_after_ms": tally.killed_after_ms,
        });
        println!("{json}");
        all.push(json);
    }
    let sum = |k: &str| all.iter().map(|j| j[k].as_u64().unwrap_or(0)).sum::<u64>();
    let json = serde_json::json!({
        "engine": engines, "trials": trials, "acknowledged": sum("acknowledged"), "lost": sum("lost"),
        "over_capacity": sum("over_capacity"), "counter_mismatch": sum("counter_mismatch"), "cut_off": sum("cut_off"),
        "audit_ok": all.iter().all(|j| j["audit_ok"] == true), "seed": seed,
    });
    println!("{json}");
}
