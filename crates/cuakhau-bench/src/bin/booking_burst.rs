//! Booking burst against the real server on embedded SQLite, logged-in clients, audit log on.
//!
//! (a) 256 clients book until 20,000 slots are gone: each slot exactly once, the rest refused;
//! (b) 32 clients on a fresh database: p50/p99 latency; (c) the rows a booking writes, inserted by
//! one thread straight into SQLite with rusqlite (no HTTP, no hand-offs), for the ratio. Prints one
//! JSON object last.

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use cuakhau_bench::server::{Counter, Fixed, H0, book_each, client_with_declarations, reference, request, state};
use cuakhau_core::{Direction, GatePairId, Timestamp};
use cuakhau_server::Clock;
use cuakhau_store::Actor;
use cuakhau_store::prelude::*;
use cuakhau_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;
use tokio::net::TcpStream;

const SLOTS: usize = 20_000;
const HOURS: i64 = 4;

struct Setup {
    addr: std::net::SocketAddr,
    /// Per client: its token and its declarations.
    clients: Vec<(String, Vec<i64>)>,
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
}

async fn setup(clients: usize, declarations: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&format!("sqlite:{}", dir.path().join("b.db").display())).await.unwrap());
    let at = Actor { name: "bench", at: Fixed.now() };
    store.load_reference(&reference(), at.clone()).await.unwrap();
    let entropy = Arc::new(Counter(AtomicU64::new(1)));
    let phc = cuakhau_server::hash_password(entropy.as_ref(), "bench password");
    let state = state(store.clone(), entropy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cuakhau_server::serve(listener, state, std::future::pending()));
    let mut out = Vec::new();
    let per_client = declarations.div_ceil(clients);
    for c in 0..clients {
        let ids = client_with_declarations(store.as_ref(), c, per_client, &phc).await;
        let (status, body) = request(
            &mut TcpStream::connect(addr).await.unwrap(),
            "POST",
            "/api/v1/auth/login",
            None,
            &format!(r#"{{"username":"u{c}","password":"bench password"}}"#),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let token = body.split("\"token\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        out.push((token, ids));
    }
    Setup { addr, clients: out, _dir: dir, store }
}

/// Each client books its declarations, trying the hours in order; returns (booked, refused, latencies µs).
async fn burst(setup: &Setup, stop_when_full: bool) -> (usize, usize, Vec<u64>) {
    let mut tasks = tokio::task::JoinSet::new();
    for (token, ids) in setup.clients.clone() {
        tasks.spawn(book_each(setup.addr, token, ids, HOURS, stop_when_full));
    }
    let (mut b, mut r, mut l) = (0, 0, Vec::new());
    for (x, y, z) in tasks.join_all().await {
        b += x;
        r += y;
        l.extend(z);
    }
    (b, r, l)
}

/// This process's CPU time so far (user and system, all threads), in µs: server and clients.
fn cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Clock ticks of 10 ms (Linux's USER_HZ is 100).
    f.get(11).zip(f.get(12)).map(|(u, s)| (u + s) * 10_000.0).unwrap_or(0.0)
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    v.sort_unstable();
    v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1] as f64 / 1000.0
}

