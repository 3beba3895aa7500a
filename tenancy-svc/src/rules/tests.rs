//! Unit tests of the tenancy rules.

use super::*;
use mtm_proto::mtm::tenancy::v1::ChangeControlSetting;

#[test]
fn invitation_lifetime_defaults_to_30_and_refuses_0_and_31() {
    assert_eq!(lifetime_days(None, "lifetime_days"), Ok(30));
    assert_eq!(lifetime_days(Some(1), "lifetime_days"), Ok(1));
    assert_eq!(lifetime_days(Some(30), "lifetime_days"), Ok(30));
    assert!(lifetime_days(Some(0), "lifetime_days").is_err());
    assert!(lifetime_days(Some(31), "lifetime_days").is_err());
    assert!(lifetime_days(Some(-1), "lifetime_days").is_err());
}

#[test]
fn invitation_needs_at_least_one_upn_and_refuses_groups() {
    assert!(invited_upns(&[], "invited_upns").is_err());
    let err = invited_upns(
        &["ana@fab.example".into(), "tenants/fab/groups/g".into()],
        "invited_upns",
    )
    .expect_err("group refused");
    assert_eq!(err[0].0, "invited_upns[1]");
    assert!(err[0].1.contains("group"));
    assert_eq!(
        invited_upns(&["Ana@Fab.Example".into()], "invited_upns").expect("valid"),
        vec!["ana@fab.example".to_owned()]
    );
    assert!(invited_upns(&["not-a-upn".into()], "invited_upns").is_err());
    assert!(invited_upns(&["a@b.example".into(), "A@b.example".into()], "u").is_err());
}

#[test]
fn room_scope_must_be_nonempty_and_the_customers() {
    assert!(!room_scope(None, "c", "room_scope").is_empty());
    assert!(!room_scope(Some(&RoomScope::default()), "c", "room_scope").is_empty());
    let all = RoomScope {
        all_rooms: true,
        ..Default::default()
    };
    assert!(room_scope(Some(&all), "c", "room_scope").is_empty());
    let foreign = RoomScope {
        rooms: vec!["customers/other/rooms/r".into()],
        ..Default::default()
    };
    assert_eq!(
        room_scope(Some(&foreign), "c", "room_scope")[0].0,
        "room_scope.rooms[0]"
    );
    let bound = RoomScope {
        rooms: vec!["customers/c/rooms/r".into()],
        rooms_in_groups: vec![mtm_proto::mtm::common::v1::GroupBoundRoom {
            room: "customers/c/rooms/s".into(),
            room_groups: vec!["customers/c/roomGroups/g".into()],
        }],
        ..Default::default()
    };
    assert_eq!(
        room_scope(Some(&bound), "c", "room_scope")[0].0,
        "room_scope.rooms_in_groups"
    );
}

#[test]
fn r29_change_control_refuses_duplicates_and_unset_modes() {
    let setting =
        |event_type: ChangeControlEventType, mode: ChangeControlMode| ChangeControlSetting {
            event_type: event_type.into(),
            mode: mode.into(),
        };
    let ok = ChangeControlPolicy {
        settings: vec![setting(
            ChangeControlEventType::RoomModify,
            ChangeControlMode::ManualApproval,
        )],
    };
    assert!(change_control(Some(&ok), "change_control").is_empty());
    let twice = ChangeControlPolicy {
        settings: vec![ok.settings[0], ok.settings[0]],
    };
    assert_eq!(change_control(Some(&twice), "c").len(), 1);
    let unset = ChangeControlPolicy {
        settings: vec![setting(
            ChangeControlEventType::TicketUpdate,
            ChangeControlMode::Unspecified,
        )],
    };
    assert_eq!(change_control(Some(&unset), "c")[0].0, "c.settings[0].mode");
}

#[test]
fn r8_pending_invitation_expires_lazily_and_only_pending_is_actionable() {
    assert_eq!(invitation_state("PENDING", 100, 99), "PENDING");
    assert_eq!(invitation_state("PENDING", 100, 100), "EXPIRED");
    assert_eq!(invitation_state("WITHDRAWN", 100, 200), "WITHDRAWN");
    assert!(invitation_actionable("PENDING", 100, 50));
    assert!(!invitation_actionable("PENDING", 100, 150));
    assert!(!invitation_actionable("ACCEPTED", 100, 50));
    assert!(!invitation_actionable("WITHDRAWN", 100, 50));
}

#[test]
fn r30_relationship_expires_at_its_end_time() {
    assert_eq!(relationship_state("ACTIVE", None, 1_000), "ACTIVE");
    assert_eq!(relationship_state("ACTIVE", Some(2_000), 1_000), "ACTIVE");
    assert_eq!(relationship_state("ACTIVE", Some(1_000), 1_000), "EXPIRED");
    assert_eq!(
        relationship_state("TERMINATED", Some(1), 1_000),
        "TERMINATED"
    );
}

#[test]
fn r14_last_primary_admin_is_not_removable() {
    assert!(!primary_admin_removable(1));
    assert!(!primary_admin_removable(0));
    assert!(primary_admin_removable(2));
}

#[test]
fn r4_only_global_or_managed_service_admins_are_directory_admins() {
    let mut principal = Principal {
        user: "tenants/fab/users/u".into(),
        home_tenant: "tenants/fab".into(),
        groups: vec!["tenants/fab/groups/g".into()],
        ..Default::default()
    };
    assert!(!is_directory_admin(&principal));
    principal.directory_roles = vec![DirectoryRole::ManagedServiceAdmin.into()];
    assert!(is_directory_admin(&principal));
    assert!(is_member(&principal, &["tenants/fab/groups/g".into()]));
    assert!(!is_member(&principal, &["tenants/fab/groups/h".into()]));
    assert_eq!(home_tenant(&principal), "fab");
}

#[test]
fn r6_scope_summary_counts_without_naming() {
    let summary = scope_summary(&RoomScope {
        all_rooms: false,
        room_groups: vec!["customers/c/roomGroups/a".into()],
        rooms: vec!["customers/c/rooms/1".into(), "customers/c/rooms/1".into()],
        ..Default::default()
    });
    assert_eq!(summary.room_group_count, 1);
    assert_eq!(summary.room_count, 1);
}
