//! Criterion benchmark of the gateway's *all tickets* view (R25): the first page of 50
//! tickets for a partner user who serves 100 and 1,000 customers with about 50 tickets each,
//! through the real gateway, identity-svc, tenancy-svc, rbac-svc and rooms-svc over mTLS.
//!
//! The stores are SQLite files, or one PostgreSQL database per customer with
//! `MTM_BENCH_STORES=postgres` (databases `mtm_bench_*` on 127.0.0.1:5432, all dropped at
//! the end). `MTM_BENCH_CUSTOMERS` sets the wide user's number of customers (default
//! 1,000, more than 100) for shorter runs. Customers come from rooms-svc's demo generator, loaded once per run; the
//! partner's relationships are written to rbac-svc as tenancy-svc writes them.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::{RelationshipState, RoomScope};
use mtm_proto::mtm::gateway::v1::ListAllTicketsRequest;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::identity::v1::{SignInRequest, UpdateUserPreferencesRequest, UserPreferences};
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use mtm_proto::mtm::rbac::v1::{
    ProvisionCustomerRequest, PutRelationshipRequest, SetPrimaryAdminsRequest,
};
use rooms_svc::demo::{DemoOptions, generate, load};
use tonic::transport::Channel;

const CUSTOMERS: usize = 1_000;
const TICKETS_PER_CUSTOMER: usize = 50;
const PAGE_SIZE: i32 = 50;
const PARTNER: &str = "contoso-partner";
/// Serves every customer.
const WIDE_USER: &str = "admin";
/// Serves the first 100 customers.
const NARROW_USER: &str = "lena";
const NARROW_CUSTOMERS: usize = 100;

/// The wide user's number of customers: `MTM_BENCH_CUSTOMERS`, or [`CUSTOMERS`].
fn customers() -> usize {
    std::env::var("MTM_BENCH_CUSTOMERS").map_or(CUSTOMERS, |value| {
        let count: usize = value.parse().expect("MTM_BENCH_CUSTOMERS: a number");
        assert!(
            count > NARROW_CUSTOMERS,
            "MTM_BENCH_CUSTOMERS: more than {NARROW_CUSTOMERS}"
        );
        count
    })
}

type Stop = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

fn stopper<E: std::fmt::Debug + Send + 'static>(server: RunningServer<E>) -> Stop {
    Box::new(move || tokio::spawn(server.stop()))
}

struct Suite {
    _pki: TestPki,
    _dir: tempfile::TempDir,
    gateway: Channel,
    /// The users serving every customer and the first 100: resource name and token.
    wide: (String, String),
    narrow: (String, String),
    stops: Vec<Stop>,
    postgres: Option<String>,
}

/// The prefix of every database a PostgreSQL run creates.
const POSTGRES_PREFIX: &str = "mtm_bench_";

fn postgres_template() -> Option<String> {
    (std::env::var("MTM_BENCH_STORES").as_deref() == Ok("postgres")).then(|| {
        mtm_plumbing::testing::postgres_database_url(&format!("{POSTGRES_PREFIX}{{customer}}"))
    })
}

