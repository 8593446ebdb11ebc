//! What the benchmarks that drive a real server share: a one-pair reference, a fixed clock, seeded
//! entropy, a plain HTTP/1.1 client on kept-alive connections, and percentiles.

use cuakhau_core::refdata::{Gate, GateFields, GateKind, GatePair, Lane, Province};
use cuakhau_core::{GatePairId, Mode, ReferenceData, Side, Timestamp};
use cuakhau_server::{Clock, Entropy};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 2026-11-24 00:00 UTC: the first bookable hour.
pub const H0: i64 = 1_795_478_400_000_000;

/// The clock of a benchmark's server: one hour before `H0`, always.
#[derive(Debug)]
pub struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        Timestamp(H0 - 3_600_000_000)
    }
}

/// Entropy from a counter through SplitMix64: reproducible, and cheap enough not to be measured.
#[derive(Debug)]
pub struct Counter(pub AtomicU64);
impl Entropy for Counter {
    fn fill(&self, buf: &mut [u8]) {
        let mut m = crate::Mix(self.0.fetch_add(1, Ordering::Relaxed));
        for chunk in buf.chunks_mut(8) {
            let v = m.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// The monotonic clock of a benchmark's server: the real one (caches and throttles age as usual).
#[derive(Debug)]
pub struct Wall(pub std::time::Instant);
impl cuakhau_app::Ticker for Wall {
    fn elapsed(&self) -> std::time::Duration {
        self.0.elapsed()
    }
}

/// A server's state over `store` as a benchmark runs it: fixed clock, seeded entropy, plain-HTTP
/// cookies, the default rules.
pub fn state(store: std::sync::Arc<dyn cuakhau_store::Store>, entropy: std::sync::Arc<Counter>) -> cuakhau_server::AppState {
    let app = cuakhau_app::App::new(
        store,
        std::sync::Arc::new(Fixed),
        std::sync::Arc::new(Wall(std::time::Instant::now())),
        entropy,
        Default::default(),
    );
    cuakhau_server::AppState::new(app, cuakhau_server::Config { secure_cookies: false, ..cuakhau_server::Config::default() })
}

/// One gate pair, `bench`, open round the clock, whose export lanes give 5,000 general slots an hour.
pub fn reference() -> ReferenceData {
    reference_with_lanes(&[600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 543])
}

/// The `bench` gate pair with one general export lane per entry of `capacities` (trucks a day).
pub fn reference_with_lanes(capacities: &[u32]) -> ReferenceData {
    reference_with_pairs(1, capacities)
}

/// The `k`-th of the benchmarks' gate pairs: `bench`, then `bench-1`, `bench-2`…
pub fn pair_id(k: usize) -> String {
    if k == 0 { "bench".into() } else { format!("bench-{k}") }
}

/// `pairs` gate pairs ([`pair_id`]), each with one general export lane per entry of `capacities`
/// (the first pair's lanes `b-0`, `b-1`…, the `k`-th's `b{k}-0`…).
pub fn reference_with_pairs(pairs: usize, capacities: &[u32]) -> ReferenceData {
    let gate = |side: Side| {
        Gate::parse(
            side,
            &GateFields {
                name_vi: "B",
                name_en: "B",
                province: if side == Side::Vn { "vn" } else { "cn" },
                zone: side.zone(),
                opens: "00:00",
                closes: "24:00",
                hours_source: "bench",
                ..Default::default()
            },
        )
        .expect("the bench gate parses")
    };
    let lanes = (0..pairs)
        .flat_map(|k| {
            capacities.iter().enumerate().map(move |(i, cap)| {
                let id = if k == 0 { format!("b-{i}") } else { format!("b{k}-{i}") };
                Lane::parse(&id, &pair_id(k), "VN", "export", "general", "l", &cap.to_string(), "true", "bench")
                    .expect("the bench lane parses")
            })
        })
        .collect();
    ReferenceData {
        provinces: vec![
            Province::parse("vn", "VN", "v", "v", "v", "", "bench").expect("parses"),
            Province::parse("cn", "CN", "c", "c", "c", "", "bench").expect("parses"),
        ],
        pairings: vec![],
        gate_pairs: (0..pairs)
            .map(|k| GatePair {
                id: GatePairId::parse(&pair_id(k)).expect("parses"),
                kind: GateKind::International,
                mode: Mode::Road,
                designation: "bench".into(),
                vn: gate(Side::Vn),
                cn: gate(Side::Cn),
                order: k as u32 + 1,
                sources: vec!["bench".into()],
            })
            .collect(),
        lanes,
    }
}

/// One HTTP/1.1 request on a kept-alive connection; returns status and body.
pub async fn request(s: &mut TcpStream, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("the request is sent");
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    loop {
        let n = s.read(&mut tmp).await.expect("the answer is read");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize =
                head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().expect("a length"));
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).await.expect("the body is read");
                assert!(n > 0, "the server closed the connection");
                buf.extend_from_slice(&tmp[..n]);
            }
            let status: u16 = head[9..12].parse().expect("a status");
            return (status, String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
        }
    }
}

