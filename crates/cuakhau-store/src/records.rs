//! Plain row records as both SQL backends read them, and their conversion to validated domain
//! values. Rows are re-validated on the way out, so a row edited by hand into nonsense is reported
//! as [`StoreError::Corrupt`] instead of leaking out.

use crate::{StoreError, User};
use cuakhau_core::refdata::{Gate, GateFields, Lane, LocalityPairing, Province, format_hhmm};
use cuakhau_core::{GateKind, GatePair, GatePairId, Mode, Role, Side, Timestamp};
use serde_json::json;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

#[derive(Debug, Clone)]
pub struct ProvinceRec {
    pub id: String,
    pub country: String,
    pub name_vi: String,
    pub name_zh: String,
    pub name_en: String,
    pub former_names: Option<String>,
    pub source: String,
}

impl ProvinceRec {
    pub fn into_domain(self) -> Result<Province, StoreError> {
        Province::parse(
            &self.id,
            &self.country,
            &self.name_vi,
            &self.name_zh,
            &self.name_en,
            self.former_names.as_deref().unwrap_or(""),
            &self.source,
        )
        .map_err(|e| corrupt(&format!("province {}", self.id), e))
    }
}

#[derive(Debug, Clone)]
pub struct PairingRec {
    pub vn_province: String,
    pub cn_province: String,
    pub mechanism: String,
    pub source: String,
}

impl PairingRec {
    pub fn into_domain(self) -> Result<LocalityPairing, StoreError> {
        LocalityPairing::parse(&self.vn_province, &self.cn_province, &self.mechanism, &self.source).map_err(|e| corrupt("pairing", e))
    }
}

#[derive(Debug, Clone)]
pub struct GatePairRec {
    pub id: String,
    pub ord: i64,
    pub kind: String,
    pub mode: String,
    pub designation: String,
    pub sources: String,
}

#[derive(Debug, Clone)]
pub struct GateRec {
    pub gate_pair_id: String,
    pub side: String,
    pub name_vi: String,
    pub name_zh: Option<String>,
    pub name_pinyin: Option<String>,
    pub name_en: String,
    pub province_id: String,
    pub former_province: Option<String>,
    pub zone: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub coord_precision: Option<String>,
    pub coord_source: Option<String>,
    pub open_min: Option<i64>,
    pub close_min: Option<i64>,
    pub hours_source: Option<String>,
}

impl GateRec {
    pub fn from_domain(pair: &GatePairId, g: &Gate) -> Self {
        GateRec {
            gate_pair_id: pair.as_str().into(),
            side: g.side.code().into(),
            name_vi: g.name_vi.clone(),
            name_zh: g.name_zh.clone(),
            name_pinyin: g.name_pinyin.clone(),
            name_en: g.name_en.clone(),
            province_id: g.province.as_str().into(),
            former_province: g.former_province.clone(),
            zone: g.zone.clone(),
            lat: g.coordinate.as_ref().map(|c| c.lat),
            lon: g.coordinate.as_ref().map(|c| c.lon),
            coord_precision: g.coordinate.as_ref().map(|c| c.precision.clone()),
            coord_source: g.coordinate.as_ref().map(|c| c.source.clone()),
            open_min: g.hours.as_ref().map(|h| h.open_min as i64),
            close_min: g.hours.as_ref().map(|h| h.close_min as i64),
            hours_source: g.hours.as_ref().map(|h| h.source.clone()),
        }
    }

    fn into_domain(self) -> Result<Gate, StoreError> {
        let side = Side::parse("side", &self.side).map_err(|e| corrupt("gate", e))?;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let lat = self.lat.map(|v| v.to_string()).unwrap_or_default();
        let lon = self.lon.map(|v| v.to_string()).unwrap_or_default();
        let opens = self.open_min.map(|m| format_hhmm(m as u16)).unwrap_or_default();
        let closes = self.close_min.map(|m| format_hhmm(m as u16)).unwrap_or_default();
        let (zh, py, fp, cp, cs, hs) = (
            s(&self.name_zh),
            s(&self.name_pinyin),
            s(&self.former_province),
            s(&self.coord_precision),
            s(&self.coord_source),
            s(&self.hours_source),
        );
        Gate::parse(
            side,
            &GateFields {
                name_vi: &self.name_vi,
                name_zh: &zh,
                name_pinyin: &py,
                name_en: &self.name_en,
                province: &self.province_id,
                former_province: &fp,
                zone: &self.zone,
                lat: &lat,
                lon: &lon,
                coord_precision: &cp,
                coord_source: &cs,
                opens: &opens,
                closes: &closes,
                hours_source: &hs,
            },
        )
        .map_err(|e| corrupt(&format!("gate {}/{}", self.gate_pair_id, self.side), e))
    }
}

