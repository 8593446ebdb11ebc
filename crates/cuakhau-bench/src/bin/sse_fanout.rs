//! Thousands of viewers on one public board: how long a change takes to reach all of them, what it
//! costs the server, whether other requests notice, and what an idle viewer costs in memory.
//!
//! The server runs in a child process (this program, started again with `--serve DIR`), so that its
//! CPU time and memory are read from `/proc` apart from the clients'. The parent opens the
//! subscribers on `GET /api/v1/gate-pairs/bench/queue/stream`, then an officer checks trucks into
//! the yard one at a time (each check-in is one change of the board), while a prober reads the
//! board with plain GETs. Prints one JSON object last.
//!
//! The floor: the same number of loopback sockets, each written the same number of bytes once a
//! round by a bare blocking loop in a process of its own (this program with `--floor N BYTES
//! ROUNDS`), with no runtime, HTTP or board. Its CPU a round is what the kernel alone charges for
//! one change's writes on this machine (on loopback that includes delivering into the readers'
//! sockets); `ratio_to_floor` is the server's CPU a change over it.
//!
//! Usage: `sse_fanout [SUBSCRIBERS] [CHANGES]` (defaults 5,000 and 20).

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use cuakhau_bench::server::{Counter, Fixed, login, pct_ms, reference, request, state};
use cuakhau_core::goods::declaration::DeclEvent;
use cuakhau_core::goods::parties::{EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::{Direction, GatePairId, Role, Side};
use cuakhau_server::Clock;
use cuakhau_store::goods::NewDeclaration;
use cuakhau_store::prelude::*;
use cuakhau_store::{Actor, NewUser};
use cuakhau_store_sqlite::SqliteStore;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "bench password";
/// The smallest server-sent event worth sending: `event: q\nid: 123456\ndata: {}\n\n` and a little.
const MIN_EVENT_BYTES: usize = 64;
const STREAM: &str = "/api/v1/gate-pairs/bench/queue/stream?direction=export";

fn plate(i: usize) -> String {
    format!("29C-{:03}.{:02}", i / 100, i % 100)
}

/// The child: a server on a fresh SQLite in `dir`, with an officer and `changes` accepted
/// declarations whose trucks can be checked in. Prints `ADDR <addr>` and serves until killed.
async fn serve(dir: &str, changes: usize) {
    let store = Arc::new(SqliteStore::open(&format!("sqlite:{dir}/fanout.db")).await.expect("the database opens"));
    let at = Actor { name: "bench", at: Fixed.now() };
    store.load_reference(&reference(), at.clone()).await.expect("the reference loads");
    let entropy = Arc::new(Counter(AtomicU64::new(1)));
    let phc = cuakhau_server::hash_password(entropy.as_ref(), PASSWORD);
    let officer = Role::parse("officer:VN:gate-board:bench").expect("a role");
    let firm = Role::Enterprise { code: "0100000001".into() };
    for (name, role) in [("officer", officer), ("firm", firm)] {
        let user = NewUser { username: name.into(), display_name: name.into(), password_hash: phc.clone(), roles: vec![role] };
        store.create_user(user, at.clone()).await.expect("the user is made");
    }
    for i in 0..changes {
        let new = NewDeclaration {
            enterprise: EnterpriseCode::parse("0100000001").expect("a code"),
            gate_pair: GatePairId::parse("bench").expect("an id"),
            direction: Direction::Export,
            plate: Plate::parse(&plate(i), Side::Vn).expect("a plate"),
            vehicle_kind: VehicleKind::Truck,
            driver: None,
            consignments: vec![cuakhau_store::conformance::durian_free()],
            track_code: format!("fanout{i}"),
        };
        let d = store.create_declaration(new, at.clone()).await.expect("declared");
        store.declaration_event(d.id, DeclEvent::Submit, at.clone()).await.expect("submitted");
        store.declaration_event(d.id, DeclEvent::Accept { at: at.at, validity_h: 72 }, at.clone()).await.expect("accepted");
    }
    let state = state(store, entropy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    println!("ADDR {}", listener.local_addr().expect("bound"));
    std::io::stdout().flush().expect("stdout");
    cuakhau_server::serve(listener, state, std::future::pending()).await.expect("serves");
}

/// The floor's child: accepts `n` connections, then writes `bytes` bytes to each once a round for
/// `rounds` rounds, 300 ms apart (as the changes are), and prints `FLOOR <ms of its CPU a round>`.
fn floor(n: usize, bytes: usize, rounds: usize) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    println!("ADDR {}", listener.local_addr().expect("bound"));
    std::io::stdout().flush().expect("stdout");
    let mut socks: Vec<std::net::TcpStream> = (0..n).map(|_| listener.accept().expect("a reader").0).collect();
    for s in &socks {
        s.set_nodelay(true).expect("nodelay");
    }
    let frame = vec![b'x'; bytes];
    std::thread::sleep(Duration::from_millis(500));
    let (ticks, me) = (clock_ticks(), std::process::id());
    let before = cpu_ms(me, ticks);
    for _ in 0..rounds {
        for s in &mut socks {
            s.write_all(&frame).expect("written");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    println!("FLOOR {}", (cpu_ms(me, ticks) - before) / rounds as f64);
    std::io::stdout().flush().expect("stdout");
}

/// Runs the floor's child with `n` readers in this process and returns its CPU a round, in ms.
async fn measure_floor(n: usize, bytes: usize, rounds: usize) -> f64 {
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .args(["--floor", &n.to_string(), &bytes.to_string(), &rounds.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the floor starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    out.read_line(&mut line).expect("the address");
    let addr: std::net::SocketAddr = line.trim().strip_prefix("ADDR ").expect("ADDR line").parse().expect("an address");
    let mut readers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("the floor accepts");
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(1..) = s.read(&mut buf).await {}
        }));
    }
    let figure = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        out.read_line(&mut line).expect("the figure");
        line.trim().strip_prefix("FLOOR ").expect("FLOOR line").parse::<f64>().expect("a number")
    })
    .await
    .expect("read");
    let _ = child.wait();
    readers.into_iter().for_each(|r| r.abort());
    figure
}

