//! Several real `cuakhau serve` processes on one PostgreSQL database (each test its own fresh
//! database at `DATABASE_URL`'s server): a change made through any process reaches the board
//! streams of every process, a session disabled or ended through one is refused by the others,
//! a gate pair's dispatch rounds run in one process at a time and move when that one is killed,
//! and the audit log verifies after a burst of writes spread over processes and gate pairs; and a
//! server with a read replica (`--read-database`) serves the public board from it.
//!
//! Needs `DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`), and for the replica
//! `CUAKHAU_TEST_PRIMARY_URL` and `CUAKHAU_TEST_REPLICA_URL` (made by `scripts/pg_replica.sh`);
//! without them the tests fail.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const SECOND: Duration = Duration::from_secs(1);

fn server_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at PostgreSQL for the multi-process tests")
}

/// A fresh database on the test server, dropped at the end.
struct Db {
    name: String,
    url: String,
    /// The server's URL with its administrative database.
    base: String,
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a database URL ends with /NAME");
    format!("{server}/{name}")
}

impl Db {
    async fn fresh() -> Db {
        Db::fresh_on(&server_url()).await
    }

    /// A fresh database on the server of `base` (a database URL).
    async fn fresh_on(base: &str) -> Db {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("procs_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let admin = sqlx::PgPool::connect(base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        Db { url: with_database(base, &name), name, base: base.to_string() }
    }

    async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.url).await.unwrap()
    }

    async fn drop_now(self) {
        let admin = sqlx::PgPool::connect(&self.base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))).execute(&admin).await.unwrap();
    }
}

/// One `cuakhau serve` process; killed when dropped.
struct Node {
    child: Child,
    addr: String,
    instance: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cuakhau"));
    for k in ["CUAKHAU_DATABASE", "CUAKHAU_CONFIG", "CUAKHAU_LISTEN", "CUAKHAU_AUDIT_KEY", "CUAKHAU_CHECKPOINTS", "CUAKHAU_INSTANCE"] {
        c.env_remove(k);
    }
    c
}

/// Starts a server on `url` named `instance` and waits until it serves.
fn start(url: &str, instance: &str, extra: &[&str]) -> Node {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--database", url, "--instance", instance, "--insecure-cookies"];
    args.extend_from_slice(&["--database-pool", "4"]);
    args.extend_from_slice(extra);
    let mut child = bin().args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "{instance} ended before serving");
        if let Some(a) = line.split("http://").nth(1) {
            assert!(line.contains(&format!("as instance {instance}")), "{line}");
            break a.split('/').next().unwrap().to_string();
        }
    };
    // Keep reading, so a full pipe never stops the server.
    std::thread::spawn(move || for _ in out.lines() {});
    Node { child, addr, instance: instance.to_string() }
}

