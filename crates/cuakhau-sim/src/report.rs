//! Results across replications and variants: summary.json, CSV files and SVG plots.

use crate::engine::RunStats;
use crate::stats::{Ci, Hist, Summary, ci};
use plotters::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct TrsOut {
    pub arrival_to_call: Summary,
    pub call_to_exit_release: Summary,
    pub exit_release_to_crossing: Summary,
    pub crossing_to_entry_release: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub mean_wait_h: Ci,
    pub spoiled: Ci,
    pub served: Ci,
}

/// One variant's results. Counts are means per replication.
#[derive(Debug, Clone, Serialize)]
pub struct VariantOut {
    pub name: String,
    pub replications: usize,
    pub arrived: f64,
    pub served: f64,
    pub no_shows: f64,
    pub turned_away: f64,
    pub in_system_end: f64,
    /// Total wait (yard + entry queue), pooled over replications.
    pub wait_h: Summary,
    /// The mean total wait with its 95 % confidence interval over replications.
    pub wait_h_mean_ci: Ci,
    pub exit_wait_h: Summary,
    pub entry_wait_h: Summary,
    pub trs_h: TrsOut,
    pub spoiled: f64,
    pub spoiled_value_usd: f64,
    /// Served trucks that arrived after the warm-up (the ones the wait statistics describe).
    pub measured: f64,
    /// P(total wait > 0): the share of measured trucks that waited at all, with its 95 % CI
    /// over replications.
    pub p_wait_positive: Ci,
    /// P(total wait > t) for each of the scenario's `wait_thresholds_h`.
    pub p_wait_over: Vec<WaitOver>,
    pub mean_queue: f64,
    /// Time-average trucks waiting before the entry lanes.
    pub mean_entry_queue: f64,
    pub arrival_rate_h: f64,
    /// Busy share per lane (of the measured time, open or not), averaged over replications.
    pub lane_utilisation: Vec<LaneUse>,
    /// Busy share of each side's lanes for a direction at a gate pair (mean over its lanes).
    pub side_utilisation: Vec<SideUse>,
    /// Model events processed, all replications.
    pub events: u64,
    /// Seconds spent running this variant's replications (summed over threads).
    pub sim_s: f64,
    /// Differences from the baseline, paired by replication (common random numbers).
    pub vs_baseline: Option<Diff>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaitOver {
    pub t_h: f64,
    pub p: Ci,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideUse {
    pub gate_pair: String,
    pub direction: String,
    pub side: String,
    pub lanes: usize,
    pub utilisation: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaneUse {
    pub gate_pair: String,
    pub direction: String,
    pub side: String,
    pub class: String,
    pub utilisation: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryOut {
    pub scenario: String,
    pub description: String,
    pub assumptions: Vec<String>,
    pub sources: Vec<String>,
    pub seed: u64,
    pub replications: u32,
    pub horizon_days: f64,
    /// Days at the start left out of the statistics.
    pub warmup_days: f64,
    pub policy: String,
    pub wall_s: f64,
    pub variants: Vec<VariantOut>,
}

/// Per-variant raw runs, kept for CSV and plots.
#[derive(Debug)]
pub struct VariantRuns {
    pub name: String,
    pub runs: Vec<RunStats>,
    pub run_s: Vec<f64>,
}

fn mean<T: Into<f64> + Copy>(v: impl Iterator<Item = T>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for x in v {
        s += x.into();
        n += 1;
    }
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn pooled(runs: &[RunStats], f: impl Fn(&RunStats) -> &Hist) -> Hist {
    let mut h = Hist::default();
    for r in runs {
        h.merge(f(r));
    }
    h
}

/// (gate pair, direction, side, class, n-th lane of that kind).
type LaneKey<'a> = (String, &'a str, &'a str, &'a str, usize);

/// The share of `part` in `whole`, 0 when there is nothing to share.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// `thresholds_h`: the scenario's `wait_thresholds_h`, in the order the runs counted them.
pub fn summarise(v: &VariantRuns, baseline: Option<&VariantRuns>, thresholds_h: &[f64]) -> VariantOut {
    let r = &v.runs;
    let mean_wait: Vec<f64> = r.iter().map(|x| x.wait_total.mean_s() / 3600.0).collect();
    let vs_baseline = baseline.map(|b| {
        let d = |f: &dyn Fn(&RunStats) -> f64| ci(&r.iter().zip(&b.runs).map(|(x, y)| f(x) - f(y)).collect::<Vec<_>>());
        Diff { mean_wait_h: d(&|x| x.wait_total.mean_s() / 3600.0), spoiled: d(&|x| x.spoiled as f64), served: d(&|x| x.served as f64) }
    });
    // (pair, direction, side, class, n-th lane of that kind) → (sum of busy shares, runs)
    let mut lanes: BTreeMap<LaneKey, (f64, usize)> = BTreeMap::new();
    for run in r {
        let mut idx: BTreeMap<(String, &str, &str, &str), usize> = BTreeMap::new();
        for (p, d, s, c, u) in &run.lanes {
            let k = idx.entry((p.clone(), *d, *s, *c)).or_default();
            let e = lanes.entry((p.clone(), *d, *s, *c, *k)).or_default();
            e.0 += u;
            e.1 += 1;
            *k += 1;
        }
    }
    VariantOut {
        name: v.name.clone(),
        replications: r.len(),
        arrived: mean(r.iter().map(|x| x.arrived as f64)),
        served: mean(r.iter().map(|x| x.served as f64)),
        no_shows: mean(r.iter().map(|x| x.no_shows as f64)),
        turned_away: mean(r.iter().map(|x| x.turned_away as f64)),
        in_system_end: mean(r.iter().map(|x| x.in_system_end as f64)),
        wait_h: pooled(r, |x| &x.wait_total).summary_h(),
        wait_h_mean_ci: ci(&mean_wait),
        exit_wait_h: pooled(r, |x| &x.wait_exit).summary_h(),
        entry_wait_h: pooled(r, |x| &x.wait_entry).summary_h(),
        trs_h: TrsOut {
            arrival_to_call: pooled(r, |x| &x.trs[0]).summary_h(),
            call_to_exit_release: pooled(r, |x| &x.trs[1]).summary_h(),
            exit_release_to_crossing: pooled(r, |x| &x.trs[2]).summary_h(),
            crossing_to_entry_release: pooled(r, |x| &x.trs[3]).summary_h(),
        },
        spoiled: mean(r.iter().map(|x| x.spoiled as f64)),
        spoiled_value_usd: mean(r.iter().map(|x| x.spoiled_value)),
        measured: mean(r.iter().map(|x| x.measured as f64)),
        p_wait_positive: ci(&r.iter().map(|x| share(x.wait_positive, x.measured)).collect::<Vec<_>>()),
        p_wait_over: thresholds_h
            .iter()
            .enumerate()
            .map(|(k, t)| WaitOver { t_h: *t, p: ci(&r.iter().map(|x| share(x.wait_over[k], x.measured)).collect::<Vec<_>>()) })
            .collect(),
        mean_queue: mean(r.iter().map(|x| x.mean_queue)),
        mean_entry_queue: mean(r.iter().map(|x| x.mean_entry_queue)),
        arrival_rate_h: mean(r.iter().map(|x| x.arrival_rate_h)),
        side_utilisation: side_use(&lanes),
        lane_utilisation: lanes
            .iter()
            .map(|((p, d, s, c, _), (u, n))| LaneUse {
                gate_pair: p.clone(),
                direction: d.to_string(),
                side: s.to_string(),
                class: c.to_string(),
                utilisation: u / *n as f64,
            })
            .collect(),
        events: r.iter().map(|x| x.events).sum(),
        sim_s: v.run_s.iter().sum(),
        vs_baseline,
    }
}

/// Lanes grouped by gate pair, direction and side: their count and mean busy share.
fn side_use(lanes: &BTreeMap<LaneKey, (f64, usize)>) -> Vec<SideUse> {
    let mut by: BTreeMap<(String, &str, &str), (f64, usize)> = BTreeMap::new();
    for ((p, d, s, _, _), (u, n)) in lanes {
        let e = by.entry((p.clone(), *d, *s)).or_default();
        e.0 += u / *n as f64;
        e.1 += 1;
    }
    by.into_iter()
        .map(|((p, d, s), (u, n))| SideUse { gate_pair: p, direction: d.into(), side: s.into(), lanes: n, utilisation: u / n as f64 })
        .collect()
}

fn io(e: impl std::fmt::Display) -> crate::SimError {
    crate::SimError::Output(e.to_string())
}

/// An output error that names the file or directory at fault.
fn at<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> crate::SimError + '_ {
    move |e| crate::SimError::Output(format!("{}: {e}", path.display()))
}

/// Writes summary.json, summary.csv, queue.csv, waits.csv and the three SVG plots into `dir`.
pub fn write_all(dir: &Path, summary: &SummaryOut, runs: &[VariantRuns]) -> Result<(), crate::SimError> {
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let p = dir.join("summary.json");
    std::fs::write(&p, serde_json::to_string_pretty(summary).map_err(self::io)?).map_err(at(&p))?;
    let p = dir.join("summary.csv");
    let mut w = csv::Writer::from_path(&p).map_err(at(&p))?;
    w.write_record([
        "variant",
        "arrived",
        "served",
        "spoiled",
        "spoiled_value_usd",
        "wait_h_mean",
        "wait_h_mean_ci95",
        "wait_h_p50",
        "wait_h_p95",
        "wait_h_max",
        "exit_wait_h_mean",
        "entry_wait_h_mean",
        "mean_queue",
        "events",
        "sim_s",
        "measured",
        "p_wait_positive",
        "mean_entry_queue",
    ])
    .map_err(at(&p))?;
    for v in &summary.variants {
        w.write_record([
            v.name.clone(),
            format!("{:.1}", v.arrived),
            format!("{:.1}", v.served),
            format!("{:.1}", v.spoiled),
            format!("{:.0}", v.spoiled_value_usd),
            format!("{:.3}", v.wait_h.mean),
            format!("{:.3}", v.wait_h_mean_ci.half_width),
            format!("{:.3}", v.wait_h.p50),
            format!("{:.3}", v.wait_h.p95),
            format!("{:.3}", v.wait_h.max),
            format!("{:.3}", v.exit_wait_h.mean),
            format!("{:.3}", v.entry_wait_h.mean),
            format!("{:.2}", v.mean_queue),
            v.events.to_string(),
            format!("{:.3}", v.sim_s),
            format!("{:.1}", v.measured),
            format!("{:.4}", v.p_wait_positive.mean),
            format!("{:.2}", v.mean_entry_queue),
        ])
        .map_err(at(&p))?;
    }
    w.flush().map_err(at(&p))?;
    // queue.csv has a row an hour (tens of thousands): written as the csv crate writes them,
    // the variant's name quoted by it once, the numbers (never quoted) straight into a buffer.
    let p = dir.join("queue.csv");
    let mut q = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&p).map_err(at(&p))?);
    let mut row = String::with_capacity(64);
    row.push_str("variant,hours,waiting,entry_waiting\n");
    for v in runs {
        if let Some(r) = v.runs.first() {
            let name = csv_field(&v.name).map_err(at(&p))?;
            for (i, (h, n)) in r.queue_series.iter().enumerate() {
                let e = r.entry_series.get(i).copied().unwrap_or(0);
                row.push_str(&name);
                row.push(',');
                push_two_decimals(&mut row, *h);
                row.push(',');
                push_u32(&mut row, *n);
                row.push(',');
                push_u32(&mut row, e);
                row.push('\n');
                q.write_all(row.as_bytes()).map_err(at(&p))?;
                row.clear();
            }
        }
    }
    q.write_all(row.as_bytes()).map_err(at(&p))?;
    q.flush().map_err(at(&p))?;
    let p = dir.join("waits.csv");
    let mut wh = csv::Writer::from_path(&p).map_err(at(&p))?;
    wh.write_record(["variant", "wait_h_from", "trucks"]).map_err(at(&p))?;
    let hist_hours = 72;
    for v in runs {
        let h = pooled(&v.runs, |x| &x.wait_total).hourly(hist_hours);
        for (i, c) in h.iter().enumerate() {
            wh.write_record([v.name.clone(), i.to_string(), c.to_string()]).map_err(at(&p))?;
        }
    }
    wh.flush().map_err(at(&p))?;
    for (name, svg) in render_svgs(summary, runs)? {
        let p = dir.join(format!("{name}.svg"));
        std::fs::write(&p, svg).map_err(at(&p))?;
    }
    Ok(())
}

/// The three plots as SVG text: `queue`, `waits`, `variants`.
pub fn render_svgs(summary: &SummaryOut, runs: &[VariantRuns]) -> Result<Vec<(&'static str, String)>, crate::SimError> {
    let (mut q, mut w, mut v) = (String::new(), String::new(), String::new());
    plot_queue(&mut q, summary, runs).map_err(io)?;
    plot_waits(&mut w, summary, runs, 72).map_err(io)?;
    plot_variants(&mut v, summary).map_err(io)?;
    Ok(vec![("queue", q), ("waits", w), ("variants", v)])
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

type PlotResult = Result<(), Box<dyn std::error::Error>>;

fn plot_queue(out: &mut String, s: &SummaryOut, runs: &[VariantRuns]) -> PlotResult {
    let root = SVGBackend::with_string(out, (960, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    // Over more than two weeks hourly samples blur into a band: plot each day's peak instead.
    let raw: Vec<&[(f64, u32)]> = runs.iter().map(|v| v.runs.first().map(|r| r.queue_series.as_slice()).unwrap_or(&[])).collect();
    let long = raw.iter().flat_map(|s| s.last()).any(|p| p.0 > 14.0 * 24.0);
    let series: Vec<Vec<(f64, u32)>> = raw
        .iter()
        .map(|s| {
            if !long {
                return s.to_vec();
            }
            let mut days: BTreeMap<i64, u32> = BTreeMap::new();
            for (h, n) in s.iter() {
                let d = days.entry((h / 24.0) as i64).or_default();
                *d = (*d).max(*n);
            }
            days.into_iter().map(|(d, n)| (d as f64 * 24.0, n)).collect()
        })
        .collect();
    let xmax = series.iter().flat_map(|s| s.iter().map(|p| p.0)).fold(1.0, f64::max) / 24.0;
    let ymax = series.iter().flat_map(|s| s.iter().map(|p| p.1)).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} — trucks waiting in the yards{} (replication 1)", s.scenario, if long { ", daily peak" } else { "" }),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
    chart.configure_mesh().x_desc("days since start").y_desc("trucks waiting").draw()?;
    for (i, (v, pts)) in runs.iter().zip(&series).enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().map(|(h, n)| (h / 24.0, *n as f64)), c.stroke_width(1)))?
            .label(v.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

fn plot_waits(out: &mut String, s: &SummaryOut, runs: &[VariantRuns], hours: usize) -> PlotResult {
    let root = SVGBackend::with_string(out, (960, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let hists: Vec<Vec<f64>> = runs
        .iter()
        .map(|v| {
            let h = pooled(&v.runs, |x| &x.wait_total).hourly(hours);
            let n: u64 = h.iter().sum::<u64>().max(1);
            h.iter().map(|c| *c as f64 / n as f64 * 100.0).collect()
        })
        .collect();
    let ymax = hists.iter().flatten().cloned().fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{} — distribution of total waits", s.scenario), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..(hours as f64 + 1.0), 0.0..ymax)?;
    chart.configure_mesh().x_desc(format!("wait, hours (last bin: {hours} h and more)")).y_desc("% of trucks").draw()?;
    for (i, (v, h)) in runs.iter().zip(&hists).enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let steps = h.iter().enumerate().flat_map(|(k, p)| [(k as f64, *p), (k as f64 + 1.0, *p)]);
        chart
            .draw_series(LineSeries::new(steps, c.stroke_width(2)))?
            .label(v.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn plot_variants(out: &mut String, s: &SummaryOut) -> PlotResult {
    let root = SVGBackend::with_string(out, (960, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = s.variants.len();
    let ymax = s
        .variants
        .iter()
        .map(|v| v.wait_h_mean_ci.mean + if v.wait_h_mean_ci.half_width.is_finite() { v.wait_h_mean_ci.half_width } else { 0.0 })
        .fold(0.1, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{} — mean total wait by variant (95 % CI)", s.scenario), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..ymax)?;
    let names: Vec<String> = s.variants.iter().map(|v| v.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc("hours")
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    for (i, v) in s.variants.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        chart.draw_series(std::iter::once(Rectangle::new(
            [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), v.wait_h_mean_ci.mean)],
            c.mix(0.7).filled(),
        )))?;
        let hw = v.wait_h_mean_ci.half_width;
        if hw.is_finite() {
            let (lo, hi) = ((v.wait_h_mean_ci.mean - hw).max(0.0), v.wait_h_mean_ci.mean + hw);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(SegmentValue::CenterOf(i), lo), (SegmentValue::CenterOf(i), hi)],
                BLACK.stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            format!("{:.2} h", v.wait_h_mean_ci.mean),
            (SegmentValue::CenterOf(i), v.wait_h_mean_ci.mean + ymax * 0.03),
            ("sans-serif", 14),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// Writes `format!("{v:.2}")` into `buf`, without the float formatter for whole numbers (the
/// queue series samples whole hours: 20,000 rows a variant).
/// `field` as the csv crate writes it among others in a record (quoted only where needed).
fn csv_field(field: &str) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([field, ""])?;
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    let text = String::from_utf8_lossy(&bytes);
    // The record is the field, a comma, the empty field and the line's end.
    Ok(text.strip_suffix(",\n").unwrap_or(&text).to_string())
}

/// Appends `n` in decimal.
fn push_u32(buf: &mut String, n: u32) {
    push_u64(buf, n.into());
}

/// Appends `n` in decimal.
fn push_u64(buf: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits: pushed as they are, with no UTF-8 check of the slice.
    buf.extend(digits[i..].iter().map(|d| char::from(*d)));
}

/// Appends `v` as `format!("{v:.2}")` writes it (whole numbers without the formatter).
fn push_two_decimals(buf: &mut String, v: f64) {
    if v.fract() == 0.0 && v.is_sign_positive() && v < 1e15 {
        push_u64(buf, v as u64);
        buf.push_str(".00");
    } else {
        let _ = write!(buf, "{v:.2}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and numbers are written as the csv crate and the formatter write them.
    #[test]
    fn queue_rows_are_written_as_the_csv_crate_writes_them() {
        for name in ["baseline", "two lanes, night", "say \"hi\"", "a\nb", "", " x "] {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([name, "1.00", "2", "3"]).unwrap();
            let want = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert_eq!(format!("{},1.00,2,3\n", csv_field(name).unwrap()), want, "{name:?}");
        }
        let mut buf = String::new();
        for n in [0, 1, 9, 10, 99, 100, 65_535, u32::MAX] {
            buf.clear();
            push_u32(&mut buf, n);
            assert_eq!(buf, n.to_string());
        }
        for n in [0, 7, 4_294_967_296, 999_999_999_999_999, u64::MAX] {
            buf.clear();
            push_u64(&mut buf, n);
            assert_eq!(buf, n.to_string());
        }
    }

    /// The fast path writes what the formatter writes, digit for digit.
    #[test]
    fn two_decimals_writes_what_format_writes() {
        let mut buf = String::new();
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.005,
            0.015,
            2.675,
            1e15,
            1e15 + 2.0,
            123_456.0,
            -3.0,
            8759.0,
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
            4_294_967_296.0,
            999_999_999_999_999.0,
        ];
        values.extend((0..2000).map(|i| i as f64 * 0.438));
        values.extend((0..2000).map(|i| i as f64));
        for v in values {
            buf.clear();
            push_two_decimals(&mut buf, v);
            assert_eq!(buf, format!("{v:.2}"), "{v}");
        }
    }
}
