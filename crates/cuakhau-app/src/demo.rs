//! The demo day: fills an empty database with a realistic day at Kim Thành (exports) and
//! Hữu Nghị (imports), from the start of today in Vietnam until now.
//!
//! Trucks, their cargo, bookings and service times come from the simulator's own generator
//! (`cuakhau_sim::generate`, scenarios in `data/demo/`); the day is then played through the
//! app's real use cases in virtual time: declarations, bookings, yard check-in, dispatch rounds
//! (the core's call-forward), each officer's start and pass. Everything is marked: the `demo`
//! setting is set (the queue board shows it), every audit entry's actor starts with `demo`, and
//! enterprise codes, plates and drivers are invented.

use crate::{App, Clock, Config, Entropy, Ticker};
use cuakhau_core::auth::Agency;
use cuakhau_core::goods::clearance::{Act, Outcome, Step, StepState};
use cuakhau_core::goods::declaration::{ConsignmentFields, DeclEvent};
use cuakhau_core::goods::gate::TripStatus;
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, SlotPolicy, hour_capacity, hour_of, side_works_at};
use cuakhau_core::goods::{Consignment, Trip};
use cuakhau_core::{DeclarationId, Direction, GatePairId, Side, Timestamp, time};
use cuakhau_store::goods::{BookingRequest, NewDeclaration};
use cuakhau_store::trips::{NewTrip, TripQuery};
use cuakhau_store::{Actor, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const EXPORT: &str = include_str!("../../../data/demo/export.toml");
const IMPORT: &str = include_str!("../../../data/demo/import.toml");

/// Why the demo could not be written.
#[derive(Debug)]
pub enum DemoError {
    /// The database already holds goods-flow data; the demo only fills an empty one.
    NotEmpty,
    Store(StoreError),
    Scenario(String),
    /// A use case refused a step of the day.
    App(crate::AppError),
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::NotEmpty => write!(f, "the database already holds declarations or a demo; the demo fills an empty database only"),
            DemoError::Store(e) => write!(f, "{e}"),
            DemoError::Scenario(e) => write!(f, "demo scenario: {e}"),
            DemoError::App(e) => write!(f, "demo day: {e}"),
        }
    }
}

impl From<crate::AppError> for DemoError {
    fn from(e: crate::AppError) -> Self {
        DemoError::App(e)
    }
}

impl From<StoreError> for DemoError {
    fn from(e: StoreError) -> Self {
        DemoError::Store(e)
    }
}

/// What the demo wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub declarations: usize,
    pub bookings: usize,
    pub trips: usize,
    pub crossed: usize,
    pub refused: usize,
    pub waiting: usize,
}

#[derive(Debug)]
struct VirtualClock(Mutex<Timestamp>);
impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("not poisoned")
    }
}

