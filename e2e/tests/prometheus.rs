//! A real Prometheus (Debian's `prometheus`) scrapes every service of a running suite at
//! `/metrics` on its plaintext health listener; the series of issue 17 exist and move while the
//! demo world is built, the all-tickets view runs and a burst of bad sign-ins is refused; and
//! every query of the Grafana dashboard (deploy/grafana/mtm.json) is valid PromQL naming only
//! series this Prometheus saw.
//!
//! Without a `prometheus` binary on PATH (or at `MTM_PROMETHEUS`) the test says SKIPPED and
//! passes, unless `MTM_REQUIRE_PROMETHEUS` is set (`make test-prometheus`, which CI runs).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtm_e2e::api::Session;
use mtm_e2e::{Suite, SuiteOptions, ensure_built};
use mtm_proto::mtm::gateway::v1::ListAllTicketsRequest;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use mtm_proto::mtm::identity::v1::SignInRequest;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICES: [&str; 5] = [
    "gateway",
    "identity-svc",
    "tenancy-svc",
    "rbac-svc",
    "rooms-svc",
];

/// How long a series may take to appear or move (scrapes run every second).
const SETTLE: Duration = Duration::from_secs(30);

/// Each query sums one series the test expects, by what it must show.
const MOVING: [&str; 11] = [
    r#"sum(rpc_server_duration_milliseconds_count{job="gateway"})"#,
    r#"sum(rpc_server_duration_milliseconds_count{job="identity-svc"})"#,
    r#"sum(rpc_server_duration_milliseconds_count{job="tenancy-svc"})"#,
    r#"sum(rpc_server_duration_milliseconds_count{job="rbac-svc"})"#,
    r#"sum(rpc_server_duration_milliseconds_count{job="rooms-svc"})"#,
    r#"sum(rpc_client_duration_milliseconds_count{job="gateway",rpc_service="mtm.rooms.v1.TicketService"})"#,
    r#"sum(rpc_client_duration_milliseconds_count{job="tenancy-svc"})"#,
    r#"sum(mtm_rbac_decisions_total{result="allow"}) + sum(mtm_rbac_decision_duration_milliseconds_count)"#,
    r#"sum(mtm_rooms_store_opens_total{result="opened"})"#,
    r#"sum(mtm_identity_sign_ins_total{result="success"})"#,
    r#"sum(mtm_gateway_fanout_customers_count{outcome="asked"})"#,
];

/// Series that only have to exist after the traffic (gauges, and counters the burst makes).
const PRESENT: [&str; 9] = [
    "mtm_rbac_index_assignments > 0",
    "mtm_rbac_index_size_bytes > 0",
    "mtm_rbac_revision_applied > 0",
    "mtm_rbac_revision_lag",
    "mtm_rooms_store_pools_open > 0",
    "mtm_rooms_store_pools_limit > 0",
    r#"mtm_identity_sign_ins_total{result="failure"}"#,
    "mtm_identity_lockouts_total > 0",
    "mtm_gateway_rate_limit_refusals_total > 0",
];

