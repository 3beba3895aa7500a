//! Who may read an audit log (R28, `mtm.audit.v1.AuditService`): a customer's log takes
//! `settings.view` customer-wide (R35) held by one of the customer's own users; a partner's log
//! takes a Global admin or Managed Service admin of that partner. Partner users never read a
//! customer's log. A caller who cannot see the tenant at all is answered NOT_FOUND (R37).

use mtm_plumbing::audit::AuditParent;
use mtm_plumbing::client::ServiceChannel;
use mtm_proto::mtm::common::v1::{DirectoryRole, Principal};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic::Status;

use crate::forward::decide::{Refusal, decide};
use crate::forward::routes::Decide;

/// The permission that reads a customer's audit log.
pub const READ_PERMISSION: &str = "settings.view";

/// How the gateway answers a caller outside the log's reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Invisible,
    Forbidden,
}

/// Whether `principal` is a Global admin or Managed Service admin of `partner`.
fn partner_admin(principal: &Principal, partner: &str) -> Verdict {
    if principal.home_tenant != format!("tenants/{partner}") {
        return Verdict::Invisible;
    }
    let admin = principal.directory_roles.iter().any(|role| {
        matches!(
            DirectoryRole::try_from(*role),
            Ok(DirectoryRole::GlobalAdmin | DirectoryRole::ManagedServiceAdmin)
        )
    });
    if admin {
        Verdict::Allowed
    } else {
        Verdict::Forbidden
    }
}

/// Admits `principal` to `parent`'s log (`Ok(Ok(()))`) or gives the refusal to answer:
/// NOT_FOUND when the caller cannot see the tenant, PERMISSION_DENIED when it can but may not
/// read the log. The outer error is a decision that could not be made.
pub async fn admit(
    rbac: &mut DecisionServiceClient<ServiceChannel>,
    principal: &Principal,
    parent: &AuditParent,
) -> Result<Result<(), Status>, Status> {
    let verdict = match parent {
        AuditParent::Partner(partner) => partner_admin(principal, partner),
        AuditParent::Customer(customer) => {
            let own_user = principal.home_tenant == format!("tenants/{customer}");
            match decide(
                rbac,
                principal,
                customer,
                READ_PERMISSION,
                Decide::CustomerWide,
            )
            .await?
            {
                Ok(_) if own_user => Verdict::Allowed,
                Ok(_) | Err(Refusal::Forbidden) => Verdict::Forbidden,
                Err(Refusal::Invisible) => Verdict::Invisible,
            }
        }
    };
    let name = parent.name();
    Ok(match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::Invisible => Err(crate::error::not_found(&name)),
        Verdict::Forbidden => Err(Status::permission_denied(match parent {
            AuditParent::Customer(_) => format!("{READ_PERMISSION} is needed on {name}"),
            AuditParent::Partner(_) => {
                format!("a Global admin or Managed Service admin of {name} is needed")
            }
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(tenant: &str, roles: &[DirectoryRole]) -> Principal {
        Principal {
            user: format!("tenants/{tenant}/users/u1"),
            home_tenant: format!("tenants/{tenant}"),
            directory_roles: roles.iter().map(|r| *r as i32).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn r28_partner_logs_are_for_the_partners_global_and_managed_service_admins() {
        let global = user("p1", &[DirectoryRole::GlobalAdmin]);
        let managed = user("p1", &[DirectoryRole::ManagedServiceAdmin]);
        assert_eq!(partner_admin(&global, "p1"), Verdict::Allowed);
        assert_eq!(partner_admin(&managed, "p1"), Verdict::Allowed);
        assert_eq!(partner_admin(&user("p1", &[]), "p1"), Verdict::Forbidden);
    }

    #[test]
    fn r37_another_tenants_admin_does_not_learn_the_partner_log_exists() {
        let other = user("p2", &[DirectoryRole::GlobalAdmin]);
        assert_eq!(partner_admin(&other, "p1"), Verdict::Invisible);
    }
}
