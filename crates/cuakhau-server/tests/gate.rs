//! The live gate end to end over HTTP, on both engines: declarations, yard and virtual queue,
//! dispatch, both sides' desks, the driver's view, fees, the dwell-time report, the queue
//! stream and the drivers' webhook.

mod common;

use axum::http::StatusCode;
use common::*;
use cuakhau_core::Timestamp;
use serde_json::{Value, json};

fn at(s: &str) -> Timestamp {
    cuakhau_core::time::parse_rfc3339(s).unwrap()
}

/// Files, submits and has the exit side's customs accept a declaration; returns its id.
async fn accepted(t: &TestApp, body: Value, customs: &str) -> i64 {
    let firm = t.login("enterprise").await;
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), None, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    t.call("POST", &format!("/api/v1/declarations/{id}/submit"), Some(&firm), None, None).await;
    let r = t.call("POST", &format!("/api/v1/declarations/{id}/accept"), Some(&t.login(customs).await), None, None).await;
    assert_eq!(r.json()["state"], "accepted", "{}", r.text());
    id
}

fn durian_export(plate: &str) -> Value {
    json!({
        "gate_pair": "huu-nghi", "direction": "export", "plate": plate, "plate_country": "VN", "vehicle_kind": "refrigerated",
        "driver": {"name": "Nguyễn Văn Tài", "nationality": "VN", "document_no": "B1234567"},
        "consignments": [{"hs_code": "08106000", "description_vi": "Sầu riêng tươi", "description_zh": "鲜榴莲", "packages": 1200,
                          "gross_kg": 18000.0, "value": 60000.0, "currency": "USD", "origin": "VN", "shelf_life_h": 96, "certificate": "PC-2026-0001"}]
    })
}

fn machinery_import(plate: &str) -> Value {
    json!({
        "gate_pair": "huu-nghi", "direction": "import", "plate": plate, "plate_country": "CN", "vehicle_kind": "tractor-trailer",
        "driver": {"name": "李伟", "nationality": "CN", "document_no": "E12345678"},
        "consignments": [{"hs_code": "84295200", "description_zh": "挖掘机", "packages": 1, "gross_kg": 21000.0, "value": 90000.0,
                          "currency": "USD", "origin": "CN"}]
    })
}

