//! The admission surface: every public method the gateway serves, with what of a customer it
//! can touch and so where admission applies partner MFA. Forwarded methods take it from their
//! route's guard; the gateway's own services are listed here. A test fails when a public
//! method of the descriptor set has no classification, so a new method cannot skip admission.

use crate::forward::routes::{self, Guard};

/// What a public method can touch of a customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touches {
    /// No customer's data: why not.
    Nothing(&'static str),
    /// The one customer named by the request field (a name under `customers/{customer}`).
    Customer(&'static str),
    /// Every customer the caller reaches; each one whose requirement the caller does not
    /// meet is left out of the answer.
    EveryCustomer,
}

/// The gateway's own public methods.
const OWN: &[(&str, Touches)] = &[
    (
        "/mtm.gateway.v1.StatusService/GetStatus",
        Touches::Nothing("the backends' serving state"),
    ),
    (
        "/mtm.gateway.v1.WorkspaceService/GetCaller",
        Touches::Nothing("the caller itself"),
    ),
    (
        "/mtm.gateway.v1.WorkspaceService/ListMyCustomers",
        Touches::Nothing("the caller's own relationships: names and roles, no customer data (R6)"),
    ),
    (
        "/mtm.gateway.v1.AggregatedTicketService/ListAllTickets",
        Touches::EveryCustomer,
    ),
    (
        "/mtm.audit.v1.AuditService/ListAuditRecords",
        Touches::Customer("parent"),
    ),
    (
        "/mtm.audit.v1.AuditService/ExportAuditRecords",
        Touches::Customer("parent"),
    ),
    (
        "/mtm.rbac.v1.DecisionService/Check",
        Touches::Customer("customer"),
    ),
    (
        "/mtm.rbac.v1.DecisionService/BatchCheck",
        Touches::EveryCustomer,
    ),
    (
        "/mtm.rbac.v1.DecisionService/ResolveScope",
        Touches::Customer("customer"),
    ),
    (
        "/mtm.rbac.v1.DecisionService/ListAccessibleCustomers",
        Touches::EveryCustomer,
    ),
];

/// What the public method at `path` (`/package.Service/Method`) can touch, or `None` for a
/// method the gateway does not serve.
pub fn touches(path: &str) -> Option<Touches> {
    if let Some(route) = routes::find(path) {
        return Some(match route.guard {
            Guard::Anonymous => Touches::Nothing("signing in needs no credentials"),
            Guard::SignedIn => Touches::Nothing(
                "the caller's own tenant, the operator's actions or the partner side of tenancy",
            ),
            Guard::Customer { field, .. } | Guard::CustomerOrPartner { field, .. } => {
                Touches::Customer(field)
            }
        });
    }
    OWN.iter()
        .find(|(own, _)| *own == path)
        .map(|(_, touches)| *touches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::schema;

    #[test]
    fn r3_every_public_method_of_the_descriptor_set_is_classified() {
        let mut unclassified = Vec::new();
        for service in schema::pool().services() {
            let name = service.full_name();
            if name.ends_with("InternalService") || name.starts_with("grpc.") {
                continue;
            }
            for method in service.methods() {
                let path = format!("/{name}/{}", method.name());
                match touches(&path) {
                    Some(Touches::Customer(field)) => {
                        assert!(
                            method
                                .input()
                                .get_field_by_name(field.split('.').next().unwrap_or(field))
                                .is_some(),
                            "{path}: no field {field}"
                        );
                    }
                    Some(_) => {}
                    None => unclassified.push(path),
                }
            }
        }
        assert!(unclassified.is_empty(), "not classified: {unclassified:?}");
    }
}
