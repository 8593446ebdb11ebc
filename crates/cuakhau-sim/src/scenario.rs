//! The scenario file (TOML): gate pairs with each side's lanes and hours in its own zone, demand,
//! commodities, channels, service times, variants. Documented in docs/scenarios.md, with a JSON
//! schema in docs/scenario.schema.json.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn one() -> u32 {
    1
}
fn fifo() -> String {
    "fifo".into()
}
fn five() -> f64 {
    5.0
}

/// A whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the figures rest on, in words; shown with every result.
    #[serde(default)]
    pub assumptions: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    /// When the simulation starts, RFC 3339 with offset, e.g. `2027-01-01T00:00:00+07:00`.
    pub start: String,
    pub horizon_days: f64,
    /// Days at the start left out of every statistic (waits, queues, utilisation, spoilage), so a
    /// steady-state study does not count the empty border it starts from. Counts of trucks
    /// (`arrived`, `served`) still cover the whole horizon.
    #[serde(default)]
    pub warmup_days: f64,
    /// Thresholds t, in hours, for which the results give P(total wait > t).
    #[serde(default)]
    pub wait_thresholds_h: Vec<f64>,
    #[serde(default = "one")]
    pub replications: u32,
    #[serde(default)]
    pub seed: u64,
    /// Call-forward policy of the exit side's yards: `fifo`, `booked-first`, `perishables-first`
    /// (earliest spoil-by first) or `perishables-fifo` (perishables first, FIFO within each class).
    #[serde(default = "fifo")]
    pub policy: String,
    /// Each side's own policy, for its yards whichever way trucks go (the exit yard, and the
    /// queue before the entry lanes). Absent for a side: exit yards use `policy`, entry queues
    /// are FIFO.
    #[serde(default)]
    pub policies: SidePolicies,
    #[serde(default)]
    pub limits: Limits,
    pub gate_pairs: Vec<GatePairSpec>,
    pub flows: Vec<FlowSpec>,
    pub commodities: Vec<CommoditySpec>,
    /// Risk channel shares of each side's customs (each side draws its own channel) unless the
    /// side has its own selection in `side_channels`.
    #[serde(default)]
    pub channels: ChannelShares,
    /// A side's own risk selection: named channels with shares (China's need not be three
    /// colours); that side's `[[service]]` entries name these channels.
    #[serde(default)]
    pub side_channels: Vec<SideChannels>,
    /// Service time per side, agency and (optionally) channel; steps without one take no time.
    #[serde(default)]
    pub service: Vec<ServiceSpec>,
    /// Time of the hand-over at the zero-kilometre line, added to the travel time.
    #[serde(default)]
    pub handover: Option<Dist>,
    #[serde(default)]
    pub variants: Vec<VariantSpec>,
}

