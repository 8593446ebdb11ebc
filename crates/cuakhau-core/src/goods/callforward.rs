//! Call-forward: which waiting truck goes to which free lane next.
//!
//! A policy turns a truck into a sort key that does not change while it waits (slot time,
//! spoil-by time, arrival order are all fixed instants), so the yard keeps each lane class's
//! trucks in a binary heap and a decision is a pop: O(log n), whatever the yard's size.
//! Removals are lazy: the index says who still waits, and stale heap entries are dropped when
//! they reach the top.
//!
//! Most trucks join in key order (under FIFO always, unless a call went unanswered): those go to
//! a plain run kept beside each heap, appended and taken from the front in O(1); a truck whose
//! key is below the run's last goes to the heap. The next truck is the smaller of the two fronts,
//! so the order is exactly the one heap's.

use crate::refdata::LaneClass;
use crate::time::Timestamp;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A truck's identity inside one yard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TruckId(pub u64);

/// The live gate's trucks are its trips: a trip's id is its truck's.
impl From<crate::TripId> for TruckId {
    fn from(t: crate::TripId) -> TruckId {
        TruckId(t.get() as u64)
    }
}
impl From<TruckId> for crate::TripId {
    fn from(t: TruckId) -> crate::TripId {
        crate::TripId(t.0 as i64)
    }
}

/// What call-forward needs to know of a waiting truck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingTruck {
    pub id: TruckId,
    /// Order of check-in at the yard (ties broken by it).
    pub arrival_seq: u64,
    /// Start of its booked slot, if it has one.
    pub slot: Option<Timestamp>,
    /// When its cargo spoils (arrival + remaining shelf life), if perishable.
    pub spoils_at: Option<Timestamp>,
    /// The lanes it may use: `Agv` trucks only AGV lanes; `Perishable` trucks perishable or
    /// general lanes; `General` trucks general lanes.
    pub class: LaneClass,
}

/// A named call-forward policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// First come, first called.
    Fifo,
    /// Booked trucks by slot time, then the rest by arrival.
    BookedFirst,
    /// Perishables by spoil-by time, then booked trucks by slot time, then arrival.
    PerishablesFirst,
    /// Perishables first, then the rest; first come, first called within each class.
    PerishablesFifo,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Fifo, Policy::BookedFirst, Policy::PerishablesFirst, Policy::PerishablesFifo];
    pub const CODES: &'static [&'static str] = &["fifo", "booked-first", "perishables-first", "perishables-fifo"];
    pub fn code(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::BookedFirst => "booked-first",
            Policy::PerishablesFirst => "perishables-first",
            Policy::PerishablesFifo => "perishables-fifo",
        }
    }
    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.code() == s)
    }
    /// The truck's place under this policy: smaller is called first.
    #[inline]
    pub fn key(self, t: &WaitingTruck) -> Key {
        let never = i64::MAX;
        match self {
            Policy::Fifo => (0, 0, t.arrival_seq),
            Policy::BookedFirst => (t.slot.map_or(never, |s| s.as_micros()), 0, t.arrival_seq),
            Policy::PerishablesFirst => {
                (t.spoils_at.map_or(never, |s| s.as_micros()), t.slot.map_or(never, |s| s.as_micros()), t.arrival_seq)
            }
            Policy::PerishablesFifo => (if t.spoils_at.is_some() { 0 } else { 1 }, 0, t.arrival_seq),
        }
    }
}

/// A sort key: primary, secondary, arrival order.
pub type Key = (i64, i64, u64);

const CLASSES: [LaneClass; 3] = [LaneClass::General, LaneClass::Perishable, LaneClass::Agv];

#[inline]
fn slot(c: LaneClass) -> usize {
    match c {
        LaneClass::General => 0,
        LaneClass::Perishable => 1,
        LaneClass::Agv => 2,
    }
}

/// What the index keeps of a waiting truck: its class, its key, whether it holds a slot.
type Entry = (LaneClass, Key, bool);

/// Ids below this are kept in a table indexed by the id (at most 32 KB of entries).
const DENSE_IDS: u64 = 1024;

/// Who waits, by truck id: a table indexed by the id while every id is small (the simulator's
/// ids are its truck slots), a hash map from the first id that is not (the store's ids).
#[derive(Debug, Clone, Default)]
struct Index {
    dense: Vec<Option<Entry>>,
    sparse: Option<FxHashMap<TruckId, Entry>>,
}

