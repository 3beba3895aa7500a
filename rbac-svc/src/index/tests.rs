//! Unit tests of the decision index, named after the SPEC rules they check, and the property
//! test against a plain reference evaluator.

mod agreement;
pub(crate) mod reference;

use super::*;
use crate::catalogue::{BuiltIn, Kind, Perm};

const NOW: i64 = 1_000;

fn perm(name: &str) -> Perm {
    Perm::parse(name).expect("known permission")
}

fn scope(groups: &[&str], rooms: &[&str]) -> Scope {
    Scope::new(
        false,
        groups.iter().map(|g| format!("customers/a/roomGroups/{g}")),
        rooms.iter().map(|r| format!("customers/a/rooms/{r}")),
    )
}

fn role(name: &str, built_in: BuiltIn) -> RoleData {
    RoleData {
        name: name.into(),
        display_name: built_in.display_name().into(),
        permissions: built_in.permissions(),
    }
}

fn assignment(
    name: &str,
    role: &str,
    members: &[&str],
    scope: Scope,
    rel: Option<&str>,
) -> AssignmentData {
    AssignmentData {
        name: name.into(),
        role: role.into(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        scope,
        relationship: rel.map(str::to_owned),
    }
}

fn relationship(customer: &str, partner: &str, scope: Scope) -> RelationshipData {
    RelationshipData {
        name: format!("customers/{customer}/partnerRelationships/{partner}"),
        partner: partner.into(),
        scope,
        active: true,
        end_time: None,
    }
}

/// Customer `a` with a site tech over group g1, and partner `p` related to `a` (scope: group
/// g1 and room r9) and to `b` (all rooms), primary admin `ana` at both.
fn world() -> (Index, CustomerData) {
    let rel_a = "customers/a/partnerRelationships/p";
    let a = CustomerData {
        id: "a".into(),
        relationships: vec![relationship("a", "p", scope(&["g1"], &["r9"]))],
        roles: vec![
            role("customers/a/roles/mmr-admin", BuiltIn::MmrAdmin),
            role("customers/a/roles/site-tech", BuiltIn::SiteTech),
            role(
                &format!("{rel_a}/roles/primary-admins"),
                BuiltIn::PrimaryAdmins,
            ),
        ],
        assignments: vec![
            assignment(
                "customers/a/roleAssignments/initial-mmr-admin",
                "customers/a/roles/mmr-admin",
                &["tenants/a/users/root"],
                Scope::all_rooms(),
                None,
            ),
            assignment(
                "customers/a/roleAssignments/techs",
                "customers/a/roles/site-tech",
                &["tenants/a/groups/techs"],
                scope(&["g1"], &[]),
                None,
            ),
            assignment(
                &format!("{rel_a}/roleAssignments/primary-admins"),
                &format!("{rel_a}/roles/primary-admins"),
                &["tenants/p/users/ana"],
                Scope::all_rooms(),
                Some(rel_a),
            ),
        ],
    };
    let rel_b = "customers/b/partnerRelationships/p";
    let b = CustomerData {
        id: "b".into(),
        relationships: vec![relationship("b", "p", Scope::all_rooms())],
        roles: vec![role(
            &format!("{rel_b}/roles/primary-admins"),
            BuiltIn::PrimaryAdmins,
        )],
        assignments: vec![assignment(
            &format!("{rel_b}/roleAssignments/primary-admins"),
            &format!("{rel_b}/roles/primary-admins"),
            &["tenants/p/users/bob"],
            Scope::all_rooms(),
            Some(rel_b),
        )],
    };
    let mut index = Index::new();
    index.put_customer(&a);
    index.put_customer(&b);
    (index, a)
}

fn who<'a>(user: &'a str, tenant: &'a str, groups: &'a [String]) -> Who<'a> {
    Who {
        user,
        home_tenant: tenant,
        groups,
    }
}