/// Limits on everything, so that a bad scenario cannot run away.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_events: u64,
    /// Most trucks waiting at one yard; arrivals beyond are turned away and counted.
    pub max_queue: usize,
    pub max_horizon_days: f64,
    pub max_replications: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 4_000_000_000, max_queue: 1_000_000, max_horizon_days: 365.0 * 200.0, max_replications: 1000 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatePairSpec {
    pub id: String,
    /// Driving time across the line between the two sides' inspection areas.
    #[serde(default = "five")]
    pub travel_time_min: f64,
    /// Most trucks in flight towards the far side at once (called, not yet released there).
    #[serde(default)]
    pub far_side_limit: Option<u32>,
    pub vn: SideSpec,
    pub cn: SideSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SideSpec {
    /// Opening time every day, `HH:MM` in this side's own zone (VN: Asia/Ho_Chi_Minh, CN:
    /// Asia/Shanghai). Leave `opens` and `closes` out when `windows` gives the hours.
    #[serde(default)]
    pub opens: String,
    #[serde(default)]
    pub closes: String,
    /// Hours by weekday, in place of `opens`/`closes`: each window names its days and its
    /// `HH:MM` times, e.g. Hoành Mô's `{ days = "mon-fri", opens = "08:00", closes = "09:00" }`
    /// and `{ days = "mon-fri", opens = "15:00", closes = "16:00" }`. Days not named are closed.
    #[serde(default)]
    pub windows: Vec<WindowSpec>,
    /// Closures (suspensions), RFC 3339 instants.
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// Whole local days closed, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub lanes: Vec<LaneSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub from: String,
    pub until: String,
    /// `true`: only trucks holding a slot cross in it (a Tết-style pre-registered window);
    /// default: nobody crosses.
    #[serde(default)]
    pub preregistered_only: bool,
}

/// An opening window on some weekdays.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Weekdays: `mon`…`sun`, a range such as `mon-fri`, or several separated by commas
    /// (`mon,wed,fri`); `daily` for all seven.
    pub days: String,
    /// `HH:MM`, local time of the side; `closes` before `opens` runs past midnight into the next day.
    pub opens: String,
    pub closes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LaneSpec {
    /// `export` (VN → CN) or `import` (CN → VN).
    pub direction: String,
    /// `general`, `perishable` or `agv`.
    #[serde(default = "general")]
    pub class: String,
    pub count: u32,
    /// This lane's own hours (`HH:MM`, local time of its side; may run past midnight, e.g. a
    /// driverless lane working 19:00–07:00). Absent: the side's hours.
    #[serde(default)]
    pub opens: Option<String>,
    #[serde(default)]
    pub closes: Option<String>,
}

fn general() -> String {
    "general".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    pub direction: String,
    /// Mean arrivals per day before weekday and season factors (ignored with `arrivals_csv`).
    #[serde(default)]
    pub trucks_per_day: f64,
    /// Share of the flow per gate pair id; default: all to the first gate pair.
    #[serde(default)]
    pub split: BTreeMap<String, f64>,
    /// 24 relative weights, hour 0–23 in the exit side's local time.
    #[serde(default)]
    pub hourly_profile: Vec<f64>,
    /// 7 relative weights, Monday to Sunday.
    #[serde(default)]
    pub weekday_profile: Vec<f64>,
    #[serde(default)]
    pub seasons: Vec<Season>,
    /// Share of trucks that book a slot (and so arrive in a booked hour).
    #[serde(default)]
    pub booked_share: f64,
    /// Share of booked trucks that never come.
    #[serde(default)]
    pub no_show_rate: f64,
    /// Replay real arrivals instead: a CSV with `time` (RFC 3339) and optional `gate_pair`,
    /// `commodity`, `booked` columns, relative to the scenario file.
    #[serde(default)]
    pub arrivals_csv: Option<String>,
}

/// A seasonal multiplier on demand between two dates (`MM-DD`, inclusive; may wrap the year).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Season {
    pub name: String,
    pub from: String,
    pub to: String,
    pub multiplier: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommoditySpec {
    pub name: String,
    pub share: f64,
    #[serde(default)]
    pub perishable: bool,
    /// Shelf life from harvest, hours (perishables).
    #[serde(default)]
    pub shelf_life_h: Option<f64>,
    /// Age of the cargo when it reaches the yard, hours.
    #[serde(default)]
    pub age_h: Option<Dist>,
    /// Value of one truckload, USD.
    #[serde(default)]
    pub value_usd: f64,
    /// Whether it passes plant/animal quarantine; default: perishables do.
    #[serde(default)]
    pub quarantine: Option<bool>,
    /// Only the dedicated AGV lane carries it (driverless trips).
    #[serde(default)]
    pub agv: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelShares {
    pub green: f64,
    pub yellow: f64,
    pub red: f64,
    /// `true`: one draw decides both sides' channels (both then use these shares). Default:
    /// each side's customs selects independently.
    #[serde(default)]
    pub shared: bool,
}

impl Default for ChannelShares {
    fn default() -> Self {
        ChannelShares { green: 1.0, yellow: 0.0, red: 0.0, shared: false }
    }
}

/// One side's own risk selection.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SideChannels {
    /// `VN` or `CN`.
    pub side: String,
    /// Share of each named channel (1 to 8 channels), e.g. `{ released = 0.9, inspected = 0.1 }`.
    pub shares: BTreeMap<String, f64>,
}

/// A call-forward policy per side (see `policy` for the names).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidePolicies {
    #[serde(rename = "VN", default, skip_serializing_if = "Option::is_none")]
    pub vn: Option<String>,
    #[serde(rename = "CN", default, skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// `VN` or `CN`.
    pub side: String,
    /// `customs`, `border-guard` or `quarantine`.
    pub agency: String,
    /// `green`, `yellow`, `red`; absent: every channel.
    #[serde(default)]
    pub channel: Option<String>,
    pub time: Dist,
}

