//! The list filter grammar shared by every MTM list call (proto/README.md):
//! `field ("=" | ">=" | "<=") "value" { AND ... }`. Parsing checks fields and operators against
//! what the list allows; anything else is INVALID_ARGUMENT naming `filter`. Values are read
//! with [`equal`], [`time_bound`], [`boolean`] and [`enumeration`].

use tonic::Status;

use crate::status::{FieldError, quote};

/// The longest filter any list accepts, in bytes.
pub const MAX_FILTER_BYTES: usize = 2048;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `>=` (time fields only)
    Ge,
    /// `<=` (time fields only)
    Le,
}

/// One `field op "value"` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// The field name as written.
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The unquoted, unescaped value.
    pub value: String,
}

/// What a list accepts: each field and whether it is a time field (which also takes `>=`/`<=`).
pub type FieldSpec<'a> = &'a [(&'a str, bool)];

/// Parses `filter` against `fields`. A field may appear at most once per operator.
pub fn parse(filter: &str, fields: FieldSpec<'_>) -> Result<Vec<Comparison>, Status> {
    terms(filter, fields).map_err(Status::from)
}

fn terms(filter: &str, fields: FieldSpec<'_>) -> Result<Vec<Comparison>, FieldError> {
    if filter.len() > MAX_FILTER_BYTES {
        return Err(bad(&format!("longer than {MAX_FILTER_BYTES} bytes")));
    }
    if filter.chars().any(char::is_control) {
        return Err(bad("must not contain control characters (such as NUL)"));
    }
    let mut lexer = Lexer {
        rest: filter.trim(),
    };
    let mut terms: Vec<Comparison> = Vec::new();
    if lexer.rest.is_empty() {
        return Ok(terms);
    }
    loop {
        let field = lexer.ident()?;
        let op = lexer.op()?;
        let value = lexer.string()?;
        let Some((_, is_time)) = fields.iter().find(|(name, _)| *name == field) else {
            let known: Vec<_> = fields.iter().map(|(name, _)| *name).collect();
            return Err(bad(&format!(
                "unknown field `{}`; this list filters on {}",
                quote(&field),
                known.join(", ")
            )));
        };
        if op != Op::Eq && !is_time {
            return Err(bad(&format!("`{field}` takes only `=`")));
        }
        if *is_time && parse_time(&value).is_none() {
            return Err(bad(&format!(
                "`{field}` needs an RFC 3339 time such as 2026-01-01T00:00:00Z"
            )));
        }
        if terms.iter().any(|t| t.field == field && t.op == op) {
            return Err(bad(&format!(
                "`{field}` appears twice with the same operator"
            )));
        }
        terms.push(Comparison { field, op, value });
        lexer.skip_ws();
        if lexer.rest.is_empty() {
            return Ok(terms);
        }
        lexer.keyword("AND")?;
    }
}

/// The value of the `=` term on `field`, if any.
pub fn equal<'a>(terms: &'a [Comparison], field: &str) -> Option<&'a str> {
    terms
        .iter()
        .find(|t| t.field == field && t.op == Op::Eq)
        .map(|t| t.value.as_str())
}

/// The bound of the `op` term on time field `field`, as seconds and nanoseconds since the epoch.
pub fn time_bound(terms: &[Comparison], field: &str, op: Op) -> Option<(i64, u32)> {
    terms
        .iter()
        .find(|t| t.field == field && t.op == op)
        .and_then(|t| parse_time(&t.value))
}

/// Parses an RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z` or with a `±HH:MM` offset)
/// into seconds and nanoseconds since the epoch.
pub fn parse_time(value: &str) -> Option<(i64, u32)> {
    let ts: prost_types::Timestamp = value.parse().ok()?;
    Some((ts.seconds, u32::try_from(ts.nanos).ok()?))
}

/// A boolean value, written `"true"` or `"false"`.
pub fn boolean(comparison: &Comparison) -> Result<bool, FieldError> {
    match comparison.value.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(&format!(
            "`{}` takes \"true\" or \"false\"",
            comparison.field
        ))),
    }
}

/// An enum value given by its name without `prefix` (`IMPORTANT` for
/// `TICKET_SEVERITY_IMPORTANT`), looked up with `from_name` (prost's `from_str_name`). The
/// unspecified value (0) is refused.
pub fn enumeration(
    comparison: &Comparison,
    prefix: &str,
    from_name: impl FnOnce(&str) -> Option<i32>,
) -> Result<i32, FieldError> {
    from_name(&format!("{prefix}{}", comparison.value))
        .filter(|v| *v != 0)
        .ok_or_else(|| {
            bad(&format!(
                "`{}` is not a valid {}",
                quote(&comparison.value),
                comparison.field
            ))
        })
}

/// A time value (checked by [`parse`] on time fields) in microseconds since the epoch.
pub fn time_micros(comparison: &Comparison) -> Option<i64> {
    let (seconds, nanos) = parse_time(&comparison.value)?;
    seconds
        .checked_mul(1_000_000)?
        .checked_add(i64::from(nanos / 1_000))
}

