//! The role matrix: every endpoint, every role, the exact status each gets.
//!
//! When an endpoint is added, add its row here; a row lists who may do it, and everybody else
//! must be refused (401 when not signed in, 403 when signed in without the role). The operations
//! are read from the OpenAPI document the server serves: one without a row fails the test.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

struct Row {
    method: &'static str,
    path: &'static str,
    body: fn(&str) -> Option<Value>,
    /// `None`: public, everyone including the anonymous caller succeeds.
    allowed: Option<&'static [&'static str]>,
    success: StatusCode,
}

/// An event stream never ends: its status is read and the body left alone.
const STREAMS: &[&str] = &["/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export"];

/// A consignment any declaration may carry.
fn consignment() -> Value {
    json!({"hs_code": "85171300", "description_vi": "Điện thoại", "packages": 1, "gross_kg": 10.0, "value": 1.0, "currency": "USD", "origin": "VN"})
}

const BOARDS: &[&str] = &["admin", "vn-board-hn", "cn-board-hn", "vn-board-all"];
/// Admins and every officer.
const STAFF: &[&str] = &[
    "admin",
    "vn-board-hn",
    "cn-board-hn",
    "vn-board-all",
    "vn-customs",
    "cn-customs",
    "vn-guard",
    "vn-quarantine",
    "cn-guard",
    "vn-labour",
];

