//! Reference data: gate pairs, gates, provinces, pairings and lanes, their hours and suspensions.
//! Reading is public; changing hours or lanes needs the gate board of that side (or an admin);
//! importing a table needs an admin.
//!
//! The data is cached (every list and slot calendar reads it); this node's writes clear the
//! cache, and a 5-second TTL on the ticker bounds how stale another node's writes can look.

use crate::caches;
use crate::{App, AppError, ConflictKind, Principal, Result, What};
use cuakhau_core::auth::Action;
use cuakhau_core::goods::slots::Suspension;
use cuakhau_core::refdata::{LaneClass, OpeningHours, check_capacity};
use cuakhau_core::{
    GateKind, GatePair, GatePairId, Lane, LaneId, LocalityPairing, Mode, Province, ProvinceId, ReferenceData, Side, Timestamp, validate,
};
use cuakhau_store::{Actor, GateHoursChange, LoadReport};
use std::sync::Arc;

/// The reference-data use cases.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a>(pub(crate) &'a App);

/// Filters for the gate pair list.
#[derive(Debug, Clone, Default)]
pub struct PairFilter {
    pub kind: Option<GateKind>,
    pub mode: Option<Mode>,
    /// A province on either side.
    pub province: Option<ProvinceId>,
    /// Text to find in any name (any language, case-insensitive).
    pub text: Option<String>,
}

/// Filters for the gate list.
#[derive(Debug, Clone, Default)]
pub struct GateFilter {
    pub side: Option<Side>,
    pub province: Option<ProvinceId>,
    /// Only gates open (true) or closed (false) now; gates with unknown hours are left out.
    pub open_now: Option<bool>,
}

/// Filters for the lane list.
#[derive(Debug, Clone, Default)]
pub struct LaneFilter {
    pub gate_pair: Option<GatePairId>,
    pub side: Option<Side>,
    pub direction: Option<cuakhau_core::Direction>,
}

/// A change to a lane; `None` leaves a field as it is. Without a basis, the lane's basis names
/// the gate board that set it.
#[derive(Debug, Clone, Default)]
pub struct LanePatch {
    pub name: Option<String>,
    pub capacity_per_hour: Option<u32>,
    pub active: Option<bool>,
    pub class: Option<String>,
    pub basis: Option<String>,
}

/// The format of an imported table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Json,
}

