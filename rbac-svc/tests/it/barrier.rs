//! The revocation barrier across replicas (ARCHITECTURE.md, "Authorization consistency"):
//! three replicas on one PostgreSQL store. Every kind of
//! write that takes access away is made on replica A; the moment the RPC returns, a check is
//! sent to every replica (and a checker streaming round-robin over all of them during the
//! write counts the checks it sent after the return): none may be allowed, with no
//! `at_least_revision` anywhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::common::v1::{Principal, RelationshipState, RoomScope};
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic::transport::Channel;

use crate::support::*;

/// Revocations per kind; 12 kinds.
const ROUNDS: usize = 20;

/// Checks the streaming checker sends after each revocation returned.
const STREAMED_AFTER: usize = 6;

/// Every kind of write that takes access away.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A room taken out of the relationship scope (R18).
    Narrow,
    /// An end time in the past (R30).
    Expire,
    /// The relationship marked expired.
    ExpiredState,
    /// A member removed from *Primary admins*.
    RemoveAdmin,
    /// *Primary admins* set to someone else.
    SetAdmins,
    /// The relationship removed (R17).
    RemoveRelationship,
    /// The relationship terminated.
    Terminate,
    /// The customer deprovisioned.
    Deprovision,
    /// A permission taken out of a role (R31).
    UpdateRole,
    /// An assignment's scope narrowed.
    UpdateAssignment,
    /// An assignment deleted.
    DeleteAssignment,
    /// A role deleted with its assignments.
    DeleteRole,
}

const KINDS: [Kind; 12] = [
    Kind::Narrow,
    Kind::Expire,
    Kind::ExpiredState,
    Kind::RemoveAdmin,
    Kind::SetAdmins,
    Kind::RemoveRelationship,
    Kind::Terminate,
    Kind::Deprovision,
    Kind::UpdateRole,
    Kind::UpdateAssignment,
    Kind::DeleteAssignment,
    Kind::DeleteRole,
];

/// Replica A's clients for the writes.
struct Writer {
    internal:
        mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient<Channel>,
    roles: mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient<Channel>,
}

impl Kind {
    /// Each kind works on its own customer.
    fn customer(self) -> String {
        format!("k{}", self as usize)
    }

    fn relationship(self) -> String {
        format!("customers/{}/partnerRelationships/p", self.customer())
    }

    fn partner_side(self) -> bool {
        !matches!(
            self,
            Kind::Deprovision
                | Kind::UpdateRole
                | Kind::UpdateAssignment
                | Kind::DeleteAssignment
                | Kind::DeleteRole
        )
    }

    /// Who is checked: a partner user, the customer's first admin, or a customer user in
    /// group `techs`.
    fn principal(self) -> Principal {
        match self {
            _ if self.partner_side() => principal("p", "ana", &[]),
            Kind::Deprovision => principal(&self.customer(), "root", &[]),
            _ => principal(&self.customer(), "tom", &["techs"]),
        }
    }

    fn check(self) -> pb::CheckRequest {
        let customer = self.customer();
        pb::CheckRequest {
            principal: Some(self.principal()),
            customer: format!("customers/{customer}"),
            permission: "rooms.view".into(),
            target: Some(room(&customer, "r9", "g9")),
            ..pb::CheckRequest::default()
        }
    }

    fn root(self) -> Principal {
        principal(&self.customer(), "root", &[])
    }

    fn parent(self) -> String {
        format!("customers/{}", self.customer())
    }

    /// Provisions the kind's customer with what its rounds need besides the grant.
    async fn prepare(self, w: &mut Writer) {
        let customer = self.customer();
        w.internal
            .provision_customer(pb::ProvisionCustomerRequest {
                customer: self.parent(),
                first_admin: format!("tenants/{customer}/users/root"),
            })
            .await
            .expect("provision");
        match self {
            Kind::UpdateRole => {
                self.create_role(w, "viewer", &["rooms.view", "tickets.view"])
                    .await;
                self.assign(w, "one", "viewer", all_rooms()).await;
            }
            Kind::UpdateAssignment | Kind::DeleteAssignment => {
                self.create_role(w, "viewer", &["rooms.view"]).await;
                if matches!(self, Kind::UpdateAssignment) {
                    self.assign(w, "one", "viewer", all_rooms()).await;
                }
            }
            _ => {}
        }
    }

