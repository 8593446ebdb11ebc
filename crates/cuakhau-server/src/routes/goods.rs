//! The goods flow over HTTP: declarations (file, submit, amend, cancel; accept or reject by the
//! exit side's customs), slot booking with alternatives when full, and the slot calendar.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ReqLang};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cuakhau_api::{
    AmendIn, BookingIn, BookingOut, ConsignmentIn, DeclarationIn, DeclarationOut, DriverIn, RejectIn, SlotHourOut, SuspensionIn,
    SuspensionOut,
};
use cuakhau_app::goods::{DeclarationFilter, Filing, SlotHour};
use cuakhau_core::DeclarationId;
use cuakhau_core::goods::declaration::ConsignmentFields;
use cuakhau_core::goods::parties::{Driver, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, Suspension};
use cuakhau_core::goods::{Consignment, DeclState, StateKind};
use cuakhau_core::validate::collect;
use cuakhau_core::{Direction, FieldError, GatePairId, Lang, Problem, Side, time};
use cuakhau_store::goods::{Booking, DeclarationRecord};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .routes(routes!(submit))
        .routes(routes!(amend))
        .routes(routes!(cancel))
        .routes(routes!(accept))
        .routes(routes!(reject))
        .routes(routes!(book, show_booking, cancel_booking))
        .routes(routes!(slots))
        .routes(routes!(list_suspensions, suspend))
}

fn fe(lang: Lang) -> impl Fn(FieldError) -> ApiError {
    move |e| ApiError::field(lang, e)
}

/// Every consignment, or every bad field of them all.
fn consignments(lang: Lang, cs: &[ConsignmentIn]) -> Result<Vec<Consignment>, ApiError> {
    parse_consignments(cs).map_err(|e| ApiError::fields(lang, e))
}

fn parse_consignments(cs: &[ConsignmentIn]) -> Result<Vec<Consignment>, Vec<FieldError>> {
    if cs.is_empty() {
        return Err(vec![FieldError::new("consignments", Problem::Empty)]);
    }
    let mut errors = Vec::new();
    let parsed: Vec<Consignment> = cs
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            Consignment::parse_all(
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
            .map_err(|e| errors.extend(e))
            .ok()
        })
        .collect();
    if errors.is_empty() { Ok(parsed) } else { Err(errors) }
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
        id: d.id.get(),
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
        id: b.id.get(),
        declaration_id: b.declaration_id.get(),
        gate_pair: b.gate_pair.as_str().to_string(),
        direction: b.direction.code().to_string(),
        hour: b.hour.to_rfc3339(),
        hour_vn: b.hour.to_rfc3339_in(time::VN_ZONE),
        hour_cn: b.hour.to_rfc3339_in(time::CN_ZONE),
        bucket: b.bucket.code().into(),
        status: b.status.code().to_string(),
    }
}

