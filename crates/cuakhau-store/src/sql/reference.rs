//! The reference context's SQL: provinces, pairings, gate pairs and their gates, lanes, the
//! idempotent bulk load, and node settings.

use super::audit::append;
use super::{Conn, Engine, FromRow, Row, all, always, opt, params, scalar, scalar_opt};
use crate::plan::{Write, plan_load};
use crate::records::{self, GatePairRec, GateRec, LaneRec, PairingRec, ProvinceRec, snapshot};
use crate::{Actor, ConflictKind, GateHoursChange, LoadReport, Missing, ReferenceStore, Result, StoreError};
use async_trait::async_trait;
use cuakhau_core::refdata::{Lane, LaneId, LocalityPairing, Province};
use cuakhau_core::{GatePair, GatePairId, ReferenceData, Side};

impl FromRow for ProvinceRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ProvinceRec {
            id: r.get("id")?,
            country: r.get("country")?,
            name_vi: r.get("name_vi")?,
            name_zh: r.get("name_zh")?,
            name_en: r.get("name_en")?,
            former_names: r.get("former_names")?,
            source: r.get("source")?,
        })
    }
}

impl FromRow for PairingRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(PairingRec {
            vn_province: r.get("vn_province")?,
            cn_province: r.get("cn_province")?,
            mechanism: r.get("mechanism")?,
            source: r.get("source")?,
        })
    }
}

impl FromRow for GatePairRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(GatePairRec {
            id: r.get("id")?,
            ord: r.get("ord")?,
            kind: r.get("kind")?,
            mode: r.get("mode")?,
            designation: r.get("designation")?,
            sources: r.get("sources")?,
        })
    }
}

impl FromRow for GateRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(GateRec {
            gate_pair_id: r.get("gate_pair_id")?,
            side: r.get("side")?,
            name_vi: r.get("name_vi")?,
            name_zh: r.get("name_zh")?,
            name_pinyin: r.get("name_pinyin")?,
            name_en: r.get("name_en")?,
            province_id: r.get("province_id")?,
            former_province: r.get("former_province")?,
            zone: r.get("zone")?,
            lat: r.get("lat")?,
            lon: r.get("lon")?,
            coord_precision: r.get("coord_precision")?,
            coord_source: r.get("coord_source")?,
            open_min: r.get("open_min")?,
            close_min: r.get("close_min")?,
            hours_source: r.get("hours_source")?,
        })
    }
}

impl FromRow for LaneRec {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(LaneRec {
            id: r.get("id")?,
            gate_pair_id: r.get("gate_pair_id")?,
            side: r.get("side")?,
            direction: r.get("direction")?,
            class: r.get("class")?,
            name: r.get("name")?,
            capacity_per_hour: r.get("capacity_per_hour")?,
            active: r.get("active")?,
            basis: r.get("basis")?,
        })
    }
}

const GATE_COLS: &str = "gate_pair_id, side, name_vi, name_zh, name_pinyin, name_en, province_id, former_province, zone, lat, lon, \
                         coord_precision, coord_source, open_min, close_min, hours_source";
const LANE_COLS: &str = "id, gate_pair_id, side, direction, class, name, capacity_per_hour, active, basis";

