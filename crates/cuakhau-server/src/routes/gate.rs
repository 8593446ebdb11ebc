//! The live gate over HTTP: yard check-in by plate, the virtual queue, dispatch rounds that call
//! trucks to free lanes, the officers' clearance desks, fees, the public queue board with its
//! event stream, and the driver's own view.
//!
//! Every decision is the core's (`goods::gate::dispatch`, `Trip::act`, `select_channel`); this
//! module gathers what those functions need from the store and writes back what they decide.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PeerAddr, ReqLang};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cuakhau_api::{
    DispatchOut, FeeIn, FeeOut, FinishIn, HourAheadOut, LaneStateOut, PositionIn, PositionOut, QueueEntryOut, QueueOut, StepOut, TrackOut,
    TripOut, When, YardCheckIn,
};
use cuakhau_core::auth::{Action, Agency, Role};
use cuakhau_core::goods::callforward::estimated_wait_s;
use cuakhau_core::goods::clearance::{Act, ClearanceError, Outcome, Step, StepState, Trip, select_channel};
use cuakhau_core::goods::gate::{self as core_gate, TripStatus};
use cuakhau_core::goods::parties::{Plate, VehicleKind};
use cuakhau_core::goods::slots::{CongestionLevel, SlotPolicy, Suspension, side_works_at};
use cuakhau_core::refdata::LaneClass;
use cuakhau_core::{Direction, FieldError, GatePair, GatePairId, Lang, Msg, Problem, Side, Timestamp, time};
use cuakhau_store::Actor;
use cuakhau_store::goods::DeclarationRecord;
use cuakhau_store::trips::{Fee, NewTrip, Position, TripQuery, TripRecord};
use serde::Deserialize;
use std::convert::Infallible;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gate-pairs/{id}/yard", post(yard_check_in))
        .route("/gate-pairs/{id}/dispatch", post(dispatch))
        .route("/gate-pairs/{id}/queue", get(queue))
        .route("/gate-pairs/{id}/queue/stream", get(queue_stream))
        .route("/declarations/{id}/queue", post(join_virtual_queue))
        .route("/declarations/{id}/trip", get(trip_of_declaration))
        .route("/worklist", get(worklist))
        .route("/trips/{id}", get(show_trip))
        .route("/trips/{id}/steps/{index}/start", post(start_step))
        .route("/trips/{id}/steps/{index}/finish", post(finish_step))
        .route("/trips/{id}/fee", post(record_fee))
        .route("/track/{declaration}", get(track))
        .route("/track/{declaration}/position", post(report_position))
}

/// Something changed at a gate pair: boards and streams refresh.
#[derive(Debug, Clone)]
pub struct GateEvent {
    pub gate_pair: String,
}

pub(crate) fn publish(st: &AppState, pair: &GatePairId) {
    st.boards.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // No subscriber is fine: nobody is watching.
    let _ = st.events.send(GateEvent { gate_pair: pair.as_str().to_string() });
}

/// One board snapshot per (gate pair, direction, detail) and change, shared by all the streams
/// watching it: a thousand phones on one board cost one snapshot per change, not a thousand.
/// Single flight: the first stream to find the board stale builds it while the others wait for
/// that one build; the board is kept serialised, so each viewer only copies bytes.
#[derive(Debug, Default)]
pub struct BoardCache {
    /// Bumped by every change at any gate pair.
    generation: std::sync::atomic::AtomicU64,
    boards: std::sync::Mutex<std::collections::HashMap<BoardKey, BoardSlot>>,
}

/// Gate pair, direction, full plates or not.
type BoardKey = (String, Direction, bool);
/// One board's latest build; the async lock makes its rebuild a single flight.
type BoardSlot = std::sync::Arc<tokio::sync::Mutex<Option<std::sync::Arc<SharedBoard>>>>;

/// A board as every viewer gets it.
#[derive(Debug)]
pub struct SharedBoard {
    /// The change generation it was made at, and when.
    generation: u64,
    made: std::time::Instant,
    /// The board's own time (the event id).
    at: String,
    /// The board as JSON.
    json: String,
}

impl BoardCache {
    /// A snapshot is reused while nothing changed and for at most this long (times in it move on).
    const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);
}

