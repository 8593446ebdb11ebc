//! Fixed-memory statistics: histograms of durations (so a 100-year run needs no more memory than
//! a one-year run) and confidence intervals over replications.

use serde::Serialize;

/// Bins, small enough to stay in cache: 1 minute wide up to 2 hours, 5 minutes up to 48 hours,
/// 1 hour up to 60 days, then an overflow bin. Quantiles are exact to within a bin.
const FINE: usize = 120;
const MID: usize = (48 * 60 - 120) / 5;
const COARSE: usize = (60 * 24 * 60 - 48 * 60) / 60;
const BINS: usize = FINE + MID + COARSE;

/// The bin of a duration in minutes.
fn bin_of(minutes: f64) -> usize {
    let m = minutes.max(0.0);
    if m < 120.0 {
        m as usize
    } else if m < 2880.0 {
        FINE + ((m - 120.0) / 5.0) as usize
    } else {
        (FINE + MID + ((m - 2880.0) / 60.0) as usize).min(BINS)
    }
}

/// The upper edge of bin `i`, in minutes.
fn upper_edge(i: usize) -> f64 {
    if i < FINE {
        (i + 1) as f64
    } else if i < FINE + MID {
        120.0 + ((i - FINE + 1) * 5) as f64
    } else {
        2880.0 + ((i - FINE - MID + 1) * 60) as f64
    }
}

/// A histogram of durations in seconds.
#[derive(Debug, Clone)]
pub struct Hist {
    bins: Vec<u64>,
    overflow: u64,
    n: u64,
    sum: f64,
    max: f64,
}

impl Default for Hist {
    fn default() -> Self {
        Hist { bins: vec![0; BINS], overflow: 0, n: 0, sum: 0.0, max: 0.0 }
    }
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
    pub fn add(&mut self, seconds: f64) {
        let b = bin_of(seconds / 60.0);
        if b < BINS {
            self.bins[b] += 1
        } else {
            self.overflow += 1
        }
        self.n += 1;
        self.sum += seconds;
        if seconds > self.max {
            self.max = seconds;
        }
    }
    pub fn merge(&mut self, o: &Hist) {
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            *a += b;
        }
        self.overflow += o.overflow;
        self.n += o.n;
        self.sum += o.sum;
        self.max = self.max.max(o.max);
    }
    pub fn n(&self) -> u64 {
        self.n
    }
    /// Mean in seconds.
    pub fn mean_s(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum / self.n as f64 }
    }
    /// The q-quantile in seconds (upper edge of the bin, nearest rank).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return (upper_edge(i) * 60.0).min(self.max);
            }
        }
        self.max
    }
    pub fn summary_h(&self) -> Summary {
        Summary {
            n: self.n,
            mean: self.mean_s() / 3600.0,
            p50: self.quantile_s(0.5) / 3600.0,
            p95: self.quantile_s(0.95) / 3600.0,
            max: self.max / 3600.0,
        }
    }
    /// Bin counts in hours-wide buckets up to `hours`, for plots and CSV.
    pub fn hourly(&self, hours: usize) -> Vec<u64> {
        let mut out = vec![0; hours + 1];
        for (i, c) in self.bins.iter().enumerate() {
            // A bin belongs to the hour its lower edge falls in.
            let lower_h = (upper_edge(i) - 1e-9) as usize / 60;
            out[lower_h.min(hours)] += c;
        }
        out[hours] += self.overflow;
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
        for m in [0.0, 0.5, 119.9, 120.0, 124.9, 125.0, 2879.0, 2880.0, 86_399.0] {
            let b = bin_of(m);
            let lower = if b == 0 { 0.0 } else { upper_edge(b - 1) };
            assert!(lower <= m && m < upper_edge(b), "{m} min in bin {b} [{lower}, {})", upper_edge(b));
        }
        assert_eq!(bin_of(1e9), BINS);
    }

    #[test]
    fn histogram_quantiles_are_within_a_minute() {
        let mut h = Hist::default();
        for m in 1..=100 {
            h.add(m as f64 * 60.0 - 30.0);
        }
        assert_eq!(h.n(), 100);
        assert!((h.quantile_s(0.5) - 50.0 * 60.0).abs() <= 60.0);
        assert!((h.quantile_s(0.95) - 95.0 * 60.0).abs() <= 60.0);
        assert_eq!(h.quantile_s(1.0), h.max);
        let mut g = Hist::default();
        g.add(90.0 * 86400.0);
        h.merge(&g);
        assert_eq!(h.summary_h().max, 90.0 * 24.0);
        assert_eq!(*h.hourly(48).last().unwrap(), 1);
    }

    #[test]
    fn confidence_intervals() {
        let c = ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(c.mean, 3.0);
        assert!((c.half_width - 2.776 * (2.5f64 / 5.0).sqrt()).abs() < 1e-9);
        assert!(ci(&[1.0]).half_width.is_infinite());
    }
}
