//! Scale-out on PostgreSQL: the same booking burst through 1, 2 and 4 server processes on one
//! database (each process this program again with `--serve`, a real HTTP server with its change
//! follower), the clients spread over the processes, and the time a change takes to reach a board
//! stream on every process.
//!
//! Usage: `scale_out [PROCESSES] [POOL] [PAIRS]` — PROCESSES a list such as `1,2,4` (default);
//! POOL `shared:N` (N connections in total, split evenly over the processes: the default,
//! `shared:16`) or `each:N` (N per process); PAIRS the gate pairs the clients book at (default 8:
//! a side's node serves every gate pair of its border, and each client books at one; 1 puts every
//! booking on one gate pair's hours, one slot counter and one audit stream at a time). The same
//! slots in total either way: each pair's lanes take 1/PAIRS of them. PostgreSQL at
//! `DATABASE_URL`. Prints one JSON object last.

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use cuakhau_bench::server::{
    Counter, Fixed, H0, book_each, client_with_declarations_at, login, pair_id, pct_ms, reference_with_pairs, state,
};
use cuakhau_core::Timestamp;
use cuakhau_server::Clock;
use cuakhau_store::Actor;
use cuakhau_store::prelude::*;
use cuakhau_store_postgres::PgStore;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const CLIENTS: usize = 64;
const PER_CLIENT: usize = 32;
const HOURS: i64 = 4;
/// Changes timed from the write to the board on every process's stream.
const CHANGES: usize = 40;
const PASSWORD: &str = "bench password";

fn pg_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The child: a server on `schema` with at most `pool` connections, following every process's
/// changes; prints its address.
async fn serve(schema: &str, pool: u32) {
    let store = Arc::new(PgStore::open_with(&pg_url(), Some(schema), pool).await.expect("PostgreSQL opens"));
    // Each process its own stream of tokens: counters far apart (tokens must not repeat).
    let st = state(store, Arc::new(Counter(AtomicU64::new(u64::from(std::process::id()) << 40))));
    tokio::spawn(cuakhau_app::events::follow(st.app.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    cuakhau_server::serve(listener, st, std::future::pending()).await.unwrap();
}

/// Hours of about 450 general slots in all, split over `pairs` gate pairs (4 hours: fewer slots
/// than declarations, so hours fill up).
fn lanes(pairs: usize) -> cuakhau_core::ReferenceData {
    let share = |cap: u32| (cap / pairs as u32).max(1);
    reference_with_pairs(pairs, &[share(160), share(160), share(160), share(163)])
}

/// A fresh schema with the reference data, the clients' accounts and their accepted declarations
/// (client `c` books at gate pair `c % pairs`).
async fn setup(schema: &str, pairs: usize) -> (Arc<PgStore>, Vec<(String, Vec<i64>)>) {
    let store = Arc::new(PgStore::open_in_schema(&pg_url(), Some(schema)).await.expect("PostgreSQL opens"));
    let at = Actor { name: "bench", at: Fixed.now() };
    store.load_reference(&lanes(pairs), at.clone()).await.unwrap();
    let phc = cuakhau_server::hash_password(&Counter(AtomicU64::new(1)), PASSWORD);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (store, phc) = (store.clone(), phc.clone());
        tasks.spawn(async move { (c, client_with_declarations_at(store.as_ref(), c, PER_CLIENT, &phc, &pair_id(c % pairs)).await) });
    }
    let mut clients: Vec<(usize, Vec<i64>)> = tasks.join_all().await;
    clients.sort();
    (store, clients.into_iter().map(|(c, ids)| (format!("u{c}"), ids)).collect())
}

/// The `queue` events of a board stream on `addr`: each one's arrival time is sent on.
async fn watch(addr: std::net::SocketAddr, tx: tokio::sync::mpsc::UnboundedSender<Instant>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = "GET /api/v1/gate-pairs/bench/queue/stream?direction=export HTTP/1.1\r\nhost: bench\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut s, req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 65536];
    let mut text = String::new();
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(i) = text.find("event: queue") {
            text.drain(..i + 12);
            let _ = tx.send(Instant::now());
        }
    }
}

struct Run {
    processes: usize,
    pool_each: u32,
    bookings_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    event_p99_ms: f64,
    booked: usize,
    refused: usize,
    double_booked: i64,
}

