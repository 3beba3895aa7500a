//! The filter of the *all tickets* view: the fields of rooms-svc's ticket list plus
//! `customer`. Values are checked here, once, so a bad filter is one INVALID_ARGUMENT rather
//! than every customer failing; `customer`, `room` and `room_group` narrow the customers asked.

use mtm_plumbing::filter::{self, Comparison, FieldSpec, Op};
use mtm_plumbing::status::FieldError;
use mtm_proto::mtm::rooms::v1::{TicketCategory, TicketSeverity, TicketStatus};
use tonic::Status;

const FIELDS: FieldSpec<'static> = &[
    ("customer", false),
    ("status", false),
    ("severity", false),
    ("category", false),
    ("high_impact", false),
    ("room", false),
    ("room_group", false),
    ("create_time", true),
    ("update_time", true),
];

/// A checked filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewFilter {
    /// The one customer (`customers/{customer}`) it allows, if it names one.
    pub customer: Option<String>,
    /// Whether the terms name two different customers, so nothing matches.
    pub contradictory: bool,
    /// The filter passed to each customer's store.
    pub rooms: String,
}

fn bad(description: &str) -> FieldError {
    FieldError::new("filter", description)
}

/// `customers/{customer}` of a name under it.
fn customer_of(name: &str) -> Option<String> {
    let id = name.strip_prefix("customers/")?.split('/').next()?;
    (!id.is_empty()).then(|| format!("customers/{id}"))
}

fn check(term: &Comparison) -> Result<(), FieldError> {
    match term.field.as_str() {
        "status" => filter::enumeration(term, "TICKET_STATUS_", |n| {
            TicketStatus::from_str_name(n).map(|v| v as i32)
        })
        .map(drop),
        "severity" => filter::enumeration(term, "TICKET_SEVERITY_", |n| {
            TicketSeverity::from_str_name(n).map(|v| v as i32)
        })
        .map(drop),
        "category" => filter::enumeration(term, "TICKET_CATEGORY_", |n| {
            TicketCategory::from_str_name(n).map(|v| v as i32)
        })
        .map(drop),
        "high_impact" => filter::boolean(term).map(drop),
        _ => Ok(()),
    }
}

fn quoted(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

fn render(term: &Comparison) -> String {
    let op = match term.op {
        Op::Eq => "=",
        Op::Ge => ">=",
        Op::Le => "<=",
    };
    format!("{} {op} {}", term.field, quoted(&term.value))
}

/// Parses and checks `text`.
pub fn parse(text: &str) -> Result<ViewFilter, Status> {
    let terms = filter::parse(text, FIELDS)?;
    let mut view = ViewFilter::default();
    let mut passed = Vec::new();
    for term in &terms {
        check(term)?;
        let named = match term.field.as_str() {
            "customer" => {
                let customer = customer_of(&term.value)
                    .filter(|c| *c == term.value)
                    .ok_or_else(|| bad("`customer` takes a name customers/{customer}"))?;
                Some(customer)
            }
            "room" | "room_group" => {
                passed.push(render(term));
                Some(customer_of(&term.value).ok_or_else(|| {
                    bad(&format!(
                        "`{}` takes a name under customers/{{customer}}",
                        term.field
                    ))
                })?)
            }
            _ => {
                passed.push(render(term));
                None
            }
        };
        if let Some(named) = named {
            match &view.customer {
                Some(earlier) if *earlier != named => view.contradictory = true,
                _ => view.customer = Some(named),
            }
        }
    }
    view.rooms = passed.join(" AND ");
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_is_taken_out_and_the_rest_passed_on() {
        let view = parse(r#"customer = "customers/acme" AND status = "NEEDS_ACTION" AND update_time >= "2026-01-01T00:00:00Z""#)
            .expect("valid");
        assert_eq!(view.customer.as_deref(), Some("customers/acme"));
        assert!(!view.contradictory);
        assert_eq!(
            view.rooms,
            r#"status = "NEEDS_ACTION" AND update_time >= "2026-01-01T00:00:00Z""#
        );
        assert_eq!(parse("").expect("empty"), ViewFilter::default());
    }

    #[test]
    fn rooms_narrow_to_their_customer() {
        let view = parse(r#"room = "customers/acme/rooms/r1""#).expect("valid");
        assert_eq!(view.customer.as_deref(), Some("customers/acme"));
        assert_eq!(view.rooms, r#"room = "customers/acme/rooms/r1""#);
        let view =
            parse(r#"customer = "customers/other" AND room_group = "customers/acme/roomGroups/g""#)
                .expect("valid");
        assert!(view.contradictory);
    }

    #[test]
    fn bad_values_are_refused_once() {
        for text in [
            r#"status = "SLEEPING""#,
            r#"severity = "LOW""#,
            r#"high_impact = "maybe""#,
            r#"customer = "tenants/acme""#,
            r#"customer = "customers/acme/rooms/r""#,
            r#"owner = "x""#,
            r#"room = "r1""#,
        ] {
            let status = parse(text).expect_err(text);
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{text}");
        }
    }
}