async fn start() -> Suite {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = |name: &str| format!("sqlite://{}/{name}.db", dir.path().display());
    let url = |addr: std::net::SocketAddr| format!("https://127.0.0.1:{}", addr.port());
    let backend = |service: &str| mtm_plumbing::config::BackendArgs {
        server: pki.server_args(service),
        allowed_peers: Vec::new(),
    };
    let mut identity_config =
        identity_svc::Config::for_test(pki.server_args("identity-svc"), sqlite("identity"));
    identity_config.seed_demo = true;
    let identity =
        RunningServer::start(|l, s| identity_svc::serve(identity_config, l, None, s)).await;
    let rbac_config = rbac_svc::Config {
        backend: backend("rbac-svc"),
        database_url: sqlite("rbac"),
        lease_ms: rbac_svc::DEFAULT_LEASE_MS,
    };
    let rbac = RunningServer::start(|l, s| rbac_svc::serve(rbac_config, l, None, s)).await;
    let postgres = postgres_template();
    if postgres.is_some() {
        mtm_plumbing::testing::drop_postgres_databases_starting_with(POSTGRES_PREFIX).await;
    }
    let template = postgres
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/stores/{{customer}}.db", dir.path().display()));
    let mut rooms_config = rooms_svc::Config::for_test(backend("rooms-svc"), &template, dir.path());
    // Every store stays open: a deployment serving this many customers per replica sizes
    // the pool cap for them (PostgreSQL: within its connection limit).
    rooms_config.max_open_stores = if postgres.is_some() {
        64
    } else {
        customers() + 16
    };
    rooms_config.store_max_connections = if postgres.is_some() { 1 } else { 2 };
    // The ticket activity database lives beside the stores, as in a deployment.
    rooms_config.ticket_activity_url = None;
    let rooms = RunningServer::start(|l, s| rooms_svc::serve(rooms_config, l, None, s)).await;
    let tenancy_config = tenancy_svc::Config::for_test(
        pki.server_args("tenancy-svc"),
        sqlite("tenancy"),
        url(identity.addr),
        url(rbac.addr),
        url(rooms.addr),
    );
    let tenancy = RunningServer::start(|l, s| tenancy_svc::serve(tenancy_config, l, None, s)).await;
    let gateway_config = gateway::Config {
        server: pki.server_args("gateway"),
        public_tls_cert: None,
        public_tls_key: None,
        identity_url: url(identity.addr),
        tenancy_url: url(tenancy.addr),
        rbac_url: url(rbac.addr),
        rooms_url: url(rooms.addr),
        // One user asks as fast as it can: no rate limit in the way of the measurement.
        limits: gateway::LimitArgs {
            principal_rate_limit: 1e6,
            principal_rate_burst: 1_000_000,
            tenant_rate_limit: 1e6,
            tenant_rate_burst: 1_000_000,
        },
        keys: gateway::KeyArgs::default(),
    };
    let gateway_server =
        RunningServer::start(|l, s| gateway::serve(gateway_config, l, None, s)).await;

    let rooms_channel = mtls_channel(rooms.addr, &pki.material("gateway"))
        .await
        .expect("rooms-svc");
    let rooms_provisioner = mtls_channel(rooms.addr, &pki.material("tenancy-svc"))
        .await
        .expect("rooms-svc");
    let rbac_channel = mtls_channel(rbac.addr, &pki.material("tenancy-svc"))
        .await
        .expect("rbac-svc");
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(pki.ca_pem()));
    let gateway = Channel::from_shared(format!("https://{}", gateway_server.addr))
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("gateway");
    let wide = sign_in(&gateway, WIDE_USER).await;
    let narrow = sign_in(&gateway, NARROW_USER).await;
    seed(
        rooms_channel,
        rooms_provisioner,
        rbac_channel,
        &wide.0,
        &narrow.0,
    )
    .await;
    Suite {
        _pki: pki,
        _dir: dir,
        gateway,
        wide,
        narrow,
        stops: vec![
            stopper(gateway_server),
            stopper(tenancy),
            stopper(rooms),
            stopper(rbac),
            stopper(identity),
        ],
        postgres,
    }
}