/// The rows a booking writes (the enterprise's day counter, the slot counter, the booking, the
/// audit entry and head), inserted by one thread straight into SQLite with rusqlite, one
/// transaction each: no HTTP, no hand-offs, nothing read but the audit head.
async fn raw_inserts(n: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite:{}", dir.path().join("raw.db").display())).await.unwrap();
    store.load_reference(&reference(), Actor { name: "bench", at: Fixed.now() }).await.unwrap();
    let conn = cuakhau_store_sqlite::SqliteConn::open(store.path()).unwrap();
    let c = conn.raw();
    c.execute(
        "INSERT INTO declarations (enterprise_code, gate_pair_id, direction, plate, plate_key, plate_country, vehicle_kind, consignments_json, \
         state, version, created_at_us, updated_at_us) VALUES ('x', 'bench', 'export', 'p', 'p', 'VN', 'truck', '[]', 'accepted', 1, 0, 0)",
        [],
    )
    .unwrap();
    // The gate pair's audit stream, as its first entry makes it.
    c.execute("INSERT INTO audit_heads (stream, seq, size, hash) VALUES ('bench', 0, 0, ?1)", [cuakhau_core::audit::GENESIS_HASH]).unwrap();
    let t0 = Instant::now();
    for i in 0..n {
        let at = i as i64;
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        let _: i64 = c
            .prepare_cached(
                "INSERT INTO enterprise_day (enterprise_code, day, used) VALUES ('x', 'd', 1) ON CONFLICT (enterprise_code, day) \
                 DO UPDATE SET used = enterprise_day.used + 1 WHERE enterprise_day.used < 1000000000 RETURNING used",
            )
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        let _: i64 = c
            .prepare_cached(
                "INSERT INTO slot_usage VALUES ('bench', 'export', 0, 'general', 1000000000, 1) ON CONFLICT (gate_pair_id, direction, hour_us, bucket) \
                 DO UPDATE SET used = slot_usage.used + 1, capacity = excluded.capacity WHERE slot_usage.used < excluded.capacity RETURNING used",
            )
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        let id: i64 = c
            .prepare_cached(
                "INSERT INTO bookings (declaration_id, gate_pair_id, direction, hour_us, bucket, enterprise_code, day, status, created_at_us) \
                 VALUES (1, 'bench', 'export', 0, 'general', 'x', 'd', 'done', ?1) RETURNING id",
            )
            .unwrap()
            .query_row([at], |r| r.get(0))
            .unwrap();
        let (size, hash): (i64, String) = c
            .prepare_cached("SELECT seq, size, hash FROM audit_heads WHERE stream = 'bench'")
            .unwrap()
            .query_row([], |r| Ok((r.get(1)?, r.get(2)?)))
            .unwrap();
        let seq: i64 = c.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM audit_log").unwrap().query_row([], |r| r.get(0)).unwrap();
        let rec = cuakhau_core::AuditRecord {
            actor: "bench".into(),
            at: Timestamp(at),
            action: "slot.book".into(),
            entity: format!("booking/{id}"),
            before: None,
            after: Some(r#"{"declaration":1,"gate_pair":"bench","direction":"export","hour":"x","bucket":"general"}"#.into()),
        };
        let e = cuakhau_core::audit::seal(seq + 1, &hash, rec);
        c.prepare_cached(
            "INSERT INTO audit_log (seq, stream, actor, at_us, action, entity, before_json, after_json, prev_hash, hash, gate_pair_id) \
             VALUES (?1, 'bench', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'bench')",
        )
        .unwrap()
        .execute(rusqlite::params![
            e.seq,
            e.record.actor,
            e.record.at.as_micros(),
            e.record.action,
            e.record.entity,
            e.record.before,
            e.record.after,
            e.prev_hash,
            e.hash
        ])
        .unwrap();
        c.prepare_cached("UPDATE audit_heads SET seq = ?1, size = ?2, hash = ?3 WHERE stream = 'bench'")
            .unwrap()
            .execute(rusqlite::params![e.seq, size + 1, e.hash])
            .unwrap();
        c.execute_batch("COMMIT").unwrap();
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    // (a) 256 clients, 21,000 declarations for 20,000 slots.
    let t = Instant::now();
    let a = setup(256, SLOTS + 1_000).await;
    println!("setup (a): {:.1} s", t.elapsed().as_secs_f64());
    let (t0, cpu0) = (Instant::now(), cpu_us());
    let (booked, refused, _) = burst(&a, true).await;
    let secs = t0.elapsed().as_secs_f64();
    let cpu_per_booking = (cpu_us() - cpu0) / booked.max(1) as f64;
    let wal_mib = std::fs::metadata(format!("{}-wal", a.store.path().display())).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
    let usage = a
        .store
        .slot_usage(&GatePairId::parse("bench").unwrap(), Direction::Export, Timestamp(H0), Timestamp(H0 + HOURS * 3_600_000_000))
        .await
        .unwrap();
    let capacity: u32 = usage.iter().filter(|u| u.bucket == cuakhau_core::goods::slots::Bucket::General).map(|u| u.capacity).sum();
    let used: u32 = usage.iter().map(|u| u.used).sum();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE status = 'booked'").fetch_one(a.store.pool()).await.unwrap();
    let dupes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT declaration_id FROM bookings WHERE status = 'booked' GROUP BY declaration_id HAVING COUNT(*) > 1)",
    )
    .fetch_one(a.store.pool())
    .await
    .unwrap();
    assert!(a.store.verify_audit().await.unwrap().is_ok());
    println!(
        "(a) 256 clients: {booked} booked in {secs:.2} s = {:.0} bookings/s; {refused} refused; capacity {capacity}, counters {used}, rows {rows}; \
         {cpu_per_booking:.0} µs of CPU (server and clients) per booking; write-ahead log {wal_mib:.1} MiB",
        booked as f64 / secs
    );
    // (b) 32 clients, 3,200 bookings (100 each: within three enterprises' daily limits), latency.
    let b = setup(32, 3_200).await;
    let (_, _, mut lat) = burst(&b, false).await;
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!("(b) 32 clients: {} requests, p50 {p50:.2} ms, p99 {p99:.2} ms", lat.len());
    // (c) raw SQLite.
    let raw = raw_inserts(20_000).await;
    let rate = booked as f64 / secs;
    println!("(c) raw SQLite: {raw:.0} inserts/s; the API reaches {:.0} % of it", rate / raw * 100.0);
    let json = serde_json::json!({
        "bookings_per_s": rate.round(), "p50_ms": p50, "p99_ms": p99, "slots": capacity, "booked": booked,
        "refused": refused, "double_booked": dupes + (booked as i64 - rows).abs(), "raw_inserts_per_s": raw.round(),
        "ratio_to_raw": (rate / raw * 1000.0).round() / 1000.0, "clients_a": 256, "clients_b": 32,
        "cpu_us_per_booking": cpu_per_booking.round(), "wal_mib": (wal_mib * 10.0).round() / 10.0,
    });
    println!("{json}");
}