fn room<'a>(r: &'a str, g: &'a str) -> RoomAt<'a> {
    RoomAt { room: r, group: g }
}

const R1: &str = "customers/a/rooms/r1";
const R9: &str = "customers/a/rooms/r9";
const G1: &str = "customers/a/roomGroups/g1";
const G2: &str = "customers/a/roomGroups/g2";

#[test]
fn r23_primary_admin_at_a_has_no_rights_at_b() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    let at_a = index.check(
        &ana,
        "a",
        perm("rooms.view"),
        &Target::Room(room(R1, G1)),
        None,
        NOW,
    );
    assert!(at_a.allowed);
    let at_b = index.check(
        &ana,
        "b",
        perm("rooms.view"),
        &Target::Room(room("customers/b/rooms/r1", "customers/b/roomGroups/g1")),
        None,
        NOW,
    );
    assert!(!at_b.allowed);
    assert!(!at_b.target_visible);
    assert_eq!(at_b.deny, Some(Deny::NoGrant));
    let customers: Vec<_> = index
        .accessible(&ana, NOW)
        .into_iter()
        .map(|c| c.customer)
        .collect();
    assert_eq!(customers, vec!["a"]);
}

#[test]
fn r21_partner_rights_are_clipped_to_the_relationship_scope() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    let view = perm("rooms.view");
    assert!(
        index
            .check(&ana, "a", view, &Target::Room(room(R9, G2)), None, NOW)
            .allowed
    );
    let outside = index.check(&ana, "a", view, &Target::Room(room(R1, G2)), None, NOW);
    assert!(!outside.allowed && !outside.target_visible);
    assert_eq!(outside.deny, Some(Deny::OutOfScope));
    let resolved = index.resolve_scope(&ana, "a", view, NOW);
    assert!(resolved.allowed);
    assert_eq!(resolved.scope, scope(&["g1"], &["r9"]));
    assert_eq!(
        resolved.relationship,
        Some("customers/a/partnerRelationships/p")
    );
}

#[test]
fn r18_narrowing_the_relationship_scope_takes_effect_at_once() {
    let (mut index, mut a) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    a.relationships[0].scope = scope(&[], &["r9"]);
    index.put_customer(&a);
    assert!(
        !index
            .check(
                &ana,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R1, G1)),
                None,
                NOW
            )
            .allowed
    );
    assert!(
        index
            .check(
                &ana,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R9, G1)),
                None,
                NOW
            )
            .allowed
    );
}

#[test]
fn r30_an_expired_or_inactive_relationship_grants_nothing() {
    let (mut index, mut a) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    a.relationships[0].end_time = Some(NOW);
    index.put_customer(&a);
    let d = index.check(
        &ana,
        "a",
        perm("rooms.view"),
        &Target::Room(room(R1, G1)),
        None,
        NOW,
    );
    assert_eq!(d.deny, Some(Deny::NoRelationship));
    assert!(
        index
            .check(
                &ana,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R1, G1)),
                None,
                NOW - 1
            )
            .allowed
    );
    a.relationships[0].end_time = None;
    a.relationships[0].active = false;
    index.put_customer(&a);
    assert!(
        !index
            .check(
                &ana,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R1, G1)),
                None,
                NOW
            )
            .allowed
    );
    assert!(index.accessible(&ana, NOW).is_empty());
}

#[test]
fn r17_removing_a_customer_relationship_removes_every_partner_right() {
    let (mut index, mut a) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    a.relationships.clear();
    a.assignments.retain(|x| x.relationship.is_none());
    index.put_customer(&a);
    assert!(
        !index
            .check(
                &ana,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R1, G1)),
                None,
                NOW
            )
            .allowed
    );
}

