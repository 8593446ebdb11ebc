//! The HTTP API, driven as a value with `oneshot`: reference data, localised errors, sessions,
//! and proof that refused requests change nothing.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn gate_pairs_come_in_all_three_languages_with_open_now() {
    let t = spawn().await;
    let r = t.get("/api/v1/gate-pairs").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["x-total-count"], "36");
    let all = r.json();
    assert_eq!(all.as_array().unwrap().len(), 36);
    let hn = t.get("/api/v1/gate-pairs/huu-nghi").await.json();
    assert_eq!(hn["vn"]["name"]["vi"], "Hữu Nghị");
    assert_eq!(hn["cn"]["name"]["zh"], "友谊关");
    assert_eq!(hn["cn"]["name"]["pinyin"], "Yǒuyìguān");
    assert_eq!(hn["cn"]["name"]["en"], "Youyiguan");
    assert_eq!(hn["vn"]["zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(hn["cn"]["zone"], "Asia/Shanghai");
    // 03:00 UTC is 10:00 in Hà Nội and 11:00 in Beijing: both open.
    assert_eq!(hn["vn"]["open_now"], true);
    assert_eq!(hn["cn"]["hours"]["opens"], "08:00");
    // A gate without sourced hours says so instead of guessing.
    let ap = t.get("/api/v1/gate-pairs/a-pa-chai").await.json();
    assert_eq!(ap["vn"]["open_now"], serde_json::Value::Null);
    assert_eq!(ap["vn"]["coordinate"], serde_json::Value::Null);
}

#[tokio::test]
async fn lists_filter_and_page() {
    let t = spawn().await;
    let r = t.get("/api/v1/gate-pairs?limit=2&offset=1").await;
    let ids: Vec<_> = r.json().as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["u-ma-tu-khoong", "ma-lu-thang"]);
    let rail = t.get("/api/v1/gate-pairs?mode=rail").await.json();
    assert_eq!(rail.as_array().unwrap().len(), 2);
    let q = t.get("/api/v1/gate-pairs?q=%E5%8F%8B%E8%B0%8A").await.json(); // 友谊
    assert!(q.as_array().unwrap().iter().all(|g| g["id"].as_str().unwrap().starts_with("huu-nghi")));
    let ls = t.get("/api/v1/gate-pairs?province=lang-son").await.json();
    assert_eq!(ls.as_array().unwrap().len(), 9);
    let cn_gates = t.get("/api/v1/gates?side=CN&province=yunnan").await.json();
    assert_eq!(cn_gates.as_array().unwrap().len(), 15);
    assert!(cn_gates.as_array().unwrap().iter().all(|g| g["side"] == "CN"));
    let open = t.get("/api/v1/gates?open_now=true").await.json();
    assert!(!open.as_array().unwrap().is_empty());
    assert_eq!(t.get("/api/v1/provinces?country=VN").await.json().as_array().unwrap().len(), 7);
    assert_eq!(t.get("/api/v1/pairings").await.json().as_array().unwrap().len(), 8);
    assert_eq!(t.get("/api/v1/lanes?gate_pair=kim-thanh&direction=import").await.json().as_array().unwrap().len(), 3);
    assert_eq!(t.get("/api/v1/gate-pairs/kim-thanh/lanes").await.json().as_array().unwrap().len(), 5);
    assert_eq!(t.get("/api/v1/gates/huu-nghi/cn").await.json()["name"]["zh"], "友谊关");
    assert_eq!(t.get("/api/v1/provinces/tuyen-quang").await.json()["former_names"], "Hà Giang (merged 2025)");
    assert_eq!(t.get("/api/v1/lanes/kim-thanh-vn-export-1").await.json()["capacity_per_hour"], 17);
}

/// One bad request: method, uri, body, content type, expected status, expected problem `type`.
type BadCase = (&'static str, &'static str, Option<String>, Option<&'static str>, StatusCode, &'static str);