fn prometheus_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MTM_PROMETHEUS") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prometheus"))
            .find(|candidate| candidate.is_file())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_every_service_and_sees_the_series_move() {
    let Some(binary) = prometheus_binary() else {
        assert!(
            std::env::var_os("MTM_REQUIRE_PROMETHEUS").is_none(),
            "MTM_REQUIRE_PROMETHEUS is set but no prometheus binary is on PATH (apt-get install prometheus)"
        );
        eprintln!(
            "SKIPPED: no prometheus binary on PATH; `make test-prometheus` installs it and runs this test"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut options = SuiteOptions::new(
        dir.path().join("suite"),
        "127.0.0.1:0".parse().expect("addr"),
        ensure_built().expect("service binaries"),
    );
    // One open store pool at a time: moving between customers closes and reopens stores, so
    // store opens happen (and the pools sit at their cap) while the demo world is built.
    options
        .env
        .push(("MTM_MAX_OPEN_STORES".to_owned(), "1".to_owned()));
    let suite = Suite::start(&options).await.expect("suite starts");
    let targets: Vec<(&str, SocketAddr)> = SERVICES
        .iter()
        .map(|s| (*s, health_addr(&dir.path().join("suite/run"), s)))
        .collect();
    let mut prometheus = Prometheus::start(&binary, dir.path(), &targets).await;

    prometheus.wait_for("count(up == 1) == 5").await;
    let before: Vec<f64> = futures_values(&prometheus, &MOVING).await;

    let channel = suite.gateway_channel().await.expect("gateway channel");
    mtm_e2e::demo::seed(channel.clone(), &suite.operator_password_file)
        .await
        .expect("the demo world is built");
    let msa = Session::demo_user(channel.clone(), "msa@contoso-partner.com")
        .await
        .expect("msa signs in");
    AggregatedTicketServiceClient::new(msa.channel())
        .list_all_tickets(msa.call(ListAllTicketsRequest {
            page_size: 20,
            ..Default::default()
        }))
        .await
        .expect("the all-tickets view answers");
    bad_sign_in_burst(channel).await;

    for (query, was) in MOVING.iter().zip(before) {
        prometheus.wait_for(&format!("({query}) > {was}")).await;
    }
    for query in PRESENT {
        prometheus.wait_for(query).await;
    }
    dashboard_queries_name_seen_series(&prometheus).await;

    prometheus.stop();
    let unclean = suite.stop().await;
    assert!(
        unclean.is_empty(),
        "services did not stop cleanly: {unclean:?}"
    );
}

/// 150 wrong passwords for one name at once: identity-svc locks the name out after a few,
/// and the gateway's per-address bucket (burst 100) refuses the rest.
async fn bad_sign_in_burst(channel: tonic::transport::Channel) {
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..150 {
        let mut client = AuthServiceClient::new(channel.clone());
        calls.spawn(async move {
            client
                .sign_in(SignInRequest {
                    upn: "nobody@contoso-partner.com".to_owned(),
                    password: "wrong".to_owned(),
                })
                .await
                .map(|_| ())
        });
    }
    while let Some(answer) = calls.join_next().await {
        assert!(
            answer.expect("call task").is_err(),
            "a wrong password signed in"
        );
    }
}

async fn futures_values(prometheus: &Prometheus, queries: &[&str]) -> Vec<f64> {
    let mut values = Vec::new();
    for query in queries {
        values.push(prometheus.scalar(query).await.unwrap_or(0.0));
    }
    values
}

/// Every expression of the dashboard is valid PromQL and names only metrics this Prometheus
/// has series of.
async fn dashboard_queries_name_seen_series(prometheus: &Prometheus) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana/mtm.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard")).expect("JSON");
    let seen: BTreeSet<String> = prometheus.get("/api/v1/label/__name__/values").await["data"]
        .as_array()
        .expect("metric names")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        assert!(
            panel["title"].is_string() && panel["type"].is_string(),
            "{panel}"
        );
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    assert!(
        exprs.len() >= 20,
        "the dashboard has {} queries",
        exprs.len()
    );
    for expr in exprs {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "{expr} names no MTM or RPC series");
        for name in names {
            assert!(
                seen.contains(&name),
                "the dashboard queries {name}, which Prometheus never saw"
            );
        }
        let query = expr.replace("$__rate_interval", "1m");
        let answer = prometheus
            .get(&format!("/api/v1/query?query={}", encode(&query)))
            .await;
        assert_eq!(answer["status"], "success", "{query}: {answer}");
    }
}