/// Vietnam's outbound lanes at Hữu Nghị are not in the sourced data: the gate board adds them.
async fn add_vn_export_lanes(t: &TestApp) {
    let board = t.login("vn-board-hn").await;
    for (id, class) in [("huu-nghi-vn-export-green", "perishable"), ("huu-nghi-vn-export-1", "general")] {
        let r = t
            .call(
                "POST",
                "/api/v1/gate-pairs/huu-nghi/lanes",
                Some(&board),
                None,
                Some(json!({"id": id, "side": "VN", "direction": "export", "class": class, "name": id, "capacity_per_hour": 12, "basis": "test"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
}

/// Walks every remaining step of a trip with the officer each step needs, `gap` seconds apart.
async fn clear(t: &TestApp, trip: i64, officers: &[&str], gap: i64) -> Value {
    let mut last = Value::Null;
    for (i, who) in officers.iter().enumerate() {
        let tok = t.login(who).await;
        let now = t.clock.0.lock().unwrap().plus_seconds(gap);
        t.set_now(now);
        let r = t.call("POST", &format!("/api/v1/trips/{trip}/steps/{i}/start"), Some(&tok), None, None).await;
        assert_eq!(r.status, StatusCode::OK, "step {i} start by {who}: {}", r.text());
        t.set_now(now.plus_seconds(gap));
        let r = t.call("POST", &format!("/api/v1/trips/{trip}/steps/{i}/finish"), Some(&tok), None, Some(json!({"outcome": "pass"}))).await;
        assert_eq!(r.status, StatusCode::OK, "step {i} finish by {who}: {}", r.text());
        last = r.json();
    }
    last
}

async fn perishable_export_and_general_import_cross(engine: Engine) {
    let t = spawn_on(engine).await;
    add_vn_export_lanes(&t).await;
    // 10:00 in Hà Nội, 11:00 in Beijing: both sides of Hữu Nghị are open.
    let exp = accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let imp = accepted(&t, machinery_import("桂A-12345"), "cn-customs").await;
    let firm = t.login("enterprise").await;
    let r = t
        .call("POST", &format!("/api/v1/declarations/{exp}/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-23T10:00:00+07:00"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // The importer's truck joins the virtual queue from the road and reports its position.
    let r = t.call("POST", &format!("/api/v1/declarations/{imp}/queue"), Some(&firm), None, None).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (StatusCode::CREATED, Some("virtual")), "{}", r.text());
    let code_of = async |id: i64| {
        t.call("GET", &format!("/api/v1/declarations/{id}"), Some(&firm), None, None).await.json()["track_code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (imp_code, exp_code) = (code_of(imp).await, code_of(exp).await);
    assert_eq!(imp_code.len(), 16);
    let track = t.get(&format!("/api/v1/track/{imp}?code={imp_code}")).await;
    assert_eq!((track.status, track.json()["position"].as_u64()), (StatusCode::OK, Some(1)), "{}", track.text());
    assert_eq!(
        t.get(&format!("/api/v1/track/{imp}?plate=%E6%A1%82A12345")).await.status,
        StatusCode::BAD_REQUEST,
        "a plate is no proof: the public board shows most of it"
    );

    // The camera reads the durian truck's plate at the yard.
    let guard = t.login("vn-guard").await;
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ex_trip = r.json();
    assert_eq!(
        (ex_trip["status"].as_str(), ex_trip["class"].as_str(), ex_trip["channel"].as_str()),
        (Some("yard"), Some("perishable"), Some("yellow"))
    );
    assert!(ex_trip["slot"]["vn"].as_str().unwrap().starts_with("2026-11-23T10:00:00+07:00"));
    let ex_id = ex_trip["id"].as_i64().unwrap();
    let again = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), Some("vi"), Some(json!({"plate": "12C-123.45"}))).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "already in the yard: no declaration waits for this plate");
    assert!(again.json()["detail"].as_str().unwrap().starts_with("Không có"), "{}", again.text());

    // The public board masks plates; an officer sees them.
    let board = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json();
    assert_eq!((board["yard"].as_u64(), board["congestion"].as_str()), (Some(1), Some("green")));
    // The board's coming hours show what the slot calendar offers, booked or not.
    let cal = t.get("/api/v1/gate-pairs/huu-nghi/slots?direction=export&hours=6").await.json();
    let sum = |m: &Value| m.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    let from_cal: Vec<(u64, u64)> = cal.as_array().unwrap().iter().map(|h| (sum(&h["capacity"]), sum(&h["booked"]))).collect();
    let from_board: Vec<(u64, u64)> = board["booked_ahead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["capacity"].as_u64().unwrap(), h["booked"].as_u64().unwrap()))
        .collect();
    assert_eq!(from_board, from_cal);
    assert!(from_board[1].0 > 0 && from_board[1].1 == 0, "an hour nobody booked still shows its capacity: {from_board:?}");
    assert_eq!(board["queue"][0]["plate"], "12C-•••.45");
    assert!(board["queue"][0]["trip_id"].is_null());
    let officer_view = t.call("GET", "/api/v1/gate-pairs/huu-nghi/queue?direction=export", Some(&guard), None, None).await.json();
    assert_eq!(officer_view["queue"][0]["plate"], "12C-123.45");

    // Dispatch: the durian truck goes to the green lane; the truck on the road is 5 minutes out.
    t.set_now(at("2026-11-23T10:05:00+07:00"));
    let vn_board = t.login("vn-board-hn").await;
    let d = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&vn_board), None, None).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert_eq!(d.json()["called"][0]["lane"], "huu-nghi-vn-export-green");
    let cn_board = t.login("cn-board-hn").await;
    let none = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=import", Some(&cn_board), None, None).await.json();
    assert_eq!(none["called"].as_array().unwrap().len(), 0, "no ETA yet: a truck on the road cannot answer a call");
    let eta = json!({"lat": 21.9, "lon": 106.7, "eta": "2026-11-23T10:10:00+07:00"});
    assert_eq!(t.get(&format!("/api/v1/track/{imp}?code={exp_code}")).await.status, StatusCode::NOT_FOUND, "another declaration's code");
    let r = t.call("POST", &format!("/api/v1/track/{imp}/position?code={}", imp_code.to_uppercase()), None, None, Some(eta.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let called = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=import", Some(&cn_board), None, None).await.json();
    assert_eq!(called["called"][0]["declaration_id"], imp);
    let im_id = called["called"][0]["id"].as_i64().unwrap();
    // A second report within seconds is refused, and the report is on record.
    let again = t.call("POST", &format!("/api/v1/track/{imp}/position?code={imp_code}"), None, None, Some(eta)).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{}", again.text());
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&t.login("admin").await), None, None).await.json();
    assert_eq!(log.as_array().unwrap().iter().filter(|e| e["action"] == "trip.position").count(), 1);
    let mine = t.get(&format!("/api/v1/track/{exp}?code={exp_code}")).await.json();
    assert_eq!((mine["your_turn"].as_bool(), mine["lane"].as_str()), (Some(true), Some("huu-nghi-vn-export-green")));

    // The Vietnamese customs desk sees the export truck; the Chinese one the import truck.
    let vn_customs = t.login("vn-customs").await;
    let wl = t.call("GET", "/api/v1/worklist", Some(&vn_customs), None, None).await.json();
    assert_eq!(wl.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![ex_id]);
    let cn_customs = t.login("cn-customs").await;
    let r = t.call("POST", &format!("/api/v1/trips/{ex_id}/steps/0/start"), Some(&cn_customs), Some("zh"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a Chinese customs officer cannot act on a Vietnamese step");
    assert_eq!(r.json()["detail"], "此步骤属于另一方或其他机构。");

    // Export: VN customs, border guard, quarantine; hand-over; CN customs, border inspection.
    let done = clear(&t, ex_id, &["vn-customs", "vn-guard", "vn-quarantine", "vn-guard", "cn-customs", "cn-guard"], 300).await;
    assert_eq!((done["status"].as_str(), done["current_step"].as_u64()), (Some("done"), None));
    // Import: CN customs, border inspection; hand-over; VN customs, border guard (no quarantine for machinery).
    let done = clear(&t, im_id, &["cn-customs", "cn-guard", "vn-guard", "vn-customs", "vn-guard"], 600).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["steps"].as_array().unwrap().len(), 5);

    // A crossed truck's declaration never changes: amend and cancel are refused, in the firm's language.
    let before = t.call("GET", &format!("/api/v1/declarations/{exp}"), Some(&firm), None, None).await.json();
    assert_eq!((before["trip_status"].as_str(), &before["actions"]), (Some("done"), &json!([])), "a page offers nothing to do");
    let amend = json!({"consignments": durian_export("x")["consignments"]});
    for (path, body, lang, words) in [
        ("amend", Some(amend.clone()), "vi", "Không thể sửa đổi tờ khai: xe đã qua cửa khẩu."),
        ("cancel", None, "zh", "车辆已通关，不能撤销申报单。"),
        ("cancel", None, "en", "The declaration cannot be cancelled while its truck is across the border."),
    ] {
        let r = t.call("POST", &format!("/api/v1/declarations/{exp}/{path}"), Some(&firm), Some(lang), body).await;
        assert_eq!((r.status, r.json()["detail"].as_str()), (StatusCode::CONFLICT, Some(words)), "{path} {lang}: {}", r.text());
        assert_eq!(r.json()["type"], "/problems/declaration-locked");
    }
    let after = t.call("GET", &format!("/api/v1/declarations/{exp}"), Some(&firm), None, None).await.json();
    assert_eq!(before, after, "nothing changed");
    assert_eq!((after["state"].as_str(), after["version"].as_u64()), (Some("accepted"), Some(1)));

    // The infrastructure fee, with its receipt.
    let fee = json!({"amount": 1_200_000.0, "currency": "VND", "receipt": "LS-HN-000123"});
    let r = t.call("POST", &format!("/api/v1/trips/{ex_id}/fee"), Some(&vn_board), None, Some(fee.clone())).await;
    assert_eq!((r.status, r.json()["fee"]["receipt"].as_str()), (StatusCode::OK, Some("LS-HN-000123")), "{}", r.text());
    assert_eq!(t.call("POST", &format!("/api/v1/trips/{im_id}/fee"), Some(&cn_board), None, Some(fee)).await.status, StatusCode::CONFLICT);

    // The Time Release Study report. Export: arrival 10:00, called 10:05, six steps 300 s + 300 s each.
    t.set_now(at("2026-11-23T18:00:00+07:00"));
    let admin = t.login("admin").await;
    let rows = t.call("GET", "/api/v1/reports/dwell?gate_pair=huu-nghi", Some(&admin), None, None).await.json();
    let find = |group: &str, interval: &str| -> f64 {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == group && r["interval"] == interval)
            .unwrap_or_else(|| panic!("{group} {interval} in {rows}"))["p50_s"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(find("huu-nghi / export", "arrival-to-call"), 300.0);
    // Called 10:05; each step starts `gap` after the previous end and takes `gap`: exit release after 3 steps.
    assert_eq!(find("huu-nghi / export", "call-to-exit-release"), 1800.0);
    assert_eq!(find("huu-nghi / export", "arrival-to-entry-release"), 300.0 + 3600.0);
    assert_eq!(find("huu-nghi / export / VN:customs", "agency-time"), 600.0);
    assert_eq!(find("huu-nghi / import", "crossing-to-entry-release"), 2400.0);
    let csv = t.call("GET", "/api/v1/reports/dwell?gate_pair=huu-nghi&by=commodity,channel&format=csv", Some(&admin), None, None).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.text();
    assert!(text.starts_with("group,interval,n,mean_s,p50_s,p95_s,max_s\n"), "{text}");
    assert!(text.contains("HS08 / yellow,arrival-to-call,1,300.0,300.0,300.0,300.0"), "{text}");
    assert!(text.contains("HS84 / green,"), "{text}");
    let bad = t.call("GET", "/api/v1/reports/dwell?by=weather", Some(&admin), Some("zh"), None).await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("by")));
    assert_eq!(t.call("GET", "/api/v1/reports/dwell", Some(&firm), None, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.call("GET", "/api/v1/audit/verify", Some(&admin), None, None).await.json()["ok"], true);
    t.cleanup().await;
}

/// The same flow with its requests spread over three server nodes on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perishable_export_and_general_import_cross_over_three_nodes_on_postgres() {
    perishable_export_and_general_import_cross(Engine::PostgresNodes(3)).await;
}

#[tokio::test]
async fn perishable_export_and_general_import_cross_on_sqlite() {
    perishable_export_and_general_import_cross(Engine::Sqlite).await;
}

#[tokio::test]
async fn perishable_export_and_general_import_cross_on_postgres() {
    perishable_export_and_general_import_cross(Engine::Postgres).await;
}

async fn refusals_holds_and_no_shows(engine: Engine) {
    let t = spawn_on(engine).await;
    add_vn_export_lanes(&t).await;
    let a = accepted(&t, durian_export("12C-111.11"), "vn-customs").await;
    let b = accepted(&t, durian_export("12C-222.22"), "vn-customs").await;
    let c = accepted(&t, durian_export("12C-333.33"), "vn-customs").await;
    let firm = t.login("enterprise").await;
    let r = t
        .call("POST", &format!("/api/v1/declarations/{c}/booking"), Some(&firm), None, Some(json!({"hour": "2026-11-23T11:00:00+07:00"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let guard = t.login("vn-guard").await;
    for plate in ["12C11111", "12C22222"] {
        let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": plate}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let vn_board = t.login("vn-board-hn").await;
    let d = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&vn_board), None, None).await.json();
    let ids: Vec<i64> = d["called"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2, "two free lanes, two trucks: {d}");
    let (ta, tb) = (ids[0], ids[1]);

    // a: held by customs with a reason, then passed.
    let customs = t.login("vn-customs").await;
    t.call("POST", &format!("/api/v1/trips/{ta}/steps/0/start"), Some(&customs), None, None).await;
    let no_reason =
        t.call("POST", &format!("/api/v1/trips/{ta}/steps/0/finish"), Some(&customs), Some("vi"), Some(json!({"outcome": "hold"}))).await;
    assert_eq!((no_reason.status, no_reason.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    assert_eq!(no_reason.json()["detail"], "Tạm giữ hoặc từ chối phải nêu lý do.");
    let bad = t.call("POST", &format!("/api/v1/trips/{ta}/steps/0/finish"), Some(&customs), None, Some(json!({"outcome": "maybe"}))).await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")));
    let held = t
        .call(
            "POST",
            &format!("/api/v1/trips/{ta}/steps/0/finish"),
            Some(&customs),
            None,
            Some(json!({"outcome": "hold", "reason": "seal number differs"})),
        )
        .await
        .json();
    assert_eq!((held["steps"][0]["state"].as_str(), held["steps"][0]["reason"].as_str()), (Some("held"), Some("seal number differs")));
    let skip = t.call("POST", &format!("/api/v1/trips/{ta}/steps/1/start"), Some(&guard), Some("en"), None).await;
    assert_eq!(skip.status, StatusCode::CONFLICT, "a hold must be resolved before the next step");
    let passed =
        t.call("POST", &format!("/api/v1/trips/{ta}/steps/0/finish"), Some(&customs), None, Some(json!({"outcome": "pass"}))).await.json();
    assert_eq!((passed["steps"][0]["state"].as_str(), passed["current_step"].as_u64()), (Some("passed"), Some(1)));

    // b: refused; its lane is free again and the refusal ends the trip.
    t.call("POST", &format!("/api/v1/trips/{tb}/steps/0/start"), Some(&customs), None, None).await;
    let refused = t
        .call(
            "POST",
            &format!("/api/v1/trips/{tb}/steps/0/finish"),
            Some(&customs),
            None,
            Some(json!({"outcome": "refuse", "reason": "no phytosanitary certificate"})),
        )
        .await
        .json();
    assert_eq!(refused["status"], "refused");
    let after = t.call("POST", &format!("/api/v1/trips/{tb}/steps/1/start"), Some(&guard), Some("zh"), None).await;
    assert_eq!((after.status, after.json()["detail"].as_str()), (StatusCode::CONFLICT, Some("本次通关已结束。")));
    let lanes = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json()["lanes"].clone();
    let busy: Vec<&str> = lanes.as_array().unwrap().iter().filter(|l| !l["plate"].is_null()).map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(busy.len(), 1, "only a's lane is busy: {lanes}");

    // c booked 11:00 Hà Nội and never came: after the two-hour grace its slot is released.
    t.set_now(at("2026-11-23T13:00:01+07:00"));
    let d = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&vn_board), None, None).await.json();
    assert_eq!(d["no_shows"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(t.call("GET", &format!("/api/v1/declarations/{c}/booking"), Some(&firm), None, None).await.status, StatusCode::NOT_FOUND);
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&t.login("admin").await), None, None).await.json();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["trip.yard-check-in", "trip.call", "trip.step.hold", "trip.step.refuse", "slot.no-show"] {
        assert!(actions.contains(&a), "{a} is audited");
    }
    // A call nobody answers goes back to the queue after the answer window.
    let d1 = accepted(&t, durian_export("12C-444.44"), "vn-customs").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C44444"}))).await;
    let first = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&vn_board), None, None).await.json();
    assert_eq!(first["called"][0]["declaration_id"], d1);
    t.set_now(at("2026-11-23T13:16:00+07:00"));
    let second = t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&vn_board), None, None).await.json();
    assert_eq!(second["requeued"].as_array().unwrap().len(), 1);
    assert_eq!(
        (second["called"][0]["declaration_id"].as_i64(), second["called"][0]["calls"].as_u64()),
        (Some(d1), Some(2)),
        "called again"
    );
    let _ = a;
    let _ = b;
    t.cleanup().await;
}

#[tokio::test]
async fn refusals_holds_and_no_shows_on_sqlite() {
    refusals_holds_and_no_shows(Engine::Sqlite).await;
}

#[tokio::test]
async fn refusals_holds_and_no_shows_on_postgres() {
    refusals_holds_and_no_shows(Engine::Postgres).await;
}

#[tokio::test]
async fn the_queue_stream_pushes_each_change() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let req = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export").body(Body::empty()).unwrap();
    let res = t.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let mut next_event = async || -> Value {
        loop {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(5), body.frame()).await.expect("an event in time").unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                let text = String::from_utf8(data.to_vec()).unwrap();
                if let Some(json) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                    assert!(text.starts_with("event: queue"), "{text}");
                    return serde_json::from_str(json).unwrap();
                }
            }
        }
    };
    assert_eq!(next_event().await["yard"], 0);
    // A second viewer of the same board shares its snapshots and sees the same change.
    let req2 = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export").body(Body::empty()).unwrap();
    let mut body2 = t.app.clone().oneshot(req2).await.unwrap().into_body();
    let mut second = async || next_board(&mut body2, std::time::Duration::from_secs(5)).await;
    assert_eq!(second().await["yard"], 0);
    let guard = t.login("vn-guard").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    let ev = next_event().await;
    assert_eq!((ev["yard"].as_u64(), ev["queue"][0]["plate"].as_str()), (Some(1), Some("12C-•••.45")));
    assert_eq!(second().await, ev, "both viewers get the same board");
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&t.login("vn-board-hn").await), None, None).await;
    let ev = next_event().await;
    assert_eq!((ev["yard"].as_u64(), ev["called"].as_u64()), (Some(0), Some(1)));
    let busy = ev["lanes"].as_array().unwrap().iter().find(|l| l["id"] == "huu-nghi-vn-export-green").unwrap().clone();
    assert_eq!(busy["trip_status"], "called");
    let bad = t.get("/api/v1/gate-pairs/nowhere/queue/stream?direction=export").await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);

    // Each event names itself and the reconnect delay; a stopping server ends every stream (so a
    // browser's board says "connection lost" instead of freezing on "live"), and refuses new ones.
    let req3 = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export").body(Body::empty()).unwrap();
    let mut body3 = t.app.clone().oneshot(req3).await.unwrap().into_body();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), body3.frame()).await.unwrap().unwrap().unwrap();
    let text = String::from_utf8(first.into_data().unwrap().to_vec()).unwrap();
    // The id is the store's last change in the board (the same on every process over one
    // database), then the second it turns: 11:00 in Hà Nội, the next hour.
    let id = text.lines().find_map(|l| l.strip_prefix("id: ")).expect("an id");
    let (change, turn) = id.split_once('.').expect("a change and a turn");
    assert!(change.parse::<i64>().is_ok_and(|n| n > 0) && text.contains("\nretry: 2000\n"), "{text}");
    assert_eq!(turn.parse::<i64>().unwrap(), at("2026-11-23T11:00:00+07:00").as_micros() / 1_000_000, "{text}");
    t.state.close_streams();
    for body in [&mut body, &mut body2, &mut body3] {
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Some(f) = body.frame().await {
                f.unwrap();
            }
        })
        .await;
        assert!(end.is_ok(), "the stream ended when the server began to stop");
    }
    let refused = t.get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_drivers_gateway_is_told_your_turn_and_retried_when_down() {
    use std::sync::{Arc, Mutex};
    // A stand-in SMS gateway that fails once, then records what it gets.
    let got: Arc<Mutex<Vec<(String, Value)>>> = Default::default();
    let fails = Arc::new(Mutex::new(1));
    let (g, f) = (got.clone(), fails.clone());
    let gateway = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (g, f) = (g.clone(), f.clone());
            async move {
                let mut left = f.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let kind = headers["x-cuakhau-event"].to_str().unwrap().to_string();
                g.lock().unwrap().push((kind, serde_json::from_str(&body).unwrap()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });

    let t = spawn_with_app(
        cuakhau_server::Config { secure_cookies: false, ..Default::default() },
        cuakhau_app::Config { webhook_url: Some(format!("http://{addr}/sms")), ..app_config() },
    )
    .await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&t.login("vn-guard").await), None, Some(json!({"plate": "12C12345"}))).await;
    // The background dispatcher calls the truck, as it does every few seconds in `serve`.
    assert_eq!(cuakhau_server::background::dispatch_all(&t.state).await, 1);
    assert_eq!(cuakhau_server::background::deliver_due(&t.state).await, (0, 1), "the gateway is down");
    assert_eq!(cuakhau_server::background::deliver_due(&t.state).await, (0, 0), "not retried before its time");
    t.set_now(NOW.plus_seconds(31));
    assert_eq!(cuakhau_server::background::deliver_due(&t.state).await, (1, 0));
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].0.as_str(), got[0].1["plate"].as_str(), got[0].1["lane"].as_str()),
        ("your-turn", Some("12C-123.45"), Some("huu-nghi-vn-export-green"))
    );
    assert_eq!(got[0].1["deadline_local"], "2026-11-23T10:15:00+07:00");
    // The gateway gets the words the driver's page shows: the lane by its number among Vietnam's
    // export lanes (`…-1`, then `…-green`) and class, the exit gate, the direction, the deadline
    // with its zone named; in the driver's language (a Vietnamese driver) and in all three.
    let want_vi = "ĐẾN LƯỢT BẠN: vào làn số 2 (hàng tươi) tại cửa khẩu Hữu Nghị, chiều Xuất (VN → TQ), trước 10:15 giờ Việt Nam (UTC+7)";
    assert_eq!(got[0].1["text"], want_vi);
    assert_eq!(got[0].1["language"], "vi");
    assert_eq!(got[0].1["lane_number"], 2);
    assert_eq!(got[0].1["texts"]["vi"], want_vi);
    assert_eq!(got[0].1["texts"]["zh"], "轮到您了：请于越南时间（UTC+7）10:15 前驶入友谊口岸 2 号通道（生鲜），方向：出口（越→中）");
    assert_eq!(
        got[0].1["texts"]["en"],
        "YOUR TURN: go to lane 2 (perishable) at Huu Nghi gate, Export (VN → CN), before 10:15 Vietnam time (UTC+7)"
    );
    // The driver's page gets the same facts; the board numbers its lanes the same way.
    let d = got[0].1["declaration"].as_i64().unwrap();
    let decl = t.call("GET", &format!("/api/v1/declarations/{d}"), Some(&t.login("vn-customs").await), None, None).await.json();
    let code = decl["track_code"].as_str().unwrap().to_string();
    let track = t.call("GET", &format!("/api/v1/track/{d}?code={code}"), None, None, None).await.json();
    assert_eq!((&track["lane_number"], &track["lane_class"]), (&json!(2), &json!("perishable")));
    // Why the truck is yellow, in each language, from the risk rule's own words; the trip keeps the rule's code.
    assert_eq!(track["channel"], "yellow");
    assert!(track["channel_reason_words"]["vi"].as_str().unwrap().starts_with("Hàng tươi sống: kiểm tra hồ sơ"), "{track}");
    assert!(track["channel_reason_words"]["zh"].as_str().unwrap().starts_with("生鲜货物"), "{track}");
    let trip = t.call("GET", &format!("/api/v1/declarations/{d}/trip"), Some(&t.login("vn-customs").await), None, None).await.json();
    assert_eq!(trip["channel_reason"], "perishable");
    assert_eq!(trip["channel_reason_words"], track["channel_reason_words"]);
    assert!(trip["channel_reason_words"]["en"].as_str().unwrap().starts_with("Perishable goods"));
    assert_eq!(track["exit_gate"], json!({"vi": "Hữu Nghị", "zh": "友谊", "en": "Huu Nghi"}));
    let board = t.call("GET", "/api/v1/gate-pairs/huu-nghi/queue?direction=export", None, None, None).await.json();
    let numbers: Vec<(String, u64)> = board["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["side"] == "VN")
        .map(|l| (l["id"].as_str().unwrap().into(), l["number"].as_u64().unwrap()))
        .collect();
    assert_eq!(numbers, [("huu-nghi-vn-export-1".to_string(), 1), ("huu-nghi-vn-export-green".to_string(), 2)]);
}