/// The bundled pairings as a JSON array of rows, as the import endpoint takes them.
fn pairings_json() -> String {
    let rows = cuakhau_data::parse_csv(cuakhau_data::Table::Pairings, cuakhau_data::BUNDLED_PAIRINGS.as_bytes(), &mut |_| {}).unwrap();
    let mut buf = Vec::new();
    cuakhau_data::write_json(cuakhau_data::Table::Pairings, &rows.into_reference(), &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn rows() -> Vec<Row> {
    let none: fn(&str) -> Option<Value> = |_| None;
    vec![
        Row { method: "GET", path: "/api/v1/gate-pairs", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/gate-pairs/huu-nghi", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/gate-pairs/huu-nghi/lanes", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/gates", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/gates/huu-nghi/VN", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/provinces", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/provinces/lang-son", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/pairings", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/lanes", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/lanes/kim-thanh-vn-export-1", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/openapi.json", body: none, allowed: None, success: StatusCode::OK },
        Row {
            method: "PATCH",
            path: "/api/v1/lanes/huu-nghi-cn-entry-1",
            body: |_| Some(json!({"capacity_per_hour": 14})),
            allowed: Some(&["admin", "cn-board-hn"]),
            success: StatusCode::OK,
        },
        Row {
            method: "PATCH",
            path: "/api/v1/lanes/kim-thanh-vn-export-1",
            body: |_| Some(json!({"active": true})),
            allowed: Some(&["admin", "vn-board-all"]),
            success: StatusCode::OK,
        },
        Row {
            method: "PUT",
            path: "/api/v1/gates/huu-nghi/VN/hours",
            body: |_| Some(json!({"opens": "07:00", "closes": "21:00", "source": "test"})),
            allowed: Some(&["admin", "vn-board-hn", "vn-board-all"]),
            success: StatusCode::OK,
        },
        Row {
            method: "PUT",
            path: "/api/v1/gates/huu-nghi/CN/hours",
            body: |_| Some(json!({"opens": "08:00", "closes": "22:00", "source": "test"})),
            allowed: Some(&["admin", "cn-board-hn"]),
            success: StatusCode::OK,
        },
        Row {
            method: "POST",
            path: "/api/v1/gate-pairs/huu-nghi/lanes",
            body: |who| {
                Some(
                    json!({"id": format!("hn-cn-test-{who}"), "side": "CN", "direction": "export", "class": "agv", "name": "AGV", "capacity_per_hour": 4, "basis": "test"}),
                )
            },
            allowed: Some(&["admin", "cn-board-hn"]),
            success: StatusCode::CREATED,
        },
        Row {
            method: "POST",
            path: "/api/v1/reference/pairings",
            body: |_| Some(serde_json::from_str(&pairings_json()).unwrap()),
            allowed: Some(&["admin"]),
            success: StatusCode::OK,
        },
        Row {
            method: "POST",
            path: "/api/v1/simulations",
            body: |_| Some(Value::String(TINY_SCENARIO.into())),
            allowed: Some(STAFF),
            success: StatusCode::ACCEPTED,
        },
        Row {
            method: "POST",
            path: "/api/v1/declarations",
            body: |who| {
                Some(
                    json!({"gate_pair": "huu-nghi", "direction": "export", "plate": format!("12C-{:03}.11", who.len()), "plate_country": "VN",
                    "vehicle_kind": "truck", "driver": {"name": "Tài", "nationality": "VN", "document_no": "B1234567"},
                    "consignments": [{"hs_code": "85171300", "description_vi": "Điện thoại", "packages": 1, "gross_kg": 10.0, "value": 1.0, "currency": "USD", "origin": "VN"}]}),
                )
            },
            allowed: Some(&["enterprise"]),
            success: StatusCode::CREATED,
        },
        Row { method: "GET", path: "/api/v1/declarations", body: none, allowed: Some(&["*"]), success: StatusCode::OK },
        Row {
            method: "GET",
            path: "/api/v1/gate-pairs/huu-nghi/slots?direction=export",
            body: none,
            allowed: None,
            success: StatusCode::OK,
        },
        Row {
            method: "POST",
            path: "/api/v1/gate-pairs/huu-nghi/suspensions",
            body: |_| {
                Some(json!({"side": "VN", "from": "2026-12-01T00:00:00+07:00", "until": "2026-12-01T02:00:00+07:00", "reason": "test"}))
            },
            allowed: Some(&["admin", "vn-board-hn", "vn-board-all"]),
            success: StatusCode::CREATED,
        },
        Row { method: "GET", path: "/api/v1/gate-pairs/huu-nghi/suspensions", body: none, allowed: None, success: StatusCode::OK },
        Row {
            method: "GET",
            path: "/api/v1/gate-pairs/huu-nghi/queue?direction=export",
            body: none,
            allowed: None,
            success: StatusCode::OK,
        },
        Row {
            method: "POST",
            path: "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export",
            body: none,
            allowed: Some(&["admin", "vn-board-hn", "vn-board-all", "vn-guard"]),
            success: StatusCode::OK,
        },
        Row {
            method: "POST",
            path: "/api/v1/gate-pairs/huu-nghi/dispatch?direction=import",
            body: none,
            allowed: Some(&["admin", "cn-board-hn", "cn-guard"]),
            success: StatusCode::OK,
        },
        // No declaration waits for this plate: those who may ask learn so, the rest are refused.
        Row {
            method: "POST",
            path: "/api/v1/gate-pairs/huu-nghi/yard",
            body: |_| Some(json!({"plate": "99Z-999.99"})),
            allowed: Some(&["admin", "vn-board-hn", "cn-board-hn", "vn-board-all", "vn-guard", "cn-guard"]),
            success: StatusCode::NOT_FOUND,
        },
        Row { method: "GET", path: "/api/v1/worklist", body: none, allowed: Some(&["*"]), success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/reports/dwell?format=csv", body: none, allowed: Some(STAFF), success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/trips/999", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row { method: "POST", path: "/api/v1/trips/999/steps/0/start", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row {
            method: "POST",
            path: "/api/v1/trips/999/fee",
            body: |_| Some(json!({"amount": 1.0, "currency": "VND", "receipt": "R-1"})),
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row { method: "GET", path: "/api/v1/declarations/999/trip", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row { method: "GET", path: "/api/v1/track/999?code=0123456789abcdef", body: none, allowed: None, success: StatusCode::NOT_FOUND },
        Row { method: "GET", path: "/api/v1/auth/me", body: none, allowed: Some(&["*"]), success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/users", body: none, allowed: Some(&["admin"]), success: StatusCode::OK },
        Row {
            method: "POST",
            path: "/api/v1/users",
            body: |who| {
                Some(
                    json!({"username": format!("new-by-{who}"), "display_name": "N", "password": "long enough password", "roles": ["driver"]}),
                )
            },
            allowed: Some(&["admin"]),
            success: StatusCode::CREATED,
        },
        Row {
            method: "PUT",
            path: "/api/v1/users/driver/password",
            body: |_| Some(json!({"password": PASSWORD, "current_password": PASSWORD})),
            allowed: Some(&["admin", "driver"]),
            success: StatusCode::NO_CONTENT,
        },
        Row {
            method: "PATCH",
            path: "/api/v1/users/vn-labour",
            body: |_| Some(json!({"roles": ["officer:VN:labour:*"]})),
            allowed: Some(&["admin"]),
            success: StatusCode::OK,
        },
        Row { method: "GET", path: "/api/v1/audit", body: none, allowed: Some(BOARDS), success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/audit/verify", body: none, allowed: Some(BOARDS), success: StatusCode::OK },
        Row { method: "GET", path: "/healthz", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/metrics", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/scenarios", body: none, allowed: None, success: StatusCode::OK },
        Row { method: "GET", path: "/api/v1/simulations/999", body: none, allowed: Some(STAFF), success: StatusCode::NOT_FOUND },
        Row {
            method: "GET",
            path: "/api/v1/simulations/999/plots/queue",
            body: none,
            allowed: Some(STAFF),
            success: StatusCode::NOT_FOUND,
        },
        // Someone else's declaration does not exist for the caller: every signed-in role learns
        // only that (404); the public is asked to sign in.
        Row { method: "GET", path: "/api/v1/declarations/999", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row { method: "POST", path: "/api/v1/declarations/999/submit", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row {
            method: "POST",
            path: "/api/v1/declarations/999/amend",
            body: |_| Some(json!({"consignments": [consignment()]})),
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row { method: "POST", path: "/api/v1/declarations/999/cancel", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row { method: "POST", path: "/api/v1/declarations/999/accept", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row {
            method: "POST",
            path: "/api/v1/declarations/999/reject",
            body: |_| Some(json!({"reasons": ["test"]})),
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row {
            method: "POST",
            path: "/api/v1/declarations/999/booking",
            body: |_| Some(json!({"hour": "2026-11-23T12:00:00+07:00"})),
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row { method: "GET", path: "/api/v1/declarations/999/booking", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row {
            method: "DELETE",
            path: "/api/v1/declarations/999/booking",
            body: none,
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row { method: "POST", path: "/api/v1/declarations/999/queue", body: none, allowed: Some(&["*"]), success: StatusCode::NOT_FOUND },
        Row { method: "GET", path: STREAMS[0], body: none, allowed: None, success: StatusCode::OK },
        Row {
            method: "POST",
            path: "/api/v1/trips/999/steps/0/finish",
            body: |_| Some(json!({"outcome": "pass"})),
            allowed: Some(&["*"]),
            success: StatusCode::NOT_FOUND,
        },
        Row {
            method: "POST",
            path: "/api/v1/track/999/position?code=0123456789abcdef",
            body: |_| Some(json!({"lat": 21.97, "lon": 106.7})),
            allowed: None,
            success: StatusCode::NOT_FOUND,
        },
        // Anyone may sign in (the public as an existing user); a signed-in user signs out.
        Row {
            method: "POST",
            path: "/api/v1/auth/login",
            body: |who| Some(json!({"username": if who == "anonymous" { "admin" } else { who }, "password": PASSWORD})),
            allowed: None,
            success: StatusCode::OK,
        },
        Row { method: "POST", path: "/api/v1/auth/logout", body: none, allowed: Some(&["*"]), success: StatusCode::NO_CONTENT },
    ]
}

#[tokio::test]
async fn every_role_gets_exactly_what_it_should() {
    let t = spawn().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows() {
        for who in std::iter::once("anonymous").chain(USERS.iter().map(|(n, _)| *n)) {
            // Log in afresh each time: a password reset in an earlier row ends sessions.
            let token = if who == "anonymous" { None } else { Some(t.login(who).await) };
            let expected = match row.allowed {
                None => row.success,
                Some(_) if who == "anonymous" => StatusCode::UNAUTHORIZED,
                Some(list) if list.contains(&"*") || list.contains(&who) => row.success,
                Some(_) => StatusCode::FORBIDDEN,
            };
            let before = t.snapshot().await;
            let r = match (row.body)(who) {
                _ if STREAMS.contains(&row.path) => t.status_of(row.method, row.path, token.as_deref()).await,
                Some(Value::String(text)) => t.send_body(row.method, row.path, token.as_deref(), "application/toml", &text).await,
                body => t.call(row.method, row.path, token.as_deref(), None, body).await,
            };
            checked += 1;
            if r.status != expected {
                failures.push(format!("{} {} as {who}: got {}, want {expected}: {}", row.method, row.path, r.status, r.text()));
            }
            let refused = expected == StatusCode::UNAUTHORIZED || expected == StatusCode::FORBIDDEN;
            if refused {
                let after = t.snapshot().await;
                // A refusal writes nothing (the login that preceded it is audited before `before`).
                if after != before {
                    failures.push(format!("{} {} as {who}: refused but the database changed", row.method, row.path));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} cells wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, rows().len() * (USERS.len() + 1));
}

/// Whether a row's `METHOD /path?query` is the operation `METHOD /template/{param}`.
fn is_operation(row_method: &str, row_path: &str, method: &str, template: &str) -> bool {
    let path = row_path.split('?').next().unwrap_or_default();
    let (a, b): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), template.split('/').collect());
    row_method.eq_ignore_ascii_case(method)
        && a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| x == y || (y.starts_with('{') && y.ends_with('}') && !x.is_empty()))
}

/// Every (method, path template) of the OpenAPI document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// The operations that no row covers.
fn without_rows(ops: &[(String, String)], rows: &[Row]) -> Vec<String> {
    ops.iter().filter(|(m, p)| !rows.iter().any(|r| is_operation(r.method, r.path, m, p))).map(|(m, p)| format!("{m} {p}")).collect()
}

#[tokio::test]
async fn every_operation_of_the_openapi_document_has_a_role_matrix_row() {
    let t = spawn().await;
    let doc = t.get("/api/v1/openapi.json").await.json();
    let ops = operations(&doc);
    // The document is the router's own list (routes are registered once, with their entry):
    // it must hold every operation the server has, at least the 56 it had when this test came.
    assert!(ops.len() >= 56, "only {} operations in the document", ops.len());
    let rows = rows();
    let missing = without_rows(&ops, &rows);
    assert!(missing.is_empty(), "operations without a role-matrix row:\n{}", missing.join("\n"));
    // And no row tests an operation that does not exist (the document itself is served outside it).
    let stale: Vec<String> = rows
        .iter()
        .filter(|r| !r.path.ends_with("/openapi.json") && !ops.iter().any(|(m, p)| is_operation(r.method, r.path, m, p)))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(stale.is_empty(), "rows for operations the document does not have:\n{}", stale.join("\n"));
    // The check can fail: an operation nobody wrote a row for is named.
    let extra = [("DELETE".to_string(), "/api/v1/gate-pairs/{id}".to_string())];
    assert_eq!(without_rows(&extra, &rows), ["DELETE /api/v1/gate-pairs/{id}"]);
    assert!(!is_operation("GET", "/api/v1/trips/999/fee", "GET", "/api/v1/trips/{id}"));
}