#[test]
fn r32_rights_come_through_nested_groups_and_union_over_assignments() {
    let (index, _) = world();
    let groups = vec![
        "tenants/a/groups/site".to_owned(),
        "tenants/a/groups/techs".to_owned(),
    ];
    let tech = who("tenants/a/users/tom", "a", &groups);
    let d = index.check(
        &tech,
        "a",
        perm("rooms.unenroll"),
        &Target::Room(room(R1, G1)),
        None,
        NOW,
    );
    assert!(d.allowed);
    assert_eq!(d.granting, Some("customers/a/roleAssignments/techs"));
    assert!(
        !index
            .check(
                &tech,
                "a",
                perm("rooms.unenroll"),
                &Target::Room(room(R1, G2)),
                None,
                NOW
            )
            .allowed
    );
    let alone = who("tenants/a/users/tom", "a", &[]);
    assert!(
        !index
            .check(
                &alone,
                "a",
                perm("rooms.view"),
                &Target::Room(room(R1, G1)),
                None,
                NOW
            )
            .allowed
    );
}

#[test]
fn r34_a_ticket_is_in_scope_when_one_room_is_and_only_those_rooms_are_visible() {
    let (index, _) = world();
    let groups = vec!["tenants/a/groups/techs".to_owned()];
    let tech = who("tenants/a/users/tom", "a", &groups);
    let rooms = [room(R1, G2), room(R9, G1), room("customers/a/rooms/r3", G2)];
    let d = index.check(
        &tech,
        "a",
        perm("tickets.view"),
        &Target::Ticket(&rooms),
        None,
        NOW,
    );
    assert!(d.allowed);
    assert_eq!(d.visible_rooms, vec![1]);
    let none = [room(R1, G2)];
    let d = index.check(
        &tech,
        "a",
        perm("tickets.view"),
        &Target::Ticket(&none),
        None,
        NOW,
    );
    assert!(!d.allowed && !d.target_visible);
}

#[test]
fn r34_group_scoped_permissions_need_all_rooms_or_the_group() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    assert!(
        index
            .check(
                &ana,
                "a",
                perm("groups.view"),
                &Target::Group(G1),
                None,
                NOW
            )
            .allowed
    );
    assert!(
        !index
            .check(
                &ana,
                "a",
                perm("groups.view"),
                &Target::Group(G2),
                None,
                NOW
            )
            .allowed
    );
    let wrong = index.check(
        &ana,
        "a",
        perm("groups.view"),
        &Target::Room(room(R1, G1)),
        None,
        NOW,
    );
    assert_eq!(wrong.deny, Some(Deny::Invalid));
}

#[test]
fn r35_customer_wide_needs_all_rooms_in_both_scopes_for_partners() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    let d = index.check(
        &ana,
        "a",
        perm("update_rings.modify"),
        &Target::None,
        None,
        NOW,
    );
    assert_eq!(d.deny, Some(Deny::NotCustomerWide));
    assert!(d.target_visible);
    assert!(
        index
            .check(
                &ana,
                "a",
                perm("update_rings.modify"),
                &Target::Room(room(R1, G1)),
                None,
                NOW
            )
            .allowed
    );
    let bob = who("tenants/p/users/bob", "p", &[]);
    assert!(
        index
            .check(
                &bob,
                "b",
                perm("update_rings.modify"),
                &Target::None,
                None,
                NOW
            )
            .allowed
    );
    let d = index.check(
        &bob,
        "b",
        perm("roles.modify"),
        &Target::None,
        Some(Kind::AnyAssignment),
        NOW,
    );
    assert!(d.allowed);
    let root = who("tenants/a/users/root", "a", &[]);
    assert!(
        index
            .check(
                &root,
                "a",
                perm("settings.modify"),
                &Target::None,
                None,
                NOW
            )
            .allowed
    );
    assert_eq!(
        index
            .check(&ana, "a", perm("settings.view"), &Target::None, None, NOW)
            .deny,
        Some(Deny::NoGrant)
    );
}