#[tokio::test]
async fn the_demo_day_fills_an_empty_database_once_and_reproducibly() {
    use cuakhau_server::demo::{DemoError, fill};
    let make = || async {
        let dir = tempfile::tempdir().unwrap();
        let store: std::sync::Arc<dyn cuakhau_store::Store> = std::sync::Arc::new(
            cuakhau_store_sqlite::SqliteStore::open(&format!("sqlite:{}", dir.path().join("d.db").display())).await.unwrap(),
        );
        (dir, store)
    };
    // 15:00 in Hà Nội: the day is in full swing.
    let now = at("2026-11-23T15:00:00+07:00");
    let (_d1, s1) = make().await;
    let ticks = std::sync::Mutex::new(0);
    let r1 = fill(s1.clone(), now, 7, |done, total| {
        assert!(done <= total);
        *ticks.lock().unwrap() = done;
    })
    .await
    .unwrap();
    assert!(*ticks.lock().unwrap() > 100, "progress is reported");
    assert!(r1.declarations > 100 && r1.crossed > 50 && r1.bookings > 20, "{r1:?}");
    assert!(r1.crossed + r1.waiting <= r1.trips);
    assert!(matches!(fill(s1.clone(), now, 7, |_, _| {}).await, Err(DemoError::NotEmpty)), "only an empty database");
    let (_d2, s2) = make().await;
    assert_eq!(fill(s2, now, 7, |_, _| {}).await.unwrap(), r1, "the same seed and time give the same day");
    assert!(s1.setting("demo").await.unwrap().unwrap().contains("demo data"));
    assert!(s1.verify_audit().await.unwrap().is_ok());
    // The demo is played through the real flow: dwell times exist for both directions.
    let trips = s1.trips(cuakhau_store::trips::TripQuery::default()).await.unwrap();
    for dir in [cuakhau_core::Direction::Export, cuakhau_core::Direction::Import] {
        assert!(trips.iter().any(|t| t.direction == dir && t.milestones().entry_release.is_some()), "{dir:?} trucks crossed");
    }
}