/// A distribution of durations, in minutes (or hours where the field says so). Every figure is
/// finite, not negative and at most 366 days; no single draw is longer than 366 days.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// Always the same value.
    Deterministic { value: f64 },
    /// Log-normal with the given mean and sigma (of the underlying normal, at most 4).
    Lognormal { mean: f64, sigma: f64 },
    /// Uniform between `min` and `max`.
    Uniform { min: f64, max: f64 },
    /// Triangular between `min` and `max`, most likely at `mode`.
    Triangular { min: f64, mode: f64, max: f64 },
    /// Draws one of the observed `values`: each equally likely, or in proportion to `weights`
    /// (one non-negative weight per value).
    Empirical {
        values: Vec<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
}

/// A what-if: changes applied to the scenario; results are compared with the baseline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    pub name: String,
    #[serde(default)]
    pub add_lanes: Vec<AddLanes>,
    #[serde(default)]
    pub hours: Vec<HoursChange>,
    #[serde(default)]
    pub policy: Option<String>,
    /// Per-side policies, replacing the baseline's for the sides given.
    #[serde(default)]
    pub policies: Option<SidePolicies>,
    #[serde(default)]
    pub add_gate_pairs: Vec<GatePairSpec>,
    /// New splits of flows over gate pairs, by direction.
    #[serde(default)]
    pub split: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    pub demand_multiplier: Option<f64>,
    #[serde(default)]
    pub far_side_limit: Option<u32>,
    /// A different commodity mix (e.g. part of the cargo moved to driverless AGV trips).
    #[serde(default)]
    pub commodities: Option<Vec<CommoditySpec>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLanes {
    pub gate_pair: String,
    pub side: String,
    pub direction: String,
    #[serde(default = "general")]
    pub class: String,
    pub count: u32,
    #[serde(default)]
    pub opens: Option<String>,
    #[serde(default)]
    pub closes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursChange {
    /// Absent: every gate pair.
    #[serde(default)]
    pub gate_pair: Option<String>,
    /// Absent: both sides.
    #[serde(default)]
    pub side: Option<String>,
    pub opens: String,
    pub closes: String,
}

impl Scenario {
    /// The JSON schema of the scenario format (docs/scenario.schema.json is this, written out).
    pub fn json_schema() -> String {
        serde_json::to_string_pretty(&schemars::schema_for!(Scenario)).expect("a schema serialises")
    }

    pub fn from_toml(text: &str) -> Result<Scenario, crate::SimError> {
        toml::from_str(text).map_err(|e| crate::SimError::Scenario(e.to_string()))
    }

    /// The baseline and each variant, as whole scenarios.
    pub fn variants(&self) -> Vec<(String, Scenario)> {
        let mut out = vec![("baseline".to_string(), self.clone())];
        for v in &self.variants {
            let mut s = self.clone();
            s.variants.clear();
            s.gate_pairs.extend(v.add_gate_pairs.iter().cloned());
            for a in &v.add_lanes {
                for gp in s.gate_pairs.iter_mut().filter(|g| g.id == a.gate_pair) {
                    let side = if a.side == "CN" { &mut gp.cn } else { &mut gp.vn };
                    side.lanes.push(LaneSpec {
                        direction: a.direction.clone(),
                        class: a.class.clone(),
                        count: a.count,
                        opens: a.opens.clone(),
                        closes: a.closes.clone(),
                    });
                }
            }
            for h in &v.hours {
                for gp in s.gate_pairs.iter_mut().filter(|g| h.gate_pair.as_ref().is_none_or(|id| *id == g.id)) {
                    for (code, side) in [("VN", &mut gp.vn), ("CN", &mut gp.cn)] {
                        if h.side.as_deref().is_none_or(|s| s == code) {
                            side.opens = h.opens.clone();
                            side.closes = h.closes.clone();
                            side.windows.clear();
                        }
                    }
                }
            }
            if let Some(p) = &v.policy {
                s.policy = p.clone();
            }
            if let Some(p) = &v.policies {
                if p.vn.is_some() {
                    s.policies.vn = p.vn.clone();
                }
                if p.cn.is_some() {
                    s.policies.cn = p.cn.clone();
                }
            }
            for (dir, split) in &v.split {
                for f in s.flows.iter_mut().filter(|f| f.direction == *dir) {
                    f.split = split.clone();
                }
            }
            if let Some(m) = v.demand_multiplier {
                for f in &mut s.flows {
                    f.trucks_per_day *= m;
                }
            }
            if let Some(c) = &v.commodities {
                s.commodities = c.clone();
            }
            if let Some(l) = v.far_side_limit {
                for gp in &mut s.gate_pairs {
                    gp.far_side_limit = Some(l);
                }
            }
            out.push((v.name.clone(), s));
        }
        out
    }
}
