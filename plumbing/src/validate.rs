//! The shared checks on client input that every service applies before a value reaches a
//! store or an error message: strings (no NUL or other control characters, bounded length) and
//! numbers (times that fit the stores' microseconds without overflow). Each failure is a
//! [`FieldError`] naming the field, i.e. INVALID_ARGUMENT, never INTERNAL.

use crate::status::FieldError;

/// The earliest time a request may carry: 0001-01-01T00:00:00Z (protobuf's `Timestamp` range).
pub const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;

/// The latest time a request may carry: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

/// A single-line text value (a name, an id, a filter value): at most `max_chars` characters
/// and no control characters, NUL included (PostgreSQL cannot store NUL in text).
pub fn line(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters (such as NUL)",
        ));
    }
    length(field, value, max_chars)
}

/// A free text (a description, a message): at most `max_chars` characters; line breaks and
/// tabs are allowed, other control characters (NUL included) are not.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    length(field, value, max_chars)
}

fn length(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.len() > max_chars && value.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// A protobuf time in microseconds since the epoch, when it lies in
/// [`MIN_TIMESTAMP_SECONDS`]..=[`MAX_TIMESTAMP_SECONDS`] with valid nanoseconds; otherwise a
/// [`FieldError`] naming `field`.
pub fn timestamp_micros(field: &str, time: &prost_types::Timestamp) -> Result<i64, FieldError> {
    let out_of_range = || {
        FieldError::new(
            field,
            "must be a time between 0001-01-01 and 9999-12-31 with nanos in 0..1e9",
        )
    };
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&time.seconds)
        || !(0..1_000_000_000).contains(&time.nanos)
    {
        return Err(out_of_range());
    }
    time.seconds
        .checked_mul(1_000_000)
        .and_then(|micros| micros.checked_add(i64::from(time.nanos / 1_000)))
        .ok_or_else(out_of_range)
}

/// A count or size that must lie in `range`, e.g. a `lifetime_days`.
pub fn in_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, FieldError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_refuse_nul_and_control_characters_and_long_values() {
        assert!(line("location.city", "Zürich", 64).is_ok());
        for bad in ["a\u{0}b", "a\nb", "\u{7f}", "\u{1b}[31m"] {
            let refused = line("location.city", bad, 64).expect_err(bad);
            assert_eq!(refused.field, "location.city");
        }
        assert!(line("x", &"é".repeat(64), 64).is_ok());
        assert!(line("x", &"é".repeat(65), 64).is_err());
        assert!(text("description", "two\nlines\twith tab", 64).is_ok());
        assert!(text("description", "nul\u{0}", 64).is_err());
    }

    #[test]
    fn times_out_of_range_are_refused_not_overflowed() {
        let at = |seconds, nanos| prost_types::Timestamp { seconds, nanos };
        assert_eq!(timestamp_micros("t", &at(1, 500_000)), Ok(1_000_500));
        assert_eq!(
            timestamp_micros("t", &at(MAX_TIMESTAMP_SECONDS, 999_999_999)),
            Ok(MAX_TIMESTAMP_SECONDS * 1_000_000 + 999_999)
        );
        for (seconds, nanos) in [(i64::MAX, 0), (i64::MIN, 0), (0, -1), (0, 1_000_000_000)] {
            let refused = timestamp_micros("start_after.create_time", &at(seconds, nanos))
                .expect_err("out of range");
            assert_eq!(refused.field, "start_after.create_time");
        }
        assert_eq!(in_range("days", 3, 1..=30), Ok(3));
        assert!(in_range("days", 31, 1..=30).is_err());
    }
}