/// Builds a gate pair from its row and its two gate rows.
pub fn gate_pair(rec: GatePairRec, gates: Vec<GateRec>) -> Result<GatePair, StoreError> {
    let mut vn = None;
    let mut cn = None;
    for g in gates {
        let g = g.into_domain()?;
        match g.side {
            Side::Vn => vn = Some(g),
            Side::Cn => cn = Some(g),
        }
    }
    let what = format!("gate pair {}", rec.id);
    Ok(GatePair {
        id: GatePairId::parse(&rec.id).map_err(|e| corrupt(&what, e))?,
        kind: GateKind::parse("kind", &rec.kind).map_err(|e| corrupt(&what, e))?,
        mode: Mode::parse("mode", &rec.mode).map_err(|e| corrupt(&what, e))?,
        designation: rec.designation,
        vn: vn.ok_or_else(|| corrupt(&what, "no Vietnamese gate"))?,
        cn: cn.ok_or_else(|| corrupt(&what, "no Chinese gate"))?,
        order: rec.ord as u32,
        sources: rec.sources.split('\n').map(String::from).filter(|s| !s.is_empty()).collect(),
    })
}

pub fn join_sources(g: &GatePair) -> String {
    g.sources.join("\n")
}

#[derive(Debug, Clone)]
pub struct LaneRec {
    pub id: String,
    pub gate_pair_id: String,
    pub side: String,
    pub direction: String,
    pub class: String,
    pub name: String,
    pub capacity_per_hour: i64,
    pub active: bool,
    pub basis: String,
}

impl LaneRec {
    pub fn into_domain(self) -> Result<Lane, StoreError> {
        Lane::parse(
            &self.id,
            &self.gate_pair_id,
            &self.side,
            &self.direction,
            &self.class,
            &self.name,
            &self.capacity_per_hour.to_string(),
            &self.active.to_string(),
            &self.basis,
        )
        .map_err(|e| corrupt(&format!("lane {}", self.id), e))
    }
}

#[derive(Debug, Clone)]
pub struct UserRec {
    pub id: cuakhau_core::UserId,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub created_at_us: i64,
    pub disabled_at_us: Option<i64>,
}

impl UserRec {
    pub fn into_domain(self) -> Result<User, StoreError> {
        let roles = self
            .roles
            .split_whitespace()
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(&format!("user {}", self.username), e))?;
        Ok(User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            roles,
            created_at: Timestamp(self.created_at_us),
            disabled: self.disabled_at_us.is_some(),
        })
    }
}

pub fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(Role::code).collect::<Vec<_>>().join(" ")
}

/// The JSON snapshots written into audit entries' `before` and `after`.
pub mod snapshot {
    use super::*;

    pub fn province(p: &Province) -> String {
        json!({"id": p.id.as_str(), "country": p.country.code(), "name_vi": p.name_vi, "name_zh": p.name_zh,
               "name_en": p.name_en, "former_names": p.former_names, "source": p.source})
        .to_string()
    }
    pub fn pairing(p: &LocalityPairing) -> String {
        json!({"vn_province": p.vn_province.as_str(), "cn_province": p.cn_province.as_str(),
               "mechanism": p.mechanism, "source": p.source})
        .to_string()
    }
    fn gate(g: &Gate) -> serde_json::Value {
        json!({"name_vi": g.name_vi, "name_zh": g.name_zh, "name_pinyin": g.name_pinyin, "name_en": g.name_en,
               "province": g.province.as_str(), "former_province": g.former_province, "zone": g.zone,
               "lat": g.coordinate.as_ref().map(|c| c.lat), "lon": g.coordinate.as_ref().map(|c| c.lon),
               "opens": g.hours.as_ref().map(|h| format_hhmm(h.open_min)),
               "closes": g.hours.as_ref().map(|h| format_hhmm(h.close_min)),
               "hours_source": g.hours.as_ref().map(|h| h.source.clone())})
    }
    pub fn gate_pair(g: &GatePair) -> String {
        json!({"id": g.id.as_str(), "kind": g.kind.code(), "mode": g.mode.code(), "designation": g.designation,
               "order": g.order, "vn": gate(&g.vn), "cn": gate(&g.cn), "sources": g.sources})
        .to_string()
    }
    pub fn lane(l: &Lane) -> String {
        json!({"id": l.id.as_str(), "gate_pair": l.gate_pair.as_str(), "side": l.side.code(),
               "direction": l.direction.code(), "class": l.class.code(), "name": l.name,
               "capacity_per_hour": l.capacity_per_hour, "active": l.active, "basis": l.basis})
        .to_string()
    }
    pub fn user(u: &User) -> String {
        json!({"id": u.id.get(), "username": u.username, "display_name": u.display_name,
               "roles": u.roles.iter().map(Role::code).collect::<Vec<_>>()})
        .to_string()
    }
}