#[tokio::test]
async fn bad_input_gets_a_localised_problem_and_changes_nothing() {
    let t = spawn().await;
    let token = t.login("vn-board-all").await;
    let before = t.snapshot().await;
    let big = "x".repeat(70 * 1024);
    let cases: Vec<BadCase> = vec![
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(r#"{"capacity_per_hour": 12,"#.into()),
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(r#"{"capacity": 12}"#.into()),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-field",
        ),
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(format!(r#"{{"name": "{big}"}}"#)),
            Some("application/json"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(r#"{"capacity_per_hour": 12}"#.into()),
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(r#"{"capacity_per_hour": 5000}"#.into()),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(r#"{"capacity_per_hour": "many"}"#.into()),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "PATCH",
            "/api/v1/lanes/no-such-lane",
            Some(r#"{"active": false}"#.into()),
            Some("application/json"),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "PUT",
            "/api/v1/gates/huu-nghi/vn/hours",
            Some(r#"{"opens": "25:00", "closes": "20:00", "source": "x"}"#.into()),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "PUT",
            "/api/v1/gates/huu-nghi/vn/hours",
            Some(r#"{"opens": "07:00", "closes": "20:00", "source": ""}"#.into()),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            "/api/v1/gate-pairs/huu-nghi/lanes",
            Some(
                r#"{"id":"hn-1","side":"VN","direction":"sideways","class":"general","name":"x","capacity_per_hour":3,"basis":"b"}"#.into(),
            ),
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        ("GET", "/api/v1/gate-pairs?limit=100000", None, None, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field"),
        ("GET", "/api/v1/gate-pairs?colour=red", None, None, StatusCode::BAD_REQUEST, "unknown-field"),
        ("GET", "/api/v1/nothing-here", None, None, StatusCode::NOT_FOUND, "not-found"),
    ];
    for (method, uri, body, ct, status, kind) in cases {
        let mut titles = Vec::new();
        for lang in ["vi", "zh-CN", "en-US"] {
            let mut b = Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("accept-language", lang);
            if let Some(ct) = ct {
                b = b.header("content-type", ct);
            }
            let r = t.send(b.body(body.clone().map(Body::from).unwrap_or_else(Body::empty)).unwrap()).await;
            assert_eq!(r.status, status, "{method} {uri} [{lang}]: {}", r.text());
            assert_eq!(r.headers["content-type"], "application/problem+json", "{method} {uri}");
            let p = r.json();
            assert_eq!(p["type"], format!("/problems/{kind}"), "{method} {uri}: {p}");
            assert_eq!(p["status"], status.as_u16());
            assert_eq!(p["lang"], &lang[..2]);
            titles.push(p["title"].as_str().unwrap().to_string() + p["detail"].as_str().unwrap());
        }
        assert_ne!(titles[0], titles[1], "vi and zh differ for {method} {uri}");
        assert_ne!(titles[1], titles[2], "zh and en differ for {method} {uri}");
    }
    assert!(t.snapshot().await == before, "a refused request changed the database");
}

#[tokio::test]
async fn an_unknown_field_is_named_in_the_callers_language() {
    let t = spawn().await;
    let token = t.login("vn-board-hn").await;
    let r = t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&token), Some("vi"), Some(json!({"capacity": 1}))).await;
    assert_eq!(r.json()["detail"], "Trường «capacity» không được chấp nhận ở đây.");
    let r = t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&token), Some("zh"), Some(json!({"capacity": 1}))).await;
    assert_eq!(r.json()["detail"], "不接受字段“capacity”。");
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_each_language_and_writes_nothing() {
    let t = spawn().await;
    let before = t.snapshot().await;
    for (lang, detail) in
        [("vi", "Tên đăng nhập hoặc mật khẩu không đúng."), ("zh", "用户名或密码错误。"), ("en", "Wrong user name or password.")]
    {
        for user in ["admin", "nobody"] {
            let r = t
                .call("POST", "/api/v1/auth/login", None, Some(lang), Some(json!({"username": user, "password": "wrong password!"})))
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert_eq!(r.json()["detail"], detail);
        }
    }
    // Nothing is written but the audit entries of the six failures.
    let after = t.snapshot().await;
    assert!(after.0 == before.0 && after.1 == before.1);
    assert_eq!(after.2.0, before.2.0 + 6, "each failed sign-in is audited");
}

#[tokio::test]
async fn sessions_log_in_out_and_expire() {
    let t = spawn().await;
    let r = t.call("POST", "/api/v1/auth/login", None, None, Some(json!({"username": "admin", "password": PASSWORD}))).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("cuakhau_session=") && cookie.contains("HttpOnly"), "{cookie}");
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&token), None, None).await.json()["username"], "admin");
    // The cookie works as well as the header.
    let via_cookie = t
        .send(
            Request::builder()
                .uri("/api/v1/auth/me")
                .header("cookie", format!("a=b; cuakhau_session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(via_cookie.status, StatusCode::OK);
    assert_eq!(t.call("POST", "/api/v1/auth/logout", Some(&token), None, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&token), None, None).await.status, StatusCode::UNAUTHORIZED);
    // Expiry: 12 hours by default.
    let token = t.login("admin").await;
    *t.clock.0.lock().unwrap() = NOW.plus_seconds(12 * 3600);
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&token), None, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_board_edits_its_lane_and_the_audit_log_shows_before_and_after() {
    let t = spawn().await;
    let token = t.login("vn-board-all").await;
    let r = t
        .call(
            "PATCH",
            "/api/v1/lanes/kim-thanh-vn-export-1",
            Some(&token),
            None,
            Some(json!({"capacity_per_hour": 20, "basis": "measured 2026-11"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["capacity_per_hour"], 20);
    // A rename or a closure keeps where the figure came from; a new figure without a source
    // says who set it.
    let patch = |body: serde_json::Value| {
        let (t, token) = (&t, &token);
        async move { t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(token), None, Some(body)).await.json() }
    };
    assert_eq!(patch(json!({"name": "Lane 1 (east)", "active": false})).await["basis"], "measured 2026-11");
    assert_eq!(patch(json!({"capacity_per_hour": 20, "active": true})).await["basis"], "measured 2026-11", "the same figure");
    assert_eq!(patch(json!({"capacity_per_hour": 18})).await["basis"], "set by vn-board-all (gate management board)");
    patch(json!({"capacity_per_hour": 20, "basis": "measured 2026-11"})).await;
    let hours = t
        .call(
            "PUT",
            "/api/v1/gates/kim-thanh/vn/hours",
            Some(&token),
            None,
            Some(json!({"opens": "07:00", "closes": "22:00", "source": "bilateral agreement"})),
        )
        .await;
    assert_eq!(hours.status, StatusCode::OK, "{}", hours.text());
    assert_eq!(hours.json()["vn"]["hours"]["closes"], "22:00");
    let admin = t.login("admin").await;
    let log = t.call("GET", "/api/v1/audit?after=80&zone=Asia/Shanghai", Some(&admin), None, None).await.json();
    let lane = log.as_array().unwrap().iter().find(|e| e["action"] == "lane.update").expect("lane update audited");
    assert_eq!(lane["actor"], "vn-board-all");
    assert_eq!(lane["before"]["capacity_per_hour"], 17);
    assert_eq!(lane["after"]["capacity_per_hour"], 20);
    assert_eq!(lane["at"], "2026-11-23T03:00:00Z");
    assert_eq!(lane["at_local"], "2026-11-23T11:00:00+08:00");
    let v = t.call("GET", "/api/v1/audit/verify", Some(&admin), None, None).await.json();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn users_are_created_by_admins_and_passwords_reset() {
    let t = spawn().await;
    let admin = t.login("admin").await;
    let body = json!({"username": "lan.nguyen", "display_name": "Nguyễn Thị Lan", "password": "mật khẩu dài lắm", "roles": ["officer:VN:customs:huu-nghi"]});
    let r = t.call("POST", "/api/v1/users", Some(&admin), None, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(t.call("POST", "/api/v1/users", Some(&admin), None, Some(body)).await.status, StatusCode::CONFLICT);
    let bad_role = json!({"username": "x", "display_name": "x", "password": "long enough pw", "roles": ["officer:VN:police:*"]});
    let r = t.call("POST", "/api/v1/users", Some(&admin), Some("en"), Some(bad_role)).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("roles")));
    let short = json!({"password": "short"});
    assert_eq!(
        t.call("PUT", "/api/v1/users/lan.nguyen/password", Some(&admin), None, Some(short)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let lan = t
        .call("POST", "/api/v1/auth/login", None, None, Some(json!({"username": "lan.nguyen", "password": "mật khẩu dài lắm"})))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&lan), None, None).await.status, StatusCode::OK);
    let ok = json!({"password": "a new long password"});
    assert_eq!(t.call("PUT", "/api/v1/users/lan.nguyen/password", Some(&admin), None, Some(ok)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.call("GET", "/api/v1/auth/me", Some(&lan), None, None).await.status,
        StatusCode::UNAUTHORIZED,
        "a reset ends her sessions at once, cached or not"
    );
    let login =
        t.call("POST", "/api/v1/auth/login", None, None, Some(json!({"username": "lan.nguyen", "password": "a new long password"}))).await;
    assert_eq!(login.status, StatusCode::OK);
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let t = spawn().await;
    assert_eq!(t.get("/healthz").await.json(), json!({"status": "ok", "engine": "sqlite", "demo": false}));
    t.get("/api/v1/gate-pairs").await;
    let m = t.get("/metrics").await;
    assert!(m.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(m.text().contains(r#"cuakhau_http_requests_total{method="GET",route="/api/v1/gate-pairs",status="200"} 1"#), "{}", m.text());
    let doc = t.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/gate-pairs",
        "/api/v1/gate-pairs/{id}",
        "/api/v1/lanes/{id}",
        "/api/v1/auth/login",
        "/api/v1/audit/verify",
        "/healthz",
        "/api/v1/gate-pairs/{id}/yard",
        "/api/v1/gate-pairs/{id}/queue/stream",
        "/api/v1/trips/{id}/steps/{index}/finish",
        "/api/v1/reports/dwell",
        "/api/v1/track/{declaration}",
        "/api/v1/worklist",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

/// Every integer in a path or a query is bounded in the OpenAPI document, and the largest value the
/// document allows is one its route can read: a client generating values from the document
/// (schemathesis did, with a step index of 1.3e20) is never refused for the path itself.
#[tokio::test]
async fn an_integer_in_a_path_or_query_is_read_up_to_its_documented_bound_and_refused_past_it() {
    let t = spawn().await;
    let token = t.login("admin").await;
    let doc = t.get("/api/v1/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(params) = op["parameters"].as_array() else { continue };
            let mut url = path.clone();
            let mut integers = 0;
            for p in params.iter().filter(|p| p["in"] == "query" && p["schema"]["type"] == "integer") {
                let s = &p["schema"];
                assert!(
                    s["maximum"].is_number() || matches!(s["format"].as_str(), Some("int32" | "int64")),
                    "{method} {path}: the query integer {} has no bound",
                    p["name"]
                );
                // Past the bound is refused, where nothing else in the request could be.
                if let (Some(max), "get", false) = (s["maximum"].as_i64(), method.as_str(), path.contains('{')) {
                    let url = format!("{path}?{}={}", p["name"].as_str().unwrap(), max + 1);
                    let r = t.call("GET", &url, Some(&token), None, None).await;
                    assert!(r.status.is_client_error(), "GET {url} is accepted: {}", r.status);
                }
            }
            for p in params.iter().filter(|p| p["in"] == "path") {
                let schema = &p["schema"];
                let name = p["name"].as_str().unwrap();
                if schema["type"] != "integer" {
                    url = url.replace(&format!("{{{name}}}"), "x");
                    continue;
                }
                let largest = match (&schema["maximum"], schema["format"].as_str()) {
                    (serde_json::Value::Number(n), _) => n.to_string(),
                    (_, Some("int64")) => i64::MAX.to_string(),
                    (_, Some("int32")) => i32::MAX.to_string(),
                    (_, format) => panic!("{method} {path}: the integer {name} has no bound (format {format:?})"),
                };
                url = url.replace(&format!("{{{name}}}"), &largest);
                integers += 1;
            }
            if integers == 0 {
                continue;
            }
            let r = t.call(&method.to_uppercase(), &url, Some(&token), None, None).await;
            let problem = if r.status.is_success() { serde_json::Value::Null } else { r.json()["type"].clone() };
            assert_ne!(problem, "/problems/bad-path", "{method} {url}: {}", r.text());
            assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {url}: {}", r.text());
            checked += 1;
        }
    }
    assert!(checked >= 19, "only {checked} operations have integers in their paths");
    // Integers in request bodies state the bounds the core's rules apply.
    let field = |schema: &str, name: &str| doc["components"]["schemas"][schema]["properties"][name].clone();
    let cap = cuakhau_core::refdata::LANE_CAPACITY_MAX as u64;
    assert_eq!(field("LanePatch", "capacity_per_hour")["maximum"], cap);
    assert_eq!(field("NewLane", "capacity_per_hour")["maximum"], cap);
    assert_eq!(
        (field("ConsignmentIn", "packages")["minimum"].clone(), field("ConsignmentIn", "packages")["maximum"].clone()),
        (json!(1), json!(100000))
    );
    assert_eq!(
        (field("ConsignmentIn", "shelf_life_h")["minimum"].clone(), field("ConsignmentIn", "shelf_life_h")["maximum"].clone()),
        (json!(1), json!(8760))
    );
}

#[tokio::test]
async fn a_request_stuck_on_a_locked_database_times_out_and_changes_nothing() {
    let t = spawn_with(cuakhau_server::Config {
        request_timeout: std::time::Duration::from_millis(300),
        secure_cookies: false,
        ..Default::default()
    })
    .await;
    let token = t.login("admin").await;
    let before = t.snapshot().await;
    // Another writer holds SQLite's write lock for longer than the request may take.
    let mut blocker = t.sqlite.as_ref().unwrap().pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *blocker).await.unwrap();
    let r = t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&token), Some("zh"), Some(json!({"capacity_per_hour": 30}))).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(r.json()["title"], "请求超时");
    sqlx::query("ROLLBACK").execute(&mut *blocker).await.unwrap();
    drop(blocker);
    assert!(t.snapshot().await == before, "the timed-out write must not land");
}

#[tokio::test]
async fn an_import_over_http_is_all_or_nothing_and_localised() {
    let t = spawn().await;
    let admin = t.login("admin").await;
    let before = t.snapshot().await;
    let csv = cuakhau_data::BUNDLED_LANES.replacen(",17,", ",many,", 2);
    let post = |body: String, lang: &'static str, ct: &'static str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/reference/lanes")
            .header("authorization", format!("Bearer {admin}"))
            .header("accept-language", lang)
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    let r = t.send(post(csv.clone(), "zh", "text/csv")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["detail"], "第 2 行：lanes.capacity_per_hour：必须是数字。未写入任何数据。");
    let r = t.send(post(csv, "vi", "text/csv")).await;
    assert!(r.json()["detail"].as_str().unwrap().starts_with("Dòng 2:"));
    assert!(t.snapshot().await == before);
    let r = t.send(post(cuakhau_data::BUNDLED_LANES.into(), "en", "text/csv")).await;
    assert_eq!(r.json(), json!({"rows": 17, "inserted": 0, "updated": 0, "unchanged": 17}));
    let orphan = format!("{}x-1,nowhere,VN,export,general,X,3,true,test\n", cuakhau_data::BUNDLED_LANES);
    assert_eq!(t.send(post(orphan, "en", "text/csv")).await.status, StatusCode::CONFLICT);
    assert_eq!(t.send(post("{}".into(), "en", "text/plain")).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(t.snapshot().await == before);
}

#[tokio::test]
async fn a_planner_runs_a_simulation_in_the_background() {
    let t = spawn().await;
    let token = t.login("vn-board-hn").await;
    let r = t.send_body("POST", "/api/v1/simulations", Some(&token), "application/toml", TINY_SCENARIO).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let url = r.headers["location"].to_str().unwrap().to_string();
    let mut done = serde_json::Value::Null;
    for _ in 0..200 {
        let s = t.call("GET", &url, Some(&token), None, None).await.json();
        if s["status"] != "running" {
            done = s;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["progress"], 1.0);
    let variants = done["summary"]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert!(variants[0]["served"].as_f64().unwrap() > 100.0);
    assert!(
        variants[1]["wait_h"]["mean"].as_f64().unwrap() < variants[0]["wait_h"]["mean"].as_f64().unwrap(),
        "a third lane shortens the wait"
    );
    let plot = t.call("GET", done["plots"][0].as_str().unwrap(), Some(&token), None, None).await;
    assert_eq!(plot.headers["content-type"], "image/svg+xml");
    assert!(plot.text().starts_with("<svg"));
    assert_eq!(t.call("GET", "/api/v1/simulations/999", Some(&token), None, None).await.status, StatusCode::NOT_FOUND);
    let bad = t
        .send_body(
            "POST",
            "/api/v1/simulations",
            Some(&token),
            "application/toml",
            &TINY_SCENARIO.replace("horizon_days = 3", "horizon_days = 3000"),
        )
        .await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("scenario")));
    let bad = t
        .send_body(
            "POST",
            "/api/v1/simulations",
            Some(&token),
            "application/toml",
            &TINY_SCENARIO.replace("count = 2", "count = 2, colour = 1"),
        )
        .await;
    assert!(bad.json()["detail"].as_str().unwrap().contains("colour"), "{}", bad.text());
}

fn declaration(hs: &str, shelf: Option<u32>, cert: &str, pair: &str, plate: &str) -> serde_json::Value {
    json!({
        "gate_pair": pair, "direction": "export", "plate": plate, "plate_country": "VN", "vehicle_kind": "refrigerated",
        "driver": {"name": "Nguyễn Văn Tài", "nationality": "VN", "document_no": "B1234567"},
        "consignments": [{"hs_code": hs, "description_vi": "Hàng", "packages": 100, "gross_kg": 20000.0, "value": 50000.0,
                          "currency": "USD", "origin": "VN", "shelf_life_h": shelf, "certificate": cert}]
    })
}

#[tokio::test]
async fn a_declaration_names_every_bad_field_at_once_by_its_label_and_row_and_writes_nothing() {
    let t = spawn().await;
    let firm = t.login("enterprise").await;
    let mut body = declaration("08", Some(96), "", "huu-nghi", "12C-123.45");
    body["driver"]["document_no"] = json!("B1");
    body["consignments"][0]["packages"] = json!(0);
    body["consignments"].as_array_mut().unwrap().push(json!({"hs_code": "85171300", "description_vi": "Điện thoại", "packages": 1,
        "gross_kg": 10.0, "value": 1.0, "currency": "US", "origin": "VN"}));
    let before = t.snapshot().await;
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), Some("vi"), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let p = r.json();
    let got: Vec<(&str, &str)> =
        p["errors"].as_array().unwrap().iter().map(|e| (e["field"].as_str().unwrap(), e["path"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            ("Số giấy tờ", "driver.document_no"),
            ("Mã HS (dòng 1)", "consignments[0].hs_code"),
            ("Số kiện (dòng 1)", "consignments[0].packages"),
            ("Tiền tệ (dòng 2)", "consignments[1].currency"),
        ]
    );
    assert_eq!(p["errors"][1]["message"], "Trường «Mã HS (dòng 1)»: từ 6 đến 10 chữ số");
    assert_eq!(p["field"], "driver.document_no", "the first, by its path");
    let zh = t.call("POST", "/api/v1/declarations", Some(&firm), Some("zh"), Some(body)).await.json();
    assert_eq!(zh["errors"][3]["field"], "币种（第 2 行）");
    assert!(t.snapshot().await == before, "nothing was written");
}

#[tokio::test]
async fn a_value_of_the_wrong_shape_is_named_by_the_requests_own_field_in_the_callers_language() {
    let t = spawn().await;
    let firm = t.login("enterprise").await;
    // Query strings: 400, the parameter by its name.
    let r = t.call("GET", "/api/v1/declarations?limit=many", Some(&firm), Some("vi"), None).await;
    assert_eq!((r.status, r.json()["type"].as_str()), (StatusCode::BAD_REQUEST, Some("/problems/invalid-field")));
    assert_eq!((r.json()["field"].as_str(), r.json()["detail"].as_str()), (Some("limit"), Some("Trường «limit»: phải là một số nguyên")));
    let r = t.call("GET", "/api/v1/lanes?colour=red", None, Some("zh"), None).await;
    assert_eq!((r.status, r.json()["type"].as_str()), (StatusCode::BAD_REQUEST, Some("/problems/unknown-field")));
    assert_eq!(r.json()["detail"], "不接受字段“colour”。");
    let r = t.call("GET", "/api/v1/lanes?gate_pair=Not%20A%20Pair", None, Some("en"), None).await;
    assert_eq!(r.json()["field"], "gate_pair", "the request's name, not the core's gate_pair_id: {}", r.text());
    let r = t.call("GET", "/api/v1/gate-pairs/Not%20A%20Pair/queue?direction=export", None, Some("vi"), None).await;
    assert_eq!((r.status, r.json()["detail"].as_str()), (StatusCode::NOT_FOUND, Some("Không có cặp cửa khẩu Not A Pair.")));
    // Bodies: 422, the field by its path, and by its label in `errors`.
    let mut body = declaration("85171300", None, "", "huu-nghi", "12C-123.45");
    body["consignments"][0]["packages"] = json!("many");
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), Some("zh"), Some(body.clone())).await;
    assert_eq!((r.status, r.json()["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/invalid-field")));
    assert_eq!(
        (r.json()["field"].as_str(), r.json()["detail"].as_str()),
        (Some("consignments[0].packages"), Some("字段“consignments[0].packages”：必须是整数"))
    );
    assert_eq!(r.json()["errors"][0]["field"], "件数（第 1 行）");
    body.as_object_mut().unwrap().remove("plate");
    body["consignments"][0]["packages"] = json!(1);
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), Some("en"), Some(body)).await;
    assert_eq!((r.json()["field"].as_str(), r.json()["detail"].as_str()), (Some("plate"), Some("Field 'plate': is required")));
    assert_eq!(r.json()["errors"][0]["message"], "Field 'Plate': is required");
}

#[tokio::test]
async fn an_enterprise_declares_customs_accepts_and_the_enterprise_books_a_slot() {
    let t = spawn().await;
    let firm = t.login("enterprise").await;
    let r = t
        .call("POST", "/api/v1/declarations", Some(&firm), Some("vi"), Some(declaration("08", Some(96), "C-1", "huu-nghi", "12C-123.45")))
        .await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("consignments[0].hs_code")), "{}", r.text());
    let r = t
        .call("POST", "/api/v1/declarations", Some(&firm), None, Some(declaration("08106000", Some(96), "", "huu-nghi", "12C-123.45")))
        .await;
    assert_eq!(r.json()["field"], "consignments[0].certificate", "fruit needs a phytosanitary certificate");
    let r = t
        .call(
            "POST",
            "/api/v1/declarations",
            Some(&firm),
            None,
            Some(declaration("08106000", Some(96), "VN-PC-1", "huu-nghi", "12C-123.45")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["state"], "draft");
    let path = |p: &str| format!("/api/v1/declarations/{id}{p}");
    let vn_customs = t.login("vn-customs").await;
    assert_eq!(
        t.call("POST", &path("/accept"), Some(&vn_customs), None, None).await.status,
        StatusCode::CONFLICT,
        "a draft cannot be accepted"
    );
    assert_eq!(t.call("POST", &path("/submit"), Some(&firm), None, None).await.json()["state"], "submitted");
    let cn_customs = t.login("cn-customs").await;
    assert_eq!(
        t.call("POST", &path("/accept"), Some(&cn_customs), None, None).await.status,
        StatusCode::FORBIDDEN,
        "an export's exit side is Vietnam"
    );
    let acc = t.call("POST", &path("/accept"), Some(&vn_customs), None, None).await.json();
    assert_eq!((acc["state"].as_str(), acc["valid_until"].as_str()), (Some("accepted"), Some("2026-11-26T03:00:00Z")), "valid 72 h");
    // The calendar: Hữu Nghị's export capacity is its 6 Chinese entry lanes at 13 trucks/h, 30 % held for perishables.
    let cal = t.get("/api/v1/gate-pairs/huu-nghi/slots?direction=export&from=2026-11-23T10:00:00%2B07:00&hours=3").await.json();
    assert_eq!(cal[0]["hour_vn"], "2026-11-23T10:00:00+07:00");
    assert_eq!(cal[0]["hour_cn"], "2026-11-23T11:00:00+08:00");
    assert_eq!((cal[0]["capacity"]["general"].as_u64(), cal[0]["capacity"]["reserved"].as_u64()), (Some(54), Some(24)));
    let b = t.call("POST", &path("/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-23T10:30:00+07:00"}))).await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text());
    assert_eq!((b.json()["bucket"].as_str(), b.json()["hour"].as_str()), (Some("reserved"), Some("2026-11-23T03:00:00Z")));
    assert_eq!(
        t.call("POST", &path("/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-23T10:30:00+07:00"}))).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        t.get("/api/v1/gate-pairs/huu-nghi/slots?direction=export&from=2026-11-23T10:00:00%2B07:00&hours=1").await.json()[0]["booked"]["reserved"],
        1
    );
    // Nobody else's declaration is visible to another enterprise; officers see it.
    assert_eq!(t.call("GET", &path(""), Some(&t.login("driver").await), None, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.call("GET", &path("/booking"), Some(&vn_customs), None, None).await.json()["declaration_id"], id);
    assert_eq!(t.call("GET", "/api/v1/declarations", Some(&firm), None, None).await.json().as_array().unwrap().len(), 1);
    // Cancelling the booking frees the slot; cancelling the declaration is the declarant's.
    assert_eq!(t.call("DELETE", &path("/booking"), Some(&firm), None, None).await.json()["status"], "cancelled");
    assert_eq!(t.call("POST", &path("/cancel"), Some(&vn_customs), None, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.call("POST", &path("/cancel"), Some(&firm), None, None).await.json()["state"], "cancelled");
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&t.login("admin").await), None, None).await.json();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| !["session.", "user.", "reference."].iter().any(|p| a.starts_with(p)))
        .collect();
    assert_eq!(
        actions,
        ["declaration.create", "declaration.submit", "declaration.accept", "slot.book", "slot.cancel", "declaration.cancel"]
    );
}

