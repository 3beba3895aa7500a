//! Enrolment: the customer's key is sealed at rest, shown only by download and reset, and a
//! reset invalidates the old key at once (§8).

use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call};
use crate::on_both_backends;

on_both_backends!(
    enrolment_key_is_sealed_shown_on_download_and_replaced_by_reset,
    enrolment_key_is_sealed_shown_on_download_and_replaced_by_reset_postgres,
    enrolment
);

async fn enrolment(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.group("contoso", "hq").await;
    let ctx = admin("contoso");
    let first = suite.room("contoso", "hq", "r1").await;
    let second = suite.room("contoso", "hq", "r2").await;
    let key = suite
        .keys()
        .download_enrolment_key(call(
            DownloadEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
            },
            &ctx,
        ))
        .await
        .expect("download")
        .into_inner()
        .enrolment_key
        .expect("key");
    assert_eq!(key.version, 1);
    assert!(key.key.len() >= 32);
    if backend == Backend::Sqlite {
        let file = std::fs::read(suite.dir.path().join("stores/contoso.db")).expect("store file");
        let wal = std::fs::read(suite.dir.path().join("stores/contoso.db-wal")).unwrap_or_default();
        for bytes in [file, wal] {
            assert!(
                !bytes
                    .windows(key.key.len())
                    .any(|w| w == key.key.as_bytes()),
                "the key is never stored in clear"
            );
        }
    }
    let enroll = |name: &str, key: &str| EnrollRoomRequest {
        name: name.to_owned(),
        enrolment_key: key.to_owned(),
        device_type: DeviceType::TeamsRoomsWindows as i32,
        model: "Rally Bar".into(),
        app_version: "5.1.0".into(),
        os_version: "11.24".into(),
        etag: String::new(),
    };
    let enrolled = suite
        .rooms()
        .enroll_room(call(enroll(&first.name, &key.key), &ctx))
        .await
        .expect("enroll")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(enrolled.enrolment_state, EnrolmentState::Enrolled as i32);
    assert_eq!(enrolled.health, RoomHealth::Healthy as i32);
    let reset = suite
        .keys()
        .reset_enrolment_key(call(
            ResetEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
                etag: key.etag.clone(),
            },
            &ctx,
        ))
        .await
        .expect("reset")
        .into_inner()
        .enrolment_key
        .expect("key");
    assert_eq!(reset.version, 2);
    assert_ne!(reset.key, key.key);
    assert_eq!(
        reset.reset_by.as_ref().map(|a| a.user.as_str()),
        Some("tenants/contoso/users/admin")
    );
    let stale = suite
        .keys()
        .reset_enrolment_key(call(
            ResetEnrolmentKeyRequest {
                name: "customers/contoso/enrolmentKey".into(),
                etag: key.etag.clone(),
            },
            &ctx,
        ))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), tonic::Code::Aborted);
    let old = suite
        .rooms()
        .enroll_room(call(enroll(&second.name, &key.key), &ctx))
        .await
        .expect_err("old key");
    assert_eq!(old.code(), tonic::Code::PermissionDenied);
    let unchanged = suite
        .rooms()
        .get_room(call(
            GetRoomRequest {
                name: second.name.clone(),
            },
            &ctx,
        ))
        .await
        .expect("get")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(unchanged.enrolment_state, EnrolmentState::Onboarding as i32);
    suite
        .rooms()
        .enroll_room(call(enroll(&second.name, &reset.key), &ctx))
        .await
        .expect("new key works");
    let again = suite
        .rooms()
        .enroll_room(call(enroll(&first.name, &reset.key), &ctx))
        .await
        .expect_err("already enrolled");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let unenrolled = suite
        .rooms()
        .unenroll_room(call(
            UnenrollRoomRequest {
                name: first.name.clone(),
                etag: String::new(),
            },
            &ctx,
        ))
        .await
        .expect("unenroll")
        .into_inner()
        .room
        .expect("room");
    assert_eq!(
        unenrolled.enrolment_state,
        EnrolmentState::Unenrolled as i32
    );
    assert_eq!(unenrolled.health, RoomHealth::Unspecified as i32);
    suite.finish(&["contoso"]).await;
}
