//! The goods flow over HTTP: declarations (file, submit, amend, cancel; accept or reject by the
//! exit side's customs), slot booking with alternatives when full, and the slot calendar.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ReqLang};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cuakhau_api::{
    AmendIn, BookingIn, BookingOut, ConsignmentIn, DeclarationIn, DeclarationOut, DriverIn, RejectIn, SlotHourOut, SuspensionIn,
    SuspensionOut,
};
use cuakhau_core::auth::{Action, Role};
use cuakhau_core::goods::declaration::{ConsignmentFields, DeclEvent};
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, SlotPolicy, Suspension, hour_capacity, hour_of};
use cuakhau_core::goods::{Consignment, DeclState};
use cuakhau_core::{Direction, FieldError, GatePairId, Lang, Msg, Problem, Side, Timestamp, time};
use cuakhau_store::Actor;
use cuakhau_store::goods::{Booking, BookingOutcome, BookingRequest, DeclarationRecord, NewDeclaration};
use serde::Deserialize;
use utoipa::IntoParams;

/// Declarations stay valid this long after acceptance (China's rule since March 2025).
pub const VALIDITY_H: u32 = 72;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/declarations", post(create).get(list))
        .route("/declarations/{id}", get(show))
        .route("/declarations/{id}/submit", post(submit))
        .route("/declarations/{id}/amend", post(amend))
        .route("/declarations/{id}/cancel", post(cancel))
        .route("/declarations/{id}/accept", post(accept))
        .route("/declarations/{id}/reject", post(reject))
        .route("/declarations/{id}/booking", post(book).get(show_booking).delete(cancel_booking))
        .route("/gate-pairs/{id}/slots", get(slots))
        .route("/gate-pairs/{id}/suspensions", get(list_suspensions).post(suspend))
}

fn fe(lang: Lang) -> impl Fn(FieldError) -> ApiError {
    move |e| ApiError::field(lang, e)
}

fn consignments(lang: Lang, cs: &[ConsignmentIn]) -> Result<Vec<Consignment>, ApiError> {
    if cs.is_empty() {
        return Err(ApiError::field(lang, FieldError::new("consignments", Problem::Empty)));
    }
    cs.iter()
        .enumerate()
        .map(|(i, c)| {
            Consignment::parse(
                i,
                &ConsignmentFields {
                    hs_code: &c.hs_code,
                    description_vi: &c.description_vi,
                    description_zh: &c.description_zh,
                    packages: c.packages,
                    gross_kg: c.gross_kg,
                    value: c.value,
                    currency: &c.currency,
                    origin: &c.origin,
                    shelf_life_h: c.shelf_life_h,
                    certificate: &c.certificate,
                },
            )
            .map_err(fe(lang))
        })
        .collect()
}

fn consignment_out(c: &Consignment) -> ConsignmentIn {
    ConsignmentIn {
        hs_code: c.hs.as_str().into(),
        description_vi: c.description_vi.clone().unwrap_or_default(),
        description_zh: c.description_zh.clone().unwrap_or_default(),
        packages: c.packages,
        gross_kg: c.gross_kg,
        value: c.value,
        currency: c.currency.clone(),
        origin: c.origin.clone(),
        shelf_life_h: c.perishable.map(|p| p.shelf_life_h),
        certificate: c.certificate.clone().unwrap_or_default(),
    }
}

fn out(d: &DeclarationRecord) -> DeclarationOut {
    let (reasons, valid_until) = match &d.declaration.state {
        DeclState::Rejected { reasons } => (reasons.clone(), None),
        DeclState::Accepted { valid_until, .. } => (vec![], Some(valid_until.to_rfc3339())),
        _ => (vec![], None),
    };
    DeclarationOut {
        id: d.id,
        enterprise: d.enterprise.clone(),
        gate_pair: d.gate_pair.as_str().into(),
        direction: d.direction.code().into(),
        plate: d.plate.display.clone(),
        vehicle_kind: d.vehicle_kind.code().into(),
        driver: d.driver.as_ref().map(|x| DriverIn {
            name: x.name.clone(),
            nationality: x.nationality.code().into(),
            document_no: x.document_no.clone(),
        }),
        state: d.declaration.state.code().into(),
        version: d.declaration.version,
        reasons,
        valid_until,
        consignments: d.declaration.consignments.iter().map(consignment_out).collect(),
        perishable: d.declaration.is_perishable(),
        trip_status: d.trip_status.map(|t| t.code().into()),
        track_code: d.track_code.clone(),
        actions: cuakhau_core::goods::gate::declarant_actions(&d.declaration, d.trip_status).into_iter().map(String::from).collect(),
    }
}

