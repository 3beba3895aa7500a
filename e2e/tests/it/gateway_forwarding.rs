//! Calls through the gateway to the backends that own them: anonymous sign-in, a signed-in
//! directory read with the principal resolved by identity-svc, and a customer call decided by
//! rbac-svc, all with the real binaries.

use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{GetDirectoryRequest, SignInRequest};
use mtm_proto::mtm::rooms::v1::ListRoomsRequest;
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use tonic::Code;

use crate::support::start_suite;

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

#[tokio::test]
async fn r2_signed_in_calls_are_forwarded_with_the_callers_principal() {
    let (suite, _dir) = start_suite(Vec::new()).await;
    let channel = suite.gateway_channel().await.expect("gateway");

    let wrong = AuthServiceClient::new(channel.clone())
        .sign_in(SignInRequest {
            upn: "admin@fabrikam.com".into(),
            password: "not the password".into(),
        })
        .await
        .expect_err("wrong password");
    assert_eq!(wrong.code(), Code::Unauthenticated);

    let signed_in = AuthServiceClient::new(channel.clone())
        .sign_in(SignInRequest {
            upn: "admin@fabrikam.com".into(),
            password: "mtm-demo-password".into(),
        })
        .await
        .expect("sign in through the gateway")
        .into_inner();
    assert_eq!(signed_in.tenant, "tenants/fabrikam");

    let mut directory = DirectoryServiceClient::new(channel.clone());
    let anonymous = directory
        .get_directory(GetDirectoryRequest {
            name: "tenants/fabrikam/directory".into(),
        })
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let forged = directory
        .get_directory(with_token(
            GetDirectoryRequest {
                name: "tenants/fabrikam/directory".into(),
            },
            &format!("{}x", signed_in.access_token),
        ))
        .await
        .expect_err("tampered token");
    assert_eq!(forged.code(), Code::Unauthenticated);
    let own = directory
        .get_directory(with_token(
            GetDirectoryRequest {
                name: "tenants/fabrikam/directory".into(),
            },
            &signed_in.access_token,
        ))
        .await
        .expect("own directory")
        .into_inner()
        .directory
        .expect("directory");
    assert_eq!(own.tenant, "tenants/fabrikam");
    let foreign = directory
        .get_directory(with_token(
            GetDirectoryRequest {
                name: "tenants/northwind/directory".into(),
            },
            &signed_in.access_token,
        ))
        .await
        .expect_err("another tenant's directory");
    assert_eq!(foreign.code(), Code::NotFound);

    // No customer roles exist for northwind's rooms: rbac-svc denies, and the caller learns
    // nothing about them (R37).
    let rooms = RoomServiceClient::new(channel)
        .list_rooms(with_token(
            ListRoomsRequest {
                parent: "customers/northwind".into(),
                ..Default::default()
            },
            &signed_in.access_token,
        ))
        .await
        .expect_err("no rights at northwind");
    assert_eq!(rooms.code(), Code::NotFound);
    assert_eq!(suite.stop().await, Vec::<String>::new());
}