impl Index {
    #[inline]
    fn get(&self, id: TruckId) -> Option<&Entry> {
        match &self.sparse {
            Some(m) => m.get(&id),
            None => self.dense.get(id.0 as usize).and_then(Option::as_ref),
        }
    }

    /// Adds `id`'s entry; false (and nothing changes) if it is already there.
    #[inline]
    fn insert_new(&mut self, id: TruckId, e: Entry) -> bool {
        if self.sparse.is_none() && id.0 >= DENSE_IDS {
            self.go_sparse();
        }
        match &mut self.sparse {
            Some(m) => match m.entry(id) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(e);
                    true
                }
            },
            None => {
                let i = id.0 as usize;
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, None);
                }
                if self.dense[i].is_some() {
                    return false;
                }
                self.dense[i] = Some(e);
                true
            }
        }
    }

    #[inline]
    fn remove(&mut self, id: TruckId) -> Option<Entry> {
        match &mut self.sparse {
            Some(m) => m.remove(&id),
            None => self.dense.get_mut(id.0 as usize)?.take(),
        }
    }

    /// Every waiting truck with its entry, in no particular order.
    fn iter(&self) -> Box<dyn Iterator<Item = (TruckId, &Entry)> + '_> {
        match &self.sparse {
            Some(m) => Box::new(m.iter().map(|(id, e)| (*id, e))),
            None => Box::new(self.dense.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (TruckId(i as u64), e)))),
        }
    }

    /// Moves the table into a hash map, for ids of any size from now on.
    #[cold]
    #[inline(never)]
    fn go_sparse(&mut self) {
        let m: FxHashMap<TruckId, Entry> = self.iter().map(|(id, e)| (id, *e)).collect();
        self.dense = Vec::new();
        self.sparse = Some(m);
    }
}

/// The yard's waiting trucks, ordered by a policy.
#[derive(Debug, Clone)]
pub struct CallForward {
    policy: Policy,
    queues: [BinaryHeap<Reverse<(Key, TruckId)>>; 3],
    /// Per class, entries that joined in key order: ascending, taken from the front.
    runs: [VecDeque<(Key, TruckId)>; 3],
    /// Who waits, in which class, with which key, and whether it holds a slot: the truth the
    /// heaps are checked against.
    index: Index,
    /// Waiting trucks per class.
    lens: [usize; 3],
    /// At least as many heap entries per class as are stale (taken out by `remove`); while 0, a
    /// heap's top is known to be waiting and needs no look-up.
    stale: [usize; 3],
}

