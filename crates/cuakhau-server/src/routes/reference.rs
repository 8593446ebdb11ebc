//! Reference data: gate pairs, gates, provinces, pairings and lanes. Reading is public; changing
//! hours or lanes needs the gate board of that side (or an admin).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ReqLang};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use cuakhau_api::{GateOut, GatePairOut, HoursPatch, LaneOut, LanePatch, NewLane, PairingOut, ProvinceOut};
use cuakhau_core::auth::Action;
use cuakhau_core::refdata::{LaneClass, OpeningHours, check_capacity};
use cuakhau_core::{Direction, FieldError, GateKind, GatePairId, Lane, LaneId, Lang, Mode, Problem, ProvinceId, Side, validate};
use cuakhau_store::{Actor, GateHoursChange};
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gate-pairs", get(list_gate_pairs))
        .route("/gate-pairs/{id}", get(get_gate_pair))
        .route("/gate-pairs/{id}/lanes", get(list_pair_lanes).post(create_lane))
        .route("/gates", get(list_gates))
        .route("/gates/{pair}/{side}", get(get_gate))
        .route("/gates/{pair}/{side}/hours", put(put_hours))
        .route("/provinces", get(list_provinces))
        .route("/provinces/{id}", get(get_province))
        .route("/pairings", get(list_pairings))
        .route("/lanes", get(list_lanes))
        .route("/lanes/{id}", get(get_lane).patch(patch_lane))
        .route("/reference/{table}", axum::routing::post(import_table))
}

fn field_err(lang: Lang, field: &str, problem: Problem) -> ApiError {
    ApiError::field(lang, FieldError::new(field, problem))
}

fn parse_opt<T>(lang: Lang, v: &Option<String>, f: impl Fn(&str) -> Result<T, FieldError>) -> Result<Option<T>, ApiError> {
    v.as_deref().map(|s| f(s).map_err(|e| ApiError::field(lang, e))).transpose()
}

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
    let mut h = HeaderMap::new();
    h.insert("x-total-count", HeaderValue::from(items.len()));
    Ok((h, items.into_iter().skip(offset.unwrap_or(0)).take(limit).collect()))
}

/// Filters for the gate pair list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PairQuery {
    /// At most this many (1–500).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// `international`, `main`, `auxiliary`, `crossing-point`.
    pub kind: Option<String>,
    /// `road`, `rail`, `river`.
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
    let kind = parse_opt(lang, &q.kind, |s| GateKind::parse("kind", s))?;
    let mode = parse_opt(lang, &q.mode, |s| Mode::parse("mode", s))?;
    let province = parse_opt(lang, &q.province, ProvinceId::parse)?;
    let needle = q.q.as_deref().map(str::to_lowercase);
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    let now = st.clock.now();
    let items: Vec<GatePairOut> = data
        .gate_pairs
        .iter()
        .filter(|g| kind.is_none_or(|k| g.kind == k) && mode.is_none_or(|m| g.mode == m))
        .filter(|g| province.as_ref().is_none_or(|p| g.vn.province == *p || g.cn.province == *p))
        .filter(|g| {
            needle.as_ref().is_none_or(|n| {
                [&g.vn, &g.cn].iter().any(|gate| {
                    [Some(&gate.name_vi), gate.name_zh.as_ref(), gate.name_pinyin.as_ref(), Some(&gate.name_en)]
                        .into_iter()
                        .flatten()
                        .any(|s| s.to_lowercase().contains(n.as_str()))
                })
            })
        })
        .map(|g| GatePairOut::new(g, now))
        .collect();
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
    let id = GatePairId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))?;
    let g = st.store.gate_pair(&id).await.map_err(|e| ApiError::store(lang, e))?;
    g.map(|g| Json(GatePairOut::new(&g, st.clock.now()))).ok_or_else(|| ApiError::not_found(lang, format!("gate pair {}", id.as_str())))
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
pub struct GateQuery {
    /// `VN` or `CN`.
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
    let side = parse_opt(lang, &q.side, |s| Side::parse("side", s))?;
    let province = parse_opt(lang, &q.province, ProvinceId::parse)?;
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    let now = st.clock.now();
    let out = data
        .gate_pairs
        .iter()
        .flat_map(|p| {
            let out = GatePairOut::new(p, now);
            [(p, out.vn), (p, out.cn)]
        })
        .filter(|(p, g)| side.is_none_or(|s| s.code() == g.side) && province.as_ref().is_none_or(|pr| p.gate(side_of(g)).province == *pr))
        .filter(|(_, g)| q.open_now.is_none_or(|o| g.open_now == Some(o)))
        .map(|(p, gate)| GateWithPair { gate_pair: p.id.as_str().into(), gate })
        .collect();
    Ok(Json(out))
}