pub(crate) fn booking_out(b: &Booking) -> BookingOut {
    BookingOut {
        id: b.id,
        declaration_id: b.declaration_id,
        gate_pair: b.gate_pair.clone(),
        direction: b.direction.clone(),
        hour: b.hour.to_rfc3339(),
        hour_vn: b.hour.to_rfc3339_in(time::VN_ZONE),
        hour_cn: b.hour.to_rfc3339_in(time::CN_ZONE),
        bucket: b.bucket.code().into(),
        status: b.status.clone(),
    }
}

/// The enterprise a caller declares for: the code of their enterprise role.
fn enterprise_of(caller: &Caller) -> Result<String, ApiError> {
    let u = caller.user()?;
    u.roles
        .iter()
        .find_map(|r| if let Role::Enterprise { code } = r { Some(code.clone()) } else { None })
        .ok_or_else(|| ApiError::forbidden(caller.lang))
}

pub(crate) async fn load(st: &AppState, caller: &Caller, id: i64) -> Result<DeclarationRecord, ApiError> {
    let lang = caller.lang;
    // Signed-in first: the public learns nothing about which declarations exist.
    caller.user()?;
    let d = st
        .store
        .declaration(id)
        .await
        .map_err(|e| ApiError::store(lang, e))?
        .ok_or_else(|| ApiError::not_found(lang, format!("declaration {id}")))?;
    match caller.require(Action::ReadDeclaration { enterprise: &d.enterprise, gate_pair: &d.gate_pair }) {
        Ok(_) => Ok(d),
        // Someone else's declaration does not exist, as far as this caller can tell.
        Err(_) => Err(ApiError::not_found(lang, format!("declaration {id}"))),
    }
}

