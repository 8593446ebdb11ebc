//! A bare, hand-written event loop of the benchmark model (bench/simulator/year.toml and
//! simpy_model.py), with no library at all: the floor cuakhau's simulator is measured against.
//!
//! One gate pair, exports, one year: Poisson arrivals with an hourly profile (Vietnam's local
//! time); 6 Vietnamese lanes open 07:00-19:00 UTC+7 and 6 Chinese lanes open 07:00-19:00 UTC+8;
//! each side's customs draws its own green/yellow/red channel; log-normal service; 30 % fruit
//! with a 48 h shelf life; trucks are called only while the side is open. Policy at the
//! Vietnamese yard: FIFO, or perishables first (earliest spoil-by time); China's queue is FIFO.
//!
//! Build: rustc -O --edition 2021 bench/simulator/bare.rs -o bare
//! Usage: bare POLICY SEED [REPLICATIONS]  -> prints one JSON line (like simpy_model.py).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

const US_MIN: i64 = 60_000_000;
const US_H: i64 = 60 * US_MIN;
const US_DAY: i64 = 24 * US_H;
const HORIZON: i64 = 365 * US_DAY;
const TRUCKS_PER_DAY: f64 = 180.0;
const HOURLY: [f64; 24] = [1., 1., 1., 1., 1., 2., 4., 6., 8., 8., 8., 7., 6., 7., 8., 8., 7., 6., 4., 3., 2., 2., 1., 1.];
const LANES: usize = 6;
const TRAVEL: i64 = 5 * US_MIN;
const OFFSET: [i64; 2] = [0, US_H]; // each side's clock ahead of the start (UTC+7)
const OPENS: i64 = 7 * US_H;
const CLOSES: i64 = 19 * US_H;
const VN_CUSTOMS: [f64; 3] = [5.0, 15.0, 45.0];
const CN_CUSTOMS: [f64; 3] = [6.0, 15.0, 45.0];

struct Rng(u64, Option<f64>);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.1.take() {
            return z;
        }
        loop {
            let (x, y) = (2.0 * self.unit() - 1.0, 2.0 * self.unit() - 1.0);
            let s = x * x + y * y;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.1 = Some(y * f);
                return x * f;
            }
        }
    }
    /// Log-normal with the given mean (minutes) and sigma, in µs.
    fn lognormal_us(&mut self, mean_min: f64, sigma: f64) -> i64 {
        ((mean_min * US_MIN as f64).ln() - sigma * sigma / 2.0 + sigma * self.normal()).exp() as i64
    }
    fn channel(&mut self) -> usize {
        let u = self.unit();
        if u <= 0.7 {
            0
        } else if u <= 0.9 {
            1
        } else {
            2
        }
    }
}

struct Truck {
    arrived: i64,
    spoils_at: Option<i64>,
    exit_us: i64,
    entry_us: i64,
    crossed: i64,
    exit_wait: i64,
}

const ARRIVE: u64 = 0;
const EXIT_DONE: u64 = 1;
const CROSSED: u64 = 2;
const ENTRY_DONE: u64 = 3;
const WAKE: u64 = 4;

struct Sim {
    rng: Rng,
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    seq: u64,
    trucks: Vec<Truck>,
    perishables_first: bool,
    fifo: VecDeque<u32>,
    prio: BinaryHeap<Reverse<(i64, u64, u32)>>,
    cn_queue: VecDeque<u32>,
    free: [usize; 2],
    wake_pending: [bool; 2],
    now: i64,
    events: u64,
    waits_sum: f64,
    served: u64,
    spoiled: u64,
}

fn is_open(side: usize, t: i64) -> bool {
    let m = (t + OFFSET[side]).rem_euclid(US_DAY);
    (OPENS..CLOSES).contains(&m)
}

fn next_open(side: usize, t: i64) -> i64 {
    let local = t + OFFSET[side];
    let day = local.div_euclid(US_DAY) * US_DAY;
    let open_today = day + OPENS;
    (if local < open_today { open_today } else { open_today + US_DAY }) - OFFSET[side]
}