#[tokio::test]
async fn a_full_slot_is_refused_with_the_next_free_hours() {
    let t = spawn().await;
    let board = t.login("vn-board-all").await;
    // Kim Thành's outbound lanes shrink to one lane of 2 trucks/h: 1 general + 1 held for perishables.
    t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&board), None, Some(json!({"capacity_per_hour": 2}))).await;
    t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-2", Some(&board), None, Some(json!({"active": false}))).await;
    let firm = t.login("enterprise").await;
    let customs = t.login("vn-customs").await;
    let mut ids = vec![];
    for plate in ["24C-111.11", "24C-222.22"] {
        let id = t
            .call("POST", "/api/v1/declarations", Some(&firm), None, Some(declaration("85171300", None, "", "kim-thanh", plate)))
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        t.call("POST", &format!("/api/v1/declarations/{id}/submit"), Some(&firm), None, None).await;
        t.call("POST", &format!("/api/v1/declarations/{id}/accept"), Some(&customs), None, None).await;
        ids.push(id);
    }
    let hour = json!({"hour": "2026-11-23T11:00:00+07:00"});
    assert_eq!(
        t.call("POST", &format!("/api/v1/declarations/{}/booking", ids[0]), Some(&firm), None, Some(hour.clone())).await.status,
        StatusCode::CREATED
    );
    let full = t.call("POST", &format!("/api/v1/declarations/{}/booking", ids[1]), Some(&firm), Some("zh"), Some(hour)).await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(full.headers["x-alternatives"].to_str().unwrap().split(',').next(), Some("2026-11-23T05:00:00Z"), "the next hour has room");
    assert_eq!(
        full.json()["detail"].as_str().unwrap(),
        "冲突：该时段已满；接下来的空余时段：2026-11-23 12:00, 2026-11-23 13:00, 2026-11-23 14:00, 2026-11-23 15:00, 2026-11-23 16:00 (UTC+7)",
        "in Chinese, with the next free hours in Vietnam's time (the exit side's)"
    );
    // The lane is given room for two more trucks an hour: the hour booked under the old capacity
    // shows it, and the truck refused a moment ago gets in.
    let hour_11 = "/api/v1/gate-pairs/kim-thanh/slots?direction=export&from=2026-11-23T11:00:00%2B07:00&hours=1";
    t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&board), None, Some(json!({"capacity_per_hour": 4}))).await;
    let cal = t.get(hour_11).await.json();
    let total = |what: &str| cal[0][what].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!((total("capacity"), total("booked"), cal[0]["free"].as_u64()), (4, 1, Some(3)), "{cal}");
    let hour = json!({"hour": "2026-11-23T11:00:00+07:00"});
    let r = t.call("POST", &format!("/api/v1/declarations/{}/booking", ids[1]), Some(&firm), None, Some(hour)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(t.get(hour_11).await.json()[0]["free"].as_u64(), Some(2));
    // Back to two an hour: both general bookings stay over the general share of one, and only
    // the share held for perishables is free.
    t.call("PATCH", "/api/v1/lanes/kim-thanh-vn-export-1", Some(&board), None, Some(json!({"capacity_per_hour": 2}))).await;
    let cal = t.get(hour_11).await.json();
    let general = (cal[0]["capacity"]["general"].as_u64(), cal[0]["booked"]["general"].as_u64());
    assert_eq!((general, cal[0]["free"].as_u64()), ((Some(1), Some(2)), Some(1)), "{cal}");
    // What each kind of truck can still book there: only a perishable one.
    assert_eq!(cal[0]["free_by_cargo"], json!({"general": 0, "perishable": 1, "agv": 0}));
}