/// Benchmark client `c`: user `u{c}` (password hash `phc`) for three enterprises (so the daily
/// limit of 40 each is not what stops a burst) and `n` accepted export declarations at `bench`;
/// returns their ids.
pub async fn client_with_declarations(store: &dyn cuakhau_store::Store, c: usize, n: usize, phc: &str) -> Vec<i64> {
    client_with_declarations_at(store, c, n, phc, "bench").await
}

/// Like [`client_with_declarations`], the declarations at gate pair `pair`.
pub async fn client_with_declarations_at(store: &dyn cuakhau_store::Store, c: usize, n: usize, phc: &str, pair: &str) -> Vec<i64> {
    use cuakhau_core::goods::declaration::DeclEvent;
    use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
    let at = cuakhau_store::Actor { name: "bench", at: Fixed.now() };
    let codes: Vec<String> = (0..3).map(|k| format!("{:010}", 1_000_000 + c * 3 + k)).collect();
    let roles = codes.iter().map(|code| cuakhau_core::Role::Enterprise { code: code.clone() }).collect();
    let user = cuakhau_store::NewUser { username: format!("u{c}"), display_name: "bench".into(), password_hash: phc.into(), roles };
    store.create_user(user, at.clone()).await.expect("the client's account");
    let mut ids = Vec::new();
    for i in 0..n {
        let new = cuakhau_store::goods::NewDeclaration {
            enterprise: EnterpriseCode::parse(&codes[i % 3]).expect("a code"),
            gate_pair: GatePairId::parse(pair).expect("parses"),
            direction: cuakhau_core::Direction::Export,
            plate: Plate::parse(&format!("29C-{c:03}.{i:03}"), Side::Vn).expect("a plate"),
            vehicle_kind: VehicleKind::Truck,
            driver: Some(Driver::parse("D", "VN", "B1234567").expect("a driver")),
            consignments: vec![cuakhau_store::conformance::durian_free()],
            track_code: format!("bench{c}x{i}"),
        };
        let d = store.create_declaration(new, at.clone()).await.expect("a declaration");
        store.declaration_event(d.id, DeclEvent::Submit, at.clone()).await.expect("submitted");
        store.declaration_event(d.id, DeclEvent::Accept { at: at.at, validity_h: 72 }, at.clone()).await.expect("accepted");
        ids.push(d.id.get());
    }
    ids
}

/// The bookable hour `k` hours after `H0`, as the API takes it.
pub fn hour(k: i64) -> String {
    Timestamp(H0 + k * 3_600_000_000).to_rfc3339()
}

/// One client on its own kept-alive connection books each of its declarations, trying the hours
/// from `H0` in order (an hour found full stays full: it moves on for good); after the last hour
/// it refuses the rest, or stops at the first refusal when `stop_when_full`. Returns (booked,
/// refused, latency of every request in µs).
pub async fn book_each(
    addr: std::net::SocketAddr,
    token: String,
    ids: Vec<i64>,
    hours: i64,
    stop_when_full: bool,
) -> (usize, usize, Vec<u64>) {
    let mut s = TcpStream::connect(addr).await.expect("the server listens");
    s.set_nodelay(true).expect("nodelay");
    let (mut booked, mut refused, mut lat) = (0, 0, Vec::new());
    let mut first_open = 0;
    for id in ids {
        let mut done = false;
        while first_open < hours {
            let t0 = std::time::Instant::now();
            let path = format!("/api/v1/declarations/{id}/booking");
            let (status, body) = request(&mut s, "POST", &path, Some(&token), &format!(r#"{{"hour":"{}"}}"#, hour(first_open))).await;
            lat.push(t0.elapsed().as_micros() as u64);
            match status {
                201 => {
                    booked += 1;
                    done = true;
                    break;
                }
                409 if body.contains("full") => first_open += 1,
                other => panic!("unexpected {other}: {body}"),
            }
        }
        if !done {
            refused += 1;
            if stop_when_full {
                break;
            }
        }
    }
    (booked, refused, lat)
}

/// Signs in and returns the bearer token.
pub async fn login(addr: std::net::SocketAddr, user: &str, password: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("the server listens");
    let (status, body) =
        request(&mut s, "POST", "/api/v1/auth/login", None, &format!(r#"{{"username":"{user}","password":"{password}"}}"#)).await;
    assert_eq!(status, 200, "{body}");
    body.split("\"token\":\"").nth(1).and_then(|t| t.split('"').next()).expect("a token").to_string()
}

/// The `p` quantile (0..=1) of `v` (µs), in milliseconds; sorts `v`.
pub fn pct_ms(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1] as f64 / 1000.0
}
