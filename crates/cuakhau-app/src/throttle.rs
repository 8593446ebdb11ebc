//! Failed sign-ins, counted per account and per client address, with exponential backoff: after
//! `FREE` failures a key must wait 1 s, then 2 s, 4 s … up to `MAX_WAIT_S`, before the next try
//! is even checked. A success clears the account's count (not the address's: one person's right
//! password must not reset an attacker's budget at that address). And [`RateLimit`], a burst
//! then a steady rate per key, for public writes. Time is the injected clock; both are per
//! process.

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
        keys.iter().filter_map(|k| map.get(k)).map(|e| now.seconds_until(e.blocked_until)).max().unwrap_or(0)
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

/// A burst of `burst` requests per key, then one every `every_ms` milliseconds (the generic cell
/// rate algorithm: each key keeps only the instant its budget is full again).
#[derive(Debug)]
pub struct RateLimit {
    burst: i64,
    every_us: i64,
    keys: Mutex<HashMap<String, Timestamp>>,
}

impl RateLimit {
    pub fn new(burst: u32, every_ms: i64) -> Self {
        RateLimit { burst: i64::from(burst.max(1)), every_us: every_ms.max(1) * 1000, keys: Mutex::default() }
    }

    /// Takes one request for `key` at `now`, or says how many whole seconds to wait.
    pub fn take(&self, key: &str, now: Timestamp) -> Result<(), i64> {
        let mut map = self.keys.lock().expect("not poisoned");
        if map.len() >= MAX_KEYS {
            // A key whose budget is full again is the same as a key never seen.
            map.retain(|_, full| full.as_micros() > now.as_micros());
        }
        if map.len() >= MAX_KEYS {
            map.clear();
        }
        let full = map.get(key).map_or(now.as_micros(), |t| t.as_micros().max(now.as_micros()));
        let allowed_from = full - (self.burst - 1) * self.every_us;
        if now.as_micros() < allowed_from {
            return Err(now.seconds_until(Timestamp(allowed_from)));
        }
        map.insert(key.to_string(), Timestamp(full + self.every_us));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_allows_its_burst_then_one_per_interval() {
        let limit = RateLimit::new(30, 1000);
        let t0 = Timestamp(1_000_000_000_000);
        for i in 0..30 {
            assert_eq!(limit.take("a", t0), Ok(()), "request {i} of the burst");
        }
        assert_eq!(limit.take("a", t0), Err(1));
        assert_eq!(limit.take("b", t0), Ok(()), "another key has its own budget");
        assert_eq!(limit.take("a", t0.plus_seconds(1)), Ok(()));
        assert_eq!(limit.take("a", t0.plus_seconds(1)), Err(1));
        // Idle for a minute: the whole burst again, never more.
        let later = t0.plus_seconds(61);
        assert_eq!((0..40).filter(|_| limit.take("a", later).is_ok()).count(), 30);
    }

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