impl CallForward {
    pub fn new(policy: Policy) -> Self {
        CallForward { policy, queues: Default::default(), runs: Default::default(), index: Index::default(), lens: [0; 3], stale: [0; 3] }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// (The per-class counts always add up to the index's length: read without asking the
    /// index which way it keeps its entries.)
    #[inline]
    pub fn len(&self) -> usize {
        self.lens[0] + self.lens[1] + self.lens[2]
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.lens == [0; 3]
    }

    pub fn contains(&self, id: TruckId) -> bool {
        self.index.get(id).is_some()
    }

    /// Adds a waiting truck (again, for a truck whose call went unanswered). Returns false if it
    /// is already waiting.
    #[inline]
    pub fn add(&mut self, t: WaitingTruck) -> bool {
        let k = self.policy.key(&t);
        if !self.index.insert_new(t.id, (t.class, k, t.slot.is_some())) {
            return false;
        }
        let run = &mut self.runs[slot(t.class)];
        if run.back().is_none_or(|last| *last <= (k, t.id)) {
            run.push_back((k, t.id));
        } else {
            self.queues[slot(t.class)].push(Reverse((k, t.id)));
        }
        self.lens[slot(t.class)] += 1;
        true
    }

    /// Takes a truck out of the yard (it left, or its declaration lapsed).
    #[inline]
    pub fn remove(&mut self, id: TruckId) -> bool {
        match self.index.remove(id) {
            Some((c, _, _)) => {
                self.lens[slot(c)] -= 1;
                self.stale[slot(c)] += 1;
                true
            }
            None => false,
        }
    }

    /// The best waiting truck of class `c`, dropping stale entries on the way, and whether it
    /// stands at the front of the run (else at the heap's top).
    #[inline(always)]
    fn first(&mut self, c: LaneClass) -> Option<(Key, TruckId, bool)> {
        let i = slot(c);
        if self.lens[i] == 0 {
            // Nobody of this class waits: whatever its run and heap still hold is stale.
            if self.stale[i] > 0 {
                self.clear_class(i);
            }
            return None;
        }
        if self.stale[i] > 0 {
            self.drop_stale(c);
        }
        match (self.runs[i].front(), self.queues[i].peek()) {
            (Some(r), Some(Reverse(h))) => Some(if r <= h { (r.0, r.1, true) } else { (h.0, h.1, false) }),
            (Some(r), None) => Some((r.0, r.1, true)),
            (None, Some(Reverse(h))) => Some((h.0, h.1, false)),
            (None, None) => None,
        }
    }

    /// Drops the stale entries before class `c`'s first waiting truck in its run and its heap.
    #[cold]
    #[inline(never)]
    fn drop_stale(&mut self, c: LaneClass) {
        let i = slot(c);
        let index = &self.index;
        let live = |k: &Key, id: &TruckId| index.get(*id).is_some_and(|(ic, ik, _)| (*ic, *ik) == (c, *k));
        let mut dropped = 0;
        while let Some((k, id)) = self.runs[i].front()
            && !live(k, id)
        {
            self.runs[i].pop_front();
            dropped += 1;
        }
        while let Some(Reverse((k, id))) = self.queues[i].peek()
            && !live(k, id)
        {
            self.queues[i].pop();
            dropped += 1;
        }
        self.stale[i] = self.stale[i].saturating_sub(dropped);
        if self.runs[i].is_empty() && self.queues[i].is_empty() {
            self.stale[i] = 0;
        }
    }

    /// Empties class slot `i`'s run and heap, where every entry is stale.
    #[cold]
    #[inline(never)]
    fn clear_class(&mut self, i: usize) {
        self.runs[i].clear();
        self.queues[i].clear();
        self.stale[i] = 0;
    }

    /// The truck a lane of class `lane` calls, and the class it waits in.
    #[inline(always)]
    fn best_for(&mut self, lane: LaneClass) -> Option<(Key, TruckId, LaneClass, bool)> {
        let mut first = |c: LaneClass| self.first(c).map(|(k, id, in_run)| (k, id, c, in_run));
        match lane {
            LaneClass::Agv => first(LaneClass::Agv),
            // A green lane serves perishables first and takes general cargo when none wait.
            LaneClass::Perishable => first(LaneClass::Perishable).or_else(|| first(LaneClass::General)),
            // A general lane takes the best of general and perishable cargo.
            LaneClass::General => match (first(LaneClass::General), first(LaneClass::Perishable)) {
                (Some(g), Some(p)) => Some(if (p.0, p.1) < (g.0, g.1) { p } else { g }),
                (g, p) => g.or(p),
            },
        }
    }

    /// Which truck a free lane of class `lane` should call, without calling it.
    #[inline]
    pub fn peek(&mut self, lane: LaneClass) -> Option<TruckId> {
        self.best_for(lane).map(|(_, id, _, _)| id)
    }

    /// Calls the next truck for a free lane of class `lane`, taking it out of the queue.
    #[inline]
    pub fn call(&mut self, lane: LaneClass) -> Option<TruckId> {
        let (_, id, c, in_run) = self.best_for(lane)?;
        // The called truck is its run's front or its heap's top: taken out at once, not left stale.
        if in_run {
            self.runs[slot(c)].pop_front();
        } else {
            self.queues[slot(c)].pop();
        }
        self.index.remove(id);
        self.lens[slot(c)] -= 1;
        Some(id)
    }

    /// Calls the next truck holding a slot for a free lane of class `lane` (a pre-registered-only
    /// window), by the same rules as [`CallForward::call`] among booked trucks only. O(n): such
    /// windows are rare and short.
    pub fn call_booked(&mut self, lane: LaneClass) -> Option<TruckId> {
        let best =
            |c: LaneClass| self.index.iter().filter(|(_, (ic, _, booked))| *booked && *ic == c).map(|(id, (_, k, _))| (*k, id)).min();
        let (_, id) = match lane {
            LaneClass::Agv => best(LaneClass::Agv),
            LaneClass::Perishable => best(LaneClass::Perishable).or_else(|| best(LaneClass::General)),
            LaneClass::General => [best(LaneClass::General), best(LaneClass::Perishable)].into_iter().flatten().min(),
        }?;
        self.remove(id);
        Some(id)
    }

    /// A truck's place among those its lane class serves (1 = next), for the driver's view.
    pub fn position(&self, id: TruckId) -> Option<usize> {
        let (class, key, _) = *self.index.get(id)?;
        // Count distinct waiting trucks: a truck removed and added again may stand twice in a heap.
        let ahead = |c: LaneClass| {
            self.queues[slot(c)]
                .iter()
                .map(|Reverse(e)| e)
                .chain(&self.runs[slot(c)])
                .filter(|(k, t)| (*k, *t) < (key, id) && self.index.get(*t).is_some_and(|(ic, ik, _)| (*ic, *ik) == (c, *k)))
                .map(|(_, t)| *t)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let n = match class {
            LaneClass::Agv => ahead(LaneClass::Agv),
            _ => ahead(LaneClass::General) + ahead(LaneClass::Perishable),
        };
        Some(n + 1)
    }

    /// Waiting trucks per lane class.
    pub fn counts(&self) -> [(LaneClass, usize); 3] {
        CLASSES.map(|c| (c, self.lens[slot(c)]))
    }
}

/// May another truck be called now? Never more in flight towards the far side than it can take.
pub fn far_side_has_room(in_flight: u32, far_side_limit: u32) -> bool {
    in_flight < far_side_limit
}

/// Estimated wait before a truck at `position` is called, given the lanes' hourly capacity.
pub fn estimated_wait_s(position: usize, capacity_per_hour: u32) -> Option<i64> {
    if capacity_per_hour == 0 {
        return None;
    }
    Some(((position.saturating_sub(1)) as i64 * 3600) / capacity_per_hour as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truck(id: u64, slot: Option<i64>, spoils: Option<i64>, class: LaneClass) -> WaitingTruck {
        WaitingTruck { id: TruckId(id), arrival_seq: id, slot: slot.map(Timestamp), spoils_at: spoils.map(Timestamp), class }
    }

    fn yard(policy: Policy) -> CallForward {
        let mut cf = CallForward::new(policy);
        cf.add(truck(1, None, None, LaneClass::General));
        cf.add(truck(2, Some(500), None, LaneClass::General));
        cf.add(truck(3, None, Some(900), LaneClass::Perishable));
        cf.add(truck(4, Some(100), Some(400), LaneClass::Perishable));
        cf.add(truck(5, None, None, LaneClass::Agv));
        cf
    }

    fn order(mut cf: CallForward, lane: LaneClass) -> Vec<u64> {
        std::iter::from_fn(|| cf.call(lane)).map(|t| t.0).collect()
    }

    /// Data-driven: each policy and lane class gives its calling order.
    #[test]
    fn each_policy_calls_in_its_order() {
        let cases = [
            (Policy::Fifo, LaneClass::General, vec![1, 2, 3, 4]),
            (Policy::BookedFirst, LaneClass::General, vec![4, 2, 1, 3]),
            (Policy::PerishablesFirst, LaneClass::General, vec![4, 3, 2, 1]),
            (Policy::PerishablesFifo, LaneClass::General, vec![3, 4, 1, 2]),
            (Policy::Fifo, LaneClass::Perishable, vec![3, 4, 1, 2]),
            (Policy::PerishablesFirst, LaneClass::Agv, vec![5]),
        ];
        for (policy, lane, want) in cases {
            assert_eq!(order(yard(policy), lane), want, "{policy:?} on a {lane:?} lane");
        }
    }

    #[test]
    fn positions_removal_and_requeue() {
        let mut cf = yard(Policy::PerishablesFirst);
        assert_eq!(cf.position(TruckId(4)), Some(1));
        assert_eq!(cf.position(TruckId(1)), Some(4));
        assert_eq!(cf.position(TruckId(5)), Some(1), "AGVs queue apart");
        assert!(!cf.add(truck(4, None, None, LaneClass::General)), "no truck waits twice");
        let called = cf.call(LaneClass::General).unwrap();
        assert_eq!(called, TruckId(4));
        // The call goes unanswered: back in the queue with the same key, first again.
        cf.add(truck(4, Some(100), Some(400), LaneClass::Perishable));
        assert_eq!(cf.peek(LaneClass::General), Some(TruckId(4)));
        assert!(cf.remove(TruckId(3)));
        assert!(!cf.remove(TruckId(3)));
        // Removed and added again with the same key, a truck counts once in the others' places.
        assert!(cf.remove(TruckId(2)));
        cf.add(truck(2, Some(500), None, LaneClass::General));
        assert_eq!((cf.position(TruckId(4)), cf.position(TruckId(2)), cf.position(TruckId(1))), (Some(1), Some(2), Some(3)));
        assert_eq!(cf.len(), 4);
        assert_eq!(cf.counts()[1], (LaneClass::Perishable, 1));
        assert!(far_side_has_room(99, 100) && !far_side_has_room(100, 100));
        assert_eq!(estimated_wait_s(1, 20), Some(0));
        assert_eq!(estimated_wait_s(21, 20), Some(3600));
        assert_eq!(estimated_wait_s(3, 0), None);
    }

    /// Random adds (some out of key order, some again after a call; small ids, then large ones
    /// too), removals and calls, against a plain search over who waits: every call and peek
    /// names the truck the search names, and every position counts the trucks the search puts
    /// ahead.
    #[test]
    fn calls_match_a_plain_search() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for policy in Policy::ALL {
            let mut cf = CallForward::new(policy);
            let mut waiting: std::collections::BTreeMap<u64, WaitingTruck> = Default::default();
            let classes = [LaneClass::General, LaneClass::Perishable, LaneClass::Agv];
            let serves = |lane: LaneClass, c: LaneClass| match lane {
                LaneClass::Agv => c == LaneClass::Agv,
                LaneClass::Perishable => c != LaneClass::Agv,
                LaneClass::General => c != LaneClass::Agv,
            };
            let expected = |w: &std::collections::BTreeMap<u64, WaitingTruck>, lane: LaneClass| {
                let best = |c: LaneClass| w.values().filter(|t| t.class == c).map(|t| (policy.key(t), t.id)).min();
                match lane {
                    LaneClass::Agv => best(LaneClass::Agv),
                    LaneClass::Perishable => best(LaneClass::Perishable).or_else(|| best(LaneClass::General)),
                    LaneClass::General => best(LaneClass::General).into_iter().chain(best(LaneClass::Perishable)).min(),
                }
                .map(|(_, id)| id)
            };
            let mut seq: u64 = 0;
            for step in 0..4000 {
                let lane = classes[next(3) as usize];
                // Small ids first (the index's table), then some large ones too (its hash map).
                let pick_id = |n: &mut dyn FnMut(u64) -> u64| if step >= 2000 && n(4) == 0 { 5000 + n(200) } else { n(200) };
                match next(10) {
                    0..=4 => {
                        let id = pick_id(&mut next);
                        // Mostly in order; now and then an old arrival (a call that went unanswered).
                        seq += 1;
                        let arrival_seq = if next(8) == 0 { seq.saturating_sub(next(50)) } else { seq };
                        let t = WaitingTruck {
                            id: TruckId(id),
                            arrival_seq,
                            slot: (next(2) == 0).then(|| Timestamp(next(1000) as i64)),
                            spoils_at: (next(3) == 0).then(|| Timestamp(next(1000) as i64)),
                            class: classes[next(3) as usize],
                        };
                        assert_eq!(cf.add(t), !waiting.contains_key(&id));
                        waiting.entry(id).or_insert(t);
                    }
                    5 => {
                        let id = pick_id(&mut next);
                        assert_eq!(cf.remove(TruckId(id)), waiting.remove(&id).is_some());
                    }
                    6 => assert_eq!(cf.peek(lane), expected(&waiting, lane), "{policy:?} peek"),
                    _ => {
                        let want = expected(&waiting, lane);
                        assert_eq!(cf.call(lane), want, "{policy:?} call on a {lane:?} lane");
                        if let Some(TruckId(id)) = want {
                            waiting.remove(&id);
                        }
                    }
                }
                assert_eq!(cf.len(), waiting.len());
                if let Some(t) = waiting.values().nth(next(waiting.len().max(1) as u64) as usize) {
                    let key = (policy.key(t), t.id);
                    let ahead = waiting
                        .values()
                        .filter(|o| if t.class == LaneClass::Agv { o.class == LaneClass::Agv } else { serves(LaneClass::General, o.class) })
                        .filter(|o| (policy.key(o), o.id) < key)
                        .count();
                    assert_eq!(cf.position(t.id), Some(ahead + 1), "{policy:?} position");
                }
            }
        }
    }
}