fn side_of(g: &GateOut) -> Side {
    if g.side == "VN" { Side::Vn } else { Side::Cn }
}

fn path_pair_side(lang: Lang, pair: &str, side: &str) -> Result<(GatePairId, Side), ApiError> {
    let id = GatePairId::parse(pair).map_err(|_| ApiError::not_found(lang, format!("gate pair {pair}")))?;
    let side = Side::parse("side", &side.to_ascii_uppercase()).map_err(|e| ApiError::field(lang, e))?;
    Ok((id, side))
}

#[utoipa::path(get, path = "/api/v1/gates/{pair}/{side}", tag = "reference", params(("pair" = String, Path), ("side" = String, Path, description = "VN or CN")),
    responses((status = 200, body = GateWithPair), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_gate(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path((pair, side)): Path<(String, String)>,
) -> Result<Json<GateWithPair>, ApiError> {
    let (id, side) = path_pair_side(lang, &pair, &side)?;
    let g = st
        .store
        .gate_pair(&id)
        .await
        .map_err(|e| ApiError::store(lang, e))?
        .ok_or_else(|| ApiError::not_found(lang, format!("gate pair {pair}")))?;
    let out = GatePairOut::new(&g, st.clock.now());
    Ok(Json(GateWithPair { gate_pair: pair, gate: if side == Side::Vn { out.vn } else { out.cn } }))
}

#[utoipa::path(put, path = "/api/v1/gates/{pair}/{side}/hours", tag = "reference", request_body = HoursPatch,
    params(("pair" = String, Path), ("side" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = GatePairOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn put_hours(
    State(st): State<AppState>,
    caller: Caller,
    Path((pair, side)): Path<(String, String)>,
    ApiJson(body): ApiJson<HoursPatch>,
) -> Result<Json<GatePairOut>, ApiError> {
    let lang = caller.lang;
    let (id, side) = path_pair_side(lang, &pair, &side)?;
    let user = caller.require(Action::EditGate { gate_pair: &id, side })?;
    let hours = match (&body.opens, &body.closes) {
        (None, None) => None,
        _ => {
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            let h = OpeningHours::parse("", &s(&body.opens), &s(&body.closes), &s(&body.source)).map_err(|e| ApiError::field(lang, e))?;
            Some(h.ok_or_else(|| field_err(lang, "opens", Problem::Empty))?)
        }
    };
    let at = st.clock.now();
    let g = st
        .store
        .update_gate_hours(&id, side, GateHoursChange { hours }, Actor { name: &user.username, at })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    st.reference_changed();
    Ok(Json(GatePairOut::new(&g, at)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CountryQuery {
    /// `VN` or `CN`.
    pub country: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/provinces", tag = "reference", params(CountryQuery), responses((status = 200, body = Vec<ProvinceOut>)))]
pub async fn list_provinces(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<CountryQuery>,
) -> Result<Json<Vec<ProvinceOut>>, ApiError> {
    let country = parse_opt(lang, &q.country, |s| Side::parse("country", s))?;
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    Ok(Json(data.provinces.iter().filter(|p| country.is_none_or(|c| p.country == c)).map(ProvinceOut::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/provinces/{id}", tag = "reference", params(("id" = String, Path)),
    responses((status = 200, body = ProvinceOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_province(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<ProvinceOut>, ApiError> {
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    data.provinces
        .iter()
        .find(|p| p.id.as_str() == id)
        .map(|p| Json(ProvinceOut::from(p)))
        .ok_or_else(|| ApiError::not_found(lang, format!("province {id}")))
}

#[utoipa::path(get, path = "/api/v1/pairings", tag = "reference", responses((status = 200, body = Vec<PairingOut>)))]
pub async fn list_pairings(State(st): State<AppState>, ReqLang(lang): ReqLang) -> Result<Json<Vec<PairingOut>>, ApiError> {
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    Ok(Json(data.pairings.iter().map(PairingOut::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LaneQuery {
    pub gate_pair: Option<String>,
    pub side: Option<String>,
    /// `export` (VN → CN) or `import` (CN → VN).
    pub direction: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/lanes", tag = "reference", params(LaneQuery), responses((status = 200, body = Vec<LaneOut>)))]
pub async fn list_lanes(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiQuery(q): ApiQuery<LaneQuery>,
) -> Result<Json<Vec<LaneOut>>, ApiError> {
    let pair = parse_opt(lang, &q.gate_pair, GatePairId::parse)?;
    let side = parse_opt(lang, &q.side, |s| Side::parse("side", s))?;
    let dir = parse_opt(lang, &q.direction, |s| Direction::parse("direction", s))?;
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    Ok(Json(
        data.lanes
            .iter()
            .filter(|l| {
                pair.as_ref().is_none_or(|p| l.gate_pair == *p) && side.is_none_or(|s| l.side == s) && dir.is_none_or(|d| l.direction == d)
            })
            .map(LaneOut::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/gate-pairs/{id}/lanes", tag = "reference", params(("id" = String, Path)), responses((status = 200, body = Vec<LaneOut>)))]
pub async fn list_pair_lanes(
    State(st): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Vec<LaneOut>>, ApiError> {
    let data = st.reference().await.map_err(|e| ApiError::store(lang, e))?;
    if !data.gate_pairs.iter().any(|g| g.id.as_str() == id) {
        return Err(ApiError::not_found(lang, format!("gate pair {id}")));
    }
    Ok(Json(data.lanes.iter().filter(|l| l.gate_pair.as_str() == id).map(LaneOut::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/lanes/{id}", tag = "reference", params(("id" = String, Path)),
    responses((status = 200, body = LaneOut), (status = 404, body = cuakhau_api::Problem)))]
pub async fn get_lane(State(st): State<AppState>, ReqLang(lang): ReqLang, Path(id): Path<String>) -> Result<Json<LaneOut>, ApiError> {
    let lid = LaneId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("lane {id}")))?;
    let l = st.store.lane(&lid).await.map_err(|e| ApiError::store(lang, e))?;
    l.map(|l| Json(LaneOut::from(&l))).ok_or_else(|| ApiError::not_found(lang, format!("lane {id}")))
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
    let lang = caller.lang;
    caller.user()?;
    let lid = LaneId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("lane {id}")))?;
    let mut lane =
        st.store.lane(&lid).await.map_err(|e| ApiError::store(lang, e))?.ok_or_else(|| ApiError::not_found(lang, format!("lane {id}")))?;
    let user = caller.require(Action::EditLane { gate_pair: &lane.gate_pair, side: lane.side })?;
    let fe = |e| ApiError::field(lang, e);
    if let Some(n) = &p.name {
        lane.name = validate::text("name", n, 120).map_err(fe)?;
    }
    if let Some(c) = p.capacity_per_hour {
        lane.capacity_per_hour = check_capacity("capacity_per_hour", c).map_err(fe)?;
    }
    if let Some(a) = p.active {
        lane.active = a;
    }
    if let Some(c) = &p.class {
        lane.class = LaneClass::parse("class", c).map_err(fe)?;
    }
    lane.basis = match &p.basis {
        Some(b) => validate::text("basis", b, 2000).map_err(fe)?,
        None => format!("set by {} (gate management board)", user.username),
    };
    let saved = st.store.put_lane(&lane, Actor { name: &user.username, at: st.clock.now() }).await.map_err(|e| ApiError::store(lang, e))?;
    st.reference_changed();
    Ok(Json(LaneOut::from(&saved)))
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
    caller.user()?;
    let fe = |e| ApiError::field(lang, e);
    let side = Side::parse("side", &n.side).map_err(fe)?;
    let pair = GatePairId::parse(&id).map_err(|_| ApiError::not_found(lang, format!("gate pair {id}")))?;
    let user = caller.require(Action::EditLane { gate_pair: &pair, side })?;
    let lane = Lane::parse(&n.id, &id, &n.side, &n.direction, &n.class, &n.name, &n.capacity_per_hour.to_string(), "true", &n.basis)
        .map_err(fe)?;
    if st.store.lane(&lane.id).await.map_err(|e| ApiError::store(lang, e))?.is_some() {
        return Err(ApiError::new(lang, StatusCode::CONFLICT, cuakhau_core::Msg::Conflict { detail: format!("lane {} exists", n.id) }));
    }
    let saved = st.store.put_lane(&lane, Actor { name: &user.username, at: st.clock.now() }).await.map_err(|e| ApiError::store(lang, e))?;
    st.reference_changed();
    Ok((StatusCode::CREATED, Json(LaneOut::from(&saved))).into_response())
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
    let user = caller.require(Action::ImportReference)?;
    let t = cuakhau_data::Table::parse(&table).ok_or_else(|| ApiError::not_found(lang, format!("table {table}")))?;
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let rows = match ct.as_str() {
        "text/csv" => cuakhau_data::parse_csv(t, body.as_ref(), &mut |_| {}),
        "application/json" => cuakhau_data::parse_json(t, body.as_ref()),
        _ => return Err(ApiError::new(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE, cuakhau_core::Msg::UnsupportedMediaType)),
    }
    .map_err(|e| ApiError::new(lang, StatusCode::UNPROCESSABLE_ENTITY, e.message(lang)))?;
    let n = rows.len();
    let r = st
        .store
        .load_reference(&rows.into_reference(), Actor { name: &user.username, at: st.clock.now() })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    st.reference_changed();
    Ok(Json(ImportReport { rows: n, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged }))
}
