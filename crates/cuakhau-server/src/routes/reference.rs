//! Reference data: gate pairs, gates, provinces, pairings and lanes. Reading is public; changing
//! hours or lanes needs the gate board of that side (or an admin).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ReqLang};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cuakhau_api::{GateOut, GatePairOut, HoursPatch, LaneOut, LanePatch, NewLane, PairingOut, ProvinceOut};
use cuakhau_app::reference::{GateFilter, ImportFormat, LaneFilter, PairFilter};
use cuakhau_core::refdata::OpeningHours;
use cuakhau_core::{Direction, FieldError, GateKind, GatePairId, Lane, Lang, Mode, Problem, ProvinceId, Side};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_gate_pairs))
        .routes(routes!(get_gate_pair))
        .routes(routes!(list_pair_lanes, create_lane))
        .routes(routes!(list_gates))
        .routes(routes!(get_gate))
        .routes(routes!(put_hours))
        .routes(routes!(list_provinces))
        .routes(routes!(get_province))
        .routes(routes!(list_pairings))
        .routes(routes!(list_lanes))
        .routes(routes!(get_lane, patch_lane))
        .routes(routes!(import_table))
}

fn field_err(lang: Lang, field: &str, problem: Problem) -> ApiError {
    ApiError::field(lang, FieldError::new(field, problem))
}

fn parse_opt<T>(lang: Lang, v: &Option<String>, f: impl Fn(&str) -> Result<T, FieldError>) -> Result<Option<T>, ApiError> {
    v.as_deref().map(|s| f(s).map_err(|e| ApiError::field(lang, e))).transpose()
}

/// The largest `offset` a list takes (as its OpenAPI document says).
const OFFSET_MAX: usize = i32::MAX as usize;

fn page<T: Clone>(
    st: &AppState,
    lang: Lang,
    items: Vec<T>,
    limit: Option<usize>,
    offset: Option<usize>,
) -> Result<(HeaderMap, Vec<T>), ApiError> {
    let max = st.config.page_limit_max;
    let limit = limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(field_err(lang, "limit", Problem::OutOfRange { min: 1.0, max: max as f64 }));
    }
    let offset = offset.unwrap_or(0);
    if offset > OFFSET_MAX {
        return Err(field_err(lang, "offset", Problem::OutOfRange { min: 0.0, max: OFFSET_MAX as f64 }));
    }
    let mut h = HeaderMap::new();
    h.insert("x-total-count", HeaderValue::from(items.len()));
    Ok((h, items.into_iter().skip(offset).take(limit).collect()))
}

/// Filters for the gate pair list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PairQuery {
    /// At most this many (1–500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Skip this many first.
    #[param(minimum = 0, maximum = 2147483647)]
    pub offset: Option<usize>,
    /// `international`, `main`, `auxiliary`, `crossing-point`.
    #[param(value_type = Option<cuakhau_api::schema::GateKindCode>, inline)]
    pub kind: Option<String>,
    /// `road`, `rail`, `river`.
    #[param(value_type = Option<cuakhau_api::schema::ModeCode>, inline)]
    pub mode: Option<String>,
    /// A province id on either side, e.g. `lang-son` or `yunnan`.
    pub province: Option<String>,
    /// Text to find in any name (any language, case-insensitive).
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/gate-pairs", tag = "reference", params(PairQuery),
    responses((status = 200, body = Vec<GatePairOut>), (status = 422, body = cuakhau_api::Problem)))]