/// Data-driven: bad input at every live-gate endpoint is a 422 naming the field, in the caller's
/// language, and writes nothing.
#[tokio::test]
async fn bad_input_at_the_live_gate_is_refused_in_the_callers_language_and_changes_nothing() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    let id = accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let guard = t.login("vn-guard").await;
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let trip = r.json()["id"].as_i64().unwrap();
    let board = t.login("vn-board-hn").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&board), None, None).await;
    let customs = t.login("vn-customs").await;
    t.call("POST", &format!("/api/v1/trips/{trip}/steps/0/start"), Some(&customs), None, None).await;
    let admin = t.login("admin").await;
    let cases: Vec<(&str, String, &str, Option<Value>, &str)> = vec![
        ("POST", "/api/v1/gate-pairs/huu-nghi/yard".into(), "vn-guard", Some(json!({"plate": "1"})), "plate"),
        ("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=sideways".into(), "vn-board-hn", None, "direction"),
        ("GET", "/api/v1/gate-pairs/huu-nghi/queue?direction=up".into(), "", None, "direction"),
        ("POST", format!("/api/v1/trips/{trip}/steps/0/finish"), "vn-customs", Some(json!({"outcome": "maybe"})), "outcome"),
        (
            "POST",
            format!("/api/v1/trips/{trip}/steps/0/finish"),
            "vn-customs",
            Some(json!({"outcome": "refuse", "reason": "x".repeat(501)})),
            "reason",
        ),
        (
            "POST",
            format!("/api/v1/trips/{trip}/fee"),
            "vn-board-hn",
            Some(json!({"amount": -5.0, "currency": "VND", "receipt": "R1"})),
            "amount",
        ),
        (
            "POST",
            format!("/api/v1/trips/{trip}/fee"),
            "vn-board-hn",
            Some(json!({"amount": 5.0, "currency": "EUR", "receipt": "R1"})),
            "currency",
        ),
        (
            "POST",
            format!("/api/v1/trips/{trip}/fee"),
            "vn-board-hn",
            Some(json!({"amount": 5.0, "currency": "VND", "receipt": " "})),
            "receipt",
        ),
        ("POST", format!("/api/v1/track/{id}/position?code=x"), "", Some(json!({"lat": 95.0, "lon": 106.0})), "lat"),
        ("POST", format!("/api/v1/track/{id}/position?code=x"), "", Some(json!({"lat": 21.0, "lon": 106.0, "eta": "soon"})), "eta"),
        ("GET", "/api/v1/reports/dwell?from=yesterday".into(), "admin", None, "from"),
        ("GET", "/api/v1/reports/dwell?format=xlsx".into(), "admin", None, "format"),
    ];
    let _ = admin;
    for lang in ["vi", "zh", "en"] {
        for (method, path, who, body, field) in &cases {
            let token = if who.is_empty() { None } else { Some(t.login(who).await) };
            let before = t.snapshot().await;
            let trip_before = t.store.trip(cuakhau_core::TripId(trip)).await.unwrap();
            let r = t.call(method, path, token.as_deref(), Some(lang), body.clone()).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path}: {}", r.text());
            let p = r.json();
            assert_eq!((p["field"].as_str(), p["lang"].as_str()), (Some(*field), Some(lang)), "{method} {path}: {p}");
            let title = match lang {
                "vi" => "Dữ liệu không hợp lệ",
                "zh" => "数据无效",
                _ => "Invalid input",
            };
            assert_eq!(p["title"], title);
            assert_eq!(r.headers["content-type"], "application/problem+json");
            assert!(t.snapshot().await == before, "{method} {path} wrote something");
            assert_eq!(t.store.trip(cuakhau_core::TripId(trip)).await.unwrap(), trip_before, "{method} {path} changed the trip");
        }
    }
}

