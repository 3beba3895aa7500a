//! The list filter grammar of the API (proto/README.md): `field = "value"` comparisons joined
//! by `AND`; role and assignment lists only compare with `=`.

use crate::error::Error;

/// A parsed filter: (field, value) pairs, each field at most once.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filter(Vec<(String, String)>);

impl Filter {
    /// Parses `text`, allowing only `fields`.
    pub fn parse(text: &str, fields: &[&str]) -> Result<Filter, Error> {
        let bad = |why: &str| Error::invalid("filter", why.to_owned());
        let mut out = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let field_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if field_len == 0 {
                return Err(bad("expected field = \"value\""));
            }
            let field = &rest[..field_len];
            let after = rest[field_len..].trim_start();
            if after.starts_with(">=") || after.starts_with("<=") {
                return Err(bad("only `=` applies to these fields"));
            }
            let after = after
                .strip_prefix('=')
                .ok_or_else(|| bad("expected `=` after the field"))?
                .trim_start();
            let body = after
                .strip_prefix('"')
                .ok_or_else(|| bad("values are quoted"))?;
            let mut value = String::new();
            let mut chars = body.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => value.push(e),
                        _ => return Err(bad("only \\\" and \\\\ are escapes")),
                    },
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| bad("unterminated value"))?;
            if !fields.contains(&field) {
                return Err(Error::invalid(
                    "filter",
                    format!("unknown field `{field}`; use {}", fields.join(", ")),
                ));
            }
            if out.iter().any(|(f, _)| f == field) {
                return Err(bad("a field appears at most once"));
            }
            out.push((field.to_owned(), value));
            rest = body[end..].trim_start();
            if !rest.is_empty() {
                rest = rest
                    .strip_prefix("AND")
                    .filter(|r| r.starts_with(char::is_whitespace))
                    .ok_or_else(|| bad("comparisons are joined by AND"))?
                    .trim_start();
                if rest.is_empty() {
                    return Err(bad("a comparison must follow AND"));
                }
            }
        }
        Ok(Filter(out))
    }

    /// The value compared with `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The `"true"`/`"false"` value of `field`, if any.
    pub fn boolean(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Error::invalid(
                "filter",
                format!("`{field}` is \"true\" or \"false\""),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conjunctions_with_escapes() {
        let f = Filter::parse(
            r#"permission = "tickets.update" AND built_in="false""#,
            &["permission", "built_in"],
        )
        .expect("valid");
        assert_eq!(f.get("permission"), Some("tickets.update"));
        assert_eq!(f.boolean("built_in").expect("bool"), Some(false));
        let f = Filter::parse(r#"role = "a\"b\\c""#, &["role"]).expect("valid");
        assert_eq!(f.get("role"), Some("a\"b\\c"));
        assert_eq!(
            Filter::parse("", &["role"]).expect("empty"),
            Filter::default()
        );
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            r#"role = x"#,
            r#"nope = "x""#,
            r#"role = "x" OR role = "y""#,
            r#"role = "x" AND role = "y""#,
            r#"role >= "x""#,
            r#"role = "x" AND"#,
            r#"role = "x"#,
        ] {
            assert!(Filter::parse(bad, &["role"]).is_err(), "{bad}");
        }
    }
}