/// The board for a stream: the shared snapshot when it is current, else one fresh build that
/// every waiting stream shares.
async fn shared_snapshot(
    st: &AppState,
    lang: Lang,
    pair: &GatePairId,
    direction: Direction,
    detail: bool,
) -> Result<std::sync::Arc<SharedBoard>, ApiError> {
    let key = (pair.as_str().to_string(), direction, detail);
    let slot = st.boards.boards.lock().expect("not poisoned").entry(key).or_default().clone();
    let mut cell = slot.lock().await;
    let generation = st.boards.generation.load(std::sync::atomic::Ordering::SeqCst);
    if let Some(b) = cell.as_ref().filter(|b| b.generation == generation && b.made.elapsed() < BoardCache::MAX_AGE) {
        return Ok(b.clone());
    }
    let doc = snapshot(st, lang, pair, direction, detail).await?;
    let json = serde_json::to_string(&doc).unwrap_or_default();
    let board = std::sync::Arc::new(SharedBoard { generation, made: std::time::Instant::now(), at: doc.at.utc.clone(), json });
    *cell = Some(board.clone());
    Ok(board)
}

fn opt_when(t: Option<Timestamp>) -> Option<When> {
    t.map(When::from)
}

fn step_out(index: usize, step: &Step, state: &StepState, direction: Direction) -> StepOut {
    let (side, agency) = match step {
        Step::Agency { side, agency } => (Some(side.code().to_string()), agency.code().to_string()),
        Step::Handover => (Some(direction.exit_side().code().to_string()), "border-guard".into()),
    };
    let (since, at, reason) = match state {
        StepState::Pending => (None, None, None),
        StepState::InProgress { since } => (Some(*since), None, None),
        StepState::Held { since, reason } => (Some(*since), None, Some(reason.clone())),
        StepState::Passed { at } => (None, Some(*at), None),
        StepState::Refused { at, reason } => (None, Some(*at), Some(reason.clone())),
    };
    StepOut { index, step: step.code(), side, agency, state: state.code().into(), since: opt_when(since), at: opt_when(at), reason }
}

pub(crate) fn trip_out(t: &TripRecord) -> TripOut {
    TripOut {
        id: t.id,
        declaration_id: t.declaration_id,
        gate_pair: t.gate_pair.as_str().into(),
        direction: t.direction.code().into(),
        enterprise: t.enterprise.clone(),
        plate: t.plate.display.clone(),
        class: t.class.code().into(),
        commodity: t.commodity.clone(),
        status: t.status.code().into(),
        lane: t.lane.clone(),
        channel: t.trip.channel.code().into(),
        channel_reason: t.channel_reason.clone(),
        slot: opt_when(t.slot),
        spoils_at: opt_when(t.spoils_at),
        joined_at: t.joined_at.into(),
        yard_at: opt_when(t.yard_at),
        called_at: opt_when(t.called_at),
        call_deadline: opt_when(t.call_deadline),
        calls: t.calls,
        current_step: t.trip.current(),
        steps: t.trip.steps().iter().enumerate().map(|(i, (s, st))| step_out(i, s, st, t.direction)).collect(),
        eta: opt_when(t.eta),
        position: t.position.map(|p| PositionOut { lat: p.lat, lon: p.lon, at: p.at.into() }),
        fee: t.fee.as_ref().map(|f| FeeOut { amount: f.amount, currency: f.currency.clone(), receipt: f.receipt.clone() }),
    }
}

fn pair_id(lang: Lang, id: &str) -> Result<GatePairId, ApiError> {
    GatePairId::parse(id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))
}

async fn gate_pair(st: &AppState, lang: Lang, id: &GatePairId) -> Result<(GatePair, Vec<cuakhau_core::Lane>), ApiError> {
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    let gp = data
        .gate_pairs
        .iter()
        .find(|g| g.id == *id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(lang, format!("gate pair {}", id.as_str())))?;
    let lanes = data.lanes.iter().filter(|l| l.gate_pair == *id).cloned().collect();
    Ok((gp, lanes))
}

async fn suspensions_now(st: &AppState, lang: Lang, pair: &GatePairId, now: Timestamp) -> Result<Vec<Suspension>, ApiError> {
    let all = st.suspensions(pair, now).await.map_err(|e| ApiError::store(lang, e))?;
    Ok(all.iter().filter(|s| s.from <= now && now < s.until).cloned().collect())
}

fn direction_param(lang: Lang, d: &str) -> Result<Direction, ApiError> {
    Direction::parse("direction", d).map_err(|e| ApiError::field(lang, e))
}

