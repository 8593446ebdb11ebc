//! Test harness: a server built as a value on a fresh SQLite file, with a fixed clock, seeded
//! randomness, the bundled reference data and one user per role.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cuakhau_app::App;
use cuakhau_core::Timestamp;
use cuakhau_server::{AppState, Clock, Config, Entropy, Ticker};
use cuakhau_store::{Actor, NewUser, Store};
use cuakhau_store_sqlite::SqliteStore;
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// 2026-11-23 03:00 UTC: 10:00 in Hà Nội, 11:00 in Beijing.
pub const NOW: Timestamp = Timestamp(1_795_402_800_000_000);

/// The time a test sets; it tells whoever asks (a live board waiting for a side to open) when
/// it is moved.
#[derive(Debug)]
pub struct FixedClock(pub Mutex<Timestamp>, pub tokio::sync::watch::Sender<Timestamp>);
impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
    fn moved(&self) -> Option<tokio::sync::watch::Receiver<Timestamp>> {
        Some(self.1.subscribe())
    }
}

/// Monotonic time that moves only when a test moves it.
#[derive(Debug, Default)]
pub struct ManualTicker(pub Mutex<std::time::Duration>);
impl Ticker for ManualTicker {
    fn elapsed(&self) -> std::time::Duration {
        *self.0.lock().unwrap()
    }
}

#[derive(Debug)]
pub struct SeededEntropy(pub Mutex<rand::rngs::ChaCha8Rng>);
impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) {
        self.0.lock().unwrap().fill_bytes(buf)
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// The users every test server has, by role.
pub const USERS: &[(&str, &str)] = &[
    ("admin", "admin"),
    ("vn-board-hn", "officer:VN:gate-board:huu-nghi"),
    ("cn-board-hn", "officer:CN:gate-board:huu-nghi"),
    ("vn-board-all", "officer:VN:gate-board:*"),
    ("vn-customs", "officer:VN:customs:*"),
    ("cn-customs", "officer:CN:customs:*"),
    ("vn-guard", "officer:VN:border-guard:huu-nghi"),
    ("vn-quarantine", "officer:VN:quarantine:huu-nghi"),
    ("cn-guard", "officer:CN:border-guard:huu-nghi"),
    ("vn-labour", "officer:VN:labour:*"),
    ("enterprise", "enterprise:0101234567"),
    ("driver", "driver"),
];

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub store: Arc<dyn Store>,
    /// The SQLite store, for tests that need raw SQL (None on PostgreSQL).
    pub sqlite: Option<Arc<SqliteStore>>,
    pub clock: Arc<FixedClock>,
    pub ticker: Arc<ManualTicker>,
    /// The PostgreSQL schema to drop at the end (see [`TestApp::cleanup`]).
    pg_schema: Option<(sqlx::PgPool, String)>,
    /// More server nodes on the same database (`Engine::PostgresNodes`): requests go to each in
    /// turn, and after a write every node must have delivered it within a second.
    nodes: Vec<(Router, App)>,
    turn: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
}

/// Which engine a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    /// This many server nodes (each its own `App` and store handle, as separate processes have)
    /// on one PostgreSQL schema, each following the others' changes.
    PostgresNodes(usize),
}

/// A test server on `engine` (PostgreSQL needs `DATABASE_URL`; its absence fails the test).
pub async fn spawn_on(engine: Engine) -> TestApp {
    let config = Config { secure_cookies: false, ..Config::default() };
    match engine {
        Engine::Sqlite => spawn_with(config).await,
        Engine::Postgres | Engine::PostgresNodes(_) => {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at PostgreSQL for the server's PostgreSQL tests");
            let schema = format!("srv_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
            let store = Arc::new(cuakhau_store_postgres::PgStore::open_in_schema(&url, Some(&schema)).await.unwrap());
            let pool = store.pool().clone();
            let mut t = build(store, None, config.clone(), app_config()).await;
            t.pg_schema = Some((pool, schema.clone()));
            if let Engine::PostgresNodes(n) = engine {
                for i in 1..n as u64 {
                    let store = Arc::new(cuakhau_store_postgres::PgStore::open_in_schema(&url, Some(&schema)).await.unwrap());
                    // Each node its own randomness (tokens must not repeat across nodes).
                    let entropy = Arc::new(SeededEntropy(Mutex::new(rand::rngs::ChaCha8Rng::seed_from_u64(7 + i))));
                    let app = App::new(store, t.clock.clone(), t.ticker.clone(), entropy, app_config());
                    t.nodes.push((cuakhau_server::app(AppState::new(app.clone(), config.clone())), app));
                }
                let mut apps = vec![t.state.app.clone()];
                apps.extend(t.nodes.iter().map(|(_, a)| a.clone()));
                for app in apps {
                    tokio::spawn(cuakhau_app::events::follow(app.clone()));
                    tokio::time::timeout(std::time::Duration::from_secs(5), async {
                        while !app.events().followed() {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        }
                    })
                    .await
                    .expect("every node follows the changes");
                }
            }
            t
        }
    }
}

/// The rules of every test server: as shipped, but any number of simulations at once.
pub fn app_config() -> cuakhau_app::Config {
    cuakhau_app::Config { simulation_slots: 1000, ..Default::default() }
}

pub async fn spawn() -> TestApp {
    spawn_with(Config { secure_cookies: false, ..Config::default() }).await
}

pub async fn spawn_with(config: Config) -> TestApp {
    spawn_with_app(config, app_config()).await
}

/// A test server with its own HTTP settings and rules.
pub async fn spawn_with_app(config: Config, rules: cuakhau_app::Config) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(&format!("sqlite:{}", dir.path().join("t.db").display())).await.unwrap());
    let mut t = build(sqlite.clone(), Some(sqlite), config, rules).await;
    t._dir = dir;
    t
}

