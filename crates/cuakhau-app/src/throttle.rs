//! Failed sign-ins, counted per account and per client address, with exponential backoff: after
//! `FREE` failures a key must wait 1 s, then 2 s, 4 s … up to `MAX_WAIT_S`, before the next try
//! is even checked. A success clears the account's count (not the address's: one person's right
//! password must not reset an attacker's budget at that address). Time is the injected clock.

use cuakhau_core::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed before waits start.
pub const FREE: u32 = 5;
/// The longest wait, in seconds.
pub const MAX_WAIT_S: i64 = 15 * 60;
/// Keys idle this long are forgotten (bounds memory under a spray of names).
const FORGET_S: i64 = 3600;
/// At most this many keys are kept; the oldest are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    keys: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Timestamp,
    blocked_until: Timestamp,
}

impl LoginThrottle {
    /// Seconds the caller must still wait before a try for any of `keys` is checked (0: go on).
    pub fn wait_s(&self, keys: &[String], now: Timestamp) -> i64 {
        let map = self.keys.lock().expect("not poisoned");
        keys.iter()
            .filter_map(|k| map.get(k))
            .map(|e| (e.blocked_until.as_micros() - now.as_micros()).max(0).saturating_add(999_999) / 1_000_000)
            .max()
            .unwrap_or(0)
    }

    /// Counts a failure for each key.
    pub fn failed(&self, keys: &[String], now: Timestamp) {
        let mut map = self.keys.lock().expect("not poisoned");
        if map.len() >= MAX_KEYS {
            map.retain(|_, e| now.as_micros() - e.last.as_micros() < FORGET_S * 1_000_000);
        }
        if map.len() >= MAX_KEYS {
            map.clear();
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert(Entry { failures: 0, last: now, blocked_until: now });
            if now.as_micros() - e.last.as_micros() >= FORGET_S * 1_000_000 {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
            if e.failures >= FREE {
                let wait = 1i64.checked_shl(e.failures - FREE).unwrap_or(MAX_WAIT_S).min(MAX_WAIT_S);
                e.blocked_until = now.plus_seconds(wait);
            }
        }
    }

    /// A success clears `key`.
    pub fn succeeded(&self, key: &str) {
        self.keys.lock().expect("not poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_tries_and_a_success_clears_the_account() {
        let th = LoginThrottle::default();
        let t0 = Timestamp(1_000_000_000_000);
        let keys = ["user:lan".to_string(), "addr:10.0.0.1".to_string()];
        for _ in 0..FREE - 1 {
            th.failed(&keys, t0);
            assert_eq!(th.wait_s(&keys, t0), 0);
        }
        th.failed(&keys, t0);
        assert_eq!(th.wait_s(&keys, t0), 1);
        th.failed(&keys, t0.plus_seconds(1));
        assert_eq!(th.wait_s(&keys, t0.plus_seconds(1)), 2);
        for i in 0..20 {
            th.failed(&keys, t0.plus_seconds(2 + i));
        }
        assert_eq!(th.wait_s(&keys, t0.plus_seconds(21)), MAX_WAIT_S, "capped");
        th.succeeded("user:lan");
        assert_eq!(th.wait_s(&keys[..1], t0.plus_seconds(21)), 0);
        assert_eq!(th.wait_s(&keys[1..], t0.plus_seconds(21)), MAX_WAIT_S, "the address keeps its count");
        assert_eq!(th.wait_s(&keys[1..], t0.plus_seconds(21 + MAX_WAIT_S)), 0, "and waits end");
    }
}
