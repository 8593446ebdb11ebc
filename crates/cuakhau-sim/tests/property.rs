//! Property: every scenario the simulator accepts runs to a finite, conserved result.
//!
//! A seeded generator (SplitMix64, no extra dependency) writes scenarios whose fields are mostly
//! sensible and sometimes wild (NaN, infinities, negatives, zero, 1e300). Each is either refused
//! at validation with a `scenario:` error, or runs (or stops at `limits.max_events`) with every
//! reported figure finite, every truck accounted for and every share between 0 and 1.

use cuakhau_sim::scenario::{
    ChannelShares, Closure, CommoditySpec, Dist, FlowSpec, GatePairSpec, LaneSpec, Limits, Season, ServiceSpec, SideChannels, SidePolicies,
    SideSpec,
};
use cuakhau_sim::{Model, RunOptions, Scenario, SimError, run};
use std::collections::BTreeMap;
use std::path::Path;

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    /// A sensible value in [lo, hi], or (with probability `p`) a wild one.
    fn num(&mut self, lo: f64, hi: f64, p: f64) -> f64 {
        if self.chance(p) {
            *self.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0, -0.0, 1e300, -1e300, 1e-300, 1e12])
        } else {
            self.range(lo, hi)
        }
    }
    fn dist(&mut self, hi: f64, p: f64) -> Dist {
        match self.below(6) {
            0 => Dist::Exponential { mean: self.num(0.0, hi, p) },
            1 => Dist::Deterministic { value: self.num(0.0, hi, p) },
            2 => Dist::Lognormal { mean: self.num(0.1, hi, p), sigma: self.num(0.0, 1.5, p) },
            3 => {
                let a = self.num(0.0, hi, p);
                Dist::Uniform { min: a, max: a + self.num(0.0, hi, p) }
            }
            4 => {
                let a = self.num(0.0, hi, p);
                let c = a + self.num(0.0, hi, p);
                Dist::Triangular { min: a, mode: c, max: c + self.num(0.0, hi, p) }
            }
            _ => {
                let n = 1 + self.below(5) as usize;
                let values = (0..n).map(|_| self.num(0.0, hi, p)).collect();
                let weights = self.chance(0.5).then(|| (0..n + usize::from(self.chance(p))).map(|_| self.num(0.0, 5.0, p)).collect());
                Dist::Empirical { values, weights }
            }
        }
    }
    /// A sensible choice, or (with probability `p`) a wrong one.
    fn choose<'a>(&mut self, good: &[&'a str], bad: &[&'a str], p: f64) -> &'a str {
        let from = if self.chance(p) { bad } else { good };
        from[self.below(from.len() as u64) as usize]
    }
    fn side(&mut self, p: f64) -> SideSpec {
        let (opens, closes) = if self.chance(p) {
            ("19:00", "07:00")
        } else {
            *self.pick(&[("00:00", "24:00"), ("07:00", "19:00"), ("08:00", "20:00"), ("06:30", "22:00")])
        };
        let mut lanes = vec![];
        for d in ["export", "import"] {
            if self.chance(0.85) {
                lanes.push(LaneSpec {
                    direction: d.into(),
                    class: "general".into(),
                    count: 1 + self.below(3) as u32,
                    opens: None,
                    closes: None,
                });
            }
        }
        for _ in 0..self.below(3) {
            let own = self.chance(0.2).then(|| {
                if self.chance(p) { ("10:00", "10:00") } else { *self.pick(&[("19:00", "07:00"), ("00:00", "24:00"), ("09:00", "12:00")]) }
            });
            lanes.push(LaneSpec {
                direction: self.choose(&["export", "import"], &["sideways"], p).to_string(),
                class: self.pick(&["general", "general", "perishable", "agv"]).to_string(),
                count: if self.chance(p) { 0 } else { 1 + self.below(4) as u32 },
                opens: own.map(|h| h.0.to_string()),
                closes: own.map(|h| h.1.to_string()),
            });
        }
        let closures = if self.chance(0.2) {
            let (a, b) = if self.chance(p) {
                ("2027-03-03T00:00:00+07:00", "2027-03-02T00:00:00+07:00")
            } else {
                ("2027-03-02T06:00:00+07:00", "2027-03-03T12:00:00+07:00")
            };
            vec![Closure { from: a.into(), until: b.into(), preregistered_only: self.chance(0.3) }]
        } else {
            vec![]
        };
        let holidays = if self.chance(0.2) { vec!["2027-03-04".to_string()] } else { vec![] };
        SideSpec { opens: opens.into(), closes: closes.into(), windows: vec![], closures, holidays, lanes }
    }
}