#[utoipa::path(post, path = "/api/v1/declarations", tag = "goods", request_body = DeclarationIn, security(("bearer" = [])),
    responses((status = 201, body = DeclarationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn create(State(st): State<AppState>, caller: Caller, ApiJson(d): ApiJson<DeclarationIn>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let enterprise = enterprise_of(&caller)?;
    let user = caller.require(Action::Declare { enterprise: &enterprise })?;
    let f = fe(lang);
    let kind = VehicleKind::parse(&d.vehicle_kind).map_err(&f)?;
    let driver = match (&d.driver, kind) {
        (Some(x), _) => Some(Driver::parse(&x.name, &x.nationality, &x.document_no).map_err(&f)?),
        (None, VehicleKind::Agv) => None,
        (None, _) => {
            return Err(ApiError::field(
                lang,
                FieldError::new("driver", Problem::Other("a driver is required unless the vehicle is an AGV")),
            ));
        }
    };
    let new = NewDeclaration {
        enterprise: EnterpriseCode::parse(&enterprise).map_err(&f)?,
        gate_pair: GatePairId::parse(&d.gate_pair).map_err(&f)?,
        direction: Direction::parse("direction", &d.direction).map_err(&f)?,
        plate: Plate::parse(&d.plate, Side::parse("plate_country", &d.plate_country).map_err(&f)?).map_err(&f)?,
        vehicle_kind: kind,
        driver,
        consignments: consignments(lang, &d.consignments)?,
        track_code: crate::auth::new_track_code(st.entropy.as_ref()),
    };
    let rec =
        st.store.create_declaration(new, Actor { name: &user.username, at: st.clock.now() }).await.map_err(|e| ApiError::store(lang, e))?;
    Ok((StatusCode::CREATED, Json(out(&rec))).into_response())
}

/// Filters and the page of `GET /declarations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeclarationListQuery {
    /// States, comma-separated (`draft`, `submitted`, `accepted`, `rejected`, `cancelled`); all when absent.
    pub state: Option<String>,
    pub gate_pair: Option<String>,
    /// `export` or `import`.
    pub direction: Option<String>,
    /// Only declarations a customs officer of this side decides (the exit side): `VN` or `CN`.
    pub exit_side: Option<String>,
    /// The cursor from the previous page's `Link: <…>; rel="next"` header.
    pub cursor: Option<i64>,
    /// Page size, 1 to 200 (default 100).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/declarations", tag = "goods", params(DeclarationListQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DeclarationOut>, description = "Newest first, within the caller's scope; a `Link` header with `rel=\"next\"` when there are more",
               headers(("link" = String, description = "The next page, when there is one"))),
              (status = 401, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn list(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<DeclarationListQuery>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let u = caller.user()?;
    let f = fe(lang);
    const STATES: &[&str] = &["draft", "submitted", "accepted", "rejected", "cancelled"];
    let mut states: Vec<&str> = Vec::new();
    for x in q.state.as_deref().unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let code = STATES
            .iter()
            .find(|c| **c == x)
            .ok_or_else(|| ApiError::field(lang, FieldError::new("state", Problem::NotOneOf { allowed: STATES })))?;
        states.push(code);
    }
    let gate_pair = q
        .gate_pair
        .as_deref()
        .map(|g| GatePairId::parse(g).map_err(|e| FieldError::new("gate_pair", e.problem)))
        .transpose()
        .map_err(&f)?;
    let mut direction = q.direction.as_deref().map(|d| Direction::parse("direction", d)).transpose().map_err(&f)?;
    if let Some(side) = q.exit_side.as_deref().map(|s| Side::parse("exit_side", s)).transpose().map_err(&f)? {
        let d = if side == Side::Vn { Direction::Export } else { Direction::Import };
        if direction.is_some_and(|x| x != d) {
            return Ok(Json(Vec::<DeclarationOut>::new()).into_response());
        }
        direction = Some(d);
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field(lang, FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 200.0 })));
    }
    if q.cursor.is_some_and(|c| c < 1) {
        return Err(ApiError::field(lang, FieldError::new("cursor", Problem::OutOfRange { min: 1.0, max: i64::MAX as f64 })));
    }
    let scope = cuakhau_core::auth::declaration_scope(&u.roles);
    let mut rows = st
        .store
        .declarations(cuakhau_store::goods::DeclarationQuery {
            scope: &scope,
            states: &states,
            gate_pair: gate_pair.as_ref(),
            direction,
            before: q.cursor,
            limit: limit + 1,
        })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let body: Vec<DeclarationOut> = rows.iter().map(out).collect();
    let next = rows.last().filter(|_| more).map(|last| {
        let mut qs: Vec<String> = Vec::new();
        if !states.is_empty() {
            qs.push(format!("state={}", states.join(",")));
        }
        if let Some(g) = &gate_pair {
            qs.push(format!("gate_pair={}", g.as_str()));
        }
        if let Some(d) = direction {
            qs.push(format!("direction={}", d.code()));
        }
        format!("/api/v1/declarations?{}&limit={limit}&cursor={}", qs.join("&"), last.id).replace("?&", "?")
    });
    Ok(super::with_next(Json(body).into_response(), next))
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&load(&st, &caller, id).await?)))
}

/// Applies a state change for whoever `who` says may make it on this declaration.
async fn apply_event(
    st: &AppState,
    caller: &Caller,
    id: i64,
    event: DeclEvent,
    who: for<'a> fn(&'a DeclarationRecord) -> Action<'a>,
) -> Result<Json<DeclarationOut>, ApiError> {
    let d = load(st, caller, id).await?;
    let user = caller.require(who(&d))?;
    let rec = st
        .store
        .declaration_event(id, event, Actor { name: &user.username, at: st.clock.now() })
        .await
        .map_err(|e| ApiError::store(caller.lang, e))?;
    Ok(Json(out(&rec)))
}

/// The declarant's own changes.
async fn owner_event(st: &AppState, caller: &Caller, id: i64, event: DeclEvent) -> Result<Json<DeclarationOut>, ApiError> {
    apply_event(st, caller, id, event, |d| Action::Declare { enterprise: &d.enterprise }).await
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/submit", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn submit(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    owner_event(&st, &caller, id, DeclEvent::Submit).await
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/amend", tag = "goods", request_body = AmendIn, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn amend(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<AmendIn>,
) -> Result<Json<DeclarationOut>, ApiError> {
    let cs = consignments(caller.lang, &a.consignments)?;
    owner_event(&st, &caller, id, DeclEvent::Amend { consignments: cs }).await
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/cancel", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn cancel(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    owner_event(&st, &caller, id, DeclEvent::Cancel).await
}