impl Reference<'_> {
    /// The reference data, from the cache when fresh.
    pub async fn data(&self) -> Result<Arc<ReferenceData>> {
        let app = self.0;
        let now = app.ticker().elapsed();
        let cache = &app.inner.caches.reference;
        if let Some((_, data)) = cache.read().expect("not poisoned").as_ref().filter(|(at, _)| caches::fresh(*at, now)) {
            return Ok(data.clone());
        }
        let data = Arc::new(app.store().reference().await?);
        *cache.write().expect("not poisoned") = Some((now, data.clone()));
        Ok(data)
    }

    /// Forgets the cached reference data (after a write to it).
    pub fn changed(&self) {
        *self.0.inner.caches.reference.write().expect("not poisoned") = None;
    }

    /// A gate pair and its lanes, from the cached data.
    pub async fn pair_with_lanes(&self, id: &GatePairId) -> Result<(GatePair, Vec<Lane>)> {
        let data = self.data().await?;
        let gp =
            data.gate_pairs.iter().find(|g| g.id == *id).cloned().ok_or_else(|| AppError::NotFound(What::GatePair(id.as_str().into())))?;
        Ok((gp, data.lanes.iter().filter(|l| l.gate_pair == *id).cloned().collect()))
    }

    /// A gate pair's suspensions that end after `from` (cached like the reference data).
    pub async fn suspensions(&self, pair: &GatePairId, from: Timestamp) -> Result<Arc<Vec<Suspension>>> {
        let app = self.0;
        // Cache from a day back, so that any window starting in the last day is covered.
        let horizon = app.now().plus_seconds(-86_400);
        let tick = app.ticker().elapsed();
        let cache = &app.inner.caches.suspensions;
        if let Some((_, list)) =
            cache.lock().expect("not poisoned").get(pair.as_str()).filter(|(at, _)| from >= horizon && caches::fresh(*at, tick))
        {
            return Ok(list.clone());
        }
        let start = if from >= horizon { horizon } else { from };
        let list: Arc<Vec<_>> =
            Arc::new(app.store().suspensions(pair, start, Timestamp(i64::MAX)).await?.into_iter().map(|(_, s)| s).collect());
        if from >= horizon {
            cache.lock().expect("not poisoned").insert(pair.as_str().to_string(), (tick, list.clone()));
        }
        Ok(list)
    }

    /// The suspensions in force at `now`.
    pub async fn suspensions_at(&self, pair: &GatePairId, now: Timestamp) -> Result<Vec<Suspension>> {
        let all = self.suspensions(pair, now).await?;
        Ok(all.iter().filter(|s| s.from <= now && now < s.until).cloned().collect())
    }

    /// Gate pairs matching `f`, in border order.
    pub async fn gate_pairs(&self, f: &PairFilter) -> Result<Vec<GatePair>> {
        let data = self.data().await?;
        let needle = f.text.as_deref().map(str::to_lowercase);
        Ok(data
            .gate_pairs
            .iter()
            .filter(|g| f.kind.is_none_or(|k| g.kind == k) && f.mode.is_none_or(|m| g.mode == m))
            .filter(|g| f.province.as_ref().is_none_or(|p| g.vn.province == *p || g.cn.province == *p))
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
            .cloned()
            .collect())
    }

    /// One gate pair, as stored now.
    pub async fn gate_pair(&self, id: &GatePairId) -> Result<GatePair> {
        self.0.store().gate_pair(id).await?.ok_or_else(|| AppError::NotFound(What::GatePair(id.as_str().into())))
    }

    /// Gates (a pair and a side) matching `f`.
    pub async fn gates(&self, f: &GateFilter) -> Result<Vec<(GatePair, Side)>> {
        let data = self.data().await?;
        let now = self.0.now();
        Ok(data
            .gate_pairs
            .iter()
            .flat_map(|p| [(p, Side::Vn), (p, Side::Cn)])
            .filter(|(p, s)| f.side.is_none_or(|x| x == *s) && f.province.as_ref().is_none_or(|pr| p.gate(*s).province == *pr))
            .filter(|(p, s)| f.open_now.is_none_or(|o| p.gate(*s).is_open_at(now) == Some(o)))
            .map(|(p, s)| (p.clone(), s))
            .collect())
    }

    pub async fn provinces(&self, country: Option<Side>) -> Result<Vec<Province>> {
        let data = self.data().await?;
        Ok(data.provinces.iter().filter(|p| country.is_none_or(|c| p.country == c)).cloned().collect())
    }

    pub async fn province(&self, id: &str) -> Result<Province> {
        let data = self.data().await?;
        data.provinces.iter().find(|p| p.id.as_str() == id).cloned().ok_or_else(|| AppError::NotFound(What::Province(id.into())))
    }

    pub async fn pairings(&self) -> Result<Vec<LocalityPairing>> {
        Ok(self.data().await?.pairings.clone())
    }

    pub async fn lanes(&self, f: &LaneFilter) -> Result<Vec<Lane>> {
        let data = self.data().await?;
        Ok(data
            .lanes
            .iter()
            .filter(|l| {
                f.gate_pair.as_ref().is_none_or(|p| l.gate_pair == *p)
                    && f.side.is_none_or(|s| l.side == s)
                    && f.direction.is_none_or(|d| l.direction == d)
            })
            .cloned()
            .collect())
    }

    /// A gate pair's lanes (the pair must exist).
    pub async fn pair_lanes(&self, id: &str) -> Result<Vec<Lane>> {
        let data = self.data().await?;
        if !data.gate_pairs.iter().any(|g| g.id.as_str() == id) {
            return Err(AppError::NotFound(What::GatePair(id.into())));
        }
        Ok(data.lanes.iter().filter(|l| l.gate_pair.as_str() == id).cloned().collect())
    }

    pub async fn lane(&self, id: &str) -> Result<Lane> {
        let nf = || AppError::NotFound(What::Lane(id.into()));
        let lid = LaneId::parse(id).map_err(|_| nf())?;
        self.0.store().lane(&lid).await?.ok_or_else(nf)
    }

    /// Sets (or with `None` clears) one side's daily hours.
    pub async fn set_hours(&self, who: &Principal, pair: &GatePairId, side: Side, hours: Option<OpeningHours>) -> Result<GatePair> {
        let user = who.require(Action::EditGate { gate_pair: pair, side })?;
        let at = self.0.now();
        let g = self.0.store().update_gate_hours(pair, side, GateHoursChange { hours }, Actor { name: &user.username, at }).await?;
        self.changed();
        self.0.events().publish(pair);
        Ok(g)
    }

    /// Changes a lane: its gate board (of the lane's side) or an admin.
    pub async fn patch_lane(&self, who: &Principal, id: &str, p: LanePatch) -> Result<Lane> {
        who.signed_in()?;
        let mut lane = self.lane(id).await?;
        let user = who.require(Action::EditLane { gate_pair: &lane.gate_pair, side: lane.side })?;
        if let Some(n) = &p.name {
            lane.name = validate::text("name", n, 120)?;
        }
        let capacity_before = lane.capacity_per_hour;
        if let Some(c) = p.capacity_per_hour {
            lane.capacity_per_hour = check_capacity("capacity_per_hour", c)?;
        }
        if let Some(a) = p.active {
            lane.active = a;
        }
        if let Some(c) = &p.class {
            lane.class = LaneClass::parse("class", c)?;
        }
        // Where the capacity figure comes from: given, or the board's own when it changes the
        // figure without saying; a rename or a closure keeps the source it had.
        if let Some(b) = &p.basis {
            lane.basis = validate::text("basis", b, 2000)?;
        } else if lane.capacity_per_hour != capacity_before {
            lane.basis = format!("set by {} (gate management board)", user.username);
        }
        let saved = self.0.store().put_lane(&lane, Actor { name: &user.username, at: self.0.now() }).await?;
        self.changed();
        self.0.events().publish(&saved.gate_pair);
        Ok(saved)
    }

    /// Adds a lane to a gate pair: its gate board (of the lane's side) or an admin.
    pub async fn add_lane(&self, who: &Principal, lane: Lane) -> Result<Lane> {
        let user = who.require(Action::EditLane { gate_pair: &lane.gate_pair, side: lane.side })?;
        if self.0.store().lane(&lane.id).await?.is_some() {
            return Err(AppError::Conflict(ConflictKind::LaneExists(lane.id.as_str().into())));
        }
        let saved = self.0.store().put_lane(&lane, Actor { name: &user.username, at: self.0.now() }).await?;
        self.changed();
        self.0.events().publish(&saved.gate_pair);
        Ok(saved)
    }

    /// Imports one table (all rows or none); returns the rows read and what changed.
    pub async fn import(&self, who: &Principal, table: &str, format: ImportFormat, bytes: &[u8]) -> Result<(usize, LoadReport)> {
        let user = who.require(Action::ImportReference)?;
        let t = cuakhau_data::Table::parse(table).ok_or_else(|| AppError::NotFound(What::Table(table.into())))?;
        let rows = match format {
            ImportFormat::Csv => cuakhau_data::parse_csv(t, bytes, &mut |_| {}),
            ImportFormat::Json => cuakhau_data::parse_json(t, bytes),
        }
        .map_err(AppError::Import)?;
        let n = rows.len();
        let r = self.0.store().load_reference(&rows.into_reference(), Actor { name: &user.username, at: self.0.now() }).await?;
        self.changed();
        // Lanes and gates of any pair may have changed: every board is told, once.
        if r.inserted + r.updated > 0 {
            self.0.events().publish_everywhere();
        }
        Ok((n, r))
    }
}