/// Loads the demo customers into rooms-svc, sixteen at a time, and relates them to the partner.
/// `provisioner` reaches rooms-svc as tenancy-svc, which alone may provision stores.
async fn seed(
    rooms: Channel,
    provisioner: Channel,
    rbac: Channel,
    wide_user: &str,
    narrow_user: &str,
) {
    let data = generate(DemoOptions {
        seed: 25,
        customers: customers(),
        rooms_per_customer: 4,
        incidents_per_customer: TICKETS_PER_CUSTOMER,
    });
    let started = std::time::Instant::now();
    let mut loads = tokio::task::JoinSet::new();
    let mut queue = data.into_iter();
    let mut tickets = 0;
    loop {
        while loads.len() < 16 {
            let Some(customer) = queue.next() else { break };
            let (channel, provisioner) = (rooms.clone(), provisioner.clone());
            loads.spawn(async move { load(channel, provisioner, &customer).await });
        }
        let Some(done) = loads.join_next().await else {
            break;
        };
        tickets += done.expect("load task").expect("demo load").tickets;
    }
    eprintln!(
        "loaded {} customers, {tickets} tickets in {:.1?}",
        customers(),
        started.elapsed()
    );
    let mut internal = RbacInternalServiceClient::new(rbac);
    for index in 0..customers() {
        let customer = format!("customers/demo-{index:04}");
        let relationship = format!("{customer}/partnerRelationships/{PARTNER}");
        internal
            .provision_customer(ProvisionCustomerRequest {
                customer: customer.clone(),
                first_admin: format!("tenants/demo-{index:04}/users/demo-admin"),
            })
            .await
            .expect("provision customer in rbac-svc");
        internal
            .put_relationship(PutRelationshipRequest {
                relationship: relationship.clone(),
                partner: format!("partners/{PARTNER}"),
                customer,
                scope: Some(RoomScope {
                    all_rooms: true,
                    ..Default::default()
                }),
                state: RelationshipState::Active.into(),
                end_time: None,
            })
            .await
            .expect("relationship");
        let mut members = vec![wide_user.to_owned()];
        if index < NARROW_CUSTOMERS {
            members.push(narrow_user.to_owned());
        }
        internal
            .set_primary_admins(SetPrimaryAdminsRequest {
                relationship,
                members,
            })
            .await
            .expect("primary admins");
    }
}

/// Signs `user` of the partner in; returns its resource name and token.
async fn sign_in(gateway: &Channel, user: &str) -> (String, String) {
    let signed_in = AuthServiceClient::new(gateway.clone())
        .sign_in(SignInRequest {
            upn: format!("{user}@{PARTNER}.com"),
            password: identity_svc::seed::DEMO_PASSWORD.into(),
        })
        .await
        .expect("sign in")
        .into_inner();
    (signed_in.user, signed_in.access_token)
}

/// Turns the *all tickets* view on for `user` (resource name) with its `token`.
async fn enable_view(gateway: &Channel, user: &str, token: &str) {
    let mut request = tonic::Request::new(UpdateUserPreferencesRequest {
        preferences: Some(UserPreferences {
            name: format!("{user}/preferences"),
            all_tickets_view_enabled: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["all_tickets_view_enabled".into()],
        }),
    });
    authorize(&mut request, token);
    DirectoryServiceClient::new(gateway.clone())
        .update_user_preferences(request)
        .await
        .expect("turn the view on");
}

fn authorize<T>(request: &mut tonic::Request<T>, token: &str) {
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
}

async fn first_page(gateway: &Channel, token: &str, customers: usize) {
    let mut request = tonic::Request::new(ListAllTicketsRequest {
        page_size: PAGE_SIZE,
        ..Default::default()
    });
    authorize(&mut request, token);
    let page = AggregatedTicketServiceClient::new(gateway.clone())
        .list_all_tickets(request)
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(page.tickets.len(), PAGE_SIZE as usize);
    assert!(
        page.failed_customers.is_empty(),
        "{:?}",
        page.failed_customers
    );
    assert_eq!(page.customer_count as usize, customers);
}

fn fanout(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let suite = runtime.block_on(start());
    let stores = if suite.postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let mut group = c.benchmark_group(format!("all_tickets_first_page/{stores}"));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(8));
    for (count, (user, token)) in [
        (NARROW_CUSTOMERS, &suite.narrow),
        (customers(), &suite.wide),
    ] {
        runtime.block_on(enable_view(&suite.gateway, user, token));
        runtime.block_on(first_page(&suite.gateway, token, count));
        group.bench_with_input(BenchmarkId::from_parameter(count), &count, |b, &n| {
            b.iter(|| runtime.block_on(first_page(&suite.gateway, token, n)));
        });
    }
    group.finish();
    runtime.block_on(async {
        for stop in suite.stops {
            stop().await.expect("server stopped");
        }
        if suite.postgres.is_some() {
            mtm_plumbing::testing::drop_postgres_databases_starting_with(POSTGRES_PREFIX).await;
        }
    });
}

criterion_group!(benches, fanout);
criterion_main!(benches);
