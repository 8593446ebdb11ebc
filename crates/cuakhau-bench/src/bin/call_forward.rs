//! Time per call-forward decision with 1,000 to 100,000 trucks in the yard, for each policy.
//!
//! A decision is what a free lane does: call the next truck (a pop from the policy's order) and,
//! to keep the yard at its size, the next arriving truck is added. Prints one JSON object.

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use cuakhau_bench::Mix;
use cuakhau_core::Timestamp;
use cuakhau_core::goods::callforward::{CallForward, Policy, TruckId, WaitingTruck};
use cuakhau_core::refdata::LaneClass;
use std::time::Instant;

fn truck(rng: &mut Mix, seq: u64) -> WaitingTruck {
    let r = rng.next_u64();
    let perishable = r % 10 < 3;
    WaitingTruck {
        id: TruckId(seq),
        arrival_seq: seq,
        slot: r.is_multiple_of(2).then_some(Timestamp((r >> 8) as i64 % 1_000_000_000_000)),
        spoils_at: perishable.then_some(Timestamp((r >> 16) as i64 % 1_000_000_000_000)),
        class: if perishable { LaneClass::Perishable } else { LaneClass::General },
    }
}

fn main() {
    let sizes = [1_000usize, 10_000, 100_000];
    let decisions = 1_000_000u64;
    let mut out = serde_json::Map::new();
    let mut ns_10k = 0.0;
    for policy in Policy::ALL {
        let mut per = Vec::new();
        for &n in &sizes {
            let mut rng = Mix(42);
            let mut cf = CallForward::new(policy);
            let mut seq = 0u64;
            for _ in 0..n {
                seq += 1;
                cf.add(truck(&mut rng, seq));
            }
            let lanes = [LaneClass::General, LaneClass::General, LaneClass::Perishable];
            let t0 = Instant::now();
            for i in 0..decisions {
                let called = cf.call(lanes[(i % 3) as usize]);
                assert!(called.is_some(), "the yard never runs dry");
                seq += 1;
                cf.add(truck(&mut rng, seq));
            }
            let ns = t0.elapsed().as_nanos() as f64 / decisions as f64;
            assert_eq!(cf.len(), n);
            if policy == Policy::PerishablesFirst && n == 10_000 {
                ns_10k = ns;
            }
            println!("{:<18} {:>7} trucks: {:>7.1} ns per decision (call + next arrival)", policy.code(), n, ns);
            per.push(serde_json::json!(ns));
        }
        out.insert(policy.code().into(), serde_json::Value::Array(per));
    }
    let json = serde_json::json!({"yard_sizes": sizes, "ns_per_decision": out, "ns_per_decision_10k_perishables_first": ns_10k, "decisions_per_size": decisions});
    println!("{json}");
}
