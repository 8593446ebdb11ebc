//! What a security review found, each as a test: throttled sign-ins with audited failures,
//! cross-site changes refused, hardening headers, problem+json for every error, and a booking
//! horizon.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn sign_ins_are_throttled_per_account_with_backoff_and_failures_are_audited() {
    let t = spawn().await;
    let bad = json!({"username": "vn-customs", "password": "wrong password"});
    for _ in 0..5 {
        let r = t.call("POST", "/api/v1/auth/login", None, None, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the account is being guessed.
    let good = json!({"username": "vn-customs", "password": PASSWORD});
    let r = t.call("POST", "/api/v1/auth/login", None, Some("vi"), Some(good.clone())).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(r.json()["detail"], "Đăng nhập sai quá nhiều lần; hãy thử lại sau 1 giây.");
    // Other accounts are not affected.
    t.login("vn-guard").await;
    // The wait passes with the clock.
    t.set_now(NOW.plus_seconds(2));
    assert_eq!(t.call("POST", "/api/v1/auth/login", None, None, Some(good)).await.status, StatusCode::OK);
    // Each failure is in the audit log, under the name tried.
    let admin = t.login("admin").await;
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&admin), None, None).await.json();
    let failed =
        log.as_array().unwrap().iter().filter(|e| e["action"] == "session.login-failed" && e["entity"] == "user/vn-customs").count();
    assert_eq!(failed, 5);
}

#[tokio::test]
async fn cookie_changes_from_another_site_are_refused_and_every_response_is_hardened() {
    let t = spawn().await;
    let r = t.call("POST", "/api/v1/auth/login", None, None, Some(json!({"username": "enterprise", "password": PASSWORD}))).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let post = |origin: Option<&str>, site: Option<&str>| {
        let mut b =
            Request::post("/api/v1/auth/logout").header("cookie", &cookie).header("host", "gate.example").header("accept-language", "zh");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(Body::empty()).unwrap()
    };
    let r = t.send(post(Some("https://evil.example"), None)).await;
    assert_eq!((r.status, r.json()["type"].as_str()), (StatusCode::FORBIDDEN, Some("/problems/cross-site")), "{}", r.text());
    assert_eq!(r.json()["detail"], "此更改来自其他网站的页面，已被拒绝。");
    assert_eq!(t.send(post(None, Some("cross-site"))).await.status, StatusCode::FORBIDDEN);
    // The session survived both attempts; the console's own page may sign out.
    let me = Request::get("/api/v1/auth/me").header("cookie", &cookie).body(Body::empty()).unwrap();
    assert_eq!(t.send(me).await.status, StatusCode::OK);
    assert_eq!(t.send(post(Some("https://gate.example"), Some("same-origin"))).await.status, StatusCode::NO_CONTENT);
    for uri in ["/api/v1/gate-pairs", "/", "/api/v1/nowhere"] {
        let r = t.get(uri).await;
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(r.headers["referrer-policy"], "same-origin", "{uri}");
    }
}

#[tokio::test]
async fn wrong_methods_and_bad_path_parts_answer_problem_json_in_the_callers_language() {
    let t = spawn().await;
    let r = t.call("DELETE", "/api/v1/gate-pairs", None, Some("vi"), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.json()["detail"], "Địa chỉ này không nhận phương thức đó.");
    assert!(r.headers.contains_key("allow"));
    let firm = t.login("enterprise").await;
    let r = t.call("GET", "/api/v1/declarations/not-a-number", Some(&firm), Some("zh"), None).await;
    assert_eq!((r.status, r.headers["content-type"].to_str().unwrap()), (StatusCode::BAD_REQUEST, "application/problem+json"));
    assert_eq!(r.json()["detail"], "路径中的某一部分（编号或代码）无效。");
}