#[tokio::test]
async fn after_hours_the_board_expects_calls_once_the_exit_side_opens() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    // 21:00 in Hà Nội: Hữu Nghị's Vietnamese side closed at 20:00 and opens at 07:00.
    t.set_now(at("2026-11-23T21:00:00+07:00"));
    let guard = t.login("vn-guard").await;
    assert_eq!(
        t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await.status,
        StatusCode::CREATED
    );
    let d = t
        .call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&t.login("vn-board-hn").await), None, None)
        .await
        .json();
    assert_eq!(d["called"].as_array().unwrap().len(), 0, "a closed side calls nobody");
    let board = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json();
    assert_eq!(board["vn_open"], false);
    assert_eq!(board["queue"][0]["estimated_call"]["vn"], "2026-11-24T07:00:00+07:00", "{board}");
    assert!(board["expected_wait_s"].as_i64().unwrap() >= 10 * 3600);
}

/// A gate board closes a lane while a truck is called to it: the truck goes back to its place in
/// the queue (its driver told to wait), the next round calls it to a lane that is open, and the
/// audit log says why.
#[tokio::test]
async fn a_lane_closed_under_a_called_truck_sends_it_back_to_its_place() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    let d = accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    t.set_now(at("2026-11-23T10:00:00+07:00"));
    let guard = t.login("vn-guard").await;
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let board = t.login("vn-board-hn").await;
    let dispatch =
        || async { t.call("POST", "/api/v1/gate-pairs/huu-nghi/dispatch?direction=export", Some(&board), None, None).await.json() };
    let first = dispatch().await;
    assert_eq!(first["called"][0]["lane"], "huu-nghi-vn-export-green", "{first}");
    let trip = first["called"][0]["id"].as_i64().unwrap();
    let r = t.call("PATCH", "/api/v1/lanes/huu-nghi-vn-export-green", Some(&board), None, Some(json!({"active": false}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let admin = t.login("admin").await;
    let now = t.call("GET", &format!("/api/v1/declarations/{d}/trip"), Some(&admin), None, None).await.json();
    assert_eq!((now["status"].as_str(), now["lane"].as_str()), (Some("yard"), None), "{now}");
    let queue = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json();
    assert_eq!(queue["queue"][0]["position"], 1, "{queue}");
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&admin), None, None).await.json();
    let requeue = log.as_array().unwrap().iter().find(|e| e["action"] == "trip.requeue").expect("audited");
    assert_eq!(
        (requeue["entity"].as_str(), requeue["after"]["reason"].as_str()),
        (Some(format!("trip/{trip}").as_str()), Some("lane closed"))
    );
    let again = dispatch().await;
    assert_eq!(
        (again["called"][0]["id"].as_i64(), again["called"][0]["lane"].as_str()),
        (Some(trip), Some("huu-nghi-vn-export-1")),
        "{again}"
    );
}

/// A suspension of the exit side holds the board's expected calls until it ends, and a window
/// for pre-registered trucks only holds an unbooked truck's until the window ends, not a booked
/// truck's.
#[tokio::test]
async fn a_suspension_holds_the_boards_expected_calls_until_it_ends() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    t.set_now(at("2026-11-23T10:00:00+07:00"));
    let guard = t.login("vn-guard").await;
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The Vietnamese board suspends its side (signed in afresh: the clock moves by a day below).
    let suspend = |from: &'static str, until: &'static str, prereg: bool| {
        let t = &t;
        async move {
            let body = json!({"side": "VN", "from": from, "until": until, "preregistered_only": prereg, "reason": "kiểm tra / 检查"});
            let token = t.login("vn-board-hn").await;
            let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/suspensions", Some(&token), None, Some(body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
    };
    let board = || async { t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json() };
    let before = board().await;
    assert_eq!(before["queue"][0]["estimated_call"]["vn"], "2026-11-23T10:00:00+07:00", "{before}");
    suspend("2026-11-23T09:00:00+07:00", "2026-11-23T15:00:00+07:00", false).await;
    // Half a second on: the expected call is still the reopening, not a minute before it.
    t.set_now(cuakhau_core::Timestamp(at("2026-11-23T10:00:00+07:00").as_micros() + 500_000));
    let during = board().await;
    assert_eq!(during["vn_open"], false);
    assert_eq!(during["queue"][0]["estimated_call"]["vn"], "2026-11-23T15:00:00+07:00", "{during}");
    assert!(during["expected_wait_s"].as_i64().unwrap() >= 5 * 3600, "{during}");
    // The next morning a window for pre-registered trucks only: the first truck holds no slot;
    // a second one, checked in after it, booked this hour.
    t.set_now(at("2026-11-24T10:00:00+07:00"));
    let booked = accepted(&t, durian_export("12C-678.90"), "vn-customs").await;
    let firm = t.login("enterprise").await;
    let hour = json!({"hour": "2026-11-24T10:00:00+07:00"});
    let r = t.call("POST", &format!("/api/v1/declarations/{booked}/booking"), Some(&firm), None, Some(hour)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = t
        .call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&t.login("vn-guard").await), None, Some(json!({"plate": "12C67890"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    suspend("2026-11-24T09:00:00+07:00", "2026-11-24T12:30:00+07:00", true).await;
    let window = board().await;
    assert_eq!(window["vn_open"], true, "a pre-registered window is not closed");
    let entry = |plate: &str| window["queue"].as_array().unwrap().iter().find(|e| e["plate"] == plate).cloned().unwrap();
    let (unbooked, slot) = (entry("12C-•••.45"), entry("12C-•••.90"));
    assert_eq!((unbooked["booked"].as_bool(), slot["booked"].as_bool()), (Some(false), Some(true)), "{window}");
    assert_eq!(unbooked["estimated_call"]["vn"], "2026-11-24T12:30:00+07:00", "{window}");
    // The booked truck is not held by the window: it is expected within the hour, before the
    // unbooked truck ahead of it.
    let call = slot["estimated_call"]["vn"].as_str().unwrap();
    assert!(("2026-11-24T10:00:00+07:00".."2026-11-24T11:00:00+07:00").contains(&call), "{window}");
}

/// A live board turns by the clock alone: when a suspension of the exit side begins and ends,
/// and when the side closes for the night, an open stream is sent the board again with no other
/// change to announce it.
#[tokio::test]
async fn a_live_board_is_sent_again_when_a_side_opens_or_closes_with_no_change() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let second = std::time::Duration::from_secs(2);
    let mut stream = open_from(&t, None).await;
    let (_, first) = next_event_id(&mut stream, second).await.expect("the first board");
    assert_eq!(first["vn_open"], true, "10:00 in Hà Nội: {first}");
    let body = json!({"side": "VN", "from": "2026-11-23T11:00:00+07:00", "until": "2026-11-23T13:00:00+07:00",
                      "preregistered_only": false, "reason": "kiểm tra / 检查"});
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/suspensions", Some(&t.login("vn-board-hn").await), None, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let (posted, board) = next_event_id(&mut stream, second).await.expect("the board after the suspension was posted");
    assert_eq!(board["vn_open"], true, "the suspension has not begun: {board}");
    let change = |id: &str| id.split('.').next().unwrap().to_string();
    // Nothing else changes; the clock reaches the suspension, then its end, then the night.
    let mut before = posted.clone();
    for (now, open) in [("2026-11-23T11:00:30+07:00", false), ("2026-11-23T13:00:30+07:00", true), ("2026-11-24T02:00:00+07:00", false)] {
        t.set_now(at(now));
        let (id, board) = next_event_id(&mut stream, second).await.unwrap_or_else(|| panic!("a board by {now}"));
        assert_eq!(board["vn_open"], open, "at {now}: {board}");
        assert_eq!(change(&id), change(&posted), "no change was committed: the same change number");
        assert_ne!(id, before, "a turned board has an id of its own");
        // A browser that reconnects with the board from before the turn is sent the turned one
        // at once; one that has the turned board is sent nothing until the next turn.
        let (resumed_id, resumed) = next_event_id(&mut open_from(&t, Some(&before)).await, second).await.expect("the turned board");
        assert_eq!((resumed_id.as_str(), &resumed["vn_open"]), (id.as_str(), &json!(open)), "resumed at {now} from {before}");
        let mut current = open_from(&t, Some(&id)).await;
        assert!(next_event_id(&mut current, std::time::Duration::from_millis(300)).await.is_none(), "{id} is current");
        before = id;
    }
    // A stream resumed with the current board is sent the next turn (07:00, the side opens).
    let mut resumed = open_from(&t, Some(&before)).await;
    t.set_now(at("2026-11-24T07:00:30+07:00"));
    let (_, board) = next_event_id(&mut resumed, second).await.expect("the morning's board");
    assert_eq!(board["vn_open"], true, "{board}");
}

/// The desk asks for exactly its work: a submitted export stays on Vietnamese customs' list after
/// 600 drafts of another firm at another gate pair, and paging by `Link` visits each row once.
async fn the_desk_keeps_its_work_under_load(engine: Engine) {
    use cuakhau_core::goods::declaration::{ConsignmentFields, DeclEvent};
    use cuakhau_core::goods::parties::{EnterpriseCode, Plate, VehicleKind};
    use cuakhau_core::goods::{Consignment, Driver};
    use cuakhau_core::{Direction, GatePairId, Side};
    let t = spawn_on(engine).await;
    let firm = t.login("enterprise").await;
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), None, Some(durian_export("12C-777.77"))).await;
    let mine = r.json()["id"].as_i64().unwrap();
    t.call("POST", &format!("/api/v1/declarations/{mine}/submit"), Some(&firm), None, None).await;
    let goods = Consignment::parse(
        0,
        &ConsignmentFields {
            hs_code: "85171300",
            description_zh: "手机",
            packages: 10,
            gross_kg: 100.0,
            value: 1.0,
            currency: "CNY",
            origin: "CN",
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..600 {
        let d = cuakhau_store::goods::NewDeclaration {
            enterprise: EnterpriseCode::parse("0109999999").unwrap(),
            gate_pair: GatePairId::parse("kim-thanh").unwrap(),
            direction: Direction::Import,
            plate: Plate::parse(&format!("云A{:05}", i), Side::Cn).unwrap(),
            vehicle_kind: VehicleKind::TractorTrailer,
            driver: Some(Driver::parse("李伟", "CN", "E12345678").unwrap()),
            consignments: vec![goods.clone()],
            track_code: format!("other{i}"),
        };
        let rec = t.store.create_declaration(d, cuakhau_store::Actor { name: "other", at: NOW }).await.unwrap();
        if i % 100 == 0 {
            t.store.declaration_event(rec.id, DeclEvent::Submit, cuakhau_store::Actor { name: "other", at: NOW }).await.unwrap();
        }
    }
    let vn_customs = t.login("vn-customs").await;
    let desk = t.call("GET", "/api/v1/declarations?state=submitted&exit_side=VN", Some(&vn_customs), None, None).await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.text());
    let ids: Vec<i64> = desk.json().as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![mine], "exactly its work");
    // China's customs decides imports: the six submitted ones at Lào Cai.
    let cn = t.call("GET", "/api/v1/declarations?state=submitted&exit_side=CN", Some(&t.login("cn-customs").await), None, None).await;
    assert_eq!(cn.json().as_array().unwrap().len(), 6);
    // An officer scoped to Hữu Nghị never sees Lào Cai's declarations, however many there are.
    let guard = t.login("vn-guard").await;
    let all = t.call("GET", "/api/v1/declarations", Some(&guard), None, None).await.json();
    assert_eq!(all.as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![mine]);
    // Pages of 150 by the Link header: all 601, each once, newest first.
    let admin = t.login("admin").await;
    let mut next = Some("/api/v1/declarations?limit=150".to_string());
    let mut seen: Vec<i64> = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let r = t.call("GET", &url, Some(&admin), None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text());
        seen.extend(r.json().as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()));
        next = r.headers.get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with(">; rel=\"next\""), "{l}");
            l[1..l.find('>').unwrap()].to_string()
        });
        pages += 1;
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!((pages, seen.len(), &seen), (5, 601, &sorted));
    let bad = t.call("GET", "/api/v1/declarations?state=crossed", Some(&admin), Some("vi"), None).await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("state")));
    t.cleanup().await;
}

