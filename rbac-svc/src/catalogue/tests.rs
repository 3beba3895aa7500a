//! Table 1 as the catalogue holds it.

use super::*;

fn names(role: BuiltIn) -> Vec<String> {
    role.permissions().names()
}

#[test]
fn table1_mmr_admin_holds_every_permission() {
    assert_eq!(names(BuiltIn::MmrAdmin).len(), 20);
}

#[test]
fn table1_only_mmr_admin_creates_update_rings() {
    let ring = Perm::parse("update_rings.create").expect("known");
    for role in BuiltIn::ALL {
        assert_eq!(role.permissions().contains(ring), role == BuiltIn::MmrAdmin);
    }
}

#[test]
fn table1_site_tech_and_primary_admins() {
    assert_eq!(
        names(BuiltIn::SiteTech),
        [
            "rooms.view",
            "rooms.modify",
            "rooms.download_key",
            "rooms.unenroll",
            "incidents.create",
            "tickets.view",
            "tickets.update"
        ]
    );
    assert_eq!(
        names(BuiltIn::PrimaryAdmins),
        [
            "rooms.view",
            "rooms.modify",
            "groups.view",
            "update_rings.view",
            "update_rings.modify",
            "reports.view",
            "incidents.create",
            "tickets.view",
            "tickets.update",
            "roles.view",
            "roles.modify"
        ]
    );
    assert_eq!(names(BuiltIn::SiteLead).len(), 14);
}

#[test]
fn r35_kinds_follow_the_target() {
    let rings = Perm::parse("update_rings.modify").expect("known");
    assert_eq!(
        rings.kind_for(TargetShape::Room, None),
        Some(Kind::RoomScoped)
    );
    assert_eq!(
        rings.kind_for(TargetShape::None, None),
        Some(Kind::CustomerWide)
    );
    assert_eq!(rings.kind_for(TargetShape::Group, None), None);
    let roles = Perm::parse("roles.modify").expect("known");
    assert_eq!(
        roles.kind_for(TargetShape::None, None),
        Some(Kind::CustomerWide)
    );
    assert_eq!(
        roles.kind_for(TargetShape::None, Some(Kind::AnyAssignment)),
        Some(Kind::AnyAssignment)
    );
    let create = Perm::parse("rooms.create").expect("known");
    assert_eq!(
        create.kind_for(TargetShape::Group, None),
        Some(Kind::GroupScoped)
    );
    assert_eq!(create.kind_for(TargetShape::Room, None), None);
}

#[test]
fn catalogue_names_are_unique_and_partner_assignable_is_primary_admins() {
    let all = to_proto();
    let mut unique: Vec<_> = all.iter().map(|p| p.permission.clone()).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20);
    let assignable: Vec<_> = all
        .iter()
        .filter(|p| p.partner_assignable)
        .map(|p| p.permission.clone())
        .collect();
    assert_eq!(assignable, names(BuiltIn::PrimaryAdmins));
    assert_eq!(PermSet::parse(&["rooms.view", "nope"]), Err(1));
}