/// An administrator (`admin`, [`PASSWORD`]) made on the database at `url` by the CLI.
fn create_admin(url: &str) {
    let mut c = bin()
        .args(["admin", "create-user", "--database", url, "--username", "admin", "--display-name", "Admin", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(c.wait().unwrap().success());
}

/// `n` processes on a fresh database with an administrator; the first loads the reference data.
async fn cluster(n: usize, extra: &[&str]) -> (Db, Vec<Node>) {
    let db = Db::fresh().await;
    create_admin(&db.url);
    let mut nodes = vec![start(&db.url, "p0", extra)];
    let rest: Vec<_> = (1..n)
        .map(|i| {
            let (url, extra) = (db.url.clone(), extra.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            std::thread::spawn(move || start(&url, &format!("p{i}"), &extra.iter().map(String::as_str).collect::<Vec<_>>()))
        })
        .collect();
    nodes.extend(rest.into_iter().map(|h| h.join().unwrap()));
    (db, nodes)
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn call(node: &Node, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut b = hyper::Request::builder().method(method).uri(format!("http://{}{path}", node.addr));
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b.header("content-type", "application/json").body(Full::new(Bytes::from(v.to_string()))).unwrap(),
        None => b.body(Full::new(Bytes::new())).unwrap(),
    };
    let res = client().request(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

async fn login(node: &Node, username: &str) -> String {
    let (s, v) = call(node, "POST", "/api/v1/auth/login", None, Some(json!({"username": username, "password": PASSWORD}))).await;
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// The boards a queue stream sends, as they come.
async fn board_stream(node: &Node, pair: &str) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let mut events = board_events(node, pair, None).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((_, board)) = events.recv().await {
            let _ = tx.send(board);
        }
    });
    rx
}

/// The events (id and board) a queue stream sends, as they come; opened with `Last-Event-ID: last`.
async fn board_events(node: &Node, pair: &str, last: Option<&str>) -> tokio::sync::mpsc::UnboundedReceiver<(String, Value)> {
    let uri = format!("http://{}/api/v1/gate-pairs/{pair}/queue/stream?direction=export", node.addr);
    let mut req = hyper::Request::get(uri);
    if let Some(id) = last {
        req = req.header("last-event-id", id);
    }
    let res = client().request(req.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
    assert_eq!(res.status(), 200);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut body = res.into_body();
    tokio::spawn(async move {
        let mut text = String::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else { continue };
            text.push_str(&String::from_utf8_lossy(&data));
            while let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                if let Some(json) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let id = event.lines().find_map(|l| l.strip_prefix("id: ")).unwrap_or_default().to_string();
                    let _ = tx.send((id, serde_json::from_str::<Value>(json).unwrap()));
                }
            }
        }
    });
    rx
}

/// Waits for a board on which `lane` is listed.
async fn until_lane(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>, lane: &str) {
    while let Some(board) = rx.recv().await {
        if board["lanes"].as_array().is_some_and(|ls| ls.iter().any(|l| l["id"] == lane)) {
            return;
        }
    }
    panic!("the stream ended");
}

fn lane(pair: &str, i: usize) -> (String, Value) {
    let id = format!("{pair}-vn-export-t{i}");
    let body =
        json!({"id": id, "side": "VN", "direction": "export", "class": "general", "name": id, "capacity_per_hour": 10, "basis": "test"});
    (id, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_any_process_reaches_the_board_streams_of_every_process_within_a_second() {
    let (db, nodes) = cluster(3, &["--dispatch-every-s", "0"]).await;
    let admin = login(&nodes[0], "admin").await;
    let mut streams = Vec::new();
    for n in &nodes {
        let mut rx = board_stream(n, "huu-nghi").await;
        tokio::time::timeout(5 * SECOND, rx.recv()).await.expect("the first board").unwrap();
        streams.push(rx);
    }
    for (i, through) in nodes.iter().enumerate() {
        let (id, body) = lane("huu-nghi", i);
        let (s, v) = call(through, "POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&admin), Some(body)).await;
        assert_eq!(s, 201, "{v}");
        let every = futures_util::future::join_all(streams.iter_mut().map(|rx| until_lane(rx, &id)));
        tokio::time::timeout(SECOND, every)
            .await
            .unwrap_or_else(|_| panic!("a lane added through {} reached every stream", through.instance));
    }
    drop(nodes);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_from_its_last_event_id_on_another_process() {
    // A clock started at 10:00 in Hà Nội: no board turns (a side opening or closing, the next
    // hour) while the test waits to see that nothing is sent.
    let (db, nodes) = cluster(2, &["--dispatch-every-s", "0", "--clock-start", "2026-11-23T10:00:00+07:00"]).await;
    let admin = login(&nodes[0], "admin").await;
    let mut on_a = board_events(&nodes[0], "huu-nghi", None).await;
    let (first, _) = tokio::time::timeout(5 * SECOND, on_a.recv()).await.expect("the first board").unwrap();
    drop(on_a);
    // Reconnected to the other process with the id it has: that board is current, so nothing yet.
    let mut on_b = board_events(&nodes[1], "huu-nghi", Some(&first)).await;
    let early = tokio::time::timeout(SECOND / 2, on_b.recv()).await;
    assert!(early.is_err(), "the board the viewer has ({first}) is not sent again: {early:?}");
    // A change through the first process: the next event on the second is that change, newer.
    let (id, body) = lane("huu-nghi", 0);
    let (s, v) = call(&nodes[0], "POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&admin), Some(body)).await;
    assert_eq!(s, 201, "{v}");
    let (next, board) = tokio::time::timeout(SECOND, on_b.recv()).await.expect("the change within a second").unwrap();
    // An id is the board's last change, then `.` and the second it turns.
    let change = |id: &str| id.split('.').next().unwrap().parse::<i64>().unwrap();
    assert!(change(&next) > change(&first), "{next} follows {first}");
    assert!(board["lanes"].as_array().unwrap().iter().any(|l| l["id"] == id.as_str()), "{board}");
    // Back on the first process with the older id: the newer board at once, never the older one.
    let mut again = board_events(&nodes[0], "huu-nghi", Some(&first)).await;
    let (id_again, board) = tokio::time::timeout(5 * SECOND, again.recv()).await.expect("the current board").unwrap();
    assert!(change(&id_again) >= change(&next), "{id_again} is not older than {next}");
    assert!(board["lanes"].as_array().unwrap().iter().any(|l| l["id"] == id.as_str()), "{board}");
    drop(nodes);
    db.drop_now().await;
}

/// Polls `/auth/me` with `token` on `node` until it answers 401, for at most a second.
/// The live gate end to end with every request going to the next process in turn: a declaration
/// filed, accepted and booked, the truck checked in at the yard, called by dispatch and cleared
/// by both sides' officers step by step, each act through another process than the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_gate_runs_end_to_end_with_its_requests_spread_over_processes() {
    // 10:00 in Hà Nội, 11:00 in Beijing: both sides of Hữu Nghị are open.
    let (db, nodes) = cluster(3, &["--dispatch-every-s", "0", "--clock-start", "2026-11-23T10:00:00+07:00"]).await;
    let mut turn = 0usize;
    let mut next = || {
        turn += 1;
        &nodes[turn % nodes.len()]
    };
    let admin = login(next(), "admin").await;
    let people = [
        ("enterprise", "enterprise:0101234567"),
        ("vn-board-hn", "officer:VN:gate-board:huu-nghi"),
        ("vn-customs", "officer:VN:customs:*"),
        ("vn-guard", "officer:VN:border-guard:huu-nghi"),
        ("vn-quarantine", "officer:VN:quarantine:huu-nghi"),
        ("cn-customs", "officer:CN:customs:*"),
        ("cn-guard", "officer:CN:border-guard:huu-nghi"),
    ];
    for (name, role) in people {
        let body = json!({"username": name, "display_name": name, "password": PASSWORD, "roles": [role]});
        let (s, v) = call(next(), "POST", "/api/v1/users", Some(&admin), Some(body)).await;
        assert_eq!(s, 201, "{name}: {v}");
    }
    let mut tokens = std::collections::HashMap::new();
    for (name, _) in people {
        tokens.insert(name, login(next(), name).await);
    }
    let tok = |name: &str| tokens[name].clone();
    for (id, class) in [("huu-nghi-vn-export-green", "perishable"), ("huu-nghi-vn-export-1", "general")] {
        let lane =
            json!({"id": id, "side": "VN", "direction": "export", "class": class, "name": id, "capacity_per_hour": 12, "basis": "test"});
        let (s, v) = call(next(), "POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&tok("vn-board-hn")), Some(lane)).await;
        assert_eq!(s, 201, "{v}");
    }
    let durian = json!({
        "gate_pair": "huu-nghi", "direction": "export", "plate": "12C-123.45", "plate_country": "VN", "vehicle_kind": "refrigerated",
        "driver": {"name": "Nguyễn Văn Tài", "nationality": "VN", "document_no": "B1234567"},
        "consignments": [{"hs_code": "08106000", "description_vi": "Sầu riêng tươi", "description_zh": "鲜榴莲", "packages": 1200,
                          "gross_kg": 18000.0, "value": 60000.0, "currency": "USD", "origin": "VN", "shelf_life_h": 96, "certificate": "PC-2026-0001"}]
    });
    let (s, d) = call(next(), "POST", "/api/v1/declarations", Some(&tok("enterprise")), Some(durian)).await;
    assert_eq!(s, 201, "{d}");
    let id = d["id"].as_i64().unwrap();
    let (s, v) = call(next(), "POST", &format!("/api/v1/declarations/{id}/submit"), Some(&tok("enterprise")), None).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(next(), "POST", &format!("/api/v1/declarations/{id}/accept"), Some(&tok("vn-customs")), None).await;
    assert_eq!((s, v["state"].as_str()), (200, Some("accepted")), "{v}");
    let hour = json!({"hour": "2026-11-23T10:00:00+07:00"});
    let (s, v) = call(next(), "POST", &format!("/api/v1/declarations/{id}/booking"), Some(&tok("enterprise")), Some(hour)).await;
    assert_eq!(s, 201, "{v}");
    let (s, trip) =
        call(next(), "POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&tok("vn-guard")), Some(json!({"plate": "12C12345"}))).await;
    assert_eq!((s, trip["status"].as_str()), (201, Some("yard")), "{trip}");
    let trip_id = trip["id"].as_i64().unwrap();
    let (s, v) = call(next(), "POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&tok("vn-board-hn")), None).await;
    assert_eq!((s, v["called"][0]["lane"].as_str()), (200, Some("huu-nghi-vn-export-green")), "{v}");
    let officers = ["vn-customs", "vn-guard", "vn-quarantine", "vn-guard", "cn-customs", "cn-guard"];
    let mut last = Value::Null;
    for (i, who) in officers.iter().enumerate() {
        let (s, v) = call(next(), "POST", &format!("/api/v1/trips/{trip_id}/steps/{i}/start"), Some(&tok(who)), None).await;
        assert_eq!(s, 200, "step {i} start by {who}: {v}");
        let pass = Some(json!({"outcome": "pass"}));
        let (s, v) = call(next(), "POST", &format!("/api/v1/trips/{trip_id}/steps/{i}/finish"), Some(&tok(who)), pass).await;
        assert_eq!(s, 200, "step {i} finish by {who}: {v}");
        last = v;
    }
    assert_eq!(last["status"], "done", "{last}");
    // Every process reads the same crossing, and the firm's page offers nothing more to do.
    for n in &nodes {
        let (s, v) = call(n, "GET", &format!("/api/v1/trips/{trip_id}"), Some(&tok("vn-board-hn")), None).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{}: {v}", n.instance);
        let (_, d) = call(n, "GET", &format!("/api/v1/declarations/{id}"), Some(&tok("enterprise")), None).await;
        assert_eq!((d["trip_status"].as_str(), &d["actions"]), (Some("done"), &json!([])), "{}: {d}", n.instance);
    }
    let out = bin().args(["audit", "verify", "--database", &db.url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("intact"), "{text}{}", String::from_utf8_lossy(&out.stderr));
}

async fn refused_within_a_second(node: &Node, token: &str) {
    let refused = async {
        while call(node, "GET", "/api/v1/auth/me", Some(token), None).await.0 != 401 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(SECOND, refused).await.unwrap_or_else(|_| panic!("{} still accepted the session after a second", node.instance));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_disabled_or_ended_through_one_process_is_refused_by_the_others_within_a_second() {
    let (db, nodes) = cluster(3, &["--dispatch-every-s", "0"]).await;
    let admin = login(&nodes[0], "admin").await;
    let guard = json!({"username": "guard", "display_name": "Guard", "password": PASSWORD, "roles": ["officer:VN:border-guard:huu-nghi"]});
    assert_eq!(call(&nodes[0], "POST", "/api/v1/users", Some(&admin), Some(guard)).await.0, 201);
    // Every process has checked (and cached) the session before it ends.
    let token = login(&nodes[1], "guard").await;
    for n in &nodes {
        assert_eq!(call(n, "GET", "/api/v1/auth/me", Some(&token), None).await.0, 200);
    }
    let (s, v) = call(&nodes[0], "PATCH", "/api/v1/users/guard", Some(&admin), Some(json!({"disabled": true}))).await;
    assert_eq!(s, 200, "{v}");
    for n in &nodes[1..] {
        refused_within_a_second(n, &token).await;
    }
    // Enabled again, a new session ended by logging out through the last process.
    assert_eq!(call(&nodes[0], "PATCH", "/api/v1/users/guard", Some(&admin), Some(json!({"disabled": false}))).await.0, 200);
    let token = login(&nodes[0], "guard").await;
    for n in &nodes {
        assert_eq!(call(n, "GET", "/api/v1/auth/me", Some(&token), None).await.0, 200);
    }
    assert!(call(&nodes[2], "POST", "/api/v1/auth/logout", Some(&token), None).await.0 < 300);
    for n in &nodes[..2] {
        refused_within_a_second(n, &token).await;
    }
    drop(nodes);
    db.drop_now().await;
}

/// Who holds the lease `name`, if anyone.
async fn holder(pool: &sqlx::PgPool, name: &str) -> Option<String> {
    sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1").bind(name).fetch_optional(pool).await.unwrap()
}

/// A process's count of dispatch rounds in `/metrics`.
async fn dispatch_rounds(node: &Node) -> u64 {
    let (_, v) = call(node, "GET", "/metrics", None, None).await;
    let text = v.as_str().unwrap().to_string();
    assert!(text.contains(&format!("cuakhau_instance_info{{instance=\"{}\"}} 1", node.instance)), "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("cuakhau_background_rounds_total{work=\"dispatch\"} "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_pairs_dispatch_runs_in_one_process_at_a_time_and_moves_when_its_holder_is_killed() {
    let (db, mut nodes) = cluster(3, &["--dispatch-every-s", "1", "--lease-ttl-s", "3"]).await;
    let pool = db.pool().await;
    let work = "dispatch/huu-nghi";
    let first = tokio::time::timeout(5 * SECOND, async {
        loop {
            if let Some(h) = holder(&pool, work).await {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a process took the gate pair's rounds");
    // Over two seconds the holder keeps it, and a process holding no lease runs no round.
    let before: Vec<u64> = futures_util::future::join_all(nodes.iter().map(dispatch_rounds)).await;
    tokio::time::sleep(2 * SECOND).await;
    assert_eq!(holder(&pool, work).await.as_deref(), Some(first.as_str()), "the holder renews its lease");
    let holders: Vec<String> = sqlx::query_scalar("SELECT holder FROM leases WHERE name LIKE 'dispatch/%'").fetch_all(&pool).await.unwrap();
    for (n, b) in nodes.iter().zip(&before) {
        let after = dispatch_rounds(n).await;
        if holders.contains(&n.instance) {
            assert!(after > *b, "{} holds a lease and runs rounds", n.instance);
        } else {
            assert_eq!(after, *b, "{} holds no lease and runs no round", n.instance);
        }
    }
    // SIGKILL: no chance to give the lease up. Another process takes over within 10 s.
    let i = nodes.iter().position(|n| n.instance == first).unwrap();
    let killed = nodes.remove(i);
    Command::new("kill").args(["-KILL", &killed.child.id().to_string()]).status().unwrap();
    let next = tokio::time::timeout(10 * SECOND, async {
        loop {
            match holder(&pool, work).await {
                Some(h) if h != first => return h,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await
    .expect("another process took over within 10 s");
    assert!(nodes.iter().any(|n| n.instance == next), "{next} is a live process");
    drop(killed);
    drop(nodes);
    pool.close().await;
    db.drop_now().await;
}

/// Each audit stream's size (entries), by stream.
async fn stream_sizes(pool: &sqlx::PgPool) -> std::collections::BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT stream, size FROM audit_heads").fetch_all(pool).await.unwrap().into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_verifies_after_a_burst_of_writes_over_processes_and_gate_pairs() {
    let (db, nodes) = cluster(3, &["--dispatch-every-s", "0"]).await;
    let admin = login(&nodes[0], "admin").await;
    let pool = db.pool().await;
    let before = stream_sizes(&pool).await;
    let pairs = ["huu-nghi", "kim-thanh", "lao-cai-ho-kieu"];
    let writes = (0..36).map(|i| {
        let (node, admin) = (&nodes[i % nodes.len()], admin.clone());
        let pair = pairs[i % pairs.len()];
        async move {
            let (_, body) = lane(pair, i);
            call(node, "POST", &format!("/api/v1/gate-pairs/{pair}/lanes"), Some(&admin), Some(body)).await.0
        }
    });
    let statuses = futures_util::future::join_all(writes).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // One entry per write, each in its gate pair's stream (its own chain and head).
    let after = stream_sizes(&pool).await;
    for pair in pairs {
        assert_eq!(after[pair] - before.get(pair).copied().unwrap_or(0), 12, "{pair}: {after:?}");
    }
    assert_eq!(after.values().sum::<i64>() - before.values().sum::<i64>(), 36, "one entry per write");
    let out = bin().args(["audit", "verify", "--database", &db.url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("intact"), "{text}{}", String::from_utf8_lossy(&out.stderr));

    // Signed checkpoints of every stream (a gate pair's in its own folder) prove the whole log.
    let dir = tempfile::tempdir().unwrap();
    let k =
        cuakhau_core::transparency::NoteSigner::from_seed("test.cuakhau.example/audit", cuakhau_core::transparency::KeyKind::Note, [7; 32])
            .unwrap();
    let key = dir.path().join("node.key");
    std::fs::write(&key, k.encode()).unwrap();
    let cps = dir.path().join("checkpoints");
    let (key, cps) = (key.to_str().unwrap(), cps.to_str().unwrap());
    let out = bin().args(["audit", "checkpoint", "--database", &db.url, "--audit-key", key, "--checkpoints", cps]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for pair in pairs {
        let note = std::fs::read_to_string(format!("{cps}/{pair}/checkpoint-{:012}", after[pair])).unwrap();
        assert!(note.starts_with(&format!("test.cuakhau.example/audit/{pair}\n{}\n", after[pair])), "{note}");
    }
    let verify = || bin().args(["audit", "verify", "--database", &db.url, "--audit-key", key, "--checkpoints", cps]).output().unwrap();
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout);
    let streams = after.len();
    assert!(out.status.success() && text.contains(&format!("of {streams} streams")), "{text}{}", String::from_utf8_lossy(&out.stderr));
    // An entry of one gate pair's stream edited and that stream re-sealed: named by its number.
    type Entry = (i64, String, i64, String, String, Option<String>, Option<String>);
    let rows: Vec<Entry> = sqlx::query_as(
        "SELECT seq, actor, at_us, action, entity, before_json, after_json FROM audit_log WHERE stream = 'kim-thanh' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let victim = rows[3].0;
    let chain =
        cuakhau_core::audit::seal_chain(rows.into_iter().enumerate().map(|(i, (seq, actor, at, action, entity, before, after))| {
            let actor = if i == 3 { "mallory".to_string() } else { actor };
            (seq, cuakhau_core::AuditRecord { actor, at: cuakhau_core::Timestamp(at), action, entity, before, after })
        }));
    for e in &chain {
        let q = sqlx::query("UPDATE audit_log SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4");
        q.bind(&e.record.actor).bind(&e.prev_hash).bind(&e.hash).bind(e.seq).execute(&pool).await.unwrap();
    }
    let head = &chain.last().unwrap().hash;
    sqlx::query("UPDATE audit_heads SET hash = $1 WHERE stream = 'kim-thanh'").bind(head).execute(&pool).await.unwrap();
    assert!(bin().args(["audit", "verify", "--database", &db.url]).output().unwrap().status.success(), "the re-sealed chain passes alone");
    let out = verify();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&format!("audit entry {victim} ")) && err.contains("kim-thanh"), "{err}");
    drop(nodes);
    pool.close().await;
    db.drop_now().await;
}

/// Runs `sql` on the replica's administrative database (pausing and resuming its replay).
async fn on_replica(replica: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(replica).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
    pool.close().await;
}

/// The public board of Hữu Nghị's exports as `node` serves it (to nobody signed in).
async fn public_board(node: &Node) -> (u16, Value) {
    call(node, "GET", "/api/v1/gate-pairs/huu-nghi/queue?direction=export", None, None).await
}

/// `node`'s `cuakhau_replica_lag_seconds`, if it shows one.
async fn metrics_lag(node: &Node) -> Option<f64> {
    let (_, v) = call(node, "GET", "/metrics", None, None).await;
    let line = format!("cuakhau_replica_lag_seconds{{instance=\"{}\"}} ", node.instance);
    v.as_str().unwrap().lines().find_map(|l| l.strip_prefix(line.as_str())).map(|n| n.trim().parse().unwrap())
}

/// Polls `what` every 100 ms until it answers `Some`, for at most `within`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(within: Duration, why: &str, mut what: impl FnMut() -> F) -> T {
    tokio::time::timeout(within, async {
        loop {
            if let Some(t) = what().await {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{why} within {within:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_read_replica_serves_the_public_board_from_it_and_writes_to_the_primary() {
    let (primary, replica) = cuakhau_store::conformance::primary_and_replica();
    // A replay left paused by an earlier run that failed half-way would stop everything below.
    on_replica(&replica, "SELECT pg_wal_replay_resume()").await;
    let db = Db::fresh_on(&primary).await;
    let replica_db = with_database(&replica, &db.name);
    eventually(10 * SECOND, "the new database reached the replica", || async { sqlx::PgPool::connect(&replica_db).await.ok() }).await;
    create_admin(&db.url);
    let node = start(&db.url, "r0", &["--dispatch-every-s", "0", "--read-database", &replica_db]);
    // The board is read from the replica once the primary's schema and reference data are there.
    let board = eventually(10 * SECOND, "the replica served the public board", || async {
        let (s, v) = public_board(&node).await;
        (s == 200).then_some(v)
    })
    .await;
    assert_eq!(board["source"], "replica", "{board}");
    let lag = board["replica_lag_s"].as_f64().unwrap_or_else(|| panic!("a board read from the replica says its lag: {board}"));
    assert!((0.0..10.0).contains(&lag), "lag {lag} s");
    let instant = |k: &str| cuakhau_core::time::parse_rfc3339(board[k]["utc"].as_str().unwrap()).unwrap().as_micros();
    assert!(instant("as_of") <= instant("at"), "the data is as of the lag before now: {board}");
    assert_eq!(board["demo"], false);
    assert!(metrics_lag(&node).await.is_some_and(|l| l >= 0.0), "/metrics shows the replica's lag");

    // Replay paused: a change committed on the primary does not reach the replica's board.
    on_replica(&replica, "SELECT pg_wal_replay_pause()").await;
    let store = cuakhau_store_postgres::PgStore::open(&db.url).await.unwrap();
    let at = cuakhau_core::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
    cuakhau_store::prelude::ReferenceStore::put_setting(&store, "demo", "replica test", cuakhau_store::Actor { name: "test", at })
        .await
        .unwrap();
    // A write through the server goes to the primary and succeeds while the replica cannot write.
    let admin = login(&node, "admin").await;
    let (id, body) = lane("huu-nghi", 0);
    let (s, v) = call(&node, "POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&admin), Some(body)).await;
    assert_eq!(s, 201, "{v}");
    let (s, detail) = call(&node, "GET", "/api/v1/gate-pairs/huu-nghi/queue?direction=export", Some(&admin), None).await;
    assert_eq!((s, &detail["demo"], &detail["replica_lag_s"]), (200, &json!(true), &Value::Null), "an officer's board is the primary's");
    let behind = eventually(5 * SECOND, "the paused replica fell behind", || async { metrics_lag(&node).await.filter(|l| *l > 0.0) }).await;
    let (s, board) = public_board(&node).await;
    assert_eq!((s, &board["demo"]), (200, &json!(false)), "the public board is the paused replica's: {board}");
    assert!(board["replica_lag_s"].as_f64().is_some_and(|l| l > 0.0), "and says it is behind ({behind} s): {board}");

    // Replay resumed: the change reaches the public board, and the lag falls back.
    on_replica(&replica, "SELECT pg_wal_replay_resume()").await;
    let board = eventually(10 * SECOND, "the change reached the replica's board", || async {
        let (s, v) = public_board(&node).await;
        (s == 200 && v["demo"] == true).then_some(v)
    })
    .await;
    assert!(board["lanes"].as_array().unwrap().iter().any(|l| l["id"] == id.as_str()), "{board}");
    assert!(board["replica_lag_s"].as_f64().is_some_and(|l| l < 5.0), "{board}");
    drop(node);
    store.pool().close().await;
    db.drop_now().await;
}

/// A TCP forwarder on `port` to `to` (a stand-in replica that can be down and come back).
async fn forward(port: u16, to: String) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let to = to.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

/// `node`'s `cuakhau_replica_fallbacks_total`.
async fn metrics_fallbacks(node: &Node) -> u64 {
    let (_, v) = call(node, "GET", "/metrics", None, None).await;
    let line = format!("cuakhau_replica_fallbacks_total{{instance=\"{}\"}} ", node.instance);
    v.as_str().unwrap().lines().find_map(|l| l.strip_prefix(line.as_str())).map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_board_falls_back_to_the_primary_while_the_replica_is_down_and_returns_to_it() {
    let db = Db::fresh().await;
    create_admin(&db.url);
    // The "replica" is a port where nothing listens; later a forwarder to the database's server.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = db.url.split('@').nth(1).unwrap().split('/').next().unwrap().to_string();
    let replica = db.url.replace(&server, &format!("127.0.0.1:{port}"));
    let node = start(&db.url, "f0", &["--dispatch-every-s", "0", "--read-database", &replica]);
    let (s, board) = public_board(&node).await;
    assert_eq!((s, &board["source"], &board["replica_lag_s"]), (200, &json!("primary-fallback"), &Value::Null), "{board}");
    assert!(metrics_fallbacks(&node).await >= 1, "/metrics counts the fallback");
    // While it is taken for down the primary answers at once, and says so.
    let (s, board) = public_board(&node).await;
    assert_eq!((s, &board["source"]), (200, &json!("primary-fallback")));
    // The replica comes back: within the retry delay the board is read there again.
    let forwarder = forward(port, server).await;
    eventually(10 * SECOND, "the public board was read from the replica again", || async {
        let (s, v) = public_board(&node).await;
        (s == 200 && v["source"] == "replica").then_some(())
    })
    .await;
    forwarder.abort();
    drop(node);
    db.drop_now().await;
}