#[tokio::test]
async fn the_desk_keeps_its_work_under_load_on_sqlite() {
    the_desk_keeps_its_work_under_load(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_desk_keeps_its_work_under_load_on_postgres() {
    the_desk_keeps_its_work_under_load(Engine::Postgres).await;
}

/// A gate board reads the audit entries of its own gate pair only: not another pair's
/// declarations, not users with their roles, not sign-ins. An administrator reads everything.
#[tokio::test]
async fn audit_reads_are_scoped_like_every_other_read() {
    let t = spawn().await;
    let firm = t.login("enterprise").await;
    let mut other = durian_export("12C-555.55");
    other["gate_pair"] = json!("kim-thanh");
    for body in [durian_export("12C-444.44"), other] {
        let r = t.call("POST", "/api/v1/declarations", Some(&firm), None, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let board = t.login("vn-board-hn").await;
    let seen = t.call("GET", "/api/v1/audit?limit=500", Some(&board), None, None).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text());
    let entries = seen.json();
    let actions: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["declaration.create"], "only Hữu Nghị's entry");
    assert_eq!(entries[0]["after"]["gate_pair"], "huu-nghi");
    let admin = t.login("admin").await;
    let all = t.call("GET", "/api/v1/audit?limit=500", Some(&admin), None, None).await.json();
    let all: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(all.contains(&"session.login") && all.iter().filter(|a| **a == "declaration.create").count() == 2, "{all:?}");
    assert_eq!(t.call("GET", "/api/v1/audit", Some(&firm), None, None).await.status, StatusCode::FORBIDDEN);
}

/// Control characters and direction overrides are refused with a localised 422 naming the field,
/// on both engines (PostgreSQL cannot store NUL: it once answered 500), and nothing is written.
async fn control_characters_are_refused(engine: Engine) {
    let t = spawn_on(engine).await;
    let before = t.snapshot().await;
    let r = t.call("POST", "/api/v1/auth/login", None, Some("zh"), Some(json!({"username": "ad\u{0}min", "password": "x"}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("username")), "{}", r.text());
    assert_eq!(r.json()["detail"], "字段“username”：包含不允许的控制字符或文字方向控制符");
    let firm = t.login("enterprise").await;
    let before_decls = t.call("GET", "/api/v1/declarations", Some(&firm), None, None).await.json();
    let mut bad = durian_export("12C-\u{1b}[2J123.45");
    bad["driver"]["name"] = json!("Tài");
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), Some("vi"), Some(bad)).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("plate")), "{}", r.text());
    let mut bidi = durian_export("12C-123.45");
    bidi["consignments"][0]["description_vi"] = json!("Sầu riêng \u{202E}tươi");
    let r = t.call("POST", "/api/v1/declarations", Some(&firm), None, Some(bidi)).await;
    assert_eq!(r.json()["field"], "consignments[0].description_vi", "{}", r.text());
    let r = t.get("/api/v1/track/1?code=12C%00123").await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("query")), "{}", r.text());
    assert_eq!(t.call("GET", "/api/v1/declarations", Some(&firm), None, None).await.json(), before_decls, "nothing was filed");
    let after = t.snapshot().await;
    assert_eq!((before.0, before.1), (after.0, after.1));
    t.cleanup().await;
}