/// Builds the trip a declaration starts when it joins a queue: its lane class, commodity, slot,
/// spoil-by time, channel (by the risk rules) and clearance steps.
pub(crate) async fn new_trip(
    st: &AppState,
    lang: Lang,
    d: &DeclarationRecord,
    status: TripStatus,
    now: Timestamp,
) -> Result<NewTrip, ApiError> {
    let booking = st.store.live_booking(d.id).await.map_err(|e| ApiError::store(lang, e))?;
    let class = if d.vehicle_kind == VehicleKind::Agv {
        LaneClass::Agv
    } else if d.declaration.is_perishable() {
        LaneClass::Perishable
    } else {
        LaneClass::General
    };
    let (channel, reason) = select_channel(&st.config.risk_rules, &d.declaration);
    Ok(NewTrip {
        declaration_id: d.id,
        status,
        class,
        commodity: d.declaration.consignments.first().map(|c| c.hs.as_str()[..2].to_string()).unwrap_or_default(),
        slot: booking.map(|b| b.hour),
        spoils_at: d.declaration.shelf_life_h().map(|h| now.plus_seconds(h as i64 * 3600)),
        trip: Trip::new(d.direction, channel, d.declaration.needs_quarantine()),
        channel_reason: reason,
        yard_capacity: st.config.gate_rules.yard_capacity,
    })
}

#[utoipa::path(post, path = "/api/v1/gate-pairs/{id}/yard", tag = "gate", request_body = YardCheckIn, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 404, description = "No accepted declaration for the plate", body = cuakhau_api::Problem),
              (status = 409, description = "Yard full, or already checked in", body = cuakhau_api::Problem)))]
pub async fn yard_check_in(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<YardCheckIn>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    // Only someone who runs a yard of this pair may ask which declaration a plate has.
    let can = |side| {
        cuakhau_core::auth::allows(caller.user.as_ref().map_or(&[][..], |u| &u.roles[..]), Action::OperateGate { gate_pair: &pair, side })
    };
    caller.user()?;
    if !can(Side::Vn) && !can(Side::Cn) {
        return Err(ApiError::forbidden(lang));
    }
    let key = Plate::key_of(&b.plate);
    if key.len() < 4 {
        return Err(ApiError::field(lang, FieldError::new("plate", Problem::Other("a plate as read at the gate"))));
    }
    let now = st.clock.now();
    let d = st
        .store
        .declaration_for_plate(&pair, &key, now)
        .await
        .map_err(|e| ApiError::store(lang, e))?
        .ok_or_else(|| ApiError::not_found(lang, format!("accepted declaration for plate {} at {}", b.plate.trim(), pair.as_str())))?;
    let user = caller.require(Action::OperateGate { gate_pair: &pair, side: d.direction.exit_side() })?;
    let t = new_trip(&st, lang, &d, TripStatus::Yard, now).await?;
    let rec = st.store.join_queue(t, Actor { name: &user.username, at: now }).await.map_err(|e| ApiError::store(lang, e))?;
    publish(&st, &pair);
    Ok((StatusCode::CREATED, Json(trip_out(&rec))).into_response())
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/queue", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn join_virtual_queue(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let d = super::goods::load(&st, &caller, id).await?;
    let user = caller.require(Action::Declare { enterprise: &d.enterprise })?;
    let now = st.clock.now();
    let t = new_trip(&st, lang, &d, TripStatus::Virtual, now).await?;
    let rec = st.store.join_queue(t, Actor { name: &user.username, at: now }).await.map_err(|e| ApiError::store(lang, e))?;
    publish(&st, &d.gate_pair);
    Ok((StatusCode::CREATED, Json(trip_out(&rec))).into_response())
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}/trip", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn trip_of_declaration(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<TripOut>, ApiError> {
    super::goods::load(&st, &caller, id).await?;
    let t = st.store.trip_of_declaration(id).await.map_err(|e| ApiError::store(caller.lang, e))?;
    t.map(|t| Json(trip_out(&t))).ok_or_else(|| ApiError::not_found(caller.lang, format!("trip of declaration {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectionQuery {
    /// `export` or `import`.
    pub direction: String,
}

/// One dispatch round at a gate pair in a direction: unanswered calls go back to the queue,
/// no-shows lose their slots, then each free exit-side lane calls the truck the core picks.
pub async fn run_round(st: &AppState, lang: Lang, pair: &GatePairId, direction: Direction, actor: &str) -> Result<DispatchOut, ApiError> {
    let now = st.clock.now();
    let err = |e| ApiError::store(lang, e);
    let (gp, lanes) = gate_pair(st, lang, pair).await?;
    let who = Actor { name: actor, at: now };
    let requeued = st.store.requeue_unanswered(pair, now, who.clone()).await.map_err(err)?;
    let no_shows =
        st.store.release_no_shows(pair, now.plus_seconds(-SlotPolicy::default().no_show_grace_s), who.clone()).await.map_err(err)?;
    let trips = st
        .store
        .trips(TripQuery {
            gate_pair: Some(pair),
            direction: Some(direction),
            statuses: &[TripStatus::Virtual, TripStatus::Yard, TripStatus::Called, TripStatus::Clearing],
            ..Default::default()
        })
        .await
        .map_err(err)?;
    let exit = direction.exit_side();
    let suspensions = suspensions_now(st, lang, pair, now).await?;
    let held: Vec<&str> = trips.iter().filter(|t| t.trip.exit_release().is_none()).filter_map(|t| t.lane.as_deref()).collect();
    let free: Vec<_> = lanes
        .iter()
        .filter(|l| l.side == exit && l.direction == direction && l.active && !held.contains(&l.id.as_str()))
        .map(|l| (l.id.clone(), l.class))
        .collect();
    // A closed or suspended exit side calls nobody; a "pre-registered only" window calls booked trucks.
    let waiting: Vec<_> = trips
        .iter()
        .filter(|t| t.status.is_waiting() && side_works_at(&gp, &suspensions, exit, now, t.slot.is_some()))
        .map(|t| t.candidate())
        .collect();
    let in_flight = trips.iter().filter(|t| matches!(t.status, TripStatus::Called | TripStatus::Clearing)).count() as u32;
    let calls = core_gate::dispatch(&free, &waiting, &st.config.gate_rules, now, in_flight, core_gate::far_side_limit(&lanes, direction));
    let called = if calls.is_empty() { vec![] } else { st.store.call_trips(&calls, who).await.map_err(err)? };
    if !(called.is_empty() && requeued.is_empty() && no_shows.is_empty()) {
        publish(st, pair);
    }
    Ok(DispatchOut { requeued, no_shows: no_shows.iter().map(|b| b.id).collect(), called: called.iter().map(trip_out).collect() })
}

#[utoipa::path(post, path = "/api/v1/gate-pairs/{id}/dispatch", tag = "gate", params(("id" = String, Path), DirectionQuery), security(("bearer" = [])),
    responses((status = 200, body = DispatchOut), (status = 403, body = cuakhau_api::Problem)))]