impl Sim {
    fn schedule(&mut self, t: i64, kind: u64, arg: u32) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq << 32 | kind << 28 | arg as u64)));
    }
    fn next_arrival(&mut self, mut t: i64) -> Option<i64> {
        let total: f64 = HOURLY.iter().sum();
        while t < HORIZON {
            let hour_end = (t.div_euclid(US_H) + 1) * US_H;
            let rate = TRUCKS_PER_DAY * HOURLY[((t + OFFSET[0]).rem_euclid(US_DAY) / US_H) as usize] / total;
            let gap = -self.rng.unit().ln() / rate * US_H as f64;
            if gap < (hour_end - t) as f64 {
                return Some(t + gap as i64);
            }
            t = hour_end;
        }
        None
    }
    fn yard_len(&self) -> usize {
        if self.perishables_first { self.prio.len() } else { self.fifo.len() }
    }
    fn dispatch_exit(&mut self) {
        if self.yard_len() == 0 || self.free[0] == 0 {
            return;
        }
        if !is_open(0, self.now) {
            if !self.wake_pending[0] {
                self.wake_pending[0] = true;
                self.schedule(next_open(0, self.now), WAKE, 0);
            }
            return;
        }
        while self.free[0] > 0 {
            let id = if self.perishables_first { self.prio.pop().map(|Reverse((_, _, id))| id) } else { self.fifo.pop_front() };
            let Some(id) = id else { break };
            self.free[0] -= 1;
            let t = &mut self.trucks[id as usize];
            t.exit_wait = self.now - t.arrived;
            let done = self.now + t.exit_us;
            self.schedule(done, EXIT_DONE, id);
        }
    }
    fn dispatch_entry(&mut self) {
        if self.cn_queue.is_empty() || self.free[1] == 0 {
            return;
        }
        if !is_open(1, self.now) {
            if !self.wake_pending[1] {
                self.wake_pending[1] = true;
                self.schedule(next_open(1, self.now), WAKE, 1);
            }
            return;
        }
        while self.free[1] > 0 {
            let Some(id) = self.cn_queue.pop_front() else { break };
            self.free[1] -= 1;
            let t = &self.trucks[id as usize];
            let wait = t.exit_wait + (self.now - t.crossed);
            self.waits_sum += wait as f64 / US_H as f64;
            let done = self.now + t.entry_us;
            self.schedule(done, ENTRY_DONE, id);
        }
    }
    fn arrive(&mut self) {
        let fruit = self.rng.unit() <= 0.3;
        let (vn, cn) = (self.rng.channel(), self.rng.channel());
        let age = if fruit { (-(12 * US_H) as f64 * self.rng.unit().ln()) as i64 } else { 0 };
        let mut exit_us = self.rng.lognormal_us(VN_CUSTOMS[vn], 0.5) + self.rng.lognormal_us(3.0, 0.3);
        if fruit {
            exit_us += self.rng.lognormal_us(10.0, 0.5);
        }
        let entry_us = self.rng.lognormal_us(CN_CUSTOMS[cn], 0.5) + self.rng.lognormal_us(3.0, 0.3);
        let id = self.trucks.len() as u32;
        let spoils_at = fruit.then(|| self.now + 48 * US_H - age);
        self.trucks.push(Truck { arrived: self.now, spoils_at, exit_us, entry_us, crossed: 0, exit_wait: 0 });
        if self.perishables_first {
            self.prio.push(Reverse((spoils_at.unwrap_or(i64::MAX), id as u64, id)));
        } else {
            self.fifo.push_back(id);
        }
        self.dispatch_exit();
    }
}

fn replication(perishables_first: bool, seed: u64) -> Sim {
    let mut s = Sim {
        rng: Rng(seed, None),
        heap: BinaryHeap::new(),
        seq: 0,
        trucks: Vec::with_capacity(70_000),
        perishables_first,
        fifo: VecDeque::new(),
        prio: BinaryHeap::new(),
        cn_queue: VecDeque::new(),
        free: [LANES; 2],
        wake_pending: [false; 2],
        now: 0,
        events: 0,
        waits_sum: 0.0,
        served: 0,
        spoiled: 0,
    };
    if let Some(t) = s.next_arrival(0) {
        s.schedule(t, ARRIVE, 0);
    }
    while let Some(Reverse((t, packed))) = s.heap.pop() {
        if t > HORIZON {
            break;
        }
        s.now = t;
        let (kind, arg) = ((packed >> 28) & 0xF, (packed & 0x0FFF_FFFF) as u32);
        if kind != WAKE {
            s.events += 1;
        }
        match kind {
            ARRIVE => {
                if let Some(next) = s.next_arrival(t) {
                    s.schedule(next, ARRIVE, 0);
                }
                s.arrive();
            }
            EXIT_DONE => {
                s.free[0] += 1;
                s.schedule(t + TRAVEL, CROSSED, arg);
                s.dispatch_exit();
            }
            CROSSED => {
                s.trucks[arg as usize].crossed = t;
                s.cn_queue.push_back(arg);
                s.dispatch_entry();
            }
            ENTRY_DONE => {
                s.free[1] += 1;
                s.served += 1;
                if s.trucks[arg as usize].spoils_at.is_some_and(|sp| sp < t) {
                    s.spoiled += 1;
                }
                s.dispatch_entry();
            }
            _ => {
                s.wake_pending[arg as usize] = false;
                if arg == 0 { s.dispatch_exit() } else { s.dispatch_entry() }
            }
        }
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let policy = args.get(1).map_or("fifo", String::as_str).to_string();
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let reps: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let (mut secs, mut events, mut means, mut spoiled, mut served) = (0.0, 0, vec![], 0.0, 0.0);
    for r in 0..reps {
        let t0 = Instant::now();
        let s = replication(policy == "perishables-first", seed.wrapping_add(r));
        secs += t0.elapsed().as_secs_f64();
        events += s.events;
        means.push(s.waits_sum / s.served.max(1) as f64);
        spoiled += s.spoiled as f64;
        served += s.served as f64;
    }
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let sd = if n > 1.0 { (means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    let sd = if sd.is_nan() { "NaN".to_string() } else { sd.to_string() };
    println!(
        "{{\"policy\": \"{policy}\", \"replications\": {reps}, \"sim_s\": {secs}, \"events\": {events}, \"mean_wait_h\": {mean}, \"mean_wait_h_sd\": {sd}, \"spoiled\": {}, \"served\": {}}}",
        spoiled / n,
        served / n
    );
}