pub async fn read_reference<C: Conn>(c: &mut C) -> Result<ReferenceData> {
    let provinces = all::<ProvinceRec, _>(
        c,
        "SELECT id, country, name_vi, name_zh, name_en, former_names, source FROM provinces ORDER BY country DESC, id",
        &[],
    )
    .await?
    .into_iter()
    .map(ProvinceRec::into_domain)
    .collect::<Result<Vec<_>>>()?;
    let pairings = all::<PairingRec, _>(
        c,
        "SELECT vn_province, cn_province, mechanism, source FROM pairings ORDER BY cn_province DESC, vn_province",
        &[],
    )
    .await?
    .into_iter()
    .map(PairingRec::into_domain)
    .collect::<Result<Vec<_>>>()?;
    let pairs = all::<GatePairRec, _>(c, "SELECT id, ord, kind, mode, designation, sources FROM gate_pairs ORDER BY ord, id", &[]).await?;
    let gates = all::<GateRec, _>(c, &format!("SELECT {GATE_COLS} FROM gates"), &[]).await?;
    let mut by_pair: std::collections::HashMap<String, Vec<GateRec>> = std::collections::HashMap::new();
    for g in gates {
        by_pair.entry(g.gate_pair_id.clone()).or_default().push(g);
    }
    let gate_pairs = pairs
        .into_iter()
        .map(|p| {
            let g = by_pair.remove(&p.id).unwrap_or_default();
            records::gate_pair(p, g)
        })
        .collect::<Result<Vec<_>>>()?;
    let lanes = all::<LaneRec, _>(c, &format!("SELECT {LANE_COLS} FROM lanes ORDER BY gate_pair_id, side, direction, id"), &[])
        .await?
        .into_iter()
        .map(LaneRec::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(ReferenceData { provinces, pairings, gate_pairs, lanes })
}

pub async fn read_pair<C: Conn>(c: &mut C, id: &str) -> Result<Option<GatePair>> {
    let Some(rec) =
        opt::<GatePairRec, _>(c, "SELECT id, ord, kind, mode, designation, sources FROM gate_pairs WHERE id = $1", params![id]).await?
    else {
        return Ok(None);
    };
    let gates = all::<GateRec, _>(c, &format!("SELECT {GATE_COLS} FROM gates WHERE gate_pair_id = $1"), params![id]).await?;
    records::gate_pair(rec, gates).map(Some)
}

/// The gate pair, which must exist.
pub async fn require_pair<C: Conn>(c: &mut C, id: &GatePairId) -> Result<GatePair> {
    read_pair(c, id.as_str()).await?.ok_or_else(|| StoreError::NotFound(Missing::GatePair(id.as_str().to_string())))
}

async fn write_province<C: Conn>(c: &mut C, p: &Province) -> Result<()> {
    c.execute(
        "INSERT INTO provinces (id, country, name_vi, name_zh, name_en, former_names, source) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET country = excluded.country, name_vi = excluded.name_vi, name_zh = excluded.name_zh,
         name_en = excluded.name_en, former_names = excluded.former_names, source = excluded.source",
        params![p.id.as_str(), p.country.code(), &p.name_vi, &p.name_zh, &p.name_en, &p.former_names, &p.source],
    )
    .await?;
    Ok(())
}

async fn write_pairing<C: Conn>(c: &mut C, p: &LocalityPairing) -> Result<()> {
    c.execute(
        "INSERT INTO pairings (vn_province, cn_province, mechanism, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (vn_province, cn_province) DO UPDATE SET mechanism = excluded.mechanism, source = excluded.source",
        params![p.vn_province.as_str(), p.cn_province.as_str(), &p.mechanism, &p.source],
    )
    .await?;
    Ok(())
}

async fn write_gate_pair<C: Conn>(c: &mut C, g: &GatePair) -> Result<()> {
    c.execute(
        "INSERT INTO gate_pairs (id, ord, kind, mode, designation, sources) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET ord = excluded.ord, kind = excluded.kind, mode = excluded.mode,
         designation = excluded.designation, sources = excluded.sources",
        params![g.id.as_str(), i64::from(g.order), g.kind.code(), g.mode.code(), &g.designation, records::join_sources(g)],
    )
    .await?;
    for gate in [&g.vn, &g.cn] {
        let r = GateRec::from_domain(&g.id, gate);
        c.execute(
            "INSERT INTO gates (gate_pair_id, side, name_vi, name_zh, name_pinyin, name_en, province_id, former_province, zone,
             lat, lon, coord_precision, coord_source, open_min, close_min, hours_source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (gate_pair_id, side) DO UPDATE SET name_vi = excluded.name_vi, name_zh = excluded.name_zh,
             name_pinyin = excluded.name_pinyin, name_en = excluded.name_en, province_id = excluded.province_id,
             former_province = excluded.former_province, zone = excluded.zone, lat = excluded.lat, lon = excluded.lon,
             coord_precision = excluded.coord_precision, coord_source = excluded.coord_source, open_min = excluded.open_min,
             close_min = excluded.close_min, hours_source = excluded.hours_source",
            params![
                r.gate_pair_id,
                r.side,
                r.name_vi,
                r.name_zh,
                r.name_pinyin,
                r.name_en,
                r.province_id,
                r.former_province,
                r.zone,
                r.lat,
                r.lon,
                r.coord_precision,
                r.coord_source,
                r.open_min,
                r.close_min,
                r.hours_source
            ],
        )
        .await?;
    }
    Ok(())
}

async fn write_lane<C: Conn>(c: &mut C, l: &Lane) -> Result<()> {
    c.execute(
        "INSERT INTO lanes (id, gate_pair_id, side, direction, class, name, capacity_per_hour, active, basis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET gate_pair_id = excluded.gate_pair_id, side = excluded.side, direction = excluded.direction,
         class = excluded.class, name = excluded.name, capacity_per_hour = excluded.capacity_per_hour,
         active = excluded.active, basis = excluded.basis",
        params![
            l.id.as_str(),
            l.gate_pair.as_str(),
            l.side.code(),
            l.direction.code(),
            l.class.code(),
            &l.name,
            i64::from(l.capacity_per_hour),
            l.active,
            &l.basis
        ],
    )
    .await?;
    Ok(())
}

/// A gate pair's lanes, both sides and directions.
pub async fn read_pair_lanes<C: Conn>(c: &mut C, pair: &GatePairId) -> Result<Vec<Lane>> {
    all::<LaneRec, _>(c, &format!("SELECT {LANE_COLS} FROM lanes WHERE gate_pair_id = $1 ORDER BY id"), params![pair.as_str()])
        .await?
        .into_iter()
        .map(LaneRec::into_domain)
        .collect()
}

pub async fn read_lane<C: Conn>(c: &mut C, id: &str) -> Result<Option<Lane>> {
    opt::<LaneRec, _>(c, &format!("SELECT {LANE_COLS} FROM lanes WHERE id = $1"), params![id]).await?.map(LaneRec::into_domain).transpose()
}

pub async fn load_reference<C: Conn>(c: &mut C, data: &ReferenceData, actor: Actor<'_>) -> Result<LoadReport> {
    let stored = read_reference(c).await?;
    let merged = crate::plan::merged(&stored, data);
    merged.check().map_err(|e| {
        StoreError::Conflict(ConflictKind::ReferenceRow { table: e.table.to_string(), row: e.index + 1, reason: e.error.to_string() })
    })?;
    let plan = plan_load(&stored, data);
    let mut report = LoadReport { unchanged: plan.unchanged, ..Default::default() };
    for w in plan.writes {
        let (entity, before, after, inserted) = match &w {
            Write::Province { new, old } => {
                write_province(c, new).await?;
                (format!("province/{}", new.id.as_str()), old.as_ref().map(snapshot::province), snapshot::province(new), old.is_none())
            }
            Write::Pairing { new, old } => {
                write_pairing(c, new).await?;
                let entity = format!("pairing/{}/{}", new.vn_province.as_str(), new.cn_province.as_str());
                (entity, old.as_ref().map(snapshot::pairing), snapshot::pairing(new), old.is_none())
            }
            Write::GatePair { new, old } => {
                write_gate_pair(c, new).await?;
                (format!("gate-pair/{}", new.id.as_str()), old.as_ref().map(snapshot::gate_pair), snapshot::gate_pair(new), old.is_none())
            }
            Write::Lane { new, old } => {
                write_lane(c, new).await?;
                if !new.active {
                    // A lane closed by an import serves nobody either (see `put_lane`).
                    super::gate::requeue_called_to_lane(c, new, actor.clone()).await?;
                }
                (format!("lane/{}", new.id.as_str()), old.as_ref().map(snapshot::lane), snapshot::lane(new), old.is_none())
            }
        };
        if inserted {
            report.inserted += 1
        } else {
            report.updated += 1
        }
        let action = if inserted { "reference.insert" } else { "reference.update" };
        append(c, &actor, None, action, entity, before, Some(after)).await?;
    }
    Ok(report)
}

pub async fn update_gate_hours<C: Conn>(
    c: &mut C,
    id: &GatePairId,
    side: Side,
    change: &GateHoursChange,
    actor: Actor<'_>,
) -> Result<GatePair> {
    let before = require_pair(c, id).await?;
    let mut after = before.clone();
    after.gate_mut(side).hours = change.hours.clone();
    if after != before {
        write_gate_pair(c, &after).await?;
        let entity = format!("gate-pair/{}/{}", id.as_str(), side.code());
        append(c, &actor, Some(id.as_str()), "gate.hours", entity, Some(snapshot::gate_pair(&before)), Some(snapshot::gate_pair(&after)))
            .await?;
    }
    Ok(after)
}

pub async fn put_lane<C: Conn>(c: &mut C, lane: &Lane, actor: Actor<'_>) -> Result<Lane> {
    require_pair(c, &lane.gate_pair).await?;
    let old = read_lane(c, lane.id.as_str()).await?;
    if old.as_ref() != Some(lane) {
        write_lane(c, lane).await?;
        let action = if old.is_some() { "lane.update" } else { "lane.create" };
        append(
            c,
            &actor,
            Some(lane.gate_pair.as_str()),
            action,
            format!("lane/{}", lane.id.as_str()),
            old.as_ref().map(snapshot::lane),
            Some(snapshot::lane(lane)),
        )
        .await?;
    }
    if !lane.active {
        // Also when the lane was already closed (by an import before this rule, say).
        super::gate::requeue_called_to_lane(c, lane, actor).await?;
    }
    Ok(lane.clone())
}

pub async fn put_setting<C: Conn>(c: &mut C, key: &str, value: &str, actor: Actor<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .await?;
    append(c, &actor, None, "setting.put", format!("setting/{key}"), None, Some(value.to_string())).await
}

#[async_trait]
impl<E: Engine> ReferenceStore for E {
    async fn is_empty(&self) -> Result<bool> {
        self.read((), |c, ()| Box::pin(async move { Ok(scalar::<i64, _>(c, "SELECT COUNT(*) FROM gate_pairs", &[]).await? == 0) })).await
    }

    async fn load_reference(&self, data: &ReferenceData, actor: Actor<'_>) -> Result<LoadReport> {
        self.write((data.clone(), actor.owned()), always, |c, (data, a)| Box::pin(load_reference(c, data, a.actor()))).await
    }

    async fn reference(&self) -> Result<ReferenceData> {
        self.read((), |c, ()| Box::pin(read_reference(c))).await
    }

    async fn gate_pair(&self, id: &GatePairId) -> Result<Option<GatePair>> {
        self.read(id.clone(), |c, id| Box::pin(read_pair(c, id.as_str()))).await
    }

    async fn update_gate_hours(&self, id: &GatePairId, side: Side, change: GateHoursChange, actor: Actor<'_>) -> Result<GatePair> {
        self.write((id.clone(), side, change, actor.owned()), always, |c, (id, side, change, a)| {
            Box::pin(update_gate_hours(c, id, *side, change, a.actor()))
        })
        .await
    }

    async fn lane(&self, id: &LaneId) -> Result<Option<Lane>> {
        self.read(id.as_str().to_string(), |c, id| Box::pin(read_lane(c, id))).await
    }

    async fn put_lane(&self, lane: &Lane, actor: Actor<'_>) -> Result<Lane> {
        self.write((lane.clone(), actor.owned()), always, |c, (lane, a)| Box::pin(put_lane(c, lane, a.actor()))).await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(key.to_string(), |c, key| {
            Box::pin(async move { scalar_opt(c, "SELECT value FROM settings WHERE key = $1", params![key.as_str()]).await })
        })
        .await
    }

    async fn put_setting(&self, key: &str, value: &str, actor: Actor<'_>) -> Result<()> {
        self.write((key.to_string(), value.to_string(), actor.owned()), always, |c, (k, v, a)| Box::pin(put_setting(c, k, v, a.actor())))
            .await
    }
}