fn scenario(g: &mut Gen) -> Scenario {
    let p = 0.03;
    let pairs: Vec<GatePairSpec> = (0..1 + g.below(2))
        .map(|i| GatePairSpec {
            id: format!("p{i}"),
            travel_time_min: g.num(0.0, 30.0, p),
            far_side_limit: if g.chance(0.3) { Some(if g.chance(0.2) { 0 } else { 1 + g.below(30) as u32 }) } else { None },
            vn: g.side(p),
            cn: g.side(p),
        })
        .collect();
    let flows = (0..1 + g.below(2))
        .map(|_| {
            let mut split = BTreeMap::new();
            if pairs.len() > 1 && g.chance(0.5) {
                for gp in &pairs {
                    split.insert(gp.id.clone(), g.num(0.0, 3.0, p));
                }
            }
            FlowSpec {
                direction: g.pick(&["export", "import"]).to_string(),
                trucks_per_day: g.num(0.0, 250.0, p),
                split,
                hourly_profile: if g.chance(0.4) { (0..24).map(|_| g.num(0.0, 5.0, p / 10.0)).collect() } else { vec![] },
                weekday_profile: if g.chance(0.3) { (0..7).map(|_| g.num(0.0, 5.0, p / 5.0)).collect() } else { vec![] },
                seasons: (0..g.below(3))
                    .map(|k| Season {
                        name: format!("s{k}"),
                        from: g.choose(&["03-01", "12-15"], &["02-30"], p).to_string(),
                        to: g.pick(&["03-05", "01-10"]).to_string(),
                        multiplier: g.num(0.0, 3.0, p * 3.0),
                    })
                    .collect(),
                booked_share: g.num(0.0, 1.0, p),
                no_show_rate: g.num(0.0, 0.3, p),
                arrivals_csv: None,
            }
        })
        .collect();
    let commodities = (0..1 + g.below(3))
        .map(|k| {
            let perishable = g.chance(0.4);
            CommoditySpec {
                name: format!("c{k}"),
                share: g.num(0.0, 1.0, p),
                perishable,
                shelf_life_h: (perishable || g.chance(0.1)).then(|| g.num(1.0, 96.0, p)),
                age_h: g.chance(0.5).then(|| g.dist(48.0, p)),
                value_usd: g.num(0.0, 50_000.0, p),
                quarantine: g.chance(0.2).then(|| g.chance(0.5)),
                agv: g.chance(0.03),
            }
        })
        .collect();
    let cn_own = g.chance(0.3);
    let side_channels = if cn_own {
        let shares = [("released".to_string(), g.num(0.0, 1.0, p)), ("inspected".to_string(), g.num(0.0, 0.3, p))].into_iter().collect();
        vec![SideChannels { side: "CN".into(), shares }]
    } else {
        vec![]
    };
    let service = (0..g.below(6))
        .map(|_| {
            let side = g.pick(&["VN", "CN"]).to_string();
            let names: &[&str] = if side == "CN" && cn_own { &["released", "inspected"] } else { &["green", "yellow", "red"] };
            ServiceSpec {
                channel: g.chance(0.4).then(|| g.choose(names, &["purple"], p).to_string()),
                side,
                agency: g.pick(&["customs", "border-guard", "quarantine"]).to_string(),
                time: g.dist(30.0, p),
            }
        })
        .collect();
    let policies = ["fifo", "booked-first", "perishables-first", "perishables-fifo"];
    Scenario {
        name: "generated".into(),
        description: String::new(),
        assumptions: vec![],
        sources: vec![],
        start: g.choose(&["2027-03-01T00:00:00+07:00", "2027-12-30T08:00:00+08:00"], &["2027-03-01T00:00:00"], p).to_string(),
        horizon_days: g.num(0.05, 8.0, p),
        warmup_days: if g.chance(0.3) { g.num(0.0, 1.0, p) } else { 0.0 },
        wait_thresholds_h: if g.chance(0.3) { (0..1 + g.below(3)).map(|_| g.num(0.0, 5.0, p)).collect() } else { vec![] },
        replications: 1,
        seed: g.next(),
        policy: g.choose(&policies, &["fastest"], p).to_string(),
        policies: SidePolicies {
            vn: g.chance(0.3).then(|| g.choose(&policies, &["fastest"], p).to_string()),
            cn: g.chance(0.3).then(|| g.choose(&policies, &["fastest"], p).to_string()),
        },
        limits: Limits {
            max_events: 400_000,
            max_queue: if g.chance(p) { 0 } else { 1 + g.below(2000) as usize },
            max_horizon_days: if g.chance(p) { *g.pick(&[1e13, f64::NAN, -1.0]) } else { 100.0 },
            max_replications: 10,
        },
        gate_pairs: pairs,
        flows,
        commodities,
        channels: ChannelShares {
            green: g.num(0.0, 1.0, p),
            yellow: g.num(0.0, 1.0, p),
            red: g.num(0.0, 1.0, p),
            shared: g.chance(if cn_own { p } else { 0.3 }),
        },
        side_channels,
        service,
        handover: g.chance(0.3).then(|| g.dist(5.0, p)),
        variants: vec![],
    }
}