#[tokio::test]
async fn control_characters_are_refused_on_sqlite() {
    control_characters_are_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn control_characters_are_refused_on_postgres() {
    control_characters_are_refused(Engine::Postgres).await;
}

#[tokio::test]
async fn wrong_tracking_codes_are_throttled_as_too_many_requests_not_as_sign_ins() {
    let t = spawn().await;
    let imp = accepted(&t, machinery_import("桂A-12345"), "cn-customs").await;
    let look = async |code: &str| {
        let mut req = axum::http::Request::get(format!("/api/v1/track/{imp}?code={code}"))
            .header("accept-language", "vi")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 9], 40000))));
        t.send(req).await
    };
    let mut last = look("wrong").await;
    for _ in 0..10 {
        if last.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(last.status, StatusCode::NOT_FOUND, "{}", last.text());
        last = look("wrong").await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.text());
    let p = last.json();
    assert_eq!(p["type"], "/problems/too-many-requests", "{p}");
    assert_eq!(p["title"], "Quá nhiều yêu cầu", "{p}");
    assert!(last.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_stream_refuses_a_last_event_id_the_server_never_sent() {
    let t = spawn().await;
    for bad in ["\u{84}", "12x", "-3", "d", "12.", ".5", "1.2.3", "1.-2", "1.2dd", "1 .2"] {
        let req = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export")
            .header("accept-language", "zh")
            .header("last-event-id", axum::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap())
            .body(axum::body::Body::empty())
            .unwrap();
        let r = t.send(req).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {}", r.text());
        assert!(r.json()["detail"].as_str().unwrap().contains("本服务器发出的事件编号"), "{}", r.text());
    }
}

#[tokio::test]
async fn public_position_reports_are_limited_per_trip_and_per_client() {
    let t = spawn().await;
    let imp = accepted(&t, machinery_import("桂A-12345"), "cn-customs").await;
    let firm = t.login("enterprise").await;
    assert_eq!(t.call("POST", &format!("/api/v1/declarations/{imp}/queue"), Some(&firm), None, None).await.status, StatusCode::CREATED);
    let d = t.call("GET", &format!("/api/v1/declarations/{imp}"), Some(&firm), None, None).await.json();
    let code = d["track_code"].as_str().unwrap().to_string();
    // A report from a client address, as `serve` gives it to the handlers.
    let report = async |from: [u8; 4], lat: f64| {
        let mut req = axum::http::Request::post(format!("/api/v1/track/{imp}/position?code={code}"))
            .header("content-type", "application/json")
            .header("accept-language", "zh")
            .body(axum::body::Body::from(json!({"lat": lat, "lon": 106.7}).to_string()))
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((from, 40000))));
        t.send(req).await
    };
    let (phone, other, busy) = ([10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]);

    // Per trip: one report every 10 s, whoever sends it.
    assert_eq!(report(phone, 21.9).await.status, StatusCode::OK);
    let r = report(other, 21.9).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(
        (r.headers["content-type"].to_str().unwrap(), r.headers["retry-after"].to_str().unwrap()),
        ("application/problem+json", "10")
    );
    assert_eq!(
        (r.json()["type"].as_str(), r.json()["detail"].as_str()),
        (Some("/problems/too-many-requests"), Some("请求过于频繁，请 10 秒后重试。"))
    );
    t.set_now(NOW.plus_seconds(10));
    assert_eq!(report(other, 21.95).await.status, StatusCode::OK);

    // Per client address: a burst of 30, then one a second, refused before any work (these are
    // refused for their latitude, which is checked after the limit).
    for i in 0..30 {
        assert_eq!(report(busy, 95.0).await.status, StatusCode::UNPROCESSABLE_ENTITY, "request {i} of the burst");
    }
    let r = report(busy, 95.0).await;
    assert_eq!((r.status, r.headers["retry-after"].to_str().unwrap()), (StatusCode::TOO_MANY_REQUESTS, "1"), "{}", r.text());
    assert_eq!(report(phone, 95.0).await.status, StatusCode::UNPROCESSABLE_ENTITY, "another address has its own budget");
    t.set_now(NOW.plus_seconds(11));
    assert_eq!(report(busy, 95.0).await.status, StatusCode::UNPROCESSABLE_ENTITY, "a second later: one more");
    assert_eq!(report(busy, 95.0).await.status, StatusCode::TOO_MANY_REQUESTS);

    // Only the two accepted reports are on record.
    let log = t.call("GET", "/api/v1/audit?limit=500", Some(&t.login("admin").await), None, None).await.json();
    assert_eq!(log.as_array().unwrap().iter().filter(|e| e["action"] == "trip.position").count(), 2);
}

/// The next `queue` event's board on an event stream, within `wait`.
async fn next_board(body: &mut axum::body::Body, wait: std::time::Duration) -> Value {
    use http_body_util::BodyExt;
    tokio::time::timeout(wait, async {
        loop {
            let frame = body.frame().await.expect("the stream is open").unwrap();
            if let Some(json) = frame
                .into_data()
                .ok()
                .and_then(|d| String::from_utf8(d.to_vec()).ok())
                .and_then(|t| t.lines().find_map(|l| l.strip_prefix("data: ").map(String::from)))
            {
                return serde_json::from_str(&json).unwrap();
            }
        }
    })
    .await
    .expect("a board in time")
}

/// A stream opened with `Last-Event-ID: last` (if any), and the id of its first event when one
/// comes within `wait`.
async fn open_from(t: &TestApp, last: Option<&str>) -> axum::body::Body {
    use tower::ServiceExt;
    let mut req = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export");
    if let Some(id) = last {
        req = req.header("last-event-id", id);
    }
    t.app.clone().oneshot(req.body(axum::body::Body::empty()).unwrap()).await.unwrap().into_body()
}

