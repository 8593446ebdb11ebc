//! The live gate over HTTP: yard check-in by plate, the virtual queue, dispatch rounds that call
//! trucks to free lanes, the officers' clearance desks, fees, the public queue board with its
//! event stream, and the driver's own view.
//!
//! Every use case is the app's (`cuakhau_app::gate`); this module parses, calls it for the
//! caller, and turns boards, trips and tracking views into wire types. Board snapshots are kept
//! here as serialised bytes, shared by every stream watching the same board.

use super::reference::pair_id;
use super::stream;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PeerAddr, ReqLang};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cuakhau_api::{
    DispatchOut, FeeIn, FeeOut, FinishIn, HourAheadOut, LaneStateOut, PositionIn, PositionOut, QueueEntryOut, QueueOut, StepOut, TrackOut,
    TripOut, When, WordsOut, YardCheckIn,
};
use cuakhau_app::gate::{Board, QueueEntry, Round, Tracking};
use cuakhau_core::goods::clearance::{Act, Outcome, RiskRule, Step, StepState, channel_reason_in};
use cuakhau_core::goods::gate::TripStatus;
use cuakhau_core::{DeclarationId, TripId};
use cuakhau_core::{Direction, FieldError, Lang, Msg, Problem, Timestamp, time};
use cuakhau_store::trips::TripRecord;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(yard_check_in))
        .routes(routes!(dispatch))
        .routes(routes!(queue))
        .routes(routes!(queue_stream))
        .routes(routes!(join_virtual_queue))
        .routes(routes!(trip_of_declaration))
        .routes(routes!(worklist))
        .routes(routes!(show_trip))
        .routes(routes!(start_step))
        .routes(routes!(finish_step))
        .routes(routes!(record_fee))
        .routes(routes!(track))
        .routes(routes!(report_position))
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

/// Why a trip is in its channel, in each language (`rules`: the app's risk rules).
fn reason_words(rules: &[RiskRule], code: &str) -> WordsOut {
    let say = |l| channel_reason_in(rules, code, l);
    WordsOut { vi: say(Lang::Vi), zh: say(Lang::Zh), en: say(Lang::En) }
}