#[utoipa::path(post, path = "/api/v1/declarations", tag = "goods", request_body = DeclarationIn, security(("bearer" = [])),
    responses((status = 201, body = DeclarationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn create(State(st): State<AppState>, caller: Caller, ApiJson(d): ApiJson<DeclarationIn>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    // Who may declare is settled before the body is read.
    st.app.goods().may_declare(&caller.who).map_err(caller.err())?;
    // Every bad field is named at once, in the form's order.
    let mut errors = Vec::new();
    let gate_pair = collect(&mut errors, GatePairId::parse(&d.gate_pair).map_err(|e| e.named("gate_pair")));
    let direction = collect(&mut errors, Direction::parse("direction", &d.direction));
    let country = collect(&mut errors, Side::parse("plate_country", &d.plate_country));
    let plate = collect(&mut errors, Plate::parse(&d.plate, country.unwrap_or(Side::Vn)));
    let kind = collect(&mut errors, VehicleKind::parse(&d.vehicle_kind));
    let driver = match (&d.driver, kind) {
        (Some(x), _) => Driver::parse_all(&x.name, &x.nationality, &x.document_no).map(Some).map_err(|e| errors.extend(e)).ok(),
        (None, Some(VehicleKind::Agv)) => Some(None),
        (None, _) => {
            errors.push(FieldError::new("driver", Problem::Other("a driver is required unless the vehicle is an AGV")));
            None
        }
    };
    let goods = parse_consignments(&d.consignments).map_err(|e| errors.extend(e)).ok();
    let (Some(gate_pair), Some(direction), Some(_), Some(plate), Some(vehicle_kind), Some(driver), Some(consignments), true) =
        (gate_pair, direction, country, plate, kind, driver, goods, errors.is_empty())
    else {
        return Err(ApiError::fields(lang, errors));
    };
    let filing = Filing { gate_pair, direction, plate, vehicle_kind, driver, consignments };
    let rec = st.app.goods().declare(&caller.who, filing).await.map_err(caller.err())?;
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
    #[param(value_type = Option<cuakhau_api::schema::DirectionCode>, inline)]
    pub direction: Option<String>,
    /// Only declarations a customs officer of this side decides (the exit side): `VN` or `CN`.
    #[param(value_type = Option<cuakhau_api::schema::SideCode>, inline)]
    pub exit_side: Option<String>,
    /// The cursor from the previous page's `Link: <…>; rel="next"` header.
    pub cursor: Option<i64>,
    /// Page size, 1 to 200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/declarations", tag = "goods", params(DeclarationListQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DeclarationOut>, description = "Newest first, within the caller's scope; a `Link` header with `rel=\"next\"` when there are more",
               headers(("link" = String, description = "The next page, when there is one"))),
              (status = 401, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn list(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<DeclarationListQuery>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    caller.signed_in()?;
    let f = fe(lang);
    let states = q.state.as_deref().unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty());
    let states = states.map(|x| StateKind::parse("state", x)).collect::<Result<Vec<_>, _>>().map_err(&f)?;
    let gate_pair = q.gate_pair.as_deref().map(|g| GatePairId::parse(g).map_err(|e| e.named("gate_pair"))).transpose().map_err(&f)?;
    let filter = DeclarationFilter {
        states,
        gate_pair,
        direction: q.direction.as_deref().map(|d| Direction::parse("direction", d)).transpose().map_err(&f)?,
        exit_side: q.exit_side.as_deref().map(|s| Side::parse("exit_side", s)).transpose().map_err(&f)?,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = st.app.goods().declarations(&caller.who, &filter).await.map_err(caller.err())?;
    let body: Vec<DeclarationOut> = page.items.iter().map(out).collect();
    let direction = filter.direction.or(filter.exit_side.map(|s| if s == Side::Vn { Direction::Export } else { Direction::Import }));
    let next = page.next.map(|cursor| {
        let mut qs: Vec<String> = Vec::new();
        if !filter.states.is_empty() {
            qs.push(format!("state={}", filter.states.iter().map(|k| k.code()).collect::<Vec<_>>().join(",")));
        }
        if let Some(g) = &filter.gate_pair {
            qs.push(format!("gate_pair={}", g.as_str()));
        }
        if let Some(d) = direction {
            qs.push(format!("direction={}", d.code()));
        }
        format!("/api/v1/declarations?{}&limit={}&cursor={cursor}", qs.join("&"), page.limit).replace("?&", "?")
    });
    Ok(super::with_next(Json(body).into_response(), next))
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&st.app.goods().declaration(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/submit", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn submit(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&st.app.goods().submit(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
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
    Ok(Json(out(&st.app.goods().amend(&caller.who, DeclarationId(id), cs).await.map_err(caller.err())?)))
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/cancel", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn cancel(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&st.app.goods().cancel(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/accept", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem)))]
pub async fn accept(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&st.app.goods().accept(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
}

#[utoipa::path(post, path = "/api/v1/declarations/{id}/reject", tag = "goods", request_body = RejectIn, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeclarationOut), (status = 403, body = cuakhau_api::Problem), (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn reject(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<RejectIn>,
) -> Result<Json<DeclarationOut>, ApiError> {
    Ok(Json(out(&st.app.goods().reject(&caller.who, DeclarationId(id), &r.reasons).await.map_err(caller.err())?)))
}

/// An hour of the slot calendar on the wire.
pub(crate) fn slot_hour_out(h: &SlotHour) -> SlotHourOut {
    let mut capacity = cuakhau_api::BTreeMapU32::new();
    let mut booked = cuakhau_api::BTreeMapU32::new();
    for b in &h.buckets {
        capacity.insert(b.bucket.code().into(), b.capacity);
        booked.insert(b.bucket.code().into(), b.booked);
    }
    SlotHourOut {
        hour: h.hour.to_rfc3339(),
        hour_vn: h.hour.to_rfc3339_in(time::VN_ZONE),
        hour_cn: h.hour.to_rfc3339_in(time::CN_ZONE),
        capacity,
        booked,
        free: h.free(),
        free_by_cargo: [("general", false, false), ("perishable", true, false), ("agv", false, true)]
            .into_iter()
            .map(|(cargo, perishable, agv)| (cargo.to_string(), h.free_for(Bucket::candidates(perishable, agv))))
            .collect(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// `export` or `import`.
    #[param(value_type = cuakhau_api::schema::DirectionCode, inline)]
    pub direction: String,
    /// First hour, RFC 3339; default: now.
    #[param(value_type = Option<cuakhau_api::schema::Instant>, inline)]
    pub from: Option<String>,
    /// How many hours (1–168, default 24).
    #[param(minimum = 1, maximum = 168)]
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
    let pair = super::reference::pair_id(lang, &id)?;
    let direction = Direction::parse("direction", &q.direction).map_err(fe(lang))?;
    let from = match &q.from {
        Some(s) => time::parse_rfc3339(s)
            .ok_or_else(|| ApiError::field(lang, FieldError::new("from", Problem::Other("an RFC 3339 time with offset"))))?,
        None => st.app.now(),
    };
    let hours = st.app.goods().calendar(&pair, direction, from, q.hours.unwrap_or(24)).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(hours.iter().map(slot_hour_out).collect()))
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
    caller.signed_in()?;
    let hour = time::parse_rfc3339(&b.hour)
        .ok_or_else(|| ApiError::field(lang, FieldError::new("hour", Problem::Other("an RFC 3339 time with offset"))))?;
    let booking = st.app.goods().book(&caller.who, DeclarationId(id), hour).await.map_err(caller.err())?;
    Ok((StatusCode::CREATED, Json(booking_out(&booking))).into_response())
}

#[utoipa::path(get, path = "/api/v1/declarations/{id}/booking", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = BookingOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn show_booking(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<BookingOut>, ApiError> {
    Ok(Json(booking_out(&st.app.goods().booking(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
}

#[utoipa::path(delete, path = "/api/v1/declarations/{id}/booking", tag = "goods", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = BookingOut), (status = 403, body = cuakhau_api::Problem), (status = 404, body = cuakhau_api::Problem)))]
pub async fn cancel_booking(State(st): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<BookingOut>, ApiError> {
    Ok(Json(booking_out(&st.app.goods().cancel_booking(&caller.who, DeclarationId(id)).await.map_err(caller.err())?)))
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
    let pair = super::reference::pair_id(lang, &id)?;
    let side = Side::parse("side", &b.side).map_err(fe(lang))?;
    // Who may suspend this side is settled before the rest of the body is read.
    if !caller.who.may(cuakhau_core::auth::Action::EditGate { gate_pair: &pair, side }) {
        caller.signed_in()?;
        return Err(ApiError::forbidden(lang));
    }
    let when = |field: &str, v: &str| {
        time::parse_rfc3339(v).ok_or_else(|| ApiError::field(lang, FieldError::new(field, Problem::Other("an RFC 3339 time with offset"))))
    };
    let (from, until) = (when("from", &b.from)?, when("until", &b.until)?);
    let reason = cuakhau_core::validate::text("reason", &b.reason, 500).map_err(fe(lang))?;
    let s = Suspension { side, from, until, preregistered_only: b.preregistered_only, reason };
    let sid = st.app.goods().suspend(&caller.who, &pair, &s).await.map_err(caller.err())?;
    Ok((StatusCode::CREATED, Json(suspension_out(sid.get(), &s))).into_response())
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/suspensions", tag = "goods", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SuspensionOut>), (status = 404, body = cuakhau_api::Problem)))]
pub async fn list_suspensions(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Vec<SuspensionOut>>, ApiError> {
    let pair = super::reference::pair_id(lang, &id)?;
    let list = st.app.goods().suspensions(&pair).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(list.iter().map(|(i, s)| suspension_out((*i).get(), s)).collect()))
}