/// The next `queue` event's id and board, within `wait` (`None`: none came).
async fn next_event_id(body: &mut axum::body::Body, wait: std::time::Duration) -> Option<(String, Value)> {
    use http_body_util::BodyExt;
    tokio::time::timeout(wait, async {
        loop {
            let data = body.frame().await.expect("the stream is open").unwrap().into_data().unwrap_or_default();
            let text = String::from_utf8(data.to_vec()).unwrap();
            if let (Some(id), Some(json)) =
                (text.lines().find_map(|l| l.strip_prefix("id: ")), text.lines().find_map(|l| l.strip_prefix("data: ")))
            {
                return (id.to_string(), serde_json::from_str(json).unwrap());
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn a_stream_resumed_with_the_last_event_id_gets_no_board_older_than_that_nor_the_same_again() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let second = std::time::Duration::from_secs(1);
    let (first, board) = next_event_id(&mut open_from(&t, None).await, second).await.expect("the first board");
    assert_eq!(board["yard"], 0);
    // Reconnecting with the current board's id: nothing until the next change, then that change.
    let mut resumed = open_from(&t, Some(&first)).await;
    let again = next_event_id(&mut resumed, std::time::Duration::from_millis(300)).await;
    assert!(again.is_none(), "the board it has ({first}) is not sent again: {again:?}");
    let guard = t.login("vn-guard").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    let (next, board) = next_event_id(&mut resumed, second).await.expect("the change");
    assert_eq!(board["yard"], 1);
    let change = |id: &str| id.split('.').next().unwrap().parse::<i64>().unwrap();
    assert!(change(&next) > change(&first), "{next} after {first}");
    // With an older id (or none), the current board at once; one that is not ours is refused
    // (a_stream_refuses_a_last_event_id_the_server_never_sent).
    for last in [Some(first.as_str()), None] {
        let (id, board) = next_event_id(&mut open_from(&t, last).await, second).await.expect("the current board");
        assert_eq!((id.as_str(), &board["yard"]), (next.as_str(), &json!(1)), "after {last:?}");
    }
}

#[tokio::test]
async fn changes_that_come_together_reach_a_stream_coalesced_in_fewer_boards() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    let plates: Vec<String> = (0..5).map(|i| format!("12C-123.4{i}")).collect();
    for p in &plates {
        accepted(&t, durian_export(p), "vn-customs").await;
    }
    let mut stream = open_from(&t, None).await;
    let second = std::time::Duration::from_secs(1);
    assert_eq!(next_event_id(&mut stream, second).await.expect("the first board").1["yard"], 0);
    let guard = t.login("vn-guard").await;
    for p in &plates {
        let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": p}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    // Five check-ins in a burst: at most one board per 250 ms, the last with all five.
    let mut boards = Vec::new();
    while let Some((_, board)) = next_event_id(&mut stream, second).await {
        boards.push(board["yard"].as_u64().unwrap());
    }
    assert_eq!(boards.last(), Some(&5), "{boards:?}");
    assert!(boards.len() < 5, "five changes in fewer boards: {boards:?}");
}

#[tokio::test]
async fn an_officers_stream_drops_to_the_public_board_when_the_session_ends() {
    use tower::ServiceExt;
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let guard = t.login("vn-guard").await;
    let other = t.login("vn-guard").await;
    t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    let open = |token: String| {
        let req = axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let app = t.app.clone();
        async move { app.oneshot(req).await.unwrap().into_body() }
    };
    let (mut desk, mut kept) = (open(guard.clone()).await, open(other.clone()).await);
    let second = std::time::Duration::from_secs(1);
    assert_eq!(next_board(&mut desk, second).await["queue"][0]["plate"], "12C-123.45", "an officer sees the plate in full");
    assert_eq!(next_board(&mut kept, second).await["queue"][0]["plate"], "12C-123.45");
    // The session ends: its stream goes on with the public board (masked plates) within a second;
    // the same officer's other session keeps its view.
    let r = t.call("POST", "/api/v1/auth/logout", Some(&guard), None, None).await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(next_board(&mut desk, second).await["queue"][0]["plate"], "12C-•••.45", "the ended session sees the public board");
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), http_body_util::BodyExt::frame(&mut kept)).await.is_err(),
        "the live session's stream was not disturbed"
    );
    // Disabling the account ends the other session too.
    let admin = t.login("admin").await;
    let r = t.call("PATCH", "/api/v1/users/vn-guard", Some(&admin), None, Some(json!({"disabled": true}))).await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(next_board(&mut kept, second).await["queue"][0]["plate"], "12C-•••.45", "a disabled user sees the public board");
    assert_eq!(t.call("GET", "/api/v1/worklist", Some(&other), None, None).await.status, StatusCode::UNAUTHORIZED);
}

/// A public read of a board (no replica) is the board its live stream sends, byte for byte, built
/// once for both: read again with nothing changed it is the same bytes; a change is in the very
/// next read; and a board is never older than a second (its times move on).
#[tokio::test]
async fn a_public_board_read_is_the_board_its_stream_sends_and_moves_with_each_change() {
    let t = spawn().await;
    add_vn_export_lanes(&t).await;
    accepted(&t, durian_export("12C-123.45"), "vn-customs").await;
    let url = "/api/v1/gate-pairs/huu-nghi/queue?direction=export";
    let read = t.get(url).await;
    assert_eq!((read.status, read.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "application/json"));
    let mut stream = open_from(&t, None).await;
    let first = {
        use http_body_util::BodyExt;
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), stream.frame()).await.unwrap().unwrap().unwrap();
        String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
    };
    assert_eq!(first.lines().find_map(|l| l.strip_prefix("data: ")), Some(read.text().as_str()), "the stream's board is the read's");
    assert_eq!(t.get(url).await.body, read.body, "nothing changed: the same board");
    let guard = t.login("vn-guard").await;
    let r = t.call("POST", "/api/v1/gate-pairs/huu-nghi/yard", Some(&guard), None, Some(json!({"plate": "12C12345"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let after = t.get(url).await.json();
    assert_eq!((after["yard"].as_u64(), after["queue"][0]["plate"].as_str()), (Some(1), Some("12C-•••.45")), "the change is read at once");
    let later = t.state.app.now().plus_seconds(1);
    t.set_now(later);
    assert_eq!(t.get(url).await.json()["at"]["utc"], later.to_rfc3339(), "a board a second old is built again");
    // A gate pair that does not exist is not found, as a read and as a stream.
    for path in ["/api/v1/gate-pairs/nowhere/queue?direction=export", "/api/v1/gate-pairs/nowhere/queue/stream?direction=export"] {
        let r = t.call("GET", path, None, Some("en"), None).await;
        assert_eq!((r.status, r.headers["content-type"].to_str().unwrap()), (StatusCode::NOT_FOUND, "application/problem+json"), "{path}");
    }
}

/// Every kind of write that changes what a board shows: the public read straight after it shows
/// the change, and an open stream of the board is sent it. (SQLite's bookings, booking and
/// declaration cancels, lane edits, hours and suspensions told no board: its streams never sent
/// them, and its reads answered the board from before them for up to a second.)
async fn every_change_a_board_shows_reaches_its_reads_and_its_streams(engine: Engine) {
    use tower::ServiceExt;
    let t = spawn_on(engine).await;
    add_vn_export_lanes(&t).await;
    let a = accepted(&t, durian_export("12C-111.11"), "vn-customs").await;
    let b = accepted(&t, durian_export("12C-222.22"), "vn-customs").await;
    let (firm, board, cn_board) = (t.login("enterprise").await, t.login("vn-board-hn").await, t.login("cn-board-hn").await);
    let req =
        axum::http::Request::get("/api/v1/gate-pairs/huu-nghi/queue/stream?direction=export").body(axum::body::Body::empty()).unwrap();
    let mut stream = t.app.clone().oneshot(req).await.unwrap().into_body();
    next_board(&mut stream, std::time::Duration::from_secs(5)).await;
    let booked = |v: &Value| v["booked_ahead"].as_array().unwrap().iter().map(|h| h["booked"].as_u64().unwrap()).sum::<u64>();
    let lane = |v: &Value, id: &str| v["lanes"].as_array().unwrap().iter().find(|l| l["id"] == id).map(|l| l["active"].clone());
    let lanes = |v: &Value| v["lanes"].as_array().unwrap().len();
    let hour = "2026-11-23T10:30:00+07:00";
    let new_lane = json!({"id": "huu-nghi-vn-export-2", "side": "VN", "direction": "export", "class": "general", "name": "2",
                          "capacity_per_hour": 12, "basis": "test"});
    let suspension =
        json!({"side": "VN", "from": "2026-11-23T09:00:00+07:00", "until": "2026-11-23T23:00:00+07:00", "reason": "lũ / 洪水"});
    type Check = Box<dyn Fn(&Value) -> bool>;
    /// The write, its method, path, who makes it, its body, and what the board shows after it.
    type Write<'a> = (&'a str, &'a str, String, &'a str, Option<Value>, Check);
    let steps: Vec<Write> = vec![
        (
            "a booking",
            "POST",
            format!("/api/v1/declarations/{a}/booking"),
            &firm,
            Some(json!({"hour": hour})),
            Box::new(move |v| booked(v) == 1),
        ),
        (
            "a second booking",
            "POST",
            format!("/api/v1/declarations/{b}/booking"),
            &firm,
            Some(json!({"hour": hour})),
            Box::new(move |v| booked(v) == 2),
        ),
        ("a booking cancelled", "DELETE", format!("/api/v1/declarations/{a}/booking"), &firm, None, Box::new(move |v| booked(v) == 1)),
        (
            "a truck in the virtual queue",
            "POST",
            format!("/api/v1/declarations/{b}/queue"),
            &firm,
            None,
            Box::new(|v| v["virtual_queue"] == 1),
        ),
        (
            "its declaration cancelled",
            "POST",
            format!("/api/v1/declarations/{b}/cancel"),
            &firm,
            None,
            Box::new(move |v| v["virtual_queue"] == 0 && booked(v) == 0),
        ),
        (
            "a lane closed",
            "PATCH",
            "/api/v1/lanes/huu-nghi-vn-export-1".into(),
            &board,
            Some(json!({"active": false})),
            Box::new(move |v| lane(v, "huu-nghi-vn-export-1") == Some(json!(false))),
        ),
        ("a lane added", "POST", "/api/v1/gate-pairs/huu-nghi/lanes".into(), &board, Some(new_lane), Box::new(move |v| lanes(v) == 3 + 6)),
        (
            "the exit side suspended",
            "POST",
            "/api/v1/gate-pairs/huu-nghi/suspensions".into(),
            &board,
            Some(suspension),
            Box::new(|v| v["vn_open"] == false),
        ),
        (
            "China's hours changed",
            "PUT",
            "/api/v1/gates/huu-nghi/cn/hours".into(),
            &cn_board,
            Some(json!({"opens": "14:00", "closes": "15:00", "source": "test"})),
            Box::new(|v| v["cn_open"] == false),
        ),
    ];
    for (what, method, path, who, body, shows) in steps {
        let r = t.call(method, &path, Some(who), None, body).await;
        assert!(r.status.is_success(), "{what}: {} {}", r.status, r.text());
        let read = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json();
        assert!(shows(&read), "the read straight after {what} shows it: {read}");
        let sent = next_board(&mut stream, std::time::Duration::from_secs(5)).await;
        assert!(shows(&sent), "the stream is sent {what}: {sent}");
    }
    // An import of reference data (its rows name no gate pair of their own) reaches every board.
    let admin = t.login("admin").await;
    let lanes: String = cuakhau_data::BUNDLED_LANES
        .lines()
        .map(|l| if l.starts_with("huu-nghi-cn-entry-1,") { l.replacen(",13,", ",14,", 1) } else { l.to_string() })
        .map(|l| l + "\n")
        .collect();
    let req = axum::http::Request::post("/api/v1/reference/lanes")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(lanes))
        .unwrap();
    let r = t.send(req).await;
    assert_eq!(r.json()["updated"], 1, "{}", r.text());
    let capacity =
        |v: &Value| v["lanes"].as_array().unwrap().iter().find(|l| l["id"] == "huu-nghi-cn-entry-1").unwrap()["capacity_per_hour"].clone();
    let read = t.get("/api/v1/gate-pairs/huu-nghi/queue?direction=export").await.json();
    assert_eq!(capacity(&read), 14, "the read straight after an import shows it");
    let sent = next_board(&mut stream, std::time::Duration::from_secs(5)).await;
    assert_eq!(capacity(&sent), 14, "the stream is sent an import");
}

#[tokio::test]
async fn every_change_a_board_shows_reaches_its_reads_and_its_streams_on_sqlite() {
    every_change_a_board_shows_reaches_its_reads_and_its_streams(Engine::Sqlite).await;
}

#[tokio::test]
async fn every_change_a_board_shows_reaches_its_reads_and_its_streams_on_postgres() {
    every_change_a_board_shows_reaches_its_reads_and_its_streams(Engine::Postgres).await;
}

/// Two nodes, each following the log: the streams are told by the follower, not the use cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_a_board_shows_reaches_its_reads_and_its_streams_over_two_nodes_on_postgres() {
    every_change_a_board_shows_reaches_its_reads_and_its_streams(Engine::PostgresNodes(2)).await;
}