#[tokio::test]
async fn a_suspension_closes_its_hours_and_bookings_move_past_it() {
    let t = spawn().await;
    let cn_board = t.login("cn-board-hn").await;
    let body = json!({"side": "CN", "from": "2026-11-23T11:00:00+08:00", "until": "2026-11-23T13:00:00+08:00", "reason": "nghi lễ / 仪式"});
    assert_eq!(
        t.call("POST", "/api/v1/gate-pairs/huu-nghi/suspensions", Some(&t.login("vn-board-hn").await), None, Some(body.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "the Vietnamese board cannot close the Chinese side"
    );
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/suspensions", Some(&cn_board), None, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["from_local"], "2026-11-23T11:00:00+08:00");
    let bad = t
        .call(
            "POST",
            "/api/v1/gate-pairs/huu-nghi/suspensions",
            Some(&cn_board),
            Some("vi"),
            Some(json!({"side": "CN", "from": "2026-11-23T13:00:00+08:00", "until": "2026-11-23T11:00:00+08:00", "reason": "x"})),
        )
        .await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("until")));
    assert_eq!(t.get("/api/v1/gate-pairs/huu-nghi/suspensions").await.json().as_array().unwrap().len(), 1);
    // 11:00–13:00 Beijing is 10:00–12:00 Hà Nội: those two hours have no capacity; 12:00 Hà Nội has.
    let cal = t.get("/api/v1/gate-pairs/huu-nghi/slots?direction=export&from=2026-11-23T10:00:00%2B07:00&hours=3").await.json();
    let free: Vec<u64> = cal.as_array().unwrap().iter().map(|h| h["free"].as_u64().unwrap()).collect();
    assert_eq!(free, [0, 0, 78]);
    let firm = t.login("enterprise").await;
    let id = t
        .call("POST", "/api/v1/declarations", Some(&firm), None, Some(declaration("85171300", None, "", "huu-nghi", "12C-999.99")))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    t.call("POST", &format!("/api/v1/declarations/{id}/submit"), Some(&firm), None, None).await;
    t.call("POST", &format!("/api/v1/declarations/{id}/accept"), Some(&t.login("vn-customs").await), None, None).await;
    let full = t
        .call("POST", &format!("/api/v1/declarations/{id}/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-23T10:00:00+07:00"})))
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(
        full.headers["x-alternatives"].to_str().unwrap().split(',').next(),
        Some("2026-11-23T05:00:00Z"),
        "12:00 Hà Nội, after the suspension"
    );
}