pub(crate) fn trip_out(t: &TripRecord, rules: &[RiskRule]) -> TripOut {
    TripOut {
        id: t.id.get(),
        declaration_id: t.declaration_id.get(),
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
        channel_reason_words: reason_words(rules, &t.channel_reason),
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

fn direction_param(lang: Lang, d: &str) -> Result<Direction, ApiError> {
    Direction::parse("direction", d).map_err(|e| ApiError::field(lang, e))
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
    let pair = pair_id(caller.lang, &id)?;
    let rec = st.app.gate().yard_check_in(&caller.who, &pair, &b.plate).await.map_err(caller.err())?;
    Ok((StatusCode::CREATED, Json(trip_out(&rec, &st.app.config().risk_rules))).into_response())
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/queue", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn join_virtual_queue(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let rec = st.app.gate().join_virtual_queue(&caller.who, DeclarationId(id)).await.map_err(caller.err())?;
    Ok((StatusCode::CREATED, Json(trip_out(&rec, &st.app.config().risk_rules))).into_response())
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}/trip", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn trip_of_declaration(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<TripOut>, ApiError> {
    Ok(Json(trip_out(
        &st.app.gate().trip_of_declaration(&caller.who, DeclarationId(id)).await.map_err(caller.err())?,
        &st.app.config().risk_rules,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectionQuery {
    /// `export` or `import`.
    #[param(value_type = cuakhau_api::schema::DirectionCode, inline)]
    pub direction: String,
}

fn round_out(r: &Round, rules: &[RiskRule]) -> DispatchOut {
    DispatchOut {
        requeued: r.requeued.iter().map(|t| t.get()).collect(),
        no_shows: r.no_shows.iter().map(|b| b.get()).collect(),
        called: r.called.iter().map(|t| trip_out(t, rules)).collect(),
    }
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
    Ok(Json(round_out(&st.app.gate().dispatch(&caller.who, &pair, direction).await.map_err(caller.err())?, &st.app.config().risk_rules)))
}

fn entry_out(e: &QueueEntry) -> QueueEntryOut {
    QueueEntryOut {
        position: e.position,
        plate: e.plate.clone(),
        class: e.class.code().into(),
        status: e.status.code().into(),
        booked: e.booked,
        estimated_call: opt_when(e.estimated_call),
        trip_id: e.trip_id.map(TripId::get),
    }
}

/// A queue board on the wire.
pub(crate) fn board_out(b: &Board) -> QueueOut {
    QueueOut {
        gate_pair: b.gate_pair.as_str().into(),
        direction: b.direction.code().into(),
        at: b.at.into(),
        vn_open: b.vn_open,
        cn_open: b.cn_open,
        congestion: b.congestion.code().into(),
        waiting_both_directions: b.waiting_both_directions,
        yard: b.yard,
        virtual_queue: b.virtual_queue,
        called: b.called,
        clearing: b.clearing,
        far_side_limit: b.far_side_limit,
        expected_wait_s: b.expected_wait_s,
        lanes: b
            .lanes
            .iter()
            .map(|l| LaneStateOut {
                id: l.lane.id.as_str().into(),
                number: l.number,
                name: l.lane.name.clone(),
                side: l.lane.side.code().into(),
                class: l.lane.class.code().into(),
                capacity_per_hour: l.lane.capacity_per_hour,
                active: l.lane.active,
                plate: l.plate.clone(),
                trip_status: l.trip_status.map(|s| s.code().into()),
            })
            .collect(),
        booked_ahead: b
            .booked_ahead
            .iter()
            .map(|(hour, capacity, booked)| HourAheadOut { hour: (*hour).into(), capacity: *capacity, booked: *booked })
            .collect(),
        queue: b.queue.iter().map(entry_out).collect(),
        demo: b.demo,
        as_of: b.as_of.into(),
        replica_lag_s: b.replica_lag_s,
        source: b.source.code().into(),
    }
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/queue", tag = "gate", params(("id" = String, Path), DirectionQuery),
    responses((status = 200, body = QueueOut), (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn queue(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DirectionQuery>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    let direction = direction_param(lang, &q.direction)?;
    let gate = st.app.gate();
    // The public's board may come from the read replica; an officer's detailed one from the primary.
    let board = if gate.sees_detail(&caller.who, &pair) {
        gate.board(&pair, direction, true).await
    } else if st.app.reads_primary() {
        // Without a replica the public board is the one its live stream sends: built once per
        // change (and at most a second old) for every reader and viewer, its bytes shared.
        let shared = stream::shared_snapshot(&st, lang, &pair, direction, false, i64::MIN).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], shared.json.clone()).into_response());
    } else {
        gate.public_board(&pair, direction).await
    };
    Ok(Json(board_out(&board.map_err(caller.err())?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/queue/stream", tag = "gate", params(("id" = String, Path), DirectionQuery,
        ("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]+([.][0-9]+)?d?$", description = "The id of the last event received, when reconnecting (to any process): no board older than that one is sent, and none at all until the next change or turn when that one is current")),
    responses((status = 200, description = "Server-sent events: a `queue` event with a QueueOut document now, after every change, and when a side opens or closes by the clock; its `id` is the store's last change in it, then `.` and the second the board turns (when a side next opens or closes), then `d` for the detailed board", content_type = "text/event-stream")))]
pub async fn queue_stream(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DirectionQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let pair = pair_id(lang, &id)?;
    let direction = direction_param(lang, &q.direction)?;
    let detail = st.app.gate().sees_detail(&caller.who, &pair);
    if *st.closing.borrow() {
        return Err(ApiError::new(lang, StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable));
    }
    // What the viewer has, when it reconnects: never anything older, nothing again if current.
    // An id the server never writes (not `N`, `N.T`, `Nd` or `N.Td`) is refused, not taken for no id.
    let had = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(stream::parse_event_id)
                .ok_or_else(|| ApiError::field(lang, FieldError::new("Last-Event-ID", Problem::Other("an event id this server sent"))))?,
        ),
    };
    // Fail now (404) rather than inside the stream.
    let board = stream::shared_snapshot(&st, lang, &pair, direction, detail, had.map_or(i64::MIN, |(n, _, _)| n)).await?;
    // Current: the same changes, and not turned since (an id without a turn may be older).
    let current = had.is_some_and(|h| h == board.id(detail) && h.1.is_some());
    let mut viewer = st.boards.viewer(&st, (pair.as_str().to_string(), direction, detail), &board, !current);
    // Whose rights a detailed stream was opened with: when their account changes, they are asked again.
    if let (true, Some(user), Some(token)) = (detail, caller.who.user.as_ref(), caller.token.clone()) {
        viewer.watch_account(pair.clone(), user.username.clone(), token);
    }
    // The frames are written as they are: no per-viewer encoding of the board.
    Ok(([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], axum::body::Body::new(viewer)).into_response())
}

#[utoipa::path(get, path = "/api/v1/trips/{id}", tag = "gate", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show_trip(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<TripOut>, ApiError> {
    Ok(Json(trip_out(&st.app.gate().trip(&caller.who, TripId(id)).await.map_err(caller.err())?, &st.app.config().risk_rules)))
}

/// The page of `GET /worklist`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// The cursor from the previous page's `Link: <…>; rel="next"` header.
    pub cursor: Option<i64>,
    /// Page size, 1 to 500 (default 200).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/worklist", tag = "gate", params(WorklistQuery), security(("bearer" = [])),
    responses((status = 200, description = "Trips whose current step is the caller's (side, agency) at a gate pair in scope, oldest first; a `Link` header with `rel=\"next\"` when there are more", body = Vec<TripOut>,
               headers(("link" = String, description = "The next page, when there is one"))),
              (status = 401, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn worklist(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<WorklistQuery>) -> Result<Response, ApiError> {
    let page = st.app.gate().worklist(&caller.who, q.cursor, q.limit).await.map_err(caller.err())?;
    let next = page.next.map(|c| format!("/api/v1/worklist?limit={}&cursor={c}", page.limit));
    Ok(super::with_next(
        Json(page.items.iter().map(|t| trip_out(t, &st.app.config().risk_rules)).collect::<Vec<_>>()).into_response(),
        next,
    ))
}

async fn act(st: &AppState, caller: &Caller, id: i64, index: usize, act: Act) -> Result<Json<TripOut>, ApiError> {
    Ok(Json(trip_out(&st.app.gate().act(&caller.who, TripId(id), index, act).await.map_err(caller.err())?, &st.app.config().risk_rules)))
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/steps/{index}/start", tag = "gate", params(("id" = i64, Path), ("index" = usize, Path, minimum = 0, maximum = 255)), security(("bearer" = [])),
    responses((status = 200, body = TripOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn start_step(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, index)): Path<(i64, usize)>,
) -> Result<Json<TripOut>, ApiError> {
    act(&st, &caller, id, index, Act::Start).await
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/steps/{index}/finish", tag = "gate", request_body = FinishIn, params(("id" = i64, Path), ("index" = usize, Path, minimum = 0, maximum = 255)), security(("bearer" = [])),
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
    Ok(Json(trip_out(
        &st.app.gate().record_fee(&caller.who, TripId(id), b.amount, &b.currency, &b.receipt).await.map_err(caller.err())?,
        &st.app.config().risk_rules,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// The declaration's tracking code (16 characters, on the booking confirmation and in the
    /// driver's link; case and spaces do not matter).
    pub code: String,
}

fn track_out(t: &Tracking, rules: &[RiskRule]) -> TrackOut {
    let d = &t.declaration;
    let trip = t.trip.as_ref();
    TrackOut {
        declaration_id: d.id.get(),
        gate_pair: d.gate_pair.as_str().into(),
        direction: d.direction.code().into(),
        plate: d.plate.display.clone(),
        status: trip.map_or("none".into(), |t| t.status.code().into()),
        position: t.entry.as_ref().map(|q| q.position),
        waiting_total: t.waiting_total,
        estimated_call: t.entry.as_ref().and_then(|q| opt_when(q.estimated_call)),
        your_turn: trip.is_some_and(|t| t.status == TripStatus::Called),
        lane: trip.and_then(|t| t.lane.clone()),
        lane_number: t.lane.map(|(n, _)| n),
        lane_class: t.lane.map(|(_, c)| c.code().into()),
        exit_gate: WordsOut {
            vi: t.exit_gate.name_in(Lang::Vi).into(),
            zh: t.exit_gate.name_in(Lang::Zh).into(),
            en: t.exit_gate.name_in(Lang::En).into(),
        },
        call_deadline: trip.and_then(|t| opt_when(t.call_deadline)),
        booking: t.booking.as_ref().map(super::goods::booking_out),
        current_step: trip.and_then(|t| t.trip.current().map(|i| t.trip.steps()[i].0.code())),
        channel: trip.map(|t| t.trip.channel.code().into()),
        channel_reason_words: trip.map(|t| reason_words(rules, &t.channel_reason)),
        stopped: trip.and_then(|t| {
            let steps = t.trip.steps();
            let i = steps.iter().position(|(_, s)| matches!(s, StepState::Held { .. } | StepState::Refused { .. }))?;
            Some(step_out(i, &steps[i].0, &steps[i].1, t.direction))
        }),
        replica_lag_s: t.replica_lag_s,
        as_of: t.as_of.into(),
        source: t.source.code().into(),
    }
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
    let address = peer.map(|ip| ip.to_string());
    let t = st.app.gate().track(address.as_deref(), DeclarationId(declaration), &q.code).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(track_out(&t, &st.app.config().risk_rules)))
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
    let eta = match &b.eta {
        Some(s) => Some(
            time::parse_rfc3339(s)
                .ok_or_else(|| ApiError::field(lang, FieldError::new("eta", Problem::Other("an RFC 3339 time with offset"))))?,
        ),
        None => None,
    };
    let address = peer.map(|ip| ip.to_string());
    let t = st
        .app
        .gate()
        .report_position(address.as_deref(), DeclarationId(declaration), &q.code, b.lat, b.lon, eta)
        .await
        .map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(track_out(&t, &st.app.config().risk_rules)).into_response())
}