    async fn create_role(self, w: &mut Writer, id: &str, permissions: &[&str]) -> i64 {
        w.roles
            .create_role(as_caller(
                &self.root(),
                pb::CreateRoleRequest {
                    parent: self.parent(),
                    role: Some(pb::Role {
                        display_name: format!("Role {id}"),
                        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                        ..pb::Role::default()
                    }),
                    role_id: id.into(),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("create role")
            .into_inner()
            .revision
    }

    async fn assign(self, w: &mut Writer, id: &str, role: &str, scope: RoomScope) -> i64 {
        w.roles
            .create_role_assignment(as_caller(
                &self.root(),
                pb::CreateRoleAssignmentRequest {
                    parent: self.parent(),
                    role_assignment: Some(pb::RoleAssignment {
                        display_name: format!("Assignment {id}"),
                        role: format!("{}/roles/{role}", self.parent()),
                        members: vec![format!("tenants/{}/groups/techs", self.customer())],
                        scope: Some(scope),
                        ..pb::RoleAssignment::default()
                    }),
                    role_assignment_id: id.into(),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("assign")
            .into_inner()
            .revision
    }

    async fn put(
        self,
        w: &mut Writer,
        scope: Option<RoomScope>,
        state: RelationshipState,
        end_time: Option<i64>,
    ) -> i64 {
        w.internal
            .put_relationship(pb::PutRelationshipRequest {
                relationship: self.relationship(),
                partner: "partners/p".into(),
                customer: self.parent(),
                scope,
                state: state as i32,
                end_time: end_time.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
            })
            .await
            .expect("put relationship")
            .into_inner()
            .revision
    }

    async fn update_role(self, w: &mut Writer, permissions: &[&str]) -> i64 {
        w.roles
            .update_role(as_caller(
                &self.root(),
                pb::UpdateRoleRequest {
                    role: Some(pb::Role {
                        name: format!("{}/roles/viewer", self.parent()),
                        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                        ..pb::Role::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["permissions".into()],
                    }),
                },
            ))
            .await
            .expect("update role")
            .into_inner()
            .revision
    }

    async fn update_assignment(self, w: &mut Writer, scope: RoomScope) -> i64 {
        w.roles
            .update_role_assignment(as_caller(
                &self.root(),
                pb::UpdateRoleAssignmentRequest {
                    role_assignment: Some(pb::RoleAssignment {
                        name: format!("{}/roleAssignments/one", self.parent()),
                        scope: Some(scope),
                        ..pb::RoleAssignment::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["scope".into()],
                    }),
                },
            ))
            .await
            .expect("update assignment")
            .into_inner()
            .revision
    }

    /// Gives the checked principal access; returns the newest revision written.
    async fn grant(self, w: &mut Writer) -> i64 {
        let wide = || Some(scope(&self.customer(), &["g1"], &["r9"]));
        match self {
            Kind::Narrow
            | Kind::Expire
            | Kind::ExpiredState
            | Kind::RemoveAdmin
            | Kind::SetAdmins
            | Kind::RemoveRelationship
            | Kind::Terminate => {
                let put = self.put(w, wide(), RelationshipState::Active, None).await;
                let added = w
                    .internal
                    .add_primary_admins(pb::AddPrimaryAdminsRequest {
                        relationship: self.relationship(),
                        members: vec!["tenants/p/users/ana".into()],
                    })
                    .await
                    .expect("add primary admins")
                    .into_inner()
                    .revision;
                put.max(added)
            }
            Kind::Deprovision => {
                w.internal
                    .provision_customer(pb::ProvisionCustomerRequest {
                        customer: self.parent(),
                        first_admin: format!("tenants/{}/users/root", self.customer()),
                    })
                    .await
                    .expect("provision")
                    .into_inner()
                    .revision
            }
            Kind::UpdateRole => self.update_role(w, &["rooms.view", "tickets.view"]).await,
            Kind::UpdateAssignment => self.update_assignment(w, all_rooms()).await,
            Kind::DeleteAssignment => self.assign(w, "one", "viewer", all_rooms()).await,
            Kind::DeleteRole => {
                self.create_role(w, "gone", &["rooms.view"]).await;
                self.assign(w, "one", "gone", all_rooms()).await
            }
        }
    }

    /// Takes the access away.
    async fn revoke(self, w: &mut Writer) {
        let rel = self.relationship();
        match self {
            Kind::Narrow => {
                let narrow = Some(scope(&self.customer(), &["g1"], &[]));
                self.put(w, narrow, RelationshipState::Active, None).await;
            }
            Kind::Expire => {
                let wide = Some(scope(&self.customer(), &["g1"], &["r9"]));
                let past = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs() as i64
                    - 60;
                self.put(w, wide, RelationshipState::Active, Some(past))
                    .await;
            }
            Kind::ExpiredState => {
                let wide = Some(scope(&self.customer(), &["g1"], &["r9"]));
                self.put(w, wide, RelationshipState::Expired, None).await;
            }
            Kind::RemoveAdmin => {
                w.internal
                    .remove_primary_admins(pb::RemovePrimaryAdminsRequest {
                        relationship: rel,
                        members: vec!["tenants/p/users/ana".into()],
                    })
                    .await
                    .expect("remove primary admins");
            }
            Kind::SetAdmins => {
                w.internal
                    .set_primary_admins(pb::SetPrimaryAdminsRequest {
                        relationship: rel,
                        members: vec!["tenants/p/users/zed".into()],
                    })
                    .await
                    .expect("set primary admins");
            }
            Kind::RemoveRelationship => {
                w.internal
                    .remove_relationship(pb::RemoveRelationshipRequest { relationship: rel })
                    .await
                    .expect("remove relationship");
            }
            Kind::Terminate => {
                self.put(w, None, RelationshipState::Terminated, None).await;
            }
            Kind::Deprovision => {
                w.internal
                    .deprovision_customer(pb::DeprovisionCustomerRequest {
                        customer: self.parent(),
                    })
                    .await
                    .expect("deprovision");
            }
            Kind::UpdateRole => {
                self.update_role(w, &["tickets.view"]).await;
            }
            Kind::UpdateAssignment => {
                self.update_assignment(w, scope(&self.customer(), &["g1"], &[]))
                    .await;
            }
            Kind::DeleteAssignment => {
                w.roles
                    .delete_role_assignment(as_caller(
                        &self.root(),
                        pb::DeleteRoleAssignmentRequest {
                            name: format!("{}/roleAssignments/one", self.parent()),
                            etag: String::new(),
                        },
                    ))
                    .await
                    .expect("delete assignment");
            }
            Kind::DeleteRole => {
                w.roles
                    .delete_role(as_caller(
                        &self.root(),
                        pb::DeleteRoleRequest {
                            name: format!("{}/roles/gone", self.parent()),
                            etag: String::new(),
                            force: true,
                        },
                    ))
                    .await
                    .expect("delete role");
            }
        }
    }
}

async fn allowed(client: &mut DecisionServiceClient<Channel>, request: pb::CheckRequest) -> bool {
    client
        .check(request)
        .await
        .expect("check")
        .into_inner()
        .decision
        .expect("decision")
        .allowed
}

/// Streams checks round-robin over `clients` until it has sent `STREAMED_AFTER` after
/// `returned` was set; returns how many of those were allowed.
async fn stream(
    mut clients: Vec<DecisionServiceClient<Channel>>,
    request: pb::CheckRequest,
    returned: Arc<AtomicBool>,
) -> usize {
    let (mut after, mut stale) = (0, 0);
    let mut next = 0;
    while after < STREAMED_AFTER {
        let seen = returned.load(Ordering::SeqCst);
        let at = next % clients.len();
        let allowed = allowed(&mut clients[at], request.clone()).await;
        next += 1;
        if seen {
            after += 1;
            stale += usize::from(allowed);
        }
    }
    stale
}

/// Starts three replicas on one database: the first creates and migrates it, the other two
/// start together.
async fn three(pki: &TestPki, db: &Db) -> [Running; 3] {
    let a = Running::start(pki, db).await;
    let (b, c) = tokio::join!(Running::start(pki, db), Running::start(pki, db));
    [a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r17_revocations_return_only_once_every_replica_denies_postgres() {
    let db = Db::postgres();
    let pki = TestPki::new();
    let replicas = three(&pki, &db).await;
    let clients: Vec<_> = replicas.iter().map(|r| r.decisions.clone()).collect();
    let mut writer = Writer {
        internal: replicas[0].internal.clone(),
        roles: roles(&replicas[0]),
    };
    for kind in KINDS {
        kind.prepare(&mut writer).await;
    }
    let (mut races, mut checks_after, mut stale) = (0usize, 0usize, 0usize);
    for round in 0..ROUNDS {
        for kind in KINDS {
            let granted = kind.grant(&mut writer).await;
            for client in &clients {
                let mut request = kind.check();
                request.at_least_revision = granted;
                assert!(
                    allowed(&mut client.clone(), request).await,
                    "{kind:?} round {round}: granted on every replica"
                );
            }
            let returned = Arc::new(AtomicBool::new(false));
            let streaming = tokio::spawn(stream(clients.clone(), kind.check(), returned.clone()));
            kind.revoke(&mut writer).await;
            returned.store(true, Ordering::SeqCst);
            let right_after = clients.iter().map(|client| {
                let mut client = client.clone();
                let request = kind.check();
                async move { allowed(&mut client, request).await }
            });
            for allowed in join_all(right_after).await {
                checks_after += 1;
                if allowed {
                    stale += 1;
                    eprintln!("{kind:?} round {round}: allowed after the revocation returned");
                }
            }
            stale += streaming.await.expect("checker");
            checks_after += STREAMED_AFTER;
            races += 1;
        }
    }
    eprintln!("{races} revocations, {checks_after} checks after they returned, {stale} allowed");
    assert_eq!(stale, 0, "no check after a revocation returned is allowed");
    for replica in replicas {
        replica.stop().await;
    }
    db.finish().await;
}

/// Runs the futures concurrently and collects their outputs in order.
async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}
