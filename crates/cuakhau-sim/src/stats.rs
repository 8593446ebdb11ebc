//! Fixed-memory statistics: histograms of durations (so a 100-year run needs no more memory than
//! a one-year run) and confidence intervals over replications.

use serde::Serialize;

/// Durations are binned in whole milliseconds, log-linearly: exact below 256 ms, then 128 bins
/// per doubling, so a bin is never wider than 1/128 of its lower edge. A quantile is reported as
/// its bin's upper edge (capped at the largest value seen), so it is within max(1 ms, 0.79 %)
/// above the exact nearest-rank quantile, and never below it. Bins grow only as far as the
/// longest duration seen: memory is a few kilobytes whatever the horizon.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
const LINEAR: u64 = 2 * SUB;
/// Durations written down before they are counted (see [`Hist::add_us`]).
const PENDING_MAX: usize = 1024;

/// The relative error bound of quantiles (above 256 ms).
pub const QUANTILE_REL_ERROR: f64 = 1.0 / SUB as f64;

/// The bin of a duration in milliseconds.
#[inline]
fn bin_of(ms: u64) -> usize {
    if ms < LINEAR {
        return ms as usize;
    }
    let shift = 63 - ms.leading_zeros() - SUB_BITS;
    (LINEAR + (shift as u64 - 1) * SUB + ((ms >> shift) - SUB)) as usize
}

/// The lower and upper edges of bin `i`, in milliseconds.
fn edges(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, i + 1);
    }
    let shift = (i - LINEAR) / SUB + 1;
    let top = (i - LINEAR) % SUB + SUB;
    (top << shift, (top + 1) << shift)
}

/// A histogram of durations, kept in integer microseconds (the engine's unit) and read in seconds.
#[derive(Debug, Clone, Default)]
pub struct Hist {
    bins: Vec<u64>,
    /// Bins of durations added but not yet counted in `bins` (see [`Hist::add_us`]).
    pending: Vec<u16>,
    n: u64,
    zero: u64,
    /// Sum of the durations in µs: exact, and wide enough for any horizon and event count.
    sum_us: i128,
    max_us: i64,
}

/// Mean, p50, p95 and max, in hours.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Hist {
    /// Adds a duration in seconds (rounded to the microsecond).
    pub fn add(&mut self, seconds: f64) {
        self.add_us((seconds * 1e6).round() as i64);
        self.count_pending();
    }
    /// Adds a duration of `us` microseconds (negative counts as 0): binned by its whole
    /// milliseconds, summed exactly, all in integers.
    #[inline]
    pub fn add_us(&mut self, us: i64) {
        let us = us.max(0);
        let b = bin_of(us as u64 / 1000);
        // A run adds to several histograms per truck, each bin a random place in a few kB: the
        // bin is written down in order and counted later, a block at a time.
        self.pending.push(b as u16);
        if self.pending.len() >= PENDING_MAX {
            self.count_pending();
        }
        self.n += 1;
        self.zero += (us == 0) as u64;
        self.sum_us += us as i128;
        self.max_us = self.max_us.max(us);
    }
    /// Counts the pending durations in their bins. Every read of the bins does it first.
    #[cold]
    pub fn count_pending(&mut self) {
        if let Some(top) = self.pending.iter().max()
            && *top as usize >= self.bins.len()
        {
            self.bins.resize(*top as usize + 1, 0);
        }
        for b in self.pending.drain(..) {
            self.bins[b as usize] += 1;
        }
    }
    /// The bins, every duration counted.
    fn counted(&self) -> &[u64] {
        assert!(self.pending.is_empty(), "a histogram is read after its pending durations are counted");
        &self.bins
    }
    pub fn merge(&mut self, o: &Hist) {
        self.count_pending();
        let o_bins = o.counted();
        if o_bins.len() > self.bins.len() {
            self.bins.resize(o_bins.len(), 0);
        }
        for (a, b) in self.bins.iter_mut().zip(o_bins) {
            *a += b;
        }
        self.n += o.n;
        self.zero += o.zero;
        self.sum_us += o.sum_us;
        self.max_us = self.max_us.max(o.max_us);
    }
    /// The longest duration, in seconds.
    fn max_s(&self) -> f64 {
        self.max_us as f64 / 1e6
    }
    pub fn n(&self) -> u64 {
        self.n
    }
    /// How many durations were exactly 0.
    pub fn zeros(&self) -> u64 {
        self.zero
    }
    /// Mean in seconds.
    pub fn mean_s(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum_us as f64 / 1e6 / self.n as f64 }
    }
    /// The q-quantile in seconds (nearest rank): the upper edge of its bin, capped at the
    /// largest value; within max(1 ms, `QUANTILE_REL_ERROR`) above the exact one.
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        if rank <= self.zero {
            return 0.0;
        }
        let mut seen = 0;
        for (i, c) in self.counted().iter().enumerate() {
            seen += c;
            if seen >= rank {
                return (edges(i).1 as f64 / 1000.0).min(self.max_s());
            }
        }
        self.max_s()
    }
    pub fn summary_h(&self) -> Summary {
        Summary {
            n: self.n,
            mean: self.mean_s() / 3600.0,
            p50: self.quantile_s(0.5) / 3600.0,
            p95: self.quantile_s(0.95) / 3600.0,
            max: self.max_s() / 3600.0,
        }
    }
    /// Counts in hour-wide buckets up to `hours` (the last holds `hours` and more), for plots
    /// and CSV; a bin belongs to the hour its lower edge falls in.
    pub fn hourly(&self, hours: usize) -> Vec<u64> {
        let mut out = vec![0; hours + 1];
        for (i, c) in self.counted().iter().enumerate() {
            let lower_h = (edges(i).0 / 3_600_000) as usize;
            out[lower_h.min(hours)] += c;
        }
        out
    }
}

