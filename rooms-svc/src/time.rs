//! Time as the stores keep it (microseconds since the Unix epoch, UTC) and its conversions to
//! protobuf timestamps and RFC 3339.

use prost_types::Timestamp;

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A protobuf timestamp of `micros`.
pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// The optional timestamp of optional `micros`.
pub fn timestamp_opt(micros: Option<i64>) -> Option<Timestamp> {
    micros.map(timestamp)
}

/// Microseconds of a protobuf timestamp.
pub fn micros(timestamp: &Timestamp) -> i64 {
    timestamp
        .seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(timestamp.nanos) / 1000)
}

/// Parses an RFC 3339 time into microseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-23T10:00:00.000Z`.
pub fn rfc3339_millis(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The UTC calendar day, `YYYY-MM-DD`.
pub fn utc_day(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The etag of a revision.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// Whether a client's `etag` is stale against the current `revision` (an empty one never is).
pub fn stale(etag_given: &str, revision: i64) -> bool {
    !etag_given.is_empty() && etag_given != etag(revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let t = parse_rfc3339("2026-01-02T03:04:05.678Z").expect("time");
        assert_eq!(micros(&timestamp(t)), t);
        assert_eq!(rfc3339_millis(t), "2026-01-02T03:04:05.678Z");
        assert_eq!(utc_day(t), "2026-01-02");
        assert!(parse_rfc3339("yesterday").is_none());
        assert!(stale("\"1\"", 2));
        assert!(!stale("", 2));
        assert!(!stale(&etag(2), 2));
    }
}