/// Clock ticks a second, for `/proc/PID/stat`.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The child's user + system CPU time so far, in milliseconds.
fn cpu_ms(pid: u32, ticks: f64) -> f64 {
    let (user, system) = cpu_split_ms(pid, ticks);
    user + system
}

/// The child's user and system CPU time so far, apart, in milliseconds.
fn cpu_split_ms(pid: u32, ticks: f64) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the child is alive");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (f[11].parse().expect("utime"), f[12].parse().expect("stime"));
    (utime / ticks * 1000.0, stime / ticks * 1000.0)
}

/// The child's resident memory, in KiB.
fn rss_kb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the child is alive");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// One subscriber: counts `queue` events; the first is the board as it was, each later one is
/// reported to `seen` as (its number, µs since `base`).
async fn subscribe(
    addr: std::net::SocketAddr,
    base: Instant,
    ready: Arc<AtomicUsize>,
    seen: tokio::sync::mpsc::UnboundedSender<(usize, u64)>,
) {
    let mut s = TcpStream::connect(addr).await.expect("the server accepts");
    let req = format!("GET {STREAM} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("sent");
    let needle = b"event: queue";
    let mut carry: Vec<u8> = Vec::new();
    let mut events = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = s.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        let at = base.elapsed().as_micros() as u64;
        carry.extend_from_slice(&buf[..n]);
        let found = carry.windows(needle.len()).filter(|w| w == needle).count();
        // Keep a tail that may hold the start of a marker split across reads.
        let keep = carry.len().min(needle.len() - 1);
        carry.drain(..carry.len() - keep);
        for _ in 0..found {
            if events == 0 {
                ready.fetch_add(1, Ordering::SeqCst);
            } else if seen.send((events, at)).is_err() {
                return;
            }
            events += 1;
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        let changes = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(20);
        return serve(&args[2], changes).await;
    }
    if args.get(1).map(String::as_str) == Some("--floor") {
        let arg = |i: usize| args.get(i).and_then(|a| a.parse().ok()).expect("--floor N BYTES ROUNDS");
        return floor(arg(2), arg(3), arg(4));
    }
    let subscribers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let changes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .args(["--serve", &dir.path().display().to_string(), &changes.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let pid = child.id();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("the address");
    let addr: std::net::SocketAddr = line.trim().strip_prefix("ADDR ").expect("ADDR line").parse().expect("an address");
    let ticks = clock_ticks();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = rss_kb(pid);

    // Subscribers, 250 at a time (the listen backlog is finite).
    let base = Instant::now();
    let ready = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u64)>();
    let t_open = Instant::now();
    for chunk in 0..subscribers.div_ceil(250) {
        for _ in chunk * 250..((chunk + 1) * 250).min(subscribers) {
            tokio::spawn(subscribe(addr, base, ready.clone(), tx.clone()));
        }
        while ready.load(Ordering::SeqCst) < ((chunk + 1) * 250).min(subscribers) {
            assert!(t_open.elapsed() < Duration::from_secs(120), "subscribers did not all get the board");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    drop(tx);
    println!("{subscribers} subscribers on one board in {:.1} s", t_open.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = rss_kb(pid);
    let kb_per_subscriber = (rss1 - rss0) / subscribers as f64;

    // What the server spends with everyone connected and nothing happening.
    let c0 = cpu_ms(pid, ticks);
    let idle = Duration::from_secs(3);
    tokio::time::sleep(idle).await;
    let idle_ms_per_s = (cpu_ms(pid, ticks) - c0) / idle.as_secs_f64();

    // Another client reads the board over and over meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    // On its own thread and runtime: its latency is the server's, not this process's own queue
    // of 5,000 subscribers reading a change.
    let prober = {
        let stop = stop.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let mut s = TcpStream::connect(addr).await.expect("the server accepts");
                let (mut lat, mut board_bytes) = (Vec::new(), 0);
                while !stop.load(Ordering::SeqCst) {
                    let t = Instant::now();
                    let (status, body) = request(&mut s, "GET", "/api/v1/gate-pairs/bench/queue?direction=export", None, "").await;
                    assert_eq!(status, 200, "{body}");
                    lat.push(t.elapsed().as_micros() as u64);
                    board_bytes = body.len();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (lat, board_bytes)
            })
        })
    };

    let token = login(addr, "officer", PASSWORD).await;
    let mut officer = TcpStream::connect(addr).await.expect("the server accepts");
    let mut delivery: Vec<u64> = Vec::with_capacity(subscribers * changes);
    let mut missing = 0usize;
    let c1 = cpu_ms(pid, ticks);
    let (u1, s1) = cpu_split_ms(pid, ticks);
    let t_changes = Instant::now();
    for k in 1..=changes {
        let sent = base.elapsed().as_micros() as u64;
        let body = format!(r#"{{"plate":"{}"}}"#, plate(k - 1));
        let (status, answer) = request(&mut officer, "POST", "/api/v1/gate-pairs/bench/yard", Some(&token), &body).await;
        assert_eq!(status, 201, "check-in {k}: {answer}");
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < subscribers {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((n, at))) if n == k => {
                    delivery.push(at.saturating_sub(sent));
                    got += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missing += subscribers - got;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let spent = t_changes.elapsed().as_secs_f64();
    let change_cpu = cpu_ms(pid, ticks) - c1 - idle_ms_per_s * spent;
    let (u2, s2) = cpu_split_ms(pid, ticks);
    let (user_per_change, system_per_change) = ((u2 - u1) / changes as f64, (s2 - s1) / changes as f64);
    stop.store(true, Ordering::SeqCst);
    let (mut other, board_bytes) = prober.join().expect("the prober ends");
    let _ = child.kill();
    let _ = child.wait();
    // The last event's size: the board as read, and the event's head (`event:`, `id:`, `retry:`).
    let frame_bytes = board_bytes + 48;
    let floor_ms = measure_floor(subscribers, frame_bytes, changes).await;
    // And for an event as small as one can be (`event:`, `id:` and a few bytes of data): what no
    // smaller payload could go below.
    let floor_min_ms = measure_floor(subscribers, MIN_EVENT_BYTES, changes).await;

    let (p50, p99) = (pct_ms(&mut delivery, 0.5), pct_ms(&mut delivery, 0.99));
    let cpu_per_change = change_cpu / changes as f64;
    let (other_p50, other_p99) = (pct_ms(&mut other, 0.5), pct_ms(&mut other, 0.99));
    println!(
        "{changes} changes: delivery p50 {p50:.1} ms, p99 {p99:.1} ms, {missing} not delivered within 10 s; \
         {cpu_per_change:.1} ms of server CPU a change (idle {idle_ms_per_s:.1} ms/s subtracted; before that, \
         {user_per_change:.1} ms user and {system_per_change:.1} ms system); \
         other requests p50 {other_p50:.2} ms, p99 {other_p99:.2} ms over {} reads; {kb_per_subscriber:.1} KiB per idle subscriber\n\
         floor: a bare loop writing {frame_bytes} bytes to each of {subscribers} loopback sockets spends {floor_ms:.1} ms of CPU a round \
         (the server: {:.2}× that); writing {MIN_EVENT_BYTES} bytes instead, {floor_min_ms:.1} ms",
        other.len(),
        cpu_per_change / floor_ms
    );
    let json = serde_json::json!({
        "subscribers": subscribers, "changes": changes, "p50_ms": p50, "p99_ms": p99, "missing": missing,
        "cpu_ms_per_change": (cpu_per_change * 10.0).round() / 10.0, "idle_cpu_ms_per_s": (idle_ms_per_s * 10.0).round() / 10.0,
        "user_ms_per_change": (user_per_change * 10.0).round() / 10.0, "system_ms_per_change": (system_per_change * 10.0).round() / 10.0,
        "other_p50_ms": other_p50, "other_p99_ms": other_p99, "kb_per_subscriber": (kb_per_subscriber * 10.0).round() / 10.0,
        "frame_bytes": frame_bytes, "floor_cpu_ms_per_change": (floor_ms * 10.0).round() / 10.0,
        "ratio_to_floor": (cpu_per_change / floor_ms * 100.0).round() / 100.0,
        "floor_min_cpu_ms_per_change": (floor_min_ms * 10.0).round() / 10.0, "min_event_bytes": MIN_EVENT_BYTES,
    });
    println!("{json}");
}
