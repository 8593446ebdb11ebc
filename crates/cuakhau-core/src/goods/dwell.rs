//! Dwell times the WCO Time Release Study way: intervals between a truck's milestones, and their
//! distribution (mean, p50, p95, max) per group.

use crate::time::Timestamp;
use std::collections::BTreeMap;

/// A truck's milestones; later ones are absent until reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Milestones {
    pub arrival: Option<Timestamp>,
    pub called: Option<Timestamp>,
    pub exit_release: Option<Timestamp>,
    pub crossed: Option<Timestamp>,
    pub entry_release: Option<Timestamp>,
}

/// The intervals of the Time Release Study, by name, in the order they happen.
pub const INTERVALS: [&str; 5] =
    ["arrival-to-call", "call-to-exit-release", "exit-release-to-crossing", "crossing-to-entry-release", "arrival-to-entry-release"];

impl Milestones {
    /// Each interval in seconds, when both ends are known.
    pub fn intervals(&self) -> [(&'static str, Option<f64>); 5] {
        let d = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) if b >= a => Some((b.as_micros() - a.as_micros()) as f64 / 1e6),
            _ => None,
        };
        [
            (INTERVALS[0], d(self.arrival, self.called)),
            (INTERVALS[1], d(self.called, self.exit_release)),
            (INTERVALS[2], d(self.exit_release, self.crossed)),
            (INTERVALS[3], d(self.crossed, self.entry_release)),
            (INTERVALS[4], d(self.arrival, self.entry_release)),
        ]
    }
}

/// Summary of a sample of durations (seconds). Percentiles are nearest-rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Stats { n: v.len(), mean: v.iter().sum::<f64>() / v.len() as f64, p50: rank(0.5), p95: rank(0.95), max: v[v.len() - 1] })
    }
}

/// Durations grouped by (group key, interval), ready for summarising.
#[derive(Debug, Clone, Default)]
pub struct Report {
    samples: BTreeMap<(String, &'static str), Vec<f64>>,
}

impl Report {
    pub fn add(&mut self, group: &str, m: &Milestones) {
        for (name, v) in m.intervals() {
            if let Some(v) = v {
                self.samples.entry((group.to_string(), name)).or_default().push(v);
            }
        }
    }
    /// Adds a named duration directly (per-agency step times).
    pub fn add_value(&mut self, group: &str, name: &'static str, seconds: f64) {
        self.samples.entry((group.to_string(), name)).or_default().push(seconds);
    }
    pub fn rows(&self) -> Vec<(String, &'static str, Stats)> {
        self.samples.iter().filter_map(|((g, n), v)| Stats::of(v).map(|s| (g.clone(), *n, s))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Stats::of(&v).unwrap();
        assert_eq!((s.n, s.p50, s.p95, s.max, s.mean), (100, 50.0, 95.0, 100.0, 50.5));
        assert_eq!(Stats::of(&[7.0]).unwrap().p95, 7.0);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn intervals_need_both_ends() {
        let s = |x: i64| Some(Timestamp(x * 1_000_000));
        let m = Milestones { arrival: s(0), called: s(600), exit_release: s(1800), crossed: None, entry_release: None };
        let iv = m.intervals();
        assert_eq!(iv[0], ("arrival-to-call", Some(600.0)));
        assert_eq!(iv[1], ("call-to-exit-release", Some(1200.0)));
        assert_eq!(iv[2].1, None);
        let mut r = Report::default();
        r.add("huu-nghi/export", &m);
        r.add("huu-nghi/export", &Milestones { arrival: s(0), called: s(1200), ..m });
        let rows = r.rows();
        let a2c = rows.iter().find(|(_, n, _)| *n == "arrival-to-call").unwrap();
        assert_eq!((a2c.2.n, a2c.2.mean, a2c.2.max), (2, 900.0, 1200.0));
    }
}