async fn run(processes: usize, pool: &str, pairs: usize) -> Run {
    let schema = format!("scale_{}_{processes}_{}_{pairs}", std::process::id(), pool.replace(':', "_"));
    let t = Instant::now();
    let (store, clients) = setup(&schema, pairs).await;
    println!("setup ({processes} processes): {:.1} s", t.elapsed().as_secs_f64());
    let (mode, n) = pool.split_once(':').expect("POOL is shared:N or each:N");
    let n: u32 = n.parse().expect("a number of connections");
    let pool_each = if mode == "shared" { (n / processes as u32).max(2) } else { n };
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..processes {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--serve", &schema, &pool_each.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        addrs.push(line.trim().parse::<std::net::SocketAddr>().expect("the child's address"));
        children.push(child);
    }
    // Each client signs in and books through one process, round robin.
    let mut tokens = Vec::new();
    for (i, (user, _)) in clients.iter().enumerate() {
        tokens.push(login(addrs[i % processes], user, PASSWORD).await);
    }
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, ((_, ids), token)) in clients.iter().zip(tokens).enumerate() {
        tasks.spawn(book_each(addrs[i % processes], token, ids.clone(), HOURS, false));
    }
    let (mut booked, mut refused, mut lat) = (0, 0, Vec::new());
    for (b, r, l) in tasks.join_all().await {
        booked += b;
        refused += r;
        lat.extend(l);
    }
    let secs = t0.elapsed().as_secs_f64();
    let (p50, p99) = (pct_ms(&mut lat, 0.5), pct_ms(&mut lat, 0.99));
    // Nothing over capacity, no declaration twice, counters equal to rows.
    let over: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM slot_usage WHERE used > capacity").fetch_one(store.pool()).await.unwrap();
    let twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT declaration_id FROM bookings WHERE status = 'booked' GROUP BY declaration_id HAVING COUNT(*) > 1) d",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE status = 'booked'").fetch_one(store.pool()).await.unwrap();
    let used: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(used), 0)::BIGINT FROM slot_usage").fetch_one(store.pool()).await.unwrap();
    let double_booked = over + twice + (rows - booked as i64).abs() + (used - rows).abs();
    assert!(store.verify_audit().await.unwrap().is_ok(), "the audit log verifies");
    // A change's way to every process's board stream: a lane's capacity changed by a write on the
    // database, timed to the first board each stream then sends.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for (i, addr) in addrs.iter().enumerate() {
        let (one_tx, mut one_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(watch(*addr, one_tx));
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(at) = one_rx.recv().await {
                let _ = tx.send((i, at));
            }
        });
    }
    // Each stream's first board.
    for _ in 0..processes {
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("every stream opens");
    }
    let mut lane = store.lane(&cuakhau_core::LaneId::parse("b-0").unwrap()).await.unwrap().unwrap();
    let mut event_lat = Vec::new();
    for k in 0..CHANGES {
        lane.capacity_per_hour = 100 + k as u32;
        let t = Instant::now();
        store.put_lane(&lane, Actor { name: "bench", at: Timestamp(H0) }).await.unwrap();
        let mut seen = vec![false; processes];
        while seen.iter().any(|s| !s) {
            let (i, at) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("the change reaches every stream").unwrap();
            if !seen[i] && at >= t {
                seen[i] = true;
                event_lat.push(at.duration_since(t).as_micros() as u64);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let event_p99 = pct_ms(&mut event_lat, 0.99);
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let rate = booked as f64 / secs;
    println!(
        "{processes} processes ({pool_each} connections each): {booked} booked, {refused} refused in {secs:.2} s = {rate:.0} bookings/s; \
         p50 {p50:.2} ms, p99 {p99:.2} ms; change to every stream p99 {event_p99:.1} ms; double-booked {double_booked}"
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(store.pool()).await.unwrap();
    Run {
        processes,
        pool_each,
        bookings_per_s: rate.round(),
        p50_ms: p50,
        p99_ms: p99,
        event_p99_ms: event_p99,
        booked,
        refused,
        double_booked,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        serve(&args[2], args[3].parse().expect("a pool size")).await;
        return;
    }
    let list: Vec<usize> =
        args.get(1).map_or("1,2,4", String::as_str).split(',').map(|p| p.trim().parse().expect("a number of processes")).collect();
    let pool = args.get(2).cloned().unwrap_or_else(|| "shared:16".into());
    let pairs: usize = args.get(3).map_or(8, |p| p.parse().expect("a number of gate pairs"));
    let mut runs = Vec::new();
    for p in list {
        runs.push(run(p, &pool, pairs).await);
    }
    let col = |f: &dyn Fn(&Run) -> serde_json::Value| runs.iter().map(f).collect::<Vec<_>>();
    let json = serde_json::json!({
        "processes": col(&|r| r.processes.into()),
        "bookings_per_s": col(&|r| r.bookings_per_s.into()),
        "p50_ms": col(&|r| r.p50_ms.into()),
        "p99_ms": col(&|r| r.p99_ms.into()),
        "event_p99_ms": col(&|r| r.event_p99_ms.into()),
        "double_booked": runs.iter().map(|r| r.double_booked).sum::<i64>(),
        "booked": col(&|r| r.booked.into()),
        "refused": col(&|r| r.refused.into()),
        "pool": pool,
        "gate_pairs": pairs,
        "connections_each": col(&|r| r.pool_each.into()),
        "clients": CLIENTS,
        "start": H0,
    });
    println!("{json}");
}