/// The metric names in a PromQL expression: identifiers starting `rpc_` or `mtm_` that are
/// neither a label in a matcher (`rpc_method="Check"`) nor in a grouping clause
/// (`by (rpc_service, rpc_method)`).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let grouping = grouping_clauses(expr);
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = (expr[i..].starts_with("rpc_") || expr[i..].starts_with("mtm_"))
            && (i == 0 || !is_ident(bytes[i - 1]));
        if starts {
            let end = expr[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(expr.len(), |n| i + n);
            let next = expr[end..].trim_start();
            let matcher = next.starts_with('=') || next.starts_with("!=");
            let grouped = grouping.iter().any(|range| range.contains(&i));
            if !matcher && !grouped {
                names.insert(expr[i..end].to_owned());
            }
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The byte ranges inside the parentheses of `by`, `without`, `on`, `ignoring`, `group_left`
/// and `group_right`: label lists.
fn grouping_clauses(expr: &str) -> Vec<std::ops::Range<usize>> {
    const KEYWORDS: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let bytes = expr.as_bytes();
    let mut ranges = Vec::new();
    for keyword in KEYWORDS {
        for (at, _) in expr.match_indices(keyword) {
            let end = at + keyword.len();
            let whole_word = (at == 0 || !is_ident(bytes[at - 1]))
                && bytes.get(end).is_none_or(|b| !is_ident(*b));
            let rest = &expr[end..];
            let open = end + (rest.len() - rest.trim_start().len());
            if whole_word && bytes.get(open) == Some(&b'(') {
                let close = expr[open..].find(')').map_or(expr.len(), |n| open + n);
                ranges.push(open..close);
            }
        }
    }
    ranges
}

#[test]
fn metric_names_skip_labels_in_matchers_and_grouping_clauses() {
    let names = |expr| metric_names(expr).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names("max by (pod, instance) (mtm_rbac_index_assignments)"),
        ["mtm_rbac_index_assignments"]
    );
    assert_eq!(
        names(
            "histogram_quantile(0.99, sum by (le, rpc_method) (rate(rpc_server_duration_milliseconds_bucket{rpc_service=\"x\"}[5m])))"
        ),
        ["rpc_server_duration_milliseconds_bucket"]
    );
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn health_addr(run: &Path, service: &str) -> SocketAddr {
    let file = run.join(format!("{service}.health-addr"));
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .trim()
        .parse()
        .expect("an address")
}

/// A Prometheus server scraping the suite every second.
struct Prometheus {
    child: tokio::process::Child,
    addr: SocketAddr,
}

impl Prometheus {
    async fn start(binary: &Path, dir: &Path, targets: &[(&str, SocketAddr)]) -> Self {
        let mut config =
            String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        for (job, addr) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']\n"
            ));
        }
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, config).expect("prometheus.yml");
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("addr")
        };
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
        let child = tokio::process::Command::new(binary)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        let prometheus = Self { child, addr };
        for _ in 0..300 {
            if prometheus
                .try_get("/-/ready")
                .await
                .is_some_and(|(code, _)| code == 200)
            {
                return prometheus;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "prometheus did not become ready; see {}",
            dir.join("prometheus.log").display()
        );
    }

    /// GET `path`: the status code and body, or None when the server does not answer.
    async fn try_get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n")?;
        let code = head.split_whitespace().nth(1)?.parse().ok()?;
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Some((code, body))
    }

    async fn get(&self, path: &str) -> Value {
        let (code, body) = self.try_get(path).await.expect("prometheus answers");
        assert!(
            code == 200 || code == 400 || code == 422,
            "{path}: HTTP {code}: {body}"
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// The single value of `query`, if it has one.
    async fn scalar(&self, query: &str) -> Option<f64> {
        let answer = self
            .get(&format!("/api/v1/query?query={}", encode(query)))
            .await;
        assert_eq!(answer["status"], "success", "{query}: {answer}");
        answer["data"]["result"].as_array()?.first()?["value"][1]
            .as_str()?
            .parse()
            .ok()
    }

    /// Waits until `query` returns at least one series.
    async fn wait_for(&mut self, query: &str) {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            if self.scalar(query).await.is_some() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no series for {query} within {SETTLE:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn stop(mut self) {
        let _ = self.child.start_kill();
    }
}

/// The body of a chunked HTTP/1.1 answer.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
