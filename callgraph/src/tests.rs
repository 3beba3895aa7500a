//! The table against the API's descriptor set and the Helm chart's copy of it.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use prost_types::FileDescriptorSet;

use super::*;

/// Every method of every service in the MTM descriptor set, by `package.Service`.
fn described() -> BTreeMap<String, BTreeSet<String>> {
    let set = FileDescriptorSet::decode(mtm_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut out = BTreeMap::new();
    for file in set.file {
        for service in &file.service {
            let name = format!("{}.{}", file.package(), service.name());
            let methods = service.method.iter().map(|m| m.name().to_owned()).collect();
            out.insert(name, methods);
        }
    }
    out
}

#[test]
fn call_graph_names_only_methods_that_exist() {
    let described = described();
    for rule in RULES {
        let methods = described
            .get(rule.service)
            .unwrap_or_else(|| panic!("{} is not in the descriptor set", rule.service));
        for method in rule.methods {
            assert!(
                methods.contains(*method),
                "{}/{method} is not in the descriptor set",
                rule.service
            );
        }
    }
}

#[test]
fn call_graph_lists_every_method_of_each_service_a_backend_serves() {
    let described = described();
    for backend in Service::BACKENDS {
        let services: BTreeSet<&str> = RULES
            .iter()
            .filter(|r| r.backend == backend)
            .map(|r| r.service)
            .collect();
        for service in services {
            let listed: BTreeSet<String> = RULES
                .iter()
                .filter(|r| r.backend == backend && r.service == service)
                .flat_map(|r| r.methods.iter().map(|m| (*m).to_owned()))
                .collect();
            assert_eq!(
                &listed, &described[service],
                "{backend} serves {service}: the table must list each of its methods"
            );
        }
    }
}

#[test]
fn call_graph_grants_each_caller_a_method_once() {
    for backend in Service::BACKENDS {
        let mut seen = BTreeSet::new();
        for rule in RULES.iter().filter(|r| r.backend == backend) {
            for method in rule.methods {
                for grant in rule.grants {
                    assert!(
                        seen.insert((rule.service, *method, grant.caller)),
                        "{backend}: /{}/{method} grants {} twice",
                        rule.service,
                        grant.caller
                    );
                }
            }
        }
    }
}

#[test]
fn call_graph_gives_the_full_context_only_to_the_gateway() {
    for rule in RULES {
        for grant in rule.grants {
            if grant.context == Context::Full {
                assert_eq!(grant.caller, Service::Gateway, "{}", rule.service);
            }
        }
        assert_ne!(
            rule.backend,
            Service::Gateway,
            "the gateway is not a backend"
        );
        assert!(!rule.why.is_empty());
    }
}

#[test]
fn call_graph_is_the_one_found_in_the_services_clients() {
    use Service::*;
    assert_eq!(callers(Identity), [Gateway, Tenancy]);
    assert_eq!(callers(Tenancy), [Gateway]);
    assert_eq!(callers(Rbac), [Gateway, Tenancy]);
    assert_eq!(callers(Rooms), [Gateway, Tenancy]);
    assert_eq!(callers(Gateway), []);
    assert_eq!(upstreams(Gateway), Service::BACKENDS);
    assert_eq!(upstreams(Tenancy), [Identity, Rbac, Rooms]);
    for quiet in [Identity, Rbac, Rooms] {
        assert_eq!(upstreams(quiet), [], "{quiet} calls nobody");
    }
}

#[test]
fn call_graph_decides_by_backend_method_and_caller() {
    use Service::*;
    let delete_key = "/mtm.identity.v1.AuthService/DeleteSigningKey";
    assert_eq!(
        decide(Identity, delete_key, Gateway),
        Decision::Granted(Context::Full)
    );
    assert_eq!(decide(Identity, delete_key, Tenancy), Decision::Refused);
    assert_eq!(decide(Identity, delete_key, Rbac), Decision::Refused);
    assert_eq!(decide(Rooms, delete_key, Gateway), Decision::Refused);
    assert_eq!(
        decide(
            Rbac,
            "/mtm.rbac.v1.RbacInternalService/PutRelationship",
            Tenancy
        ),
        Decision::Granted(Context::Attribution)
    );
    assert_eq!(
        decide(
            Rbac,
            "/mtm.rbac.v1.RbacInternalService/PutRelationship",
            Gateway
        ),
        Decision::Refused
    );
    assert_eq!(
        decide(
            Rooms,
            "/mtm.rooms.v1.StoreInternalService/ProvisionStore",
            Tenancy
        ),
        Decision::Granted(Context::Refused)
    );
    assert_eq!(
        decide(Rooms, "/grpc.health.v1.Health/Check", Rbac),
        Decision::Open
    );
    for bad in [
        "",
        "/",
        "/mtm.rooms.v1.RoomService",
        "/mtm.rooms.v1.RoomService/GetRoom/x",
        "mtm.rooms.v1.RoomService/GetRoom",
        "/mtm.rooms.v1.RoomService/Get%52oom",
    ] {
        assert_eq!(decide(Rooms, bad, Gateway), Decision::Refused, "{bad:?}");
    }
}

/// Where the Helm chart keeps its copy.
fn chart_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/helm/mtm/callgraph.json")
}

#[test]
fn call_graph_in_the_helm_chart_is_the_table() {
    let expected = chart_json();
    serde_json::from_str::<serde_json::Value>(&expected).expect("chart_json is JSON");
    let path = chart_file();
    if std::env::var_os("MTM_WRITE_CALLGRAPH").is_some() {
        std::fs::write(&path, &expected).expect("write the chart's call graph");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} differs from the table; rewrite it with \
         `MTM_WRITE_CALLGRAPH=1 cargo test -p mtm-callgraph`",
        path.display()
    );
}