pub async fn list_gate_pairs(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<Response, ApiError> {
    let filter = PairFilter {
        kind: parse_opt(lang, &q.kind, |s| GateKind::parse("kind", s))?,
        mode: parse_opt(lang, &q.mode, |s| Mode::parse("mode", s))?,
        province: parse_opt(lang, &q.province, |s| ProvinceId::parse(s).map_err(|e| e.named("province")))?,
        text: q.q.clone(),
    };
    let pairs = st.app.reference().gate_pairs(&filter).await.map_err(|e| ApiError::app(lang, e))?;
    let now = st.app.now();
    let items: Vec<GatePairOut> = pairs.iter().map(|g| GatePairOut::new(g, now)).collect();
    let (h, items) = page(&st, lang, items, q.limit, q.offset)?;
    Ok((h, Json(items)).into_response())
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}", tag = "reference", params(("id" = String, Path)),
    responses((status = 200, body = GatePairOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_gate_pair(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<GatePairOut>, ApiError> {
    let id = pair_id(lang, &id)?;
    let g = st.app.reference().gate_pair(&id).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(GatePairOut::new(&g, st.app.now())))
}

/// A gate with the pair it belongs to.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct GateWithPair {
    pub gate_pair: String,
    #[serde(flatten)]
    pub gate: GateOut,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GateQuery {
    /// `VN` or `CN`.
    #[param(value_type = Option<cuakhau_api::schema::SideCode>, inline)]
    pub side: Option<String>,
    pub province: Option<String>,
    /// Only gates open (true) or closed (false) now; gates with unknown hours are left out.
    pub open_now: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/gates", tag = "reference", params(GateQuery), responses((status = 200, body = Vec<GateWithPair>)))]
pub async fn list_gates(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<GateQuery>,
) -> Result<Json<Vec<GateWithPair>>, ApiError> {
    let filter = GateFilter {
        side: parse_opt(lang, &q.side, |s| Side::parse("side", s))?,
        province: parse_opt(lang, &q.province, |s| ProvinceId::parse(s).map_err(|e| e.named("province")))?,
        open_now: q.open_now,
    };
    let gates = st.app.reference().gates(&filter).await.map_err(|e| ApiError::app(lang, e))?;
    let now = st.app.now();
    Ok(Json(gates.iter().map(|(p, side)| gate_with_pair(p, *side, now)).collect()))
}

fn gate_with_pair(p: &cuakhau_core::GatePair, side: Side, now: cuakhau_core::Timestamp) -> GateWithPair {
    let out = GatePairOut::new(p, now);
    GateWithPair { gate_pair: p.id.as_str().into(), gate: if side == Side::Vn { out.vn } else { out.cn } }
}

/// A gate pair id from the path: one that cannot exist is simply not found.
pub(crate) fn pair_id(lang: Lang, id: &str) -> Result<GatePairId, ApiError> {
    GatePairId::parse(id)
        .map_err(|_| ApiError::not_found(lang, cuakhau_core::i18n::missing_name(&cuakhau_core::i18n::Missing::GatePair(id.into()), lang)))
}

fn path_pair_side(lang: Lang, pair: &str, side: &str) -> Result<(GatePairId, Side), ApiError> {
    let id = pair_id(lang, pair)?;
    let side = Side::parse("side", &side.to_ascii_uppercase()).map_err(|e| ApiError::field(lang, e))?;
    Ok((id, side))
}

#[utoipa::path(get, path = "/api/v1/gates/{pair}/{side}", tag = "reference", params(("pair" = String, Path), ("side" = inline(cuakhau_api::schema::SideCode), Path, description = "VN or CN")),
    responses((status = 200, body = GateWithPair), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_gate(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path((pair, side)): Path<(String, String)>,
) -> Result<Json<GateWithPair>, ApiError> {
    let (id, side) = path_pair_side(lang, &pair, &side)?;
    let g = st.app.reference().gate_pair(&id).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(gate_with_pair(&g, side, st.app.now())))
}

#[utoipa::path(put, path = "/api/v1/gates/{pair}/{side}/hours", tag = "reference", request_body = HoursPatch,
    params(("pair" = String, Path), ("side" = inline(cuakhau_api::schema::SideCode), Path)), security(("bearer" = [])),
    responses((status = 200, body = GatePairOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn put_hours(
    State(st): State<AppState>,
    caller: Caller,
    Path((pair, side)): Path<(String, String)>,
    ApiJson(body): ApiJson<HoursPatch>,
) -> Result<Json<GatePairOut>, ApiError> {
    let lang = caller.lang;
    let (id, side) = path_pair_side(lang, &pair, &side)?;
    caller.signed_in()?;
    let hours = match (&body.opens, &body.closes) {
        (None, None) => None,
        _ => {
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            // The core names the source as a gate file's column (`hours_source`); the request calls it `source`.
            let named = |e: FieldError| if e.field == "hours_source" { e.named("source") } else { e };
            let h = OpeningHours::parse("", &s(&body.opens), &s(&body.closes), &s(&body.source))
                .map_err(|e| ApiError::field(lang, named(e)))?;
            Some(h.ok_or_else(|| field_err(lang, "opens", Problem::Empty))?)
        }
    };
    let g = st.app.reference().set_hours(&caller.who, &id, side, hours).await.map_err(caller.err())?;
    Ok(Json(GatePairOut::new(&g, st.app.now())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryQuery {
    /// `VN` or `CN`.
    #[param(value_type = Option<cuakhau_api::schema::SideCode>, inline)]
    pub country: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/provinces", tag = "reference", params(CountryQuery), responses((status = 200, body = Vec<ProvinceOut>)))]
pub async fn list_provinces(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<CountryQuery>,
) -> Result<Json<Vec<ProvinceOut>>, ApiError> {
    let country = parse_opt(lang, &q.country, |s| Side::parse("country", s))?;
    let list = st.app.reference().provinces(country).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(list.iter().map(ProvinceOut::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/provinces/{id}", tag = "reference", params(("id" = String, Path)),
    responses((status = 200, body = ProvinceOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_province(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<ProvinceOut>, ApiError> {
    let p = st.app.reference().province(&id).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(ProvinceOut::from(&p)))
}

#[utoipa::path(get, path = "/api/v1/pairings", tag = "reference", responses((status = 200, body = Vec<PairingOut>)))]
pub async fn list_pairings(State(st): State<AppState>, ReqLang(lang): ReqLang) -> Result<Json<Vec<PairingOut>>, ApiError> {
    let list = st.app.reference().pairings().await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(list.iter().map(PairingOut::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LaneQuery {
    pub gate_pair: Option<String>,
    #[param(value_type = Option<cuakhau_api::schema::SideCode>, inline)]
    pub side: Option<String>,
    /// `export` (VN → CN) or `import` (CN → VN).
    #[param(value_type = Option<cuakhau_api::schema::DirectionCode>, inline)]
    pub direction: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/lanes", tag = "reference", params(LaneQuery), responses((status = 200, body = Vec<LaneOut>)))]
pub async fn list_lanes(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<LaneQuery>,
) -> Result<Json<Vec<LaneOut>>, ApiError> {
    let filter = LaneFilter {
        gate_pair: parse_opt(lang, &q.gate_pair, |s| GatePairId::parse(s).map_err(|e| e.named("gate_pair")))?,
        side: parse_opt(lang, &q.side, |s| Side::parse("side", s))?,
        direction: parse_opt(lang, &q.direction, |s| Direction::parse("direction", s))?,
    };
    let lanes = st.app.reference().lanes(&filter).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(lanes.iter().map(|l| LaneOut::numbered(l, &lanes)).collect()))
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/lanes", tag = "reference", params(("id" = String, Path)), responses((status = 200, body = Vec<LaneOut>)))]
pub async fn list_pair_lanes(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Vec<LaneOut>>, ApiError> {
    let lanes = st.app.reference().pair_lanes(&id).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(lanes.iter().map(|l| LaneOut::numbered(l, &lanes)).collect()))
}

#[utoipa::path(get, path = "/api/v1/lanes/{id}", tag = "reference", params(("id" = String, Path)),
    responses((status = 200, body = LaneOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_lane(State(st): State<AppState>, ReqLang(lang): ReqLang, Path(id): Path<String>) -> Result<Json<LaneOut>, ApiError> {
    let l = st.app.reference().lane(&id).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(Json(numbered(&st, lang, &l).await?))
}

#[utoipa::path(patch, path = "/api/v1/lanes/{id}", tag = "reference", request_body = LanePatch, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = LaneOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 404, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn patch_lane(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<LanePatch>,
) -> Result<Json<LaneOut>, ApiError> {
    let patch = cuakhau_app::reference::LanePatch {
        name: p.name,
        capacity_per_hour: p.capacity_per_hour,
        active: p.active,
        class: p.class,
        basis: p.basis,
    };
    let saved = st.app.reference().patch_lane(&caller.who, &id, patch).await.map_err(caller.err())?;
    Ok(Json(numbered(&st, caller.lang, &saved).await?))
}

#[utoipa::path(post, path = "/api/v1/gate-pairs/{id}/lanes", tag = "reference", request_body = NewLane, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = LaneOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn create_lane(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<NewLane>,
) -> Result<Response, ApiError> {
    let lang = caller.lang;
    caller.signed_in()?;
    let fe = |e| ApiError::field(lang, e);
    let side = Side::parse("side", &n.side).map_err(fe)?;
    let pair = pair_id(lang, &id)?;
    // Whether the caller may touch this side is asked before the rest of the body is read.
    if !caller.who.may(cuakhau_core::auth::Action::EditLane { gate_pair: &pair, side }) {
        return Err(ApiError::forbidden(lang));
    }
    let lane = Lane::parse(&n.id, &id, &n.side, &n.direction, &n.class, &n.name, &n.capacity_per_hour.to_string(), "true", &n.basis)
        .map_err(fe)?;
    let saved = st.app.reference().add_lane(&caller.who, lane).await.map_err(caller.err())?;
    Ok((StatusCode::CREATED, Json(numbered(&st, lang, &saved).await?)).into_response())
}

/// What an import changed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[utoipa::path(post, path = "/api/v1/reference/{table}", tag = "reference", security(("bearer" = [])),
    params(("table" = String, Path, description = "provinces, pairings, gate_pairs or lanes")),
    request_body(content = String, description = "The table as CSV (text/csv) or a JSON array of row objects (application/json); see docs/data-formats.md", content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 415, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn import_table(
    State(st): State<AppState>,
    caller: Caller,
    Path(table): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let lang = caller.lang;
    if !caller.who.may(cuakhau_core::auth::Action::ImportReference) {
        caller.signed_in()?;
        return Err(ApiError::forbidden(lang));
    }
    let format = match crate::extract::media_type(&headers).as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/json" => ImportFormat::Json,
        _ if cuakhau_data::Table::parse(&table).is_none() => return Err(ApiError::not_found(lang, format!("table {table}"))),
        _ => return Err(ApiError::new(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE, cuakhau_core::Msg::UnsupportedMediaType)),
    };
    let (rows, r) = st.app.reference().import(&caller.who, &table, format, body.as_ref()).await.map_err(caller.err())?;
    Ok(Json(ImportReport { rows, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged }))
}

/// One lane as answered, numbered among its gate pair's lanes.
async fn numbered(st: &AppState, lang: Lang, l: &cuakhau_core::refdata::Lane) -> Result<LaneOut, ApiError> {
    let lanes = st.app.reference().pair_lanes(l.gate_pair.as_str()).await.map_err(|e| ApiError::app(lang, e))?;
    Ok(LaneOut::numbered(l, &lanes))
}