#[tokio::test]
async fn a_slot_cannot_be_booked_past_the_declarations_validity_or_the_horizon() {
    let t = spawn().await;
    let board = t.login("vn-board-hn").await;
    let lane = json!({"id": "hn-vn-exp-1", "side": "VN", "direction": "export", "class": "general", "name": "1", "capacity_per_hour": 12, "basis": "test"});
    assert_eq!(t.call("POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&board), None, Some(lane)).await.status, StatusCode::CREATED);
    let firm = t.login("enterprise").await;
    let body = json!({
        "gate_pair": "huu-nghi", "direction": "export", "plate": "12C-123.45", "plate_country": "VN", "vehicle_kind": "truck",
        "driver": {"name": "Tài", "nationality": "VN", "document_no": "B1234567"},
        "consignments": [{"hs_code": "85171300", "description_vi": "Điện thoại", "packages": 1, "gross_kg": 10.0, "value": 1.0, "currency": "USD", "origin": "VN"}]
    });
    let id = t.call("POST", "/api/v1/declarations", Some(&firm), None, Some(body)).await.json()["id"].as_i64().unwrap();
    t.call("POST", &format!("/api/v1/declarations/{id}/submit"), Some(&firm), None, None).await;
    t.call("POST", &format!("/api/v1/declarations/{id}/accept"), Some(&t.login("vn-customs").await), None, None).await;
    for (hour, lang, words) in [
        ("2036-11-23T10:00:00+07:00", "en", "Field 'hour': the hour starts after the declaration's validity ends"),
        ("2026-11-26T10:00:00+07:00", "vi", "Trường «hour»: giờ này bắt đầu sau khi tờ khai hết hiệu lực"),
    ] {
        let r = t.call("POST", &format!("/api/v1/declarations/{id}/booking"), Some(&firm), Some(lang), Some(json!({"hour": hour}))).await;
        assert_eq!((r.status, r.json()["detail"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(words)), "{}", r.text());
    }
    let r = t
        .call("POST", &format!("/api/v1/declarations/{id}/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-25T10:00:00+07:00"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "within 72 h: {}", r.text());
}

/// `POST /declarations` twice with one `Idempotency-Key` files one declaration and answers the
/// same twice; the key with another body is refused; on both engines (the keys live in the store).
async fn a_create_retried_with_its_idempotency_key_happens_once(engine: Engine) {
    let t = spawn_on(engine).await;
    let firm = t.login("enterprise").await;
    let body = |plate: &str| {
        json!({
            "gate_pair": "huu-nghi", "direction": "export", "plate": plate, "plate_country": "VN", "vehicle_kind": "truck",
            "driver": {"name": "Tài", "nationality": "VN", "document_no": "B1234567"},
            "consignments": [{"hs_code": "85171300", "description_vi": "Điện thoại", "packages": 1, "gross_kg": 10.0, "value": 1.0, "currency": "USD", "origin": "VN"}]
        })
    };
    let post = |b: serde_json::Value, key: &str| {
        Request::post("/api/v1/declarations")
            .header("authorization", format!("Bearer {firm}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header("accept-language", "vi")
            .body(Body::from(b.to_string()))
            .unwrap()
    };
    let first = t.send(post(body("12C-123.45"), "k-2026-0001")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = t.send(post(body("12C-123.45"), "k-2026-0001")).await;
    assert_eq!((again.status, again.json()["id"].clone()), (StatusCode::CREATED, first.json()["id"].clone()));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let list = t.call("GET", "/api/v1/declarations", Some(&firm), None, None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "one declaration, not two");
    let other = t.send(post(body("12C-999.99"), "k-2026-0001")).await;
    assert_eq!(
        (other.status, other.json()["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key")),
        "{}",
        other.text()
    );
    assert_eq!(other.json()["detail"], "Trường «Idempotency-Key»: đã được dùng cho một yêu cầu khác");
    assert_eq!(t.send(post(body("12C-999.99"), "k-2026-0002")).await.status, StatusCode::CREATED, "a new key is a new request");
    t.cleanup().await;
}

#[tokio::test]
async fn a_create_retried_with_its_idempotency_key_happens_once_on_sqlite() {
    a_create_retried_with_its_idempotency_key_happens_once(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_create_retried_with_its_idempotency_key_happens_once_on_postgres() {
    a_create_retried_with_its_idempotency_key_happens_once(Engine::Postgres).await;
}

#[tokio::test]
async fn bodies_are_objects_whole_numbers_are_integers_and_problems_quote_no_control_characters() {
    let t = spawn().await;
    // An array is not an object, even when its items are the fields in order (serde would read it so).
    for body in [json!(["enterprise", PASSWORD]), json!("enterprise"), json!(42), json!(null)] {
        let r = t.call("POST", "/api/v1/auth/login", None, Some("vi"), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text());
        assert_eq!((r.json()["field"].as_str(), r.json()["detail"].as_str()), (Some("body"), Some("Trường «body»: một đối tượng JSON")));
        assert!(!r.headers.contains_key("set-cookie"), "{body}");
    }
    // 30.0 is the whole number 30, as JSON Schema's `integer` says: read as 30.
    let admin = t.login("admin").await;
    let lanes = t.call("GET", "/api/v1/lanes?gate_pair=huu-nghi", None, None, None).await.json();
    let lane = lanes[0]["id"].as_str().expect("a lane at Hữu Nghị").to_string();
    let r = t.call("PATCH", &format!("/api/v1/lanes/{lane}"), Some(&admin), None, Some(json!({"capacity_per_hour": 30.0}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["capacity_per_hour"], 30);
    let r = t.call("PATCH", &format!("/api/v1/lanes/{lane}"), Some(&admin), None, Some(json!({"capacity_per_hour": 30.5}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // What the client sent comes back without its control characters: U+FFFD stands in.
    let r = t.call("GET", "/api/v1/gate-pairs/a%1B%5B2Jb%E2%80%AEc", None, None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let detail = r.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("a\u{FFFD}[2Jb\u{FFFD}c"), "{detail:?}");
    let r = t.call("POST", "/api/v1/auth/login", None, None, Some(json!({"user\u{7}name": "x", "password": "y"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["field"], "user\u{FFFD}name");
    assert!(!r.text().contains("\\u0007"), "{}", r.text());
}