/// Mean and 95 % confidence half-width of a sample (Student's t).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Ci {
    pub mean: f64,
    pub half_width: f64,
    pub n: usize,
}

/// Two-sided 97.5 % quantiles of Student's t for 1–30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
    2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

pub fn ci(values: &[f64]) -> Ci {
    let n = values.len();
    if n == 0 {
        return Ci { mean: 0.0, half_width: 0.0, n };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Ci { mean, half_width: f64::INFINITY, n };
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = if n - 1 <= 30 { T975[n - 2] } else { 1.96 };
    Ci { mean, half_width: t * (var / n as f64).sqrt(), n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_the_range_without_gaps() {
        let mut prev_upper = 0;
        for i in 0..6000 {
            let (lo, hi) = edges(i);
            assert_eq!(lo, prev_upper, "bin {i} starts where the previous ends");
            assert!(hi > lo && (hi - lo) as f64 <= (lo as f64 / 128.0).max(1.0), "bin {i} [{lo}, {hi}) is narrow enough");
            assert_eq!(bin_of(lo), i);
            assert_eq!(bin_of(hi - 1), i);
            prev_upper = hi;
        }
        assert!(bin_of(100 * 365 * 86_400_000) < 6000, "a century fits in a few thousand bins");
        assert!(bin_of(u64::MAX) < u16::MAX as usize, "any duration's bin is written down in 16 bits");
    }

    /// Against exact nearest-rank quantiles of a seeded sample spread over six decades.
    #[test]
    fn quantiles_are_within_the_stated_bound() {
        let mut x: u64 = 7;
        let mut values = vec![0.0; 50];
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            values.push(10f64.powf(-3.0 + 9.0 * u)); // 1 ms to 1e6 s
        }
        let mut h = Hist::default();
        for v in &values {
            h.add(*v);
        }
        values.sort_by(f64::total_cmp);
        for q in [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let exact = values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
            let got = h.quantile_s(q);
            let bound = (exact * QUANTILE_REL_ERROR).max(0.001) + 1e-9;
            assert!(got >= exact - 0.001 && got - exact <= bound, "q {q}: {got} against {exact} (bound {bound})");
        }
        assert_eq!(h.zeros(), 50);
        assert_eq!(h.quantile_s(0.001), 0.0, "the zeros come first");
        let mut g = Hist::default();
        g.add(90.0 * 86400.0);
        h.merge(&g);
        assert_eq!(h.summary_h().max, 90.0 * 24.0);
        assert_eq!(h.hourly(48).iter().sum::<u64>(), h.n());
    }

    /// Durations written down and counted a block at a time give the histogram that counting
    /// each at once gives; reading one with durations still pending is refused.
    #[test]
    fn pending_durations_are_counted_as_if_at_once() {
        let (mut later, mut at_once) = (Hist::default(), Hist::default());
        let mut x: u64 = 11;
        for _ in 0..(3 * PENDING_MAX + 17) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let us = ((x >> 11) % 40_000_000_000) as i64 - 1_000_000; // some negative, some over 11 h
            later.add_us(us);
            at_once.add_us(us);
            at_once.count_pending();
        }
        assert!(!later.pending.is_empty(), "the last block is still pending");
        assert!(std::panic::catch_unwind(|| later.quantile_s(0.5)).is_err(), "a read with durations pending is refused");
        later.count_pending();
        assert_eq!(later.bins, at_once.bins);
        assert_eq!(later.summary_h(), at_once.summary_h());
        assert_eq!(later.hourly(24), at_once.hourly(24));
    }

    #[test]
    fn confidence_intervals() {
        let c = ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(c.mean, 3.0);
        assert!((c.half_width - 2.776 * (2.5f64 / 5.0).sqrt()).abs() < 1e-9);
        assert!(ci(&[1.0]).half_width.is_infinite());
    }
}