fn finite_nonneg(what: &str, v: f64) {
    assert!(v.is_finite() && v >= 0.0, "{what} = {v}");
}

#[test]
fn every_accepted_scenario_runs_to_a_finite_conserved_result() {
    let (mut refused, mut ran, mut limited, mut served) = (0, 0, 0, 0);
    for case in 0..2000u64 {
        let mut g = Gen(case.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 7);
        let s = scenario(&mut g);
        let m = match Model::compile(&s, Path::new(".")) {
            Err(SimError::Scenario(e)) => {
                if std::env::var("SHOW").is_ok() {
                    eprintln!("{e}");
                }
                refused += 1;
                continue;
            }
            Err(e) => panic!("case {case}: a bad scenario is a scenario error, not {e}"),
            Ok(m) => m,
        };
        let r = match run(&m, s.seed, &RunOptions { record_series: true, ..Default::default() }) {
            Err(SimError::Limit(_)) => {
                limited += 1;
                continue;
            }
            Err(e) => panic!("case {case}: {e}\n{s:#?}"),
            Ok(r) => r,
        };
        ran += 1;
        let ctx = format!("case {case}: {s:#?}");
        assert_eq!(r.arrived, r.served + r.in_system_end, "trucks are conserved; {ctx}");
        assert!(r.events <= s.limits.max_events, "{ctx}");
        assert!(r.spoiled <= r.measured && r.measured <= r.served, "{ctx}");
        assert!(r.wait_positive <= r.measured && r.wait_over.iter().all(|n| *n <= r.measured), "{ctx}");
        finite_nonneg("mean_entry_queue", r.mean_entry_queue);
        finite_nonneg("spoiled_value", r.spoiled_value);
        finite_nonneg("mean_queue", r.mean_queue);
        finite_nonneg("arrival_rate_h", r.arrival_rate_h);
        let horizon_s = s.horizon_days * 86_400.0;
        for (name, h) in [("wait_total", &r.wait_total), ("wait_exit", &r.wait_exit), ("wait_entry", &r.wait_entry)]
            .into_iter()
            .chain(r.trs.iter().map(|h| ("trs", h)))
        {
            let sm = h.summary_h();
            for v in [sm.mean, sm.p50, sm.p95, sm.max] {
                finite_nonneg(name, v);
            }
            assert!(
                sm.max * 3600.0 <= horizon_s + 1.0,
                "{name}: a wait of {} h within a horizon of {} days; {ctx}",
                sm.max,
                s.horizon_days
            );
        }
        for l in &r.lanes {
            assert!(l.4.is_finite() && (0.0..=1.0 + 1e-9).contains(&l.4), "utilisation {l:?}; {ctx}");
        }
        assert!(r.queue_series.iter().all(|(h, _)| h.is_finite() && *h >= 0.0));
        served += (r.served > 0) as u32;
    }
    eprintln!("refused {refused}, ran {ran}, stopped at the event limit {limited}, served trucks in {served}");
    // The generator exercises both sides of validation.
    assert!(refused >= 200 && ran >= 400, "refused {refused}, ran {ran}, stopped at the event limit {limited}");
    assert!(served >= 300, "served trucks in {served} runs");
}