#[test]
fn r37_target_visible_only_with_the_view_permission_on_it() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    let d = index.check(
        &ana,
        "a",
        perm("rooms.unenroll"),
        &Target::Room(room(R1, G1)),
        None,
        NOW,
    );
    assert!(!d.allowed && d.target_visible);
    assert_eq!(d.deny, Some(Deny::NoGrant));
    let stranger = who("tenants/z/users/eve", "z", &[]);
    let d = index.check(&stranger, "a", perm("rooms.view"), &Target::None, None, NOW);
    assert!(!d.target_visible);
    assert_eq!(d.deny, Some(Deny::NoRelationship));
}

#[test]
fn r24_accessible_customers_name_the_relationship_and_roles() {
    let (index, _) = world();
    let ana = who("tenants/p/users/ana", "p", &[]);
    let list = index.accessible(&ana, NOW);
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].relationship,
        Some("customers/a/partnerRelationships/p")
    );
    assert_eq!(list[0].roles[0].1, "Primary admins");
    let root = who("tenants/a/users/root", "a", &[]);
    assert_eq!(index.accessible(&root, NOW)[0].customer, "a");
    let (perms, any) = index.held(&root, "a", NOW);
    assert!(any && perms == BuiltIn::MmrAdmin.permissions());
}

#[test]
fn a_name_in_several_scopes_is_kept_once_and_every_scope_still_reads_it() {
    let (index, a) = world();
    let cx = index.customer("a").expect("customer a");
    assert_eq!(cx.text.matches("customers/a/roomGroups/g1").count(), 1);
    assert_eq!(cx.scope(&cx.rels[0].scope), a.relationships[0].scope);
    let techs = cx
        .asg_names
        .iter()
        .position(|n| &*n.name == "customers/a/roleAssignments/techs")
        .expect("techs assignment");
    assert_eq!(cx.scope(&cx.assignments[techs].scope), scope(&["g1"], &[]));
}

#[test]
fn r20_r34_a_room_named_on_one_side_and_its_group_on_the_other_is_in_while_in_that_group() {
    let (mut index, mut a) = world();
    let rel = "customers/a/partnerRelationships/p";
    // The relationship names g1 and r9; one helpdesk assignment names r1 (in g1), another
    // names g2 (which holds r9). Each covers that one room while it stays in that group.
    a.roles.push(role(
        &format!("{rel}/roles/helpdesk"),
        BuiltIn::PrimaryAdmins,
    ));
    for (id, s) in [("one", scope(&[], &["r1"])), ("two", scope(&["g2"], &[]))] {
        a.assignments.push(assignment(
            &format!("{rel}/roleAssignments/{id}"),
            &format!("{rel}/roles/helpdesk"),
            &["tenants/p/users/hal"],
            s,
            Some(rel),
        ));
    }
    index.put_customer(&a);
    let hal = who("tenants/p/users/hal", "p", &[]);
    let view = perm("rooms.view");
    let resolved = index.resolve_scope(&hal, "a", view, NOW);
    assert!(resolved.allowed);
    for (r, g, inside) in [
        (R1, G1, true),
        (R9, G2, true),
        (R1, G2, false),
        (R9, G1, false),
    ] {
        let d = index.check(&hal, "a", view, &Target::Room(room(r, g)), None, NOW);
        assert_eq!(d.allowed, inside, "{r} in {g}");
        assert_eq!(d.target_visible, inside, "{r} in {g}");
        assert_eq!(resolved.scope.covers_room(r, g), inside, "{r} in {g}");
    }
    assert!(resolved.scope.groups.is_empty() && resolved.scope.rooms.is_empty());
    assert_eq!(resolved.scope.bound.len(), 2);
    let rel_scope = &a.relationships[0].scope;
    let mut union = Scope::default();
    for asg in a
        .assignments
        .iter()
        .filter(|x| x.members[0].ends_with("hal"))
    {
        union.union_with(&asg.scope.effective(Some(rel_scope)));
    }
    assert_eq!(union, resolved.scope);
}
