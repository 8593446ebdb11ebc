//! Flat row shapes of the reference files: one struct per table, every column a string, converted
//! to and from the core's validated types.

use cuakhau_core::refdata::{Coordinate, Gate, GateFields, Lane, LocalityPairing, OpeningHours, Province, format_hhmm};
use cuakhau_core::{FieldError, GateKind, GatePair, GatePairId, Mode, Problem, Side};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceRow {
    pub id: String,
    pub country: String,
    pub name_vi: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub former_names: String,
    pub source: String,
}

impl ProvinceRow {
    pub fn into_domain(self) -> Result<Province, FieldError> {
        Province::parse(&self.id, &self.country, &self.name_vi, &self.name_zh, &self.name_en, &self.former_names, &self.source)
    }
    pub fn from_domain(p: &Province) -> Self {
        ProvinceRow {
            id: p.id.as_str().into(),
            country: p.country.code().into(),
            name_vi: p.name_vi.clone(),
            name_zh: p.name_zh.clone(),
            name_en: p.name_en.clone(),
            former_names: p.former_names.clone().unwrap_or_default(),
            source: p.source.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingRow {
    pub vn_province: String,
    pub cn_province: String,
    pub mechanism: String,
    pub source: String,
}

impl PairingRow {
    pub fn into_domain(self) -> Result<LocalityPairing, FieldError> {
        LocalityPairing::parse(&self.vn_province, &self.cn_province, &self.mechanism, &self.source)
    }
    pub fn from_domain(p: &LocalityPairing) -> Self {
        PairingRow {
            vn_province: p.vn_province.as_str().into(),
            cn_province: p.cn_province.as_str().into(),
            mechanism: p.mechanism.clone(),
            source: p.source.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRow {
    pub id: String,
    pub gate_pair: String,
    pub side: String,
    pub direction: String,
    pub class: String,
    pub name: String,
    pub capacity_per_hour: String,
    pub active: String,
    pub basis: String,
}

impl LaneRow {
    pub fn into_domain(self) -> Result<Lane, FieldError> {
        Lane::parse(
            &self.id,
            &self.gate_pair,
            &self.side,
            &self.direction,
            &self.class,
            &self.name,
            &self.capacity_per_hour,
            &self.active,
            &self.basis,
        )
    }
    pub fn from_domain(l: &Lane) -> Self {
        LaneRow {
            id: l.id.as_str().into(),
            gate_pair: l.gate_pair.as_str().into(),
            side: l.side.code().into(),
            direction: l.direction.code().into(),
            class: l.class.code().into(),
            name: l.name.clone(),
            capacity_per_hour: l.capacity_per_hour.to_string(),
            active: l.active.to_string(),
            basis: l.basis.clone(),
        }
    }
}

/// One gate's columns, prefixed `vn_` or `cn_` in the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GateColumns {
    pub name_vi: String,
    pub name_zh: String,
    pub name_pinyin: String,
    pub name_en: String,
    pub province: String,
    pub former_province: String,
    pub zone: String,
    pub lat: String,
    pub lon: String,
    pub coord_precision: String,
    pub coord_source: String,
    pub opens: String,
    pub closes: String,
    pub hours_source: String,
}

impl GateColumns {
    fn to_gate(&self, side: Side) -> Result<Gate, FieldError> {
        Gate::parse(
            side,
            &GateFields {
                name_vi: &self.name_vi,
                name_zh: &self.name_zh,
                name_pinyin: &self.name_pinyin,
                name_en: &self.name_en,
                province: &self.province,
                former_province: &self.former_province,
                zone: &self.zone,
                lat: &self.lat,
                lon: &self.lon,
                coord_precision: &self.coord_precision,
                coord_source: &self.coord_source,
                opens: &self.opens,
                closes: &self.closes,
                hours_source: &self.hours_source,
            },
        )
    }
    fn from_gate(g: &Gate) -> Self {
        let c: Option<&Coordinate> = g.coordinate.as_ref();
        let h: Option<&OpeningHours> = g.hours.as_ref();
        GateColumns {
            name_vi: g.name_vi.clone(),
            name_zh: g.name_zh.clone().unwrap_or_default(),
            name_pinyin: g.name_pinyin.clone().unwrap_or_default(),
            name_en: g.name_en.clone(),
            province: g.province.as_str().into(),
            former_province: g.former_province.clone().unwrap_or_default(),
            zone: g.zone.clone(),
            lat: c.map(|c| c.lat.to_string()).unwrap_or_default(),
            lon: c.map(|c| c.lon.to_string()).unwrap_or_default(),
            coord_precision: c.map(|c| c.precision.clone()).unwrap_or_default(),
            coord_source: c.map(|c| c.source.clone()).unwrap_or_default(),
            opens: h.map(|h| format_hhmm(h.open_min)).unwrap_or_default(),
            closes: h.map(|h| format_hhmm(h.close_min)).unwrap_or_default(),
            hours_source: h.map(|h| h.source.clone()).unwrap_or_default(),
        }
    }
}

/// A gate pair row: the pair's columns, then the Vietnamese gate's, then the Chinese gate's.
///
/// Flat (no `#[serde(flatten)]`) because the csv crate cannot deserialize flattened structs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatePairRow {
    pub id: String,
    pub order: String,
    pub kind: String,
    pub mode: String,
    pub designation: String,
    pub vn_name_vi: String,
    pub vn_name_zh: String,
    pub vn_name_pinyin: String,
    pub vn_name_en: String,
    pub vn_province: String,
    pub vn_former_province: String,
    pub vn_zone: String,
    pub vn_lat: String,
    pub vn_lon: String,
    pub vn_coord_precision: String,
    pub vn_coord_source: String,
    pub vn_opens: String,
    pub vn_closes: String,
    pub vn_hours_source: String,
    pub cn_name_vi: String,
    pub cn_name_zh: String,
    pub cn_name_pinyin: String,
    pub cn_name_en: String,
    pub cn_province: String,
    pub cn_former_province: String,
    pub cn_zone: String,
    pub cn_lat: String,
    pub cn_lon: String,
    pub cn_coord_precision: String,
    pub cn_coord_source: String,
    pub cn_opens: String,
    pub cn_closes: String,
    pub cn_hours_source: String,
    pub sources: String,
}

macro_rules! gate_columns {
    ($r:expr, vn) => {
        GateColumns {
            name_vi: $r.vn_name_vi.clone(),
            name_zh: $r.vn_name_zh.clone(),
            name_pinyin: $r.vn_name_pinyin.clone(),
            name_en: $r.vn_name_en.clone(),
            province: $r.vn_province.clone(),
            former_province: $r.vn_former_province.clone(),
            zone: $r.vn_zone.clone(),
            lat: $r.vn_lat.clone(),
            lon: $r.vn_lon.clone(),
            coord_precision: $r.vn_coord_precision.clone(),
            coord_source: $r.vn_coord_source.clone(),
            opens: $r.vn_opens.clone(),
            closes: $r.vn_closes.clone(),
            hours_source: $r.vn_hours_source.clone(),
        }
    };
    ($r:expr, cn) => {
        GateColumns {
            name_vi: $r.cn_name_vi.clone(),
            name_zh: $r.cn_name_zh.clone(),
            name_pinyin: $r.cn_name_pinyin.clone(),
            name_en: $r.cn_name_en.clone(),
            province: $r.cn_province.clone(),
            former_province: $r.cn_former_province.clone(),
            zone: $r.cn_zone.clone(),
            lat: $r.cn_lat.clone(),
            lon: $r.cn_lon.clone(),
            coord_precision: $r.cn_coord_precision.clone(),
            coord_source: $r.cn_coord_source.clone(),
            opens: $r.cn_opens.clone(),
            closes: $r.cn_closes.clone(),
            hours_source: $r.cn_hours_source.clone(),
        }
    };
}

impl GatePairRow {
    pub fn into_domain(self) -> Result<GatePair, FieldError> {
        let order: u32 = self.order.trim().parse().map_err(|_| FieldError::new("order", Problem::NotANumber))?;
        let sources: Vec<String> = self.sources.split(" | ").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if sources.is_empty() {
            return Err(FieldError::new("sources", Problem::Empty));
        }
        Ok(GatePair {
            id: GatePairId::parse(&self.id).map_err(|e| e.named("id"))?,
            kind: GateKind::parse("kind", &self.kind)?,
            mode: Mode::parse("mode", &self.mode)?,
            designation: cuakhau_core::validate::text("designation", &self.designation, 500)?,
            vn: gate_columns!(self, vn).to_gate(Side::Vn)?,
            cn: gate_columns!(self, cn).to_gate(Side::Cn)?,
            order,
            sources,
        })
    }

    pub fn from_domain(g: &GatePair) -> Self {
        let v = GateColumns::from_gate(&g.vn);
        let c = GateColumns::from_gate(&g.cn);
        GatePairRow {
            id: g.id.as_str().into(),
            order: g.order.to_string(),
            kind: g.kind.code().into(),
            mode: g.mode.code().into(),
            designation: g.designation.clone(),
            vn_name_vi: v.name_vi,
            vn_name_zh: v.name_zh,
            vn_name_pinyin: v.name_pinyin,
            vn_name_en: v.name_en,
            vn_province: v.province,
            vn_former_province: v.former_province,
            vn_zone: v.zone,
            vn_lat: v.lat,
            vn_lon: v.lon,
            vn_coord_precision: v.coord_precision,
            vn_coord_source: v.coord_source,
            vn_opens: v.opens,
            vn_closes: v.closes,
            vn_hours_source: v.hours_source,
            cn_name_vi: c.name_vi,
            cn_name_zh: c.name_zh,
            cn_name_pinyin: c.name_pinyin,
            cn_name_en: c.name_en,
            cn_province: c.province,
            cn_former_province: c.former_province,
            cn_zone: c.zone,
            cn_lat: c.lat,
            cn_lon: c.lon,
            cn_coord_precision: c.coord_precision,
            cn_coord_source: c.coord_source,
            cn_opens: c.opens,
            cn_closes: c.closes,
            cn_hours_source: c.hours_source,
            sources: g.sources.join(" | "),
        }
    }
}