fn bad(description: &str) -> FieldError {
    FieldError::new("filter", description)
}

struct Lexer<'a> {
    rest: &'a str,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn ident(&mut self) -> Result<String, FieldError> {
        self.skip_ws();
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(bad("expected a field name"));
        }
        let (ident, rest) = self.rest.split_at(end);
        self.rest = rest;
        Ok(ident.to_owned())
    }

    fn op(&mut self) -> Result<Op, FieldError> {
        self.skip_ws();
        for (token, op) in [(">=", Op::Ge), ("<=", Op::Le), ("=", Op::Eq)] {
            if let Some(rest) = self.rest.strip_prefix(token) {
                self.rest = rest;
                return Ok(op);
            }
        }
        Err(bad("expected `=`, `>=` or `<=`"))
    }

    fn string(&mut self) -> Result<String, FieldError> {
        self.skip_ws();
        let mut chars = self.rest.char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err(bad("values must be double-quoted"));
        }
        let mut value = String::new();
        let mut escaped = false;
        for (i, c) in chars {
            match (escaped, c) {
                (true, '"' | '\\') => {
                    value.push(c);
                    escaped = false;
                }
                (true, _) => return Err(bad("only \\\" and \\\\ may be escaped")),
                (false, '\\') => escaped = true,
                (false, '"') => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(value);
                }
                (false, _) => value.push(c),
            }
        }
        Err(bad("unterminated string"))
    }

    fn keyword(&mut self, word: &str) -> Result<(), FieldError> {
        self.skip_ws();
        match self.rest.strip_prefix(word) {
            Some(rest) if rest.starts_with(char::is_whitespace) => {
                self.rest = rest;
                Ok(())
            }
            _ => Err(bad("comparisons are joined with AND")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: FieldSpec<'static> = &[
        ("status", false),
        ("update_time", true),
        ("actor.upn", false),
    ];

    #[test]
    fn parses_a_conjunction() {
        let terms = parse(
            r#"status = "NEEDS_ACTION" AND update_time >= "2026-01-01T00:00:00Z" AND actor.upn = "a\"b""#,
            FIELDS,
        )
        .expect("valid");
        assert_eq!(equal(&terms, "status"), Some("NEEDS_ACTION"));
        assert_eq!(equal(&terms, "actor.upn"), Some("a\"b"));
        assert_eq!(
            time_bound(&terms, "update_time", Op::Ge),
            Some((1_767_225_600, 0))
        );
        assert!(parse("  ", FIELDS).expect("empty").is_empty());
    }

    #[test]
    fn refuses_what_the_grammar_does_not_allow() {
        for filter in [
            r#"color = "red""#,
            r#"status >= "x""#,
            r#"update_time >= "yesterday""#,
            r#"status = NEEDS_ACTION"#,
            r#"status = "a" OR status = "b""#,
            r#"status = "a" AND status = "b""#,
            r#"status = "open"#,
        ] {
            let status = parse(filter, FIELDS).expect_err(filter);
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{filter}");
            assert!(status.message().starts_with("filter:"), "{filter}");
        }
    }

    #[test]
    fn control_characters_and_huge_filters_are_refused_without_echo() {
        let nul = parse("actor.upn = \"a\u{0}b\"", FIELDS).expect_err("nul");
        assert_eq!(nul.code(), tonic::Code::InvalidArgument);
        let huge = format!("status = \"{}\"", "x".repeat(20_000));
        let refused = parse(&huge, FIELDS).expect_err("huge");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().len() < 100, "{}", refused.message());
        let long_field = format!("{} = \"x\"", "f".repeat(1000));
        let refused = parse(&long_field, FIELDS).expect_err("unknown");
        assert!(refused.message().len() < 300, "{}", refused.message());
    }

    #[test]
    fn values_read_as_booleans_enums_and_times() {
        let terms = parse(
            r#"flag = "true" AND level = "HIGH" AND update_time <= "2026-01-01T00:00:01.5Z""#,
            &[("flag", false), ("level", false), ("update_time", true)],
        )
        .expect("valid");
        let levels = |name: &str| match name {
            "LEVEL_UNSPECIFIED" => Some(0),
            "LEVEL_HIGH" => Some(2),
            _ => None,
        };
        assert_eq!(boolean(&terms[0]), Ok(true));
        assert!(boolean(&terms[1]).is_err());
        assert_eq!(enumeration(&terms[1], "LEVEL_", levels), Ok(2));
        assert!(enumeration(&terms[0], "LEVEL_", levels).is_err());
        let unspecified = Comparison {
            field: "level".into(),
            op: Op::Eq,
            value: "UNSPECIFIED".into(),
        };
        let refused = enumeration(&unspecified, "LEVEL_", levels).expect_err("unspecified");
        assert_eq!(refused.field, "filter");
        assert_eq!(time_micros(&terms[2]), Some(1_767_225_601_500_000));
        assert_eq!(time_micros(&terms[0]), None);
    }
}