/// Accounts: an administrator changes roles and disables an account; its sessions end at once,
/// it cannot sign in, and enabling it again
/// restores sign-in. Changing one's own password needs the current one.
#[tokio::test]
async fn accounts_are_disabled_re_enabled_and_re_roled_with_sessions_ending_at_once() {
    let t = spawn().await;
    let admin = t.login("admin").await;
    let guard = t.login("vn-guard").await;
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&guard), None, None).await.status, StatusCode::OK);
    let r = t.call("PATCH", "/api/v1/users/vn-guard", Some(&admin), None, Some(json!({"disabled": true}))).await;
    assert_eq!((r.status, r.json()["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.text());
    assert_eq!(t.call("GET", "/api/v1/auth/me", Some(&guard), None, None).await.status, StatusCode::UNAUTHORIZED, "the session ended");
    let again = t.call("POST", "/api/v1/auth/login", None, None, Some(json!({"username": "vn-guard", "password": PASSWORD}))).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "a disabled account cannot sign in");
    t.call("PATCH", "/api/v1/users/vn-guard", Some(&admin), None, Some(json!({"disabled": false, "roles": ["officer:VN:border-guard:*"]})))
        .await;
    let guard = t.login("vn-guard").await;
    let me = t.call("GET", "/api/v1/auth/me", Some(&guard), None, None).await.json();
    assert_eq!((me["roles"][0].as_str(), me["disabled"].as_bool()), (Some("officer:VN:border-guard:*"), Some(false)));
    let r = t.call("PATCH", "/api/v1/users/admin", Some(&admin), Some("vi"), Some(json!({"disabled": true}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no self lock-out");
    let r = t.call("PATCH", "/api/v1/users/vn-guard", Some(&admin), None, Some(json!({"roles": ["king"]}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("roles")));
    // One's own password: the current one is required.
    let new = json!({"password": "another long password"});
    let r = t.call("PUT", "/api/v1/users/vn-guard/password", Some(&guard), Some("zh"), Some(new)).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password")), "{}", r.text());
    assert_eq!(r.json()["detail"], "字段“current_password”：当前密码不正确");
    let ok = json!({"password": "another long password", "current_password": PASSWORD});
    assert_eq!(t.call("PUT", "/api/v1/users/vn-guard/password", Some(&guard), None, Some(ok)).await.status, StatusCode::NO_CONTENT);
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&admin), None, None).await.json();
    assert_eq!(log.as_array().unwrap().iter().filter(|e| e["action"] == "user.update").count(), 2);
}

/// Every lane is answered with the number drivers and boards are told ("lane 2"): 1…n among the
/// lanes of its gate pair, side and direction, the same in a list and alone.
#[tokio::test]
async fn lanes_are_answered_with_their_number_among_their_side_and_direction() {
    let t = spawn().await;
    let lanes = t.call("GET", "/api/v1/gate-pairs/huu-nghi/lanes", None, None, None).await.json();
    let lanes = lanes.as_array().unwrap();
    assert!(!lanes.is_empty());
    let mut groups: std::collections::BTreeMap<(String, String), Vec<u64>> = Default::default();
    for l in lanes {
        groups.entry((l["side"].to_string(), l["direction"].to_string())).or_default().push(l["number"].as_u64().unwrap());
        let alone = t.call("GET", &format!("/api/v1/lanes/{}", l["id"].as_str().unwrap()), None, None, None).await.json();
        assert_eq!(alone["number"], l["number"], "{}", l["id"]);
    }
    for (group, mut numbers) in groups {
        numbers.sort();
        assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>(), "{group:?}");
    }
}

/// Every field whose value the core parses under another name (`gate_pair_id`, `province_id`,
/// `lane_id`, a gate file's `hours_source`) is named in the problem exactly as the request names
/// it, in every language: one bad value per such field, in query strings, JSON bodies and CSV
/// imports (whose columns are the file's own). Nothing is written.
async fn a_bad_value_is_named_by_the_requests_own_field_in_every_language(engine: Engine) {
    let t = spawn_on(engine).await;
    let (admin, firm) = (t.login("admin").await, t.login("enterprise").await);
    let before = t.snapshot().await;
    let lane = |id: &str| json!({"id": id, "side": "VN", "direction": "export", "class": "general", "name": "L", "capacity_per_hour": 10, "basis": "b"});
    let user = json!({"username": "new-officer", "display_name": "N", "password": PASSWORD, "roles": ["officer:VN:gate-board:Not A Pair"]});
    let hours = json!({"opens": "07:00", "closes": "19:00", "source": "s".repeat(2001)});
    // (method, path, who, body, the request's name for the bad field)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<serde_json::Value>, &'a str);
    let cases: [Case; 9] = [
        ("GET", "/api/v1/lanes?gate_pair=Not%20A%20Pair", None, None, "gate_pair"),
        ("GET", "/api/v1/gate-pairs?province=Not%20A%20Province", None, None, "province"),
        ("GET", "/api/v1/gates?province=Not%20A%20Province", None, None, "province"),
        ("GET", "/api/v1/declarations?gate_pair=Not%20A%20Pair", Some(&firm), None, "gate_pair"),
        ("GET", "/api/v1/reports/dwell?gate_pair=Not%20A%20Pair", Some(&admin), None, "gate_pair"),
        ("POST", "/api/v1/declarations", Some(&firm), Some(declaration("85171300", None, "", "Not A Pair", "12C-123.45")), "gate_pair"),
        ("POST", "/api/v1/gate-pairs/huu-nghi/lanes", Some(&admin), Some(lane("Not A Lane")), "id"),
        ("PUT", "/api/v1/gates/huu-nghi/VN/hours", Some(&admin), Some(hours), "source"),
        ("POST", "/api/v1/users", Some(&admin), Some(user), "roles"),
    ];
    let quoted = |lang: &str, field: &str| match lang {
        "vi" => format!("Trường «{field}»: "),
        "zh" => format!("字段“{field}”："),
        _ => format!("Field '{field}': "),
    };
    let internal = ["gate_pair_id", "province_id", "lane_id", "hours_source"];
    for (method, uri, token, body, field) in cases {
        for lang in ["vi", "zh", "en"] {
            let r = t.call(method, uri, token, Some(lang), body.clone()).await;
            let p = r.json();
            let what = format!("{method} {uri} in {lang}: {}", r.text());
            assert_eq!((r.status, p["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/invalid-field")), "{what}");
            assert_eq!((p["field"].as_str(), p["errors"][0]["path"].as_str()), (Some(field), Some(field)), "{what}");
            assert_eq!(
                (p["lang"].as_str(), r.headers["content-type"].to_str().unwrap()),
                (Some(lang), "application/problem+json"),
                "{what}"
            );
            assert!(p["detail"].as_str().unwrap().starts_with(&quoted(lang, field)), "{what}");
            assert!(internal.iter().all(|n| !r.text().contains(n)), "no internal name: {what}");
        }
    }
    // A file's rows are named by the file's own columns (`lanes.id`, `gate_pairs.id`, `provinces.id`).
    let lanes = cuakhau_data::BUNDLED_LANES.lines().next().expect("the lanes file's header");
    let imports = [
        ("lanes", format!("{lanes}\nNot A Lane,huu-nghi,VN,export,general,L,10,true,b\n"), "lanes.id"),
        ("lanes", format!("{lanes}\nhn-x-1,Not A Pair,VN,export,general,L,10,true,b\n"), "lanes.gate_pair"),
        ("provinces", "id,country,name_vi,name_zh,name_en,former_names,source\nNot A Province,VN,A,B,C,,s\n".to_string(), "provinces.id"),
    ];
    for (table, csv, column) in imports {
        for lang in ["vi", "zh", "en"] {
            let req = Request::post(format!("/api/v1/reference/{table}"))
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "text/csv")
                .header("accept-language", lang)
                .body(Body::from(csv.clone()))
                .unwrap();
            let r = t.send(req).await;
            let what = format!("{table} in {lang}: {}", r.text());
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
            let sep = if lang == "zh" { "：" } else { ": " };
            assert!(r.json()["detail"].as_str().unwrap().contains(&format!("{column}{sep}")), "{what}");
            assert!(internal.iter().all(|n| !r.text().contains(n)), "no internal name: {what}");
        }
    }
    assert!(t.snapshot().await == before, "nothing was written");
    t.cleanup().await;
}

#[tokio::test]
async fn a_bad_value_is_named_by_the_requests_own_field_in_every_language_on_sqlite() {
    a_bad_value_is_named_by_the_requests_own_field_in_every_language(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_bad_value_is_named_by_the_requests_own_field_in_every_language_on_postgres() {
    a_bad_value_is_named_by_the_requests_own_field_in_every_language(Engine::Postgres).await;
}