pub async fn dispatch(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DirectionQuery>,
) -> Result<Json<DispatchOut>, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    let direction = direction_param(lang, &q.direction)?;
    let user = caller.require(Action::OperateGate { gate_pair: &pair, side: direction.exit_side() })?;
    Ok(Json(run_round(&st, lang, &pair, direction, &user.username).await?))
}

/// Hourly capacity of the exit-side lanes a truck of `class` may use.
fn serving_capacity(lanes: &[cuakhau_core::Lane], direction: Direction, class: LaneClass) -> u32 {
    lanes
        .iter()
        .filter(|l| l.side == direction.exit_side() && l.direction == direction && l.active)
        .filter(|l| match class {
            LaneClass::Agv => l.class == LaneClass::Agv,
            _ => l.class != LaneClass::Agv,
        })
        .map(|l| l.capacity_per_hour)
        .sum()
}

/// The queue board of a pair in a direction; plates in full only for `detail`.
pub(crate) async fn snapshot(
    st: &AppState,
    lang: Lang,
    pair: &GatePairId,
    direction: Direction,
    detail: bool,
) -> Result<QueueOut, ApiError> {
    let now = st.clock.now();
    let err = |e| ApiError::store(lang, e);
    let (gp, lanes) = gate_pair(st, lang, pair).await?;
    let live = [TripStatus::Virtual, TripStatus::Yard, TripStatus::Called, TripStatus::Clearing];
    let all = st.store.trips(TripQuery { gate_pair: Some(pair), statuses: &live, ..Default::default() }).await.map_err(err)?;
    let trips: Vec<&TripRecord> = all.iter().filter(|t| t.direction == direction).collect();
    let count = |s: TripStatus| trips.iter().filter(|t| t.status == s).count() as u32;
    let waiting: Vec<_> = trips.iter().filter(|t| t.status.is_waiting()).map(|t| t.candidate()).collect();
    let order = core_gate::queue_order(&waiting, st.config.gate_rules.policy);
    let by_id = |id: u64| trips.iter().find(|t| t.id as u64 == id).expect("ordered from these trips");
    let plate = |t: &TripRecord| if detail { t.plate.display.clone() } else { core_gate::mask_plate(&t.plate.display) };
    // While the exit side is closed, nobody is called before it opens again.
    let exit_gate = gp.gate(direction.exit_side());
    let closed_s = exit_gate.hours.as_ref().and_then(|h| h.minutes_until_open(now, &exit_gate.zone)).unwrap_or(0) as i64 * 60;
    let queue = order
        .iter()
        .map(|(id, pos)| {
            let t = by_id(id.0);
            let cap = serving_capacity(&lanes, direction, t.class);
            QueueEntryOut {
                position: *pos,
                plate: plate(t),
                class: t.class.code().into(),
                status: t.status.code().into(),
                booked: t.slot.is_some(),
                estimated_call: estimated_wait_s(*pos, cap).map(|s| now.plus_seconds(closed_s + s).into()),
                trip_id: detail.then_some(t.id),
            }
        })
        .collect();
    let lane_states = lanes
        .iter()
        .filter(|l| l.direction == direction)
        .map(|l| {
            let on = trips.iter().find(|t| t.lane.as_deref() == Some(l.id.as_str()) && t.trip.exit_release().is_none());
            LaneStateOut {
                id: l.id.as_str().into(),
                name: l.name.clone(),
                side: l.side.code().into(),
                class: l.class.code().into(),
                capacity_per_hour: l.capacity_per_hour,
                active: l.active,
                plate: on.map(|t| plate(t)),
                trip_status: on.map(|t| t.status.code().into()),
            }
        })
        .collect();
    let start = cuakhau_core::goods::slots::hour_of(now);
    // The slot calendar's own figures: the lanes' capacity in hours both sides work, not only booked buckets.
    let booked_ahead = super::goods::calendar(st, lang, pair, direction, start, 6)
        .await?
        .into_iter()
        .enumerate()
        .map(|(k, h)| HourAheadOut {
            hour: start.plus_seconds(k as i64 * 3600).into(),
            capacity: h.capacity.values().sum(),
            booked: h.booked.values().sum(),
        })
        .collect();
    let waiting_both = all.iter().filter(|t| t.status.is_waiting()).count() as u64;
    let general_waiting = waiting.iter().filter(|c| c.truck.class != LaneClass::Agv).count();
    let demo = st.store.setting("demo").await.map_err(err)?.is_some();
    Ok(QueueOut {
        gate_pair: pair.as_str().into(),
        direction: direction.code().into(),
        at: now.into(),
        vn_open: gp.vn.is_open_at(now),
        cn_open: gp.cn.is_open_at(now),
        congestion: CongestionLevel::of(waiting_both).code().into(),
        waiting_both_directions: waiting_both,
        yard: count(TripStatus::Yard),
        virtual_queue: count(TripStatus::Virtual),
        called: count(TripStatus::Called),
        clearing: count(TripStatus::Clearing),
        far_side_limit: core_gate::far_side_limit(&lanes, direction),
        expected_wait_s: estimated_wait_s(general_waiting + 1, serving_capacity(&lanes, direction, LaneClass::General))
            .map(|s| closed_s + s),
        lanes: lane_states,
        booked_ahead,
        queue,
        demo,
    })
}