/// Virtual time needs no monotonic clock: the demo's caches never age out during the fill.
#[derive(Debug)]
struct Still;
impl Ticker for Still {
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// The demo signs nobody in: it needs no randomness.
#[derive(Debug)]
struct NoEntropy;
impl Entropy for NoEntropy {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

/// One invented cargo per commodity name of the demo scenarios.
fn cargo(name: &str) -> (&'static str, &'static str, &'static str, Option<u32>, &'static str, VehicleKind) {
    // (HS code, description vi, description zh, shelf life h, certificate, vehicle)
    match name {
        "durian" => ("08106000", "Sầu riêng tươi", "鲜榴莲", Some(96), "DEMO-PC-", VehicleKind::Refrigerated),
        "cassava starch" => ("11081400", "Tinh bột sắn", "木薯淀粉", None, "DEMO-HC-", VehicleKind::Truck),
        "machinery" => ("84295200", "Máy xúc", "挖掘机", None, "", VehicleKind::TractorTrailer),
        "electronic components" => ("85423900", "Linh kiện điện tử", "电子元件", None, "", VehicleKind::Truck),
        _ => ("31023000", "Phân bón", "化肥", None, "", VehicleKind::Truck),
    }
}

const VN_FIRMS: [&str; 3] = ["5300100001", "5300100002", "4900100003"];
const CN_FIRMS: [&str; 3] = ["91451400MA5K00012E", "91450100MA5K00023N", "91451481MA5K000341"];
const VN_DRIVERS: [&str; 4] = ["Nguyễn Văn An (demo)", "Trần Văn Bình (demo)", "Lê Văn Cường (demo)", "Phạm Văn Dũng (demo)"];
const CN_DRIVERS: [&str; 4] = ["黄志强（演示）", "韦建华（演示）", "李明（演示）", "陆海涛（演示）"];

struct DemoTruck {
    at: Timestamp,
    pair: GatePairId,
    direction: Direction,
    commodity: String,
    booked: bool,
    no_show: bool,
    step_us: Vec<i64>,
    n: usize,
}

fn generate(now: Timestamp, seed: u64) -> Result<Vec<DemoTruck>, DemoError> {
    // The demo day starts at midnight in Vietnam (UTC+7, no daylight saving).
    let day = &now.to_rfc3339_in(time::VN_ZONE)[..10];
    let start = format!("{day}T00:00:00+07:00");
    let mut out = Vec::new();
    for (k, text) in [EXPORT, IMPORT].iter().enumerate() {
        let sc = cuakhau_sim::Scenario::from_toml(&text.replace("{{START}}", &start)).map_err(|e| DemoError::Scenario(e.to_string()))?;
        let m = cuakhau_sim::Model::compile(&sc, std::path::Path::new(".")).map_err(|e| DemoError::Scenario(e.to_string()))?;
        for a in cuakhau_sim::generate(&m, seed.wrapping_add(k as u64)) {
            let at = Timestamp(a.at_us);
            if at > now {
                break;
            }
            out.push(DemoTruck {
                at,
                pair: GatePairId::parse(&m.pairs[a.pair].id).map_err(|e| DemoError::Scenario(e.to_string()))?,
                direction: a.direction,
                commodity: m.commodities[a.commodity].name.clone(),
                booked: a.booked,
                no_show: a.no_show,
                step_us: a.step_us,
                n: 0,
            });
        }
    }
    out.sort_by_key(|t| t.at);
    for (i, t) in out.iter_mut().enumerate() {
        t.n = i;
    }
    Ok(out)
}

/// The demo's declarations are reproducible from the seed, their tracking codes too (demo data
/// only: a real declaration's code comes from the server's randomness).
fn new_declaration(t: &DemoTruck, seed: u64) -> Result<NewDeclaration, DemoError> {
    use sha2::Digest;
    let bad = |e: cuakhau_core::FieldError| DemoError::Scenario(e.to_string());
    let (hs, vi, zh, shelf, cert, kind) = cargo(&t.commodity);
    let (firm, plate, side, driver, nationality, origin) = match t.direction {
        Direction::Export => {
            (VN_FIRMS[t.n % 3], format!("24C-{:03}.{:02}", t.n % 1000, t.n % 97), Side::Vn, VN_DRIVERS[t.n % 4], "VN", "VN")
        }
        Direction::Import => (CN_FIRMS[t.n % 3], format!("桂F{:05}", 10000 + t.n), Side::Cn, CN_DRIVERS[t.n % 4], "CN", "CN"),
    };
    let certificate = if cert.is_empty() { String::new() } else { format!("{cert}{:05}", t.n) };
    let consignment = Consignment::parse(
        0,
        &ConsignmentFields {
            hs_code: hs,
            description_vi: vi,
            description_zh: zh,
            packages: 800,
            gross_kg: 18_000.0,
            value: 40_000.0,
            currency: "USD",
            origin,
            shelf_life_h: shelf,
            certificate: &certificate,
        },
    )
    .map_err(bad)?;
    Ok(NewDeclaration {
        enterprise: EnterpriseCode::parse(firm).map_err(bad)?,
        gate_pair: t.pair.clone(),
        direction: t.direction,
        plate: Plate::parse(&plate, side).map_err(bad)?,
        vehicle_kind: kind,
        driver: Some(Driver::parse(driver, nationality, &format!("DEMO{:06}", t.n)).map_err(bad)?),
        consignments: vec![consignment],
        track_code: hex::encode(sha2::Sha256::digest(format!("demo-track:{seed}:{}", t.n)))[..16].to_string(),
    })
}

/// Fills `store` with the demo day up to `now`. Calls `progress(done, total)` as it goes.
pub async fn fill(store: Arc<dyn Store>, now: Timestamp, seed: u64, progress: impl Fn(u64, u64)) -> Result<DemoReport, DemoError> {
    if store.is_empty().await? {
        let data = cuakhau_data::bundled().map_err(|e| DemoError::Scenario(e.to_string()))?;
        store.load_reference(&data, Actor { name: "demo", at: now }).await?;
    }
    if !store
        .declarations(cuakhau_store::goods::DeclarationQuery {
            scope: &cuakhau_core::auth::ReadScope::All,
            states: &[],
            gate_pair: None,
            direction: None,
            before: None,
            limit: 1,
        })
        .await?
        .is_empty()
        || store.setting("demo").await?.is_some()
    {
        return Err(DemoError::NotEmpty);
    }
    let trucks = generate(now, seed)?;
    let clock = Arc::new(VirtualClock(Mutex::new(trucks.first().map_or(now, |t| t.at))));
    let app = App::new(store.clone(), clock.clone(), Arc::new(Still), Arc::new(NoEntropy), Config::default());
    let set = |t: Timestamp| *clock.0.lock().expect("not poisoned") = t;
    let data = app.reference().data().await?;
    let mut report = DemoReport::default();
    let mut by_decl: HashMap<DeclarationId, usize> = HashMap::new();
    let (first, tick) = (trucks.first().map_or(now, |t| t.at), 120);
    let total = ((now.as_micros() - first.as_micros()) / (tick * 1_000_000)).max(1) as u64;
    let mut next = 0;
    let mut t = first;
    let mut k = 0;
    loop {
        t = if t.plus_seconds(tick) > now { now } else { t.plus_seconds(tick) };
        // Arrivals up to `t`: declared and accepted earlier in the day, booked, then at the yard.
        while next < trucks.len() && trucks[next].at <= t {
            let tr = &trucks[next];
            next += 1;
            set(tr.at);
            let d = store
                .create_declaration(new_declaration(tr, seed)?, Actor { name: "demo:enterprise", at: tr.at.plus_seconds(-5400) })
                .await?;
            store.declaration_event(d.id, DeclEvent::Submit, Actor { name: "demo:enterprise", at: tr.at.plus_seconds(-5300) }).await?;
            let accept = DeclEvent::Accept { at: tr.at.plus_seconds(-3600), validity_h: crate::goods::VALIDITY_H };
            let d = store.declaration_event(d.id, accept, Actor { name: "demo:customs", at: tr.at.plus_seconds(-3600) }).await?;
            report.declarations += 1;
            by_decl.insert(d.id, tr.n);
            if tr.booked {
                let gp = data.gate_pairs.iter().find(|g| g.id == tr.pair).expect("demo pairs are bundled");
                let hour = hour_of(tr.at);
                let capacity = hour_capacity(gp, &data.lanes, tr.direction, hour, &[], &SlotPolicy::default());
                let req = BookingRequest {
                    declaration_id: d.id,
                    hour,
                    capacity,
                    candidates: Bucket::candidates(d.declaration.is_perishable(), false),
                    day: hour.to_rfc3339_in(tr.direction.exit_side().zone())[..10].to_string(),
                    per_day_limit: SlotPolicy::default().per_enterprise_per_day,
                    gate_pair: Some(tr.pair.clone()),
                };
                if let cuakhau_store::goods::BookingOutcome::Booked(_) =
                    store.book_slot(req, Actor { name: "demo:enterprise", at: tr.at.plus_seconds(-3000) }).await?
                {
                    report.bookings += 1;
                }
            }
            if tr.no_show {
                continue;
            }
            let nt = NewTrip { yard_capacity: 10_000, ..app.gate().new_trip(&d, TripStatus::Yard, tr.at).await? };
            store.join_queue(nt, Actor { name: "demo:yard-camera", at: tr.at }).await?;
            report.trips += 1;
        }
        set(t);
        for (pair, dir) in [("kim-thanh", Direction::Export), ("huu-nghi", Direction::Import)] {
            let id = GatePairId::parse(pair).expect("a valid id");
            app.gate().run_round(&id, dir, "demo:dispatcher").await?;
        }
        // Officers work each truck's steps: start when the truck is there, pass when done.
        let live = store.trips(TripQuery { statuses: &[TripStatus::Called, TripStatus::Clearing], ..Default::default() }).await?;
        for trip in live {
            let Some(&n) = by_decl.get(&trip.declaration_id) else { continue };
            let mut cur: Trip = trip.trip.clone();
            let mut ready = trip.called_at.unwrap_or(t).plus_seconds(300);
            while let Some(i) = cur.current() {
                let (step, state) = cur.steps()[i].clone();
                let officer = match step {
                    Step::Agency { side, agency } => (side, agency),
                    Step::Handover => (trip.direction.exit_side(), Agency::BorderGuard),
                };
                // The demo day has no suspensions.
                let side_open = |x: Timestamp| {
                    data.gate_pairs
                        .iter()
                        .find(|g| g.id == trip.gate_pair)
                        .is_none_or(|g| side_works_at(g, &[], step.side(trip.direction), x, trip.slot.is_some()))
                };
                let (act, at) = match state {
                    StepState::Pending => {
                        if let Some(StepState::Passed { at }) = i.checked_sub(1).map(|p| cur.steps()[p].1.clone()) {
                            ready = at;
                        }
                        if ready > t || !side_open(ready) {
                            break;
                        }
                        (Act::Start, ready)
                    }
                    StepState::InProgress { since } | StepState::Held { since, .. } => {
                        let done = since.plus_seconds(trucks[n].step_us.get(i).copied().unwrap_or(0) / 1_000_000);
                        if done > t {
                            break;
                        }
                        (Act::Finish(Outcome::Pass), done)
                    }
                    _ => break,
                };
                set(at);
                match store.trip_step(trip.id, i, officer, act, true, Actor { name: "demo:officer", at }).await? {
                    Ok(rec) => cur = rec.trip,
                    Err(_) => break,
                }
            }
        }
        k += 1;
        progress(k.min(total), total);
        if t >= now {
            break;
        }
    }
    set(now);
    let all = store.trips(TripQuery::default()).await?;
    report.crossed = all.iter().filter(|x| x.status == TripStatus::Done).count();
    report.refused = all.iter().filter(|x| x.status == TripStatus::Refused).count();
    report.waiting = all.iter().filter(|x| x.status.is_waiting()).count();
    let marker = format!(
        "{{\"generated_at\":\"{}\",\"seed\":{seed},\"note\":\"demo data: invented enterprises, plates and drivers\"}}",
        now.to_rfc3339()
    );
    store.put_setting("demo", &marker, Actor { name: "demo", at: now }).await?;
    Ok(report)
}
