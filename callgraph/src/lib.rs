//! The MTM call graph as data: for every method a backend serves (`/package.Service/Method`),
//! which services may call it and which call context (`x-mtm-context-bin`) each may attach.
//!
//! It is the one source of the allow-lists: the backends' peer layer admits a call only when
//! [`decide`] grants it, the default `--allowed-peers` of a backend are its [`callers`],
//! `mtm-local` starts the suite from it, and the Helm chart reads [`chart_json`] (checked in as
//! `deploy/helm/mtm/callgraph.json`, compared by a test). A method missing here is refused to
//! everyone; a test walks the descriptor set so a served method cannot be forgotten.

mod table;

pub use table::RULES;

/// A service of the suite, by the name in its certificate (`spiffe://<trust domain>/<name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// The public entry point; calls every backend.
    Gateway,
    /// identity-svc.
    Identity,
    /// tenancy-svc.
    Tenancy,
    /// rbac-svc.
    Rbac,
    /// rooms-svc.
    Rooms,
}

impl Service {
    /// Every service of the suite.
    pub const ALL: [Service; 5] = [
        Service::Gateway,
        Service::Identity,
        Service::Tenancy,
        Service::Rbac,
        Service::Rooms,
    ];

    /// The services reached only over mutual TLS.
    pub const BACKENDS: [Service; 4] = [
        Service::Identity,
        Service::Tenancy,
        Service::Rbac,
        Service::Rooms,
    ];

    /// The service's name: the last segment of its SPIFFE identity, its binary, its Kubernetes
    /// Service.
    pub const fn name(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Identity => "identity-svc",
            Service::Tenancy => "tenancy-svc",
            Service::Rbac => "rbac-svc",
            Service::Rooms => "rooms-svc",
        }
    }

    /// The service named `name`.
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a caller may attach to a call as its call context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Nothing: a call carrying `x-mtm-context-bin` is refused.
    Refused,
    /// The principal and partner relationship of the person a gateway call was made for,
    /// relayed only so the callee records the real actor; never a scope or an approval. The
    /// callee authorizes by the peer, not by this principal.
    Attribution,
    /// Everything the gateway establishes: the verified principal (operator flag included),
    /// the scope, the partner relationship and the approval request.
    Full,
}

/// One caller's right to call the methods of a [`Rule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The calling service.
    pub caller: Service,
    /// The call context it may attach.
    pub context: Context,
}

/// Some methods of one gRPC service of a backend and who may call them.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The backend serving them.
    pub backend: Service,
    /// The gRPC service, `package.Service`.
    pub service: &'static str,
    /// The method names.
    pub methods: &'static [&'static str],
    /// Who may call them, each at most once.
    pub grants: &'static [Grant],
    /// Where the callers make these calls, or why they may.
    pub why: &'static str,
}

/// Services every peer admitted to a backend may call: health and reflection (Kubernetes probes
/// use the separate plaintext health port).
pub const OPEN_SERVICES: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The answer for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Health or reflection: open to every admitted peer, without a call context.
    Open,
    /// The call graph has this call, with what the caller may attach.
    Granted(Context),
    /// Not in the call graph (or not a method path at all).
    Refused,
}

/// `/package.Service/Method` split into service and method; `None` for anything else.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
    };
    (valid(service) && valid(method)).then_some((service, method))
}

/// Whether `caller` may call `path` on `backend`, and with which call context.
pub fn decide(backend: Service, path: &str, caller: Service) -> Decision {
    let Some((service, method)) = split_path(path) else {
        return Decision::Refused;
    };
    if OPEN_SERVICES.contains(&service) {
        return Decision::Open;
    }
    RULES
        .iter()
        .filter(|rule| rule.backend == backend && rule.service == service)
        .filter(|rule| rule.methods.contains(&method))
        .flat_map(|rule| rule.grants)
        .find(|grant| grant.caller == caller)
        .map_or(Decision::Refused, |grant| Decision::Granted(grant.context))
}

/// The services that call `backend` at all, in [`Service::ALL`] order.
pub fn callers(backend: Service) -> Vec<Service> {
    Service::ALL
        .into_iter()
        .filter(|caller| {
            RULES
                .iter()
                .any(|r| r.backend == backend && r.grants.iter().any(|g| g.caller == *caller))
        })
        .collect()
}

/// The backends `caller` calls, in [`Service::ALL`] order.
pub fn upstreams(caller: Service) -> Vec<Service> {
    Service::BACKENDS
        .into_iter()
        .filter(|backend| callers(*backend).contains(&caller))
        .collect()
}

/// Every method path of `backend` in the table, in table order.
pub fn methods(backend: Service) -> Vec<String> {
    RULES
        .iter()
        .filter(|r| r.backend == backend)
        .flat_map(|r| r.methods.iter().map(move |m| format!("/{}/{m}", r.service)))
        .collect()
}

/// The call graph as the Helm chart reads it (`deploy/helm/mtm/callgraph.json`): per service,
/// its callers and upstreams, and per backend method, its callers.
pub fn chart_json() -> String {
    let list = |services: Vec<Service>| {
        let names: Vec<String> = services.iter().map(|s| format!("\"{s}\"")).collect();
        format!("[{}]", names.join(", "))
    };
    let mut out = String::from(
        "{\n  \"generatedBy\": \"cargo test -p mtm-callgraph (MTM_WRITE_CALLGRAPH=1 rewrites this file)\",\n  \"services\": {\n",
    );
    let services: Vec<String> = Service::ALL
        .iter()
        .map(|s| {
            format!(
                "    \"{s}\": {{\"callers\": {}, \"upstreams\": {}}}",
                list(callers(*s)),
                list(upstreams(*s))
            )
        })
        .collect();
    out.push_str(&services.join(",\n"));
    out.push_str("\n  },\n  \"methods\": {\n");
    let mut methods = Vec::new();
    for backend in Service::BACKENDS {
        for rule in RULES.iter().filter(|r| r.backend == backend) {
            let grants: Vec<String> = rule
                .grants
                .iter()
                .map(|g| format!("\"{}\"", g.caller))
                .collect();
            for method in rule.methods {
                methods.push(format!(
                    "    \"{backend}/{}/{method}\": [{}]",
                    rule.service,
                    grants.join(", ")
                ));
            }
        }
    }
    out.push_str(&methods.join(",\n"));
    out.push_str("\n  }\n}\n");
    out
}

#[cfg(test)]
mod tests;
