//! The server's own limits: a panicking handler answers a localised problem (and the server goes
//! on), a full house answers 503 at once instead of queueing, and slow clients are cut off while
//! sending headers or a body.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use cuakhau_core::Timestamp;
use cuakhau_server::{AppState, Clock, Config};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A clock that breaks: every handler that asks the time panics.
#[derive(Debug)]
struct BrokenClock;
impl Clock for BrokenClock {
    fn now(&self) -> Timestamp {
        panic!("the clock broke")
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_a_localised_problem_and_the_server_goes_on() {
    let mut t = spawn().await;
    let entropy = Arc::new(SeededEntropy(std::sync::Mutex::new(rand::SeedableRng::seed_from_u64(1))));
    let app = cuakhau_app::App::new(t.store.clone(), Arc::new(BrokenClock), Arc::new(ManualTicker::default()), entropy, app_config());
    t.app = cuakhau_server::app(AppState::new(app, Config::default()));
    let broken = t;
    let r = broken.call("GET", "/api/v1/gate-pairs", None, Some("zh"), None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let p = r.json();
    assert_eq!((p["type"].as_str(), p["title"].as_str(), p["lang"].as_str()), (Some("/problems/internal"), Some("系统错误"), Some("zh")));
    assert!(!r.text().contains("clock broke"), "the panic's message is logged, never returned");
    // The panic cost one request, not the server.
    assert_eq!(broken.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_beyond_the_concurrency_limit_is_answered_503_at_once() {
    let t = Arc::new(spawn_with(Config { secure_cookies: false, max_concurrent_requests: 1, ..Default::default() }).await);
    let token = t.login("admin").await;
    // The one allowed request waits on SQLite's write lock, held by another writer.
    let mut blocker = t.sqlite.as_ref().unwrap().pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *blocker).await.unwrap();
    let patch = || {
        let (t, token) = (t.clone(), token.clone());
        tokio::spawn(async move {
            t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&token), None, Some(serde_json::json!({"capacity_per_hour": 30})))
                .await
                .status
        })
    };
    let mut first = patch();
    let mut refused = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if first.is_finished() {
            // A probe held the one permit when the write arrived: the write was the one refused.
            assert_eq!(first.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
            first = patch();
            continue;
        }
        let r = t.call("GET", "/healthz", None, Some("vi"), None).await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("a second request while the first is in flight is refused");
    assert_eq!(r.json()["type"], "/problems/overloaded");
    assert_eq!(r.json()["lang"], "vi");
    assert_eq!(r.headers["retry-after"], "1");
    sqlx::query("ROLLBACK").execute(&mut *blocker).await.unwrap();
    drop(blocker);
    assert_eq!(first.await.unwrap(), StatusCode::OK, "the request in flight finishes");
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK, "and the house has room again");
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_and_changes_nothing() {
    use futures_util::StreamExt;
    let t = spawn_with(Config { secure_cookies: false, body_read_timeout: Duration::from_millis(200), ..Default::default() }).await;
    let token = t.login("admin").await;
    let before = t.snapshot().await;
    // Half a body, then nothing more.
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"capacity_per_hour\""))])
        .chain(futures_util::stream::pending());
    let req = Request::builder()
        .method("PATCH")
        .uri("/api/v1/lanes/kim-thanh-vn-export-1")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept-language", "zh")
        .body(Body::from_stream(chunks))
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), t.send(req)).await.expect("answered, not left hanging");
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(r.json()["title"], "请求超时");
    assert!(t.snapshot().await == before);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let t = spawn_with(Config { secure_cookies: false, header_read_timeout: Duration::from_millis(200), ..Default::default() }).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cuakhau_server::serve(listener, t.state.clone(), async move {
        let _ = stopped.await;
    }));
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was left open");
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "{}", String::from_utf8_lossy(&buf));
    // A client that sends its request in time is served, with its address known.
    let mut quick = tokio::net::TcpStream::connect(addr).await.unwrap();
    quick.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), quick.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops").unwrap().unwrap();
}
