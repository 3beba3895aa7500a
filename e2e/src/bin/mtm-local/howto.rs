//! The grpcurl commands `mtm-local` prints once the suite is up, ready to paste into a shell:
//! the same calls as the README's examples, with this run's CA file and gateway address.

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;

/// Signs in as `upn` (a demo user) and keeps the token in the shell variable `variable`.
fn sign_in(ca: &str, gateway: SocketAddr, variable: &str, upn: &str) -> String {
    format!(
        "{variable}=$(grpcurl -cacert {ca} -d '{{\"upn\":\"{upn}\",\"password\":\"mtm-demo-password\"}}' {gateway} mtm.identity.v1.AuthService/SignIn | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"accessToken\"])')"
    )
}

/// A signed-in call with `token_variable`'s token and the JSON request `body`.
fn call(ca: &str, gateway: SocketAddr, token_variable: &str, body: &str, method: &str) -> String {
    format!(
        "grpcurl -cacert {ca} -H \"authorization: Bearer ${token_variable}\" -d '{body}' {gateway} {method}"
    )
}

/// The commands, one titled block per task.
pub fn grpcurl_examples(
    ca_file: &Path,
    gateway: SocketAddr,
    operator_password_file: &Path,
) -> String {
    let ca = ca_file.display().to_string();
    let ca = ca.as_str();
    let mut out = String::new();
    let mut block = |title: &str, commands: &[String]| {
        let _ = writeln!(out, "{title}");
        for command in commands {
            let _ = writeln!(out, "  {command}");
        }
    };
    block(
        "List the public services and ask whether every backend is serving:",
        &[
            format!("grpcurl -cacert {ca} {gateway} list"),
            format!("grpcurl -cacert {ca} {gateway} mtm.gateway.v1.StatusService/GetStatus"),
        ],
    );
    block(
        "Sign in as the partner's primary admin (every demo password is mtm-demo-password):",
        &[sign_in(ca, gateway, "TOKEN", "msa@contoso-partner.com")],
    );
    block(
        "The customers it may switch to, and Fabrikam's rooms in its scope:",
        &[
            call(
                ca,
                gateway,
                "TOKEN",
                "{}",
                "mtm.gateway.v1.WorkspaceService/ListMyCustomers",
            ),
            call(
                ca,
                gateway,
                "TOKEN",
                r#"{"parent":"customers/fabrikam"}"#,
                "mtm.rooms.v1.RoomService/ListRooms",
            ),
        ],
    );
    block(
        "Every ticket across its customers (the all-tickets view is on for the demo partner users):",
        &[call(
            ca,
            gateway,
            "TOKEN",
            r#"{"pageSize":20}"#,
            "mtm.gateway.v1.AggregatedTicketService/ListAllTickets",
        )],
    );
    block(
        "Fabrikam's MMR admin reads what the partner did in its audit log:",
        &[
            sign_in(ca, gateway, "CUSTOMER_TOKEN", "mmr-admin@fabrikam.com"),
            call(
                ca,
                gateway,
                "CUSTOMER_TOKEN",
                r#"{"parent":"customers/fabrikam","filter":"actor.tenant = \"tenants/contoso-partner\""}"#,
                "mtm.audit.v1.AuditService/ListAuditRecords",
            ),
        ],
    );
    let _ = writeln!(
        out,
        "The operator signs in as \"operator\" with the password in {}",
        operator_password_file.display()
    );
    out
}