async fn build(store: Arc<dyn Store>, sqlite: Option<Arc<SqliteStore>>, config: Config, rules: cuakhau_app::Config) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor { name: "test", at: NOW };
    store.load_reference(&cuakhau_data::bundled().unwrap(), actor.clone()).await.unwrap();
    let entropy = Arc::new(SeededEntropy(Mutex::new(rand::rngs::ChaCha8Rng::seed_from_u64(7))));
    // One hash for all test users: Argon2 is deliberately slow.
    let phc = cuakhau_server::hash_password(entropy.as_ref(), PASSWORD);
    for (name, role) in USERS {
        let roles = vec![cuakhau_core::Role::parse(role).unwrap()];
        store
            .create_user(
                NewUser { username: (*name).into(), display_name: format!("Test {name}"), password_hash: phc.clone(), roles },
                actor.clone(),
            )
            .await
            .unwrap();
    }
    let clock = Arc::new(FixedClock(Mutex::new(NOW), tokio::sync::watch::Sender::new(NOW)));
    let ticker = Arc::new(ManualTicker::default());
    let app = App::new(store.clone(), clock.clone(), ticker.clone(), entropy, rules);
    let state = AppState::new(app, config);
    TestApp {
        app: cuakhau_server::app(state.clone()),
        state,
        store,
        sqlite,
        clock,
        ticker,
        pg_schema: None,
        nodes: Vec::new(),
        turn: Default::default(),
        _dir: dir,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl TestApp {
    /// Drops the PostgreSQL schema (no-op on SQLite).
    pub async fn cleanup(self) {
        if let Some((pool, schema)) = &self.pg_schema {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(pool).await.unwrap();
        }
    }

    /// Moves the fixed clock, and the monotonic time by as much (time moves on for both).
    pub fn set_now(&self, t: Timestamp) {
        let mut now = self.clock.0.lock().unwrap();
        let ahead = t.as_micros() - now.as_micros();
        if ahead > 0 {
            *self.ticker.0.lock().unwrap() += std::time::Duration::from_micros(ahead as u64);
        }
        *now = t;
        drop(now);
        self.clock.1.send_replace(t);
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let write = req.method() != axum::http::Method::GET;
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % (self.nodes.len() + 1);
        let router = if turn == 0 { self.app.clone() } else { self.nodes[turn - 1].0.clone() };
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        if write && !self.nodes.is_empty() {
            self.every_node_caught_up().await;
        }
        Resp { status, headers, body }
    }

    pub async fn call(&self, method: &str, uri: &str, token: Option<&str>, lang: Option<&str>, body: Option<serde_json::Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if let Some(l) = lang {
            b = b.header("accept-language", l);
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// The status of a request whose body is never read (an event stream).
    pub async fn status_of(&self, method: &str, uri: &str, token: Option<&str>) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let res = self.app.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
        Resp { status: res.status(), headers: res.headers().clone(), body: Vec::new() }
    }

    /// Sends a raw body with a content type.
    pub async fn send_body(&self, method: &str, uri: &str, token: Option<&str>, content_type: &str, body: &str) -> Resp {
        let mut b = Request::builder().method(method).uri(uri).header("content-type", content_type);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.call("GET", uri, None, None, None).await
    }

    pub async fn login(&self, username: &str) -> String {
        let r = self
            .call("POST", "/api/v1/auth/login", None, None, Some(serde_json::json!({"username": username, "password": PASSWORD})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_string()
    }

    /// Waits until every node has delivered the last committed change (at most a second: what
    /// a change may take to reach another process).
    async fn every_node_caught_up(&self) {
        let (head, _) = self.store.audit_head().await.unwrap();
        let apps = std::iter::once(&self.state.app).chain(self.nodes.iter().map(|(_, a)| a));
        for app in apps {
            tokio::time::timeout(std::time::Duration::from_secs(1), async {
                while app.events().delivered() < head {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            })
            .await
            .expect("a change reaches every node within a second");
        }
    }

    /// Everything a write could have touched: reference data, users and the audit head.
    pub async fn snapshot(&self) -> (cuakhau_core::ReferenceData, usize, (i64, String)) {
        (self.store.reference().await.unwrap(), self.store.list_users().await.unwrap().len(), self.store.audit_head().await.unwrap())
    }
}

/// A scenario small enough to finish in milliseconds.
pub const TINY_SCENARIO: &str = include_str!("tiny.toml");