/// Customs of the exit side decides.
async fn decide(st: &AppState, caller: &Caller, id: i64, event: DeclEvent) -> Result<Json<DeclarationOut>, ApiError> {
    apply_event(st, caller, id, event, |d| Action::DecideDeclaration { gate_pair: &d.gate_pair, side: d.direction.exit_side() }).await
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/accept", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn accept(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    let at = st.clock.now();
    decide(&st, &caller, id, DeclEvent::Accept { at, validity_h: VALIDITY_H }).await
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/reject", tag = "goods", request_body = RejectIn, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn reject(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<RejectIn>,
) -> Result<Json<DeclarationOut>, ApiError> {
    let reasons: Vec<String> = r.reasons.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
    if reasons.is_empty() {
        return Err(ApiError::field(caller.lang, FieldError::new("reasons", Problem::Empty)));
    }
    decide(&st, &caller, id, DeclEvent::Reject { reasons }).await
}

/// The capacity of each hour from `from`, and what is booked: the one slot calendar that booking,
/// the enterprise's page and the public board all show.
pub(crate) async fn calendar(
    st: &AppState,
    lang: Lang,
    pair: &GatePairId,
    direction: Direction,
    from: Timestamp,
    hours: u32,
) -> Result<Vec<SlotHourOut>, ApiError> {
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    let gp =
        data.gate_pairs.iter().find(|g| g.id == *pair).ok_or_else(|| ApiError::not_found(lang, format!("gate pair {}", pair.as_str())))?;
    let start = hour_of(from);
    let until = start.plus_seconds(hours as i64 * 3600);
    let used = st.store.slot_usage(pair, direction, start, until).await.map_err(|e| ApiError::store(lang, e))?;
    let all = st.suspensions(pair, start).await.map_err(|e| ApiError::store(lang, e))?;
    let suspensions: Vec<Suspension> = all.iter().filter(|s| s.until > start && s.from < until).cloned().collect();
    let policy = SlotPolicy::default();
    Ok((0..hours as i64)
        .map(|k| {
            let h = start.plus_seconds(k * 3600);
            let cap = hour_capacity(gp, &data.lanes, direction, h, &suspensions, &policy);
            let mut capacity = cuakhau_api::BTreeMapU32::new();
            let mut booked = cuakhau_api::BTreeMapU32::new();
            let mut free = 0;
            for b in Bucket::ALL {
                let u = used.iter().find(|u| u.hour == h && u.bucket == b);
                // The first booking of an hour fixes its capacity (a later suspension still closes it);
                // until then it is the lanes'.
                let c = if cap.of(b) == 0 { 0 } else { u.map_or(cap.of(b), |u| u.capacity) };
                let n = u.map_or(0, |u| u.used);
                capacity.insert(b.code().into(), c);
                booked.insert(b.code().into(), n);
                free += c.saturating_sub(n);
            }
            SlotHourOut {
                hour: h.to_rfc3339(),
                hour_vn: h.to_rfc3339_in(time::VN_ZONE),
                hour_cn: h.to_rfc3339_in(time::CN_ZONE),
                capacity,
                booked,
                free,
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SlotQuery {
    /// `export` or `import`.
    pub direction: String,
    /// First hour, RFC 3339; default: now.
    pub from: Option<String>,
    /// How many hours (1–168, default 24).
    pub hours: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/slots", tag = "goods", params(("id" = String, Path), SlotQuery),
    responses((status = 200, body = Vec<SlotHourOut>), (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn slots(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SlotQuery>,
) -> Result<Json<Vec<SlotHourOut>>, ApiError> {
    let pair = GatePairId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))?;
    let direction = Direction::parse("direction", &q.direction).map_err(fe(lang))?;
    let from = match &q.from {
        Some(s) => time::parse_rfc3339(s)
            .ok_or_else(|| ApiError::field(lang, FieldError::new("from", Problem::Other("an RFC 3339 time with offset"))))?,
        None => st.clock.now(),
    };
    let hours = q.hours.unwrap_or(24);
    if !(1..=168).contains(&hours) {
        return Err(ApiError::field(lang, FieldError::new("hours", Problem::OutOfRange { min: 1.0, max: 168.0 })));
    }
    Ok(Json(calendar(&st, lang, &pair, direction, from, hours).await?))
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/booking", tag = "goods", request_body = BookingIn, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = BookingOut), (status = 403, body = cuakhau_api::Problem),
              (status = 409, description = "Full (with the next free hours in `alternatives`), daily limit, already booked, or not bookable", body = cuakhau_api::Problem)))]
pub async fn book(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<BookingIn>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let d = load(&st, &caller, id).await?;
    let user = caller.require(Action::Declare { enterprise: &d.enterprise })?;
    let hour = hour_of(
        time::parse_rfc3339(&b.hour)
            .ok_or_else(|| ApiError::field(lang, FieldError::new("hour", Problem::Other("an RFC 3339 time with offset"))))?,
    );
    let now = st.clock.now();
    if hour < hour_of(now) {
        return Err(ApiError::field(lang, FieldError::new("hour", Problem::Other("the hour has passed"))));
    }
    // No booking past the declaration's validity, nor further ahead than the configured horizon.
    if let DeclState::Accepted { valid_until, .. } = d.declaration.state
        && hour >= valid_until
    {
        return Err(ApiError::field(
            lang,
            FieldError::new("hour", Problem::Other("the hour starts after the declaration's validity ends")),
        ));
    }
    if hour > now.plus_seconds(st.config.max_booking_ahead_h * 3600) {
        return Err(ApiError::field(lang, FieldError::new("hour", Problem::Other("the hour is further ahead than bookings may be made"))));
    }
    // The hour's capacity from the lanes, both sides' hours and the suspensions (all cached). It
    // only seeds an hour's counters at its first booking; the store then keeps the counters' own.
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    let gp = data
        .gate_pairs
        .iter()
        .find(|g| g.id == d.gate_pair)
        .ok_or_else(|| ApiError::not_found(lang, format!("gate pair {}", d.gate_pair.as_str())))?;
    let all = st.suspensions(&d.gate_pair, hour).await.map_err(|e| ApiError::store(lang, e))?;
    let suspensions: Vec<Suspension> = all.iter().filter(|s| s.until > hour && s.from < hour.plus_seconds(3600)).cloned().collect();
    let capacity = hour_capacity(gp, &data.lanes, d.direction, hour, &suspensions, &SlotPolicy::default());
    let perishable = d.declaration.is_perishable();
    let agv = d.vehicle_kind == VehicleKind::Agv;
    // The enterprise's day, in Vietnam's calendar for exports and China's for imports.
    let zone = d.direction.exit_side().zone();
    let day = hour.to_rfc3339_in(zone)[..10].to_string();
    let req = BookingRequest {
        declaration_id: id,
        hour,
        capacity,
        candidates: Bucket::candidates(perishable, agv),
        day,
        per_day_limit: SlotPolicy::default().per_enterprise_per_day,
    };
    let outcome = st.store.book_slot(req, Actor { name: &user.username, at: now }).await.map_err(|e| ApiError::store(lang, e))?;
    let conflict = |detail: String| ApiError::new(lang, StatusCode::CONFLICT, Msg::Conflict { detail });
    match outcome {
        BookingOutcome::Booked(b) => Ok((StatusCode::CREATED, Json(booking_out(&b))).into_response()),
        BookingOutcome::Full => {
            // Offer the next hours with room for this truck.
            let next = calendar(&st, lang, &d.gate_pair, d.direction, hour.plus_seconds(3600), 72).await?;
            let alternatives: Vec<String> = next
                .iter()
                .filter(|h| Bucket::candidates(perishable, agv).iter().any(|b| h.capacity[b.code()] > h.booked[b.code()]))
                .take(5)
                .map(|h| h.hour.clone())
                .collect();
            // The next free hours in the exit side's local time, as the enterprise plans in it.
            let zone = d.direction.exit_side().zone();
            let local: Vec<String> =
                alternatives.iter().filter_map(|h| time::parse_rfc3339(h)).map(|t| t.to_rfc3339_in(zone)[..16].replace('T', " ")).collect();
            let list = format!("{} ({})", local.join(", "), if d.direction.exit_side() == Side::Vn { "UTC+7" } else { "UTC+8" });
            let detail = match (lang, local.is_empty()) {
                (Lang::Vi, false) => format!("giờ này đã kín chỗ; các giờ còn trống tiếp theo: {list}"),
                (Lang::Vi, true) => "giờ này đã kín chỗ; 72 giờ tới không còn giờ trống".into(),
                (Lang::Zh, false) => format!("该时段已满；接下来的空余时段：{list}"),
                (Lang::Zh, true) => "该时段已满；未来 72 小时内没有空余时段".into(),
                (Lang::En, false) => format!("the hour is full; next free hours: {list}"),
                (Lang::En, true) => "the hour is full; none free in the next 72 h".into(),
            };
            let mut res = conflict(detail).into_response();
            res.headers_mut().insert("x-alternatives", alternatives.join(",").parse().expect("ascii times"));
            Ok(res)
        }
        BookingOutcome::DailyLimitReached => Err(conflict(
            match lang {
                Lang::Vi => "doanh nghiệp đã dùng hết số lượt đặt chỗ trong ngày",
                Lang::Zh => "该企业当日预约次数已用完",
                Lang::En => "the enterprise holds its daily number of bookings",
            }
            .into(),
        )),
        BookingOutcome::AlreadyBooked(b) => Err(conflict(match lang {
            Lang::Vi => format!("tờ khai đã có lượt đặt chỗ {}", b.id),
            Lang::Zh => format!("该申报单已有预约 {}", b.id),
            Lang::En => format!("the declaration already holds booking {}", b.id),
        })),
        BookingOutcome::NotBookable(why) => Err(conflict(why)),
    }
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}/booking", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = BookingOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show_booking(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<BookingOut>, ApiError> {
    load(&st, &caller, id).await?;
    let b = st.store.live_booking(id).await.map_err(|e| ApiError::store(caller.lang, e))?;
    b.map(|b| Json(booking_out(&b))).ok_or_else(|| ApiError::not_found(caller.lang, format!("booking of declaration {id}")))
}

#[utoipa::path(delete, path = "/api/v1/declarations/{id}/booking", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = BookingOut), (status = 403, body = cuakhau_api::Problem), (status = 404, body = cuakhau_api::Problem)))]
pub async fn cancel_booking(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<BookingOut>, ApiError> {
    let d = load(&st, &caller, id).await?;
    let user = caller.require(Action::Declare { enterprise: &d.enterprise })?;
    let b = st
        .store
        .live_booking(id)
        .await
        .map_err(|e| ApiError::store(caller.lang, e))?
        .ok_or_else(|| ApiError::not_found(caller.lang, format!("booking of declaration {id}")))?;
    let c = st
        .store
        .cancel_booking(b.id, Actor { name: &user.username, at: st.clock.now() })
        .await
        .map_err(|e| ApiError::store(caller.lang, e))?;
    Ok(Json(booking_out(&c)))
}

fn suspension_out(id: i64, s: &Suspension) -> SuspensionOut {
    SuspensionOut {
        id,
        side: s.side.code().into(),
        from: s.from.to_rfc3339(),
        until: s.until.to_rfc3339(),
        from_local: s.from.to_rfc3339_in(s.side.zone()),
        until_local: s.until.to_rfc3339_in(s.side.zone()),
        preregistered_only: s.preregistered_only,
        reason: s.reason.clone(),
    }
}

#[utoipa::path(post, path = "/api/v1/gate-pairs/{id}/suspensions", tag = "goods", request_body = SuspensionIn, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = SuspensionOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn suspend(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SuspensionIn>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let pair = GatePairId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))?;
    let side = Side::parse("side", &b.side).map_err(fe(lang))?;
    let user = caller.require(Action::EditGate { gate_pair: &pair, side })?;
    let when = |field: &str, v: &str| {
        time::parse_rfc3339(v).ok_or_else(|| ApiError::field(lang, FieldError::new(field, Problem::Other("an RFC 3339 time with offset"))))
    };
    let (from, until) = (when("from", &b.from)?, when("until", &b.until)?);
    if until <= from {
        return Err(ApiError::field(lang, FieldError::new("until", Problem::Other("until must be after from"))));
    }
    let reason = cuakhau_core::validate::text("reason", &b.reason, 500).map_err(fe(lang))?;
    let s = Suspension { side, from, until, preregistered_only: b.preregistered_only, reason };
    let sid = st
        .store
        .add_suspension(&pair, &s, Actor { name: &user.username, at: st.clock.now() })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    st.suspensions_changed(&pair);
    Ok((StatusCode::CREATED, Json(suspension_out(sid, &s))).into_response())
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/suspensions", tag = "goods", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SuspensionOut>), (status = 404, body = cuakhau_api::Problem)))]
pub async fn list_suspensions(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Vec<SuspensionOut>>, ApiError> {
    let pair = GatePairId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))?;
    // Current and coming suspensions.
    let now = st.clock.now();
    let list = st.store.suspensions(&pair, now, Timestamp(i64::MAX)).await.map_err(|e| ApiError::store(lang, e))?;
    Ok(Json(list.iter().map(|(i, s)| suspension_out(*i, s)).collect()))
}
