//! Planning a reference-data load: which rows are new, which changed, which are equal.
//!
//! Pure, so both backends load the same way: they read what is stored, plan, and write only the
//! differences (each with an audit entry) inside one transaction.

use cuakhau_core::refdata::{Lane, LocalityPairing, Province};
use cuakhau_core::{GatePair, ReferenceData};

/// One row to write: the new value and, when it replaces one, the stored value.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a load plans at most a few hundred writes
pub enum Write {
    Province { new: Province, old: Option<Province> },
    Pairing { new: LocalityPairing, old: Option<LocalityPairing> },
    GatePair { new: GatePair, old: Option<GatePair> },
    Lane { new: Lane, old: Option<Lane> },
}

/// The writes a load needs, in an order that respects foreign keys, and how many rows were equal.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub unchanged: usize,
}

fn diff<T: Clone + PartialEq, K: PartialEq>(
    stored: &[T],
    incoming: &[T],
    key: impl Fn(&T) -> K,
    wrap: impl Fn(T, Option<T>) -> Write,
    plan: &mut Plan,
) {
    for new in incoming {
        match stored.iter().find(|s| key(s) == key(new)) {
            Some(old) if old == new => plan.unchanged += 1,
            old => plan.writes.push(wrap(new.clone(), old.cloned())),
        }
    }
}

/// Plans loading `incoming` over `stored`. Rows only in `stored` are kept: a load adds and
/// updates, it never deletes.
pub fn plan_load(stored: &ReferenceData, incoming: &ReferenceData) -> Plan {
    let mut p = Plan::default();
    diff(&stored.provinces, &incoming.provinces, |x| x.id.clone(), |new, old| Write::Province { new, old }, &mut p);
    diff(
        &stored.pairings,
        &incoming.pairings,
        |x| (x.vn_province.clone(), x.cn_province.clone()),
        |new, old| Write::Pairing { new, old },
        &mut p,
    );
    diff(&stored.gate_pairs, &incoming.gate_pairs, |x| x.id.clone(), |new, old| Write::GatePair { new, old }, &mut p);
    diff(&stored.lanes, &incoming.lanes, |x| x.id.clone(), |new, old| Write::Lane { new, old }, &mut p);
    p
}

/// Replaces the element `same` finds, or appends `new`.
fn upsert<T>(v: &mut Vec<T>, new: T, same: impl Fn(&T, &T) -> bool) {
    match v.iter().position(|x| same(x, &new)) {
        Some(i) => v[i] = new,
        None => v.push(new),
    }
}

/// Merges `incoming` into `stored` as the load would, for integrity checks before writing.
pub fn merged(stored: &ReferenceData, incoming: &ReferenceData) -> ReferenceData {
    let mut m = stored.clone();
    for w in plan_load(stored, incoming).writes {
        match w {
            Write::Province { new, .. } => upsert(&mut m.provinces, new, |a, b| a.id == b.id),
            Write::Pairing { new, .. } => {
                upsert(&mut m.pairings, new, |a, b| a.vn_province == b.vn_province && a.cn_province == b.cn_province)
            }
            Write::GatePair { new, .. } => upsert(&mut m.gate_pairs, new, |a, b| a.id == b.id),
            Write::Lane { new, .. } => upsert(&mut m.lanes, new, |a, b| a.id == b.id),
        }
    }
    m
}
