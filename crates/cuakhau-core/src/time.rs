//! Instants as UTC microseconds, and the two zones of the border.
//!
//! Microseconds because PostgreSQL keeps microseconds: a value that round-trips through either
//! store compares equal. The core never asks for "now"; callers pass a [`Timestamp`] in.

use jiff::tz::TimeZone;

/// An instant, as microseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub const fn plus_seconds(self, s: i64) -> Self {
        Timestamp(self.0 + s * 1_000_000)
    }
    /// Whole seconds from this instant until `later`, rounded up (so that this instant plus them
    /// is not before `later`), and 0 when `later` is not after it: a wait as a person is told it.
    pub const fn seconds_until(self, later: Timestamp) -> i64 {
        let us = later.0.saturating_sub(self.0);
        if us <= 0 { 0 } else { us.saturating_add(999_999) / 1_000_000 }
    }
    /// The instant as a jiff timestamp, for formatting in a zone.
    pub fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
    /// RFC 3339 in UTC, e.g. `2026-11-23T09:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_jiff().to_string()
    }
    /// RFC 3339 with the offset of `zone` (e.g. `+07:00` for Asia/Ho_Chi_Minh).
    pub fn to_rfc3339_in(self, zone: &str) -> String {
        match TimeZone::get(zone) {
            Ok(tz) => self.to_jiff().display_with_offset(tz_offset(&tz, self)).to_string(),
            Err(_) => self.to_rfc3339(),
        }
    }
    /// Minutes after local midnight in `zone` at this instant.
    pub fn local_minute_of_day(self, zone: &str) -> Option<u16> {
        let tz = TimeZone::get(zone).ok()?;
        let z = self.to_jiff().to_zoned(tz);
        Some(z.hour() as u16 * 60 + z.minute() as u16)
    }
}

fn tz_offset(tz: &TimeZone, t: Timestamp) -> jiff::tz::Offset {
    tz.to_offset(t.to_jiff())
}

/// Parses an RFC 3339 instant (with `Z` or an offset) into a [`Timestamp`].
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(Timestamp(t.as_microsecond()))
}

/// The IANA zone of each side. The border's two zones differ by one hour all year (neither has DST).
pub const VN_ZONE: &str = "Asia/Ho_Chi_Minh";
pub const CN_ZONE: &str = "Asia/Shanghai";

/// True when `zone` is a zone the bundled tz database knows.
pub fn is_known_zone(zone: &str) -> bool {
    TimeZone::get(zone).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_until_round_up_and_never_go_below_zero() {
        let t = Timestamp(10_000_000);
        for (later_us, want) in
            [(10_000_000, 0), (9_000_000, 0), (i64::MIN, 0), (10_000_001, 1), (10_500_000, 1), (11_000_000, 1), (11_000_001, 2)]
        {
            assert_eq!(t.seconds_until(Timestamp(later_us)), want, "{later_us}");
            assert!(t.plus_seconds(want) >= Timestamp(later_us), "{later_us}: not before it");
        }
    }

    #[test]
    fn the_two_sides_are_one_hour_apart() {
        let t = parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
        assert_eq!(t.local_minute_of_day(VN_ZONE), Some(7 * 60));
        assert_eq!(t.local_minute_of_day(CN_ZONE), Some(8 * 60));
        assert_eq!(t.to_rfc3339_in(VN_ZONE), "2026-11-23T07:00:00+07:00");
        assert_eq!(t.to_rfc3339_in(CN_ZONE), "2026-11-23T08:00:00+08:00");
    }
}