fn sees_detail(caller: &Caller, pair: &GatePairId) -> bool {
    caller.user.as_ref().is_some_and(|u| cuakhau_core::auth::allows(&u.roles, Action::ReadGateDetail { gate_pair: pair }))
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/queue", tag = "gate", params(("id" = String, Path), DirectionQuery),
    responses((status = 200, body = QueueOut), (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn queue(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DirectionQuery>,
) -> Result<Json<QueueOut>, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    let direction = direction_param(lang, &q.direction)?;
    Ok(Json(snapshot(&st, lang, &pair, direction, sees_detail(&caller, &pair)).await?))
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/queue/stream", tag = "gate", params(("id" = String, Path), DirectionQuery),
    responses((status = 200, description = "Server-sent events: a `queue` event with a QueueOut document now and after every change", content_type = "text/event-stream")))]
pub async fn queue_stream(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DirectionQuery>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    let direction = direction_param(lang, &q.direction)?;
    let detail = sees_detail(&caller, &pair);
    // Fail now (404) rather than inside the stream.
    let first = shared_snapshot(&st, lang, &pair, direction, detail).await?;
    let rx = st.events.subscribe();
    let closing = st.closing.subscribe();
    if *closing.borrow() {
        return Err(ApiError::new(lang, StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable));
    }
    let state = (st, rx, closing, Some(first));
    let stream = futures_util::stream::unfold(state, move |(st, mut rx, mut closing, first)| {
        let pair = pair.clone();
        async move {
            let doc = match first {
                Some(doc) => doc,
                None => loop {
                    let got = tokio::select! {
                        got = rx.recv() => got,
                        // The server is stopping: end the stream so the browser reconnects.
                        _ = closing.wait_for(|c| *c) => return None,
                    };
                    match got {
                        Ok(ev) if ev.gate_pair != pair.as_str() => continue,
                        // Missed events: one fresh snapshot covers them all.
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            match shared_snapshot(&st, lang, &pair, direction, detail).await {
                                Ok(doc) => break doc,
                                Err(_) => continue,
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                },
            };
            // Every event carries the board's time as its id (a browser sends it back as
            // Last-Event-ID when it reconnects: the first event then is the current board) and
            // asks for a reconnect within two seconds.
            let ev = Event::default().event("queue").id(doc.at.clone()).retry(std::time::Duration::from_secs(2)).data(&doc.json);
            Some((Ok::<_, Infallible>(ev), (st, rx, closing, None)))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// The officer's (side, agency) that may act on `step` of a trip at `pair`, from the caller's roles.
fn officer_for(caller: &Caller, pair: &GatePairId, step: &Step, direction: Direction) -> Result<(Side, Agency), ApiError> {
    let u = caller.user()?;
    let want: Vec<(Side, Agency)> = match step {
        Step::Agency { side, agency } => vec![(*side, *agency)],
        // The hand-over is confirmed by a border guard of either side.
        Step::Handover => vec![(direction.exit_side(), Agency::BorderGuard), (direction.exit_side().other(), Agency::BorderGuard)],
    };
    want.into_iter()
        .find(|(side, agency)| cuakhau_core::auth::allows(&u.roles, Action::ActOnStep { gate_pair: pair, side: *side, agency: *agency }))
        .ok_or_else(|| ApiError::new(caller.lang, StatusCode::FORBIDDEN, Msg::Step { error: ClearanceError::NotYourStep }))
}

/// The trip, if the caller may see it: officers in scope, and the declarant.
async fn load_trip(st: &AppState, caller: &Caller, id: i64) -> Result<TripRecord, ApiError> {
    let lang = caller.lang;
    let u = caller.user()?;
    let t =
        st.store.trip(id).await.map_err(|e| ApiError::store(lang, e))?.ok_or_else(|| ApiError::not_found(lang, format!("trip {id}")))?;
    if cuakhau_core::auth::allows(&u.roles, Action::ReadDeclaration { enterprise: &t.enterprise, gate_pair: &t.gate_pair }) {
        Ok(t)
    } else {
        Err(ApiError::not_found(lang, format!("trip {id}")))
    }
}

#[utoipa::path(get, path = "/api/v1/trips/{id}", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show_trip(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<TripOut>, ApiError> {
    Ok(Json(trip_out(&load_trip(&st, &caller, id).await?)))
}

/// The page of `GET /worklist`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// The cursor from the previous page's `Link: <…>; rel="next"` header.
    pub cursor: Option<i64>,
    /// Page size, 1 to 500 (default 200).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/worklist", tag = "gate", params(WorklistQuery), security(("bearer" = [])),
    responses((status = 200, description = "Trips whose current step is the caller's (side, agency) at a gate pair in scope, oldest first; a `Link` header with `rel=\"next\"` when there are more", body = Vec<TripOut>,
               headers(("link" = String, description = "The next page, when there is one"))),
              (status = 401, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn worklist(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<WorklistQuery>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let u = caller.user()?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(lang, FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 500.0 })));
    }
    let mine = |t: &TripRecord| {
        let Some(i) = t.trip.current() else { return false };
        let step = t.trip.steps()[i].0;
        u.roles.iter().any(|r| match r {
            Role::Officer { side, agency, gate_pair } => {
                gate_pair.as_ref().is_none_or(|g| *g == t.gate_pair)
                    && match step {
                        Step::Agency { side: s, agency: a } => s == *side && a == *agency,
                        Step::Handover => *agency == Agency::BorderGuard,
                    }
            }
            _ => false,
        })
    };
    // The scope's gate pairs and the live statuses are filtered in the query; whose step it is
    // is read from the steps, chunk by chunk, until the page is full: nothing is cut silently.
    let scope = cuakhau_core::auth::gate_detail_scope(&u.roles);
    let mut after = q.cursor;
    let mut page = Vec::new();
    let next = loop {
        let chunk = st
            .store
            .trips(TripQuery {
                statuses: &[TripStatus::Called, TripStatus::Clearing],
                gate_pairs: scope.as_deref(),
                after,
                limit: 500,
                ..Default::default()
            })
            .await
            .map_err(|e| ApiError::store(lang, e))?;
        let exhausted = chunk.len() < 500;
        for t in &chunk {
            after = Some(t.id);
            if mine(t) {
                page.push(trip_out(t));
                if page.len() == limit as usize {
                    break;
                }
            }
        }
        if page.len() == limit as usize {
            break after.map(|c| format!("/api/v1/worklist?limit={limit}&cursor={c}"));
        }
        if exhausted {
            break None;
        }
    };
    Ok(super::with_next(Json(page).into_response(), next))
}

async fn act(st: &AppState, caller: &Caller, id: i64, index: usize, act: Act) -> Result<Json<TripOut>, ApiError> {
    let lang = caller.lang;
    let t = load_trip(st, caller, id).await?;
    let (step, _) = t.trip.steps().get(index).ok_or_else(|| ApiError::not_found(lang, format!("step {index} of trip {id}")))?;
    let officer = officer_for(caller, &t.gate_pair, step, t.direction)?;
    let user = caller.user()?;
    let now = st.clock.now();
    let (gp, _) = gate_pair(st, lang, &t.gate_pair).await?;
    let suspensions = suspensions_now(st, lang, &t.gate_pair, now).await?;
    let open = side_works_at(&gp, &suspensions, step.side(t.direction), now, t.slot.is_some());
    let r = st
        .store
        .trip_step(id, index, officer, act, open, Actor { name: &user.username, at: now })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    match r {
        Ok(rec) => {
            publish(st, &t.gate_pair);
            Ok(Json(trip_out(&rec)))
        }
        Err(error) => {
            let status = match error {
                ClearanceError::NotYourStep => StatusCode::FORBIDDEN,
                ClearanceError::NoReason => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let mut e = ApiError::new(lang, status, Msg::Step { error: error.clone() });
            if error == ClearanceError::NoReason {
                e.field = Some("reason".into());
            }
            Err(e)
        }
    }
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/steps/{index}/start", tag = "gate", params(("id" = i64, Path), ("index" = usize, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn start_step(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, index)): Path<(i64, usize)>,
) -> Result<Json<TripOut>, ApiError> {
    act(&st, &caller, id, index, Act::Start).await
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/steps/{index}/finish", tag = "gate", request_body = FinishIn, params(("id" = i64, Path), ("index" = usize, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn finish_step(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, index)): Path<(i64, usize)>,
    ApiJson(b): ApiJson<FinishIn>,
) -> Result<Json<TripOut>, ApiError> {
    let reason = b.reason.trim().to_string();
    if reason.chars().count() > 500 {
        return Err(ApiError::field(caller.lang, FieldError::new("reason", Problem::TooLong { max: 500 })));
    }
    let outcome = match b.outcome.as_str() {
        "pass" => Outcome::Pass,
        "hold" => Outcome::Hold { reason },
        "refuse" => Outcome::Refuse { reason },
        _ => {
            return Err(ApiError::field(
                caller.lang,
                FieldError::new("outcome", Problem::NotOneOf { allowed: &["pass", "hold", "refuse"] }),
            ));
        }
    };
    act(&st, &caller, id, index, Act::Finish(outcome)).await
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/fee", tag = "gate", request_body = FeeIn, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn record_fee(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<FeeIn>,
) -> Result<Json<TripOut>, ApiError> {
    let lang = caller.lang;
    let t = load_trip(&st, &caller, id).await?;
    let user = caller.require(Action::OperateGate { gate_pair: &t.gate_pair, side: t.direction.exit_side() })?;
    if !(b.amount.is_finite() && b.amount > 0.0 && b.amount < 1e12) {
        return Err(ApiError::field(lang, FieldError::new("amount", Problem::OutOfRange { min: 0.0, max: 1e12 })));
    }
    if !["VND", "CNY"].contains(&b.currency.as_str()) {
        return Err(ApiError::field(lang, FieldError::new("currency", Problem::NotOneOf { allowed: &["VND", "CNY"] })));
    }
    let receipt = cuakhau_core::validate::text("receipt", &b.receipt, 64).map_err(|e| ApiError::field(lang, e))?;
    let fee = Fee { amount: b.amount, currency: b.currency, receipt };
    let rec =
        st.store.record_fee(id, &fee, Actor { name: &user.username, at: st.clock.now() }).await.map_err(|e| ApiError::store(lang, e))?;
    Ok(Json(trip_out(&rec)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// The declaration's tracking code (16 characters, on the booking confirmation and in the
    /// driver's link; case and spaces do not matter).
    pub code: String,
}

/// The declaration a driver tracks: found by number, proven by its unguessable tracking code
/// (a plate is no secret: the public board shows most of it). Wrong codes from one address are
/// throttled like failed sign-ins.
async fn tracked(
    st: &AppState,
    lang: Lang,
    peer: Option<std::net::IpAddr>,
    declaration: i64,
    code: &str,
) -> Result<DeclarationRecord, ApiError> {
    let now = st.clock.now();
    let keys: Vec<String> = peer.map(|ip| format!("track:{ip}")).into_iter().collect();
    let wait = st.logins.wait_s(&keys, now);
    if wait > 0 {
        return Err(ApiError::new(lang, StatusCode::TOO_MANY_REQUESTS, Msg::TooManyAttempts { retry_after_s: wait }));
    }
    let nf = || ApiError::not_found(lang, format!("declaration {declaration} with this tracking code"));
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    let d = st.store.declaration(declaration).await.map_err(|e| ApiError::store(lang, e))?;
    match d {
        Some(d) if !d.track_code.is_empty() && crate::auth::same_secret(&d.track_code, &code) => Ok(d),
        _ => {
            st.logins.failed(&keys, now);
            Err(nf())
        }
    }
}

async fn track_out(st: &AppState, lang: Lang, d: &DeclarationRecord) -> Result<TrackOut, ApiError> {
    let err = |e| ApiError::store(lang, e);
    let trip = st.store.trip_of_declaration(d.id).await.map_err(err)?;
    let booking = st.store.live_booking(d.id).await.map_err(err)?.map(|b| super::goods::booking_out(&b));
    let board = snapshot(st, lang, &d.gate_pair, d.direction, true).await?;
    let entry = trip.as_ref().and_then(|t| board.queue.iter().find(|q| q.trip_id == Some(t.id)));
    Ok(TrackOut {
        declaration_id: d.id,
        gate_pair: d.gate_pair.as_str().into(),
        direction: d.direction.code().into(),
        plate: d.plate.display.clone(),
        status: trip.as_ref().map_or("none".into(), |t| t.status.code().into()),
        position: entry.map(|q| q.position),
        waiting_total: board.queue.len(),
        estimated_call: entry.and_then(|q| q.estimated_call.clone()),
        your_turn: trip.as_ref().is_some_and(|t| t.status == TripStatus::Called),
        lane: trip.as_ref().and_then(|t| t.lane.clone()),
        call_deadline: trip.as_ref().and_then(|t| opt_when(t.call_deadline)),
        booking,
        current_step: trip.as_ref().and_then(|t| t.trip.current().map(|i| t.trip.steps()[i].0.code())),
    })
}

#[utoipa::path(get, path = "/api/v1/track/{declaration}", tag = "gate", params(("declaration" = i64, Path), TrackQuery),
    responses((status = 200, body = TrackOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn track(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    PeerAddr(peer): PeerAddr,
    Path(declaration): Path<i64>,
    ApiQuery(q): ApiQuery<TrackQuery>,
) -> Result<Json<TrackOut>, ApiError> {
    let d = tracked(&st, lang, peer, declaration, &q.code).await?;
    Ok(Json(track_out(&st, lang, &d).await?))
}

#[utoipa::path(post, path = "/api/v1/track/{declaration}/position", tag = "gate", request_body = PositionIn, params(("declaration" = i64, Path), TrackQuery),
    responses((status = 200, body = TrackOut), (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn report_position(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    PeerAddr(peer): PeerAddr,
    Path(declaration): Path<i64>,
    ApiQuery(q): ApiQuery<TrackQuery>,
    ApiJson(b): ApiJson<PositionIn>,
) -> Result<Response, ApiError> {
    if !(-90.0..=90.0).contains(&b.lat) {
        return Err(ApiError::field(lang, FieldError::new("lat", Problem::OutOfRange { min: -90.0, max: 90.0 })));
    }
    if !(-180.0..=180.0).contains(&b.lon) {
        return Err(ApiError::field(lang, FieldError::new("lon", Problem::OutOfRange { min: -180.0, max: 180.0 })));
    }
    let eta = match &b.eta {
        Some(s) => Some(
            time::parse_rfc3339(s)
                .ok_or_else(|| ApiError::field(lang, FieldError::new("eta", Problem::Other("an RFC 3339 time with offset"))))?,
        ),
        None => None,
    };
    let d = tracked(&st, lang, peer, declaration, &q.code).await?;
    let t = st
        .store
        .trip_of_declaration(d.id)
        .await
        .map_err(|e| ApiError::store(lang, e))?
        .ok_or_else(|| ApiError::not_found(lang, format!("trip of declaration {}", d.id)))?;
    let now = st.clock.now();
    // One report per trip every few seconds is all a phone needs; more is refused, not published.
    if let Some(last) = &t.position
        && now.as_micros() - last.at.as_micros() < POSITION_EVERY_S * 1_000_000
    {
        let wait = POSITION_EVERY_S - (now.as_micros() - last.at.as_micros()) / 1_000_000;
        let mut res = ApiError::new(lang, StatusCode::TOO_MANY_REQUESTS, Msg::TooManyAttempts { retry_after_s: wait }).into_response();
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
        return Ok(res);
    }
    st.store
        .report_position(t.id, Position { lat: b.lat, lon: b.lon, at: now }, eta, Actor { name: "driver", at: now })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    publish(&st, &d.gate_pair);
    Ok(Json(track_out(&st, lang, &d).await?).into_response())
}

/// A trip's position may be reported once in this many seconds.
pub const POSITION_EVERY_S: i64 = 10;
