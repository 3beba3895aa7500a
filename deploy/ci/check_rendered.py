#!/usr/bin/env python3
"""Checks rendered MTM manifests beyond what kubernetes-validate covers.

Usage: check_rendered.py RENDERED.yaml CORE_OUT.yaml
       check_rendered.py --env-coverage BINARIES_DIR RENDERED.yaml...

1. Splits the documents: cert-manager.io and monitoring.coreos.com objects are validated here against the strict JSON
   schemas in deploy/ci/schemas/ (kubernetes-validate has no schemas for CRDs and only warns);
   every other object is written to CORE_OUT.yaml for `kubernetes-validate --strict`.
2. Checks the invariants the issue asks for, on the rendered objects: every Deployment runs
   non-root, read-only, without privilege escalation or capabilities, with seccomp RuntimeDefault,
   resource requests and limits, and native gRPC probes on its `health` port; every backend's
   NetworkPolicy lets exactly its MTM_ALLOWED_PEERS callers reach its gRPC port; every service
   certificate carries spiffe://<trust domain>/<service>, the Service's DNS names and both the
   server and client auth usages; every MTM_*_URL names a Service on its port.

With --env-coverage (run once over every rendered variant): compares, per service, the MTM_*
variables the rendered manifests give its container (envFrom ConfigMaps/Secrets and `env`) with
the ones its binary documents in `BINARIES_DIR/<service> --help` (`[env: MTM_...]`). Every
variant may set only variables the binary reads, and the variants together must set every one
of them except MTM_BOUND_ADDR_FILE (a local-supervisor feature, never set in Kubernetes). A
binary that is absent is skipped with a note (CI builds them before deploy/validate.sh). It also
checks that each backend's MTM_ALLOWED_PEERS names exactly the callers of the call graph the
binaries enforce (deploy/helm/mtm/callgraph.json, generated from the mtm-callgraph crate), so the
chart and the binaries agree.

Exits non-zero, listing every problem, if anything is wrong.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml

SCHEMAS = pathlib.Path(__file__).resolve().parent / "schemas"
CERT_MANAGER_KINDS = {"Certificate": "certificate.json", "Issuer": "issuer.json"}
# prometheus-operator kinds (metrics.serviceMonitor / metrics.prometheusRule), same treatment.
MONITORING_KINDS = {"ServiceMonitor": "servicemonitor.json", "PrometheusRule": "prometheusrule.json"}
CRD_GROUPS = {"cert-manager.io", "monitoring.coreos.com"}
SERVICES = ["gateway", "identity-svc", "tenancy-svc", "rbac-svc", "rooms-svc"]
REPO = pathlib.Path(__file__).resolve().parents[2]
# Documented by the binaries but deliberately never set by the chart.
NOT_IN_CHART = {"MTM_BOUND_ADDR_FILE", "MTM_HEALTH_BOUND_ADDR_FILE"}


def main() -> int:
    if sys.argv[1] == "--env-coverage":
        return env_coverage(pathlib.Path(sys.argv[2]), sys.argv[3:])
    rendered, core_out = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    problems: list[str] = []
    core = []
    validators = {
        kind: jsonschema.Draft202012Validator(json.loads((SCHEMAS / f).read_text()))
        for kind, f in {**CERT_MANAGER_KINDS, **MONITORING_KINDS}.items()
    }
    for doc in docs:
        api = str(doc.get("apiVersion", ""))
        kind = doc.get("kind")
        name = (doc.get("metadata") or {}).get("name")
        if api.split("/")[0] in CRD_GROUPS:
            validator = validators.get(kind)
            if validator is None:
                problems.append(f"{kind}/{name}: no schema for {api} {kind} in {SCHEMAS}")
                continue
            for error in validator.iter_errors(doc):
                path = ".".join(str(p) for p in error.absolute_path) or "(root)"
                problems.append(f"{kind}/{name}: {path}: {error.message}")
        else:
            core.append(doc)
    pathlib.Path(core_out).write_text(yaml.safe_dump_all(core, sort_keys=False))
    problems += invariants(docs)
    for p in problems:
        print(f"FAIL {rendered}: {p}")
    return 1 if problems else 0


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def invariants(docs) -> list[str]:
    out: list[str] = []
    deployments = by_kind(docs, "Deployment")
    services = by_kind(docs, "Service")
    policies = by_kind(docs, "NetworkPolicy")
    configmaps = by_kind(docs, "ConfigMap")
    certificates = by_kind(docs, "Certificate")
    common = (configmaps.get("mtm-common") or {}).get("data") or {}
    namespace = next((d["metadata"].get("namespace") for d in docs), None)
    for name in SERVICES:
        dep = deployments.get(name)
        if dep is None:
            out.append(f"Deployment {name} is missing")
            continue
        pod = dep["spec"]["template"]["spec"]
        psc = pod.get("securityContext") or {}
        env = dict(common)
        env.update((configmaps.get(f"{name}-config") or {}).get("data") or {})
        for c in pod["containers"]:
            where = f"Deployment {name} container {c['name']}"
            sc = c.get("securityContext") or {}
            if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                out.append(f"{where}: runAsNonRoot is not set")
            if sc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                out.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                out.append(f"{where}: capabilities do not drop ALL")
            seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                out.append(f"{where}: seccompProfile is not RuntimeDefault")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        out.append(f"{where}: resources.{part}.{r} is missing")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            health = ports.get("health")
            if health is None or env.get("MTM_HEALTH_LISTEN", "").rsplit(":", 1)[-1] != str(health):
                out.append(f"{where}: port `health` does not match MTM_HEALTH_LISTEN")
            if "grpc" not in ports or env.get("MTM_LISTEN", "").rsplit(":", 1)[-1] != str(ports["grpc"]):
                out.append(f"{where}: port `grpc` does not match MTM_LISTEN")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                grpc = (c.get(probe) or {}).get("grpc") or {}
                if grpc.get("port") != health:
                    out.append(f"{where}: {probe} is not a gRPC probe on the health port")
        # The Service and the URLs other services use.
        svc = services.get(name)
        if svc is None:
            out.append(f"Service {name} is missing")
        # Certificates: identity and names.
        cert = (certificates.get(f"{name}-tls") or {}).get("spec")
        trust = None
        if cert is None:
            out.append(f"Certificate {name}-tls is missing")
        else:
            uris = cert.get("uris") or []
            trust = uris[0].split("/")[2] if uris and uris[0].startswith("spiffe://") else None
            if uris != [f"spiffe://{trust}/{name}"]:
                out.append(f"Certificate {name}-tls: uris {uris} are not [spiffe://<domain>/{name}]")
            for dns in (name, f"{name}.{namespace}.svc"):
                if dns not in (cert.get("dnsNames") or []):
                    out.append(f"Certificate {name}-tls: dnsNames lack {dns}")
            if not {"server auth", "client auth"} <= set(cert.get("usages") or []):
                out.append(f"Certificate {name}-tls: usages lack server auth or client auth")
            vols = {v["name"]: v for v in pod.get("volumes", [])}
            if (vols.get("tls", {}).get("secret") or {}).get("secretName") != cert.get("secretName"):
                out.append(f"Deployment {name}: volume `tls` does not mount {cert.get('secretName')}")
        for key, value in env.items():
            if key.startswith("MTM_") and key.endswith("_URL") and value.startswith("https://"):
                host, _, port = value[len("https://"):].partition(":")
                target = services.get(host)
                if target is None or int(port) not in [p["port"] for p in target["spec"]["ports"]]:
                    out.append(f"{name}: {key}={value} names no Service port")
        # Backends: the allow-list and the NetworkPolicy say the same thing.
        if name == "gateway":
            continue
        peers = [p for p in env.get("MTM_ALLOWED_PEERS", "").split(",") if p]
        callers = {p.rsplit("/", 1)[-1] for p in peers}
        if trust and any(not p.startswith(f"spiffe://{trust}/") for p in peers):
            out.append(f"{name}: MTM_ALLOWED_PEERS {peers} are not in trust domain {trust}")
        pol = policies.get(name)
        if pol is None:
            out.append(f"NetworkPolicy {name} is missing")
            continue
        allowed: set[str] = set()
        for rule in pol["spec"].get("ingress") or []:
            if any(p.get("port") == "grpc" for p in rule.get("ports") or []):
                if not rule.get("from"):
                    out.append(f"NetworkPolicy {name}: gRPC port open to everyone")
                for peer in rule.get("from") or []:
                    labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                    if "app.kubernetes.io/name" not in labels or len(peer) != 1:
                        out.append(f"NetworkPolicy {name}: gRPC source {peer} is not an MTM service")
                    else:
                        allowed.add(labels["app.kubernetes.io/name"])
        if allowed != callers:
            out.append(
                f"NetworkPolicy {name} admits {sorted(allowed)} but MTM_ALLOWED_PEERS is {sorted(callers)}"
            )
    return out


def container_env(docs, name) -> dict[str, str]:
    """The variables the chart gives service `name`'s container (values where known)."""
    configmaps = by_kind(docs, "ConfigMap")
    secrets = by_kind(docs, "Secret")
    dep = by_kind(docs, "Deployment").get(name)
    if dep is None:
        return {}
    env: dict[str, str] = {}
    for c in dep["spec"]["template"]["spec"]["containers"]:
        for src in c.get("envFrom") or []:
            prefix = src.get("prefix", "")
            if "configMapRef" in src:
                data = (configmaps.get(src["configMapRef"]["name"]) or {}).get("data") or {}
            else:
                s = secrets.get(src["secretRef"]["name"]) or {}
                data = {**(s.get("data") or {}), **(s.get("stringData") or {})}
                if not s:
                    env[f"<keys of Secret {src['secretRef']['name']}>"] = ""
            env.update({prefix + k: str(v) for k, v in data.items()})
        for e in c.get("env") or []:
            env[e["name"]] = str(e.get("value", "<from a Secret or the downward API>"))
    return env


def documented_env(binary: pathlib.Path) -> set[str]:
    """The MTM_* variables `binary --help` documents (clap's `[env: NAME=...]`)."""
    # A clean environment: clap prints the current value of each variable it documents.
    result = subprocess.run(
        [str(binary), "--help"], capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{binary} --help exited {result.returncode}: {result.stderr.strip()}")
    return set(re.findall(r"\[env: (MTM_[A-Z0-9_]+)=", result.stdout))


def default_callers(name: str) -> list[str] | None:
    """The callers of <service> in the call graph the binaries enforce (the chart's
    callgraph.json, which `cargo test -p mtm-callgraph` keeps equal to the table)."""
    graph = REPO / "deploy" / "helm" / "mtm" / "callgraph.json"
    if not graph.is_file():
        return None
    services = json.loads(graph.read_text())["services"]
    return services[name]["callers"] if name in services else None


def env_coverage(binaries: pathlib.Path, rendered: list[str]) -> int:
    variants = {
        r: [d for d in yaml.safe_load_all(pathlib.Path(r).read_text()) if d] for r in rendered
    }
    problems: list[str] = []
    for name in SERVICES:
        binary = binaries / name
        per_variant = {r: container_env(docs, name) for r, docs in variants.items()}
        # The allow-list against the binary's own default callers.
        callers = default_callers(name) if name != "gateway" else None
        if name != "gateway" and callers is None:
            print(f"note: deploy/helm/mtm/callgraph.json has no {name}: callers not compared")
        for r, env in per_variant.items():
            if callers is None:
                continue
            peers = {p.rsplit("/", 1)[-1] for p in env.get("MTM_ALLOWED_PEERS", "").split(",") if p}
            if peers != set(callers):
                problems.append(
                    f"{r}: {name}: MTM_ALLOWED_PEERS admits {sorted(peers)}, the call graph's "
                    f"callers are {sorted(callers)} (services.{name}.callers)"
                )
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            print(f"note: {binary} absent: MTM_* variables of {name} not compared (skipped)")
            continue
        try:
            documented = documented_env(binary)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
            problems.append(f"{name}: cannot read the documented variables: {e}")
            continue
        if not documented:
            problems.append(f"{name}: `{binary} --help` documents no MTM_* variable")
            continue
        wanted = documented - NOT_IN_CHART
        before = len(problems)
        seen: set[str] = set()
        for r, env in per_variant.items():
            mtm = {k for k in env if k.startswith("MTM_") or k.startswith("<keys of")}
            seen |= mtm
            for extra in sorted(mtm - wanted):
                why = "must not be set in Kubernetes" if extra in NOT_IN_CHART else "the binary does not read it"
                problems.append(f"{r}: {name}: sets {extra}, but {why}")
        for missing in sorted(wanted - seen):
            problems.append(f"{name}: {missing} (documented by `{name} --help`) is set by no variant")
        if len(problems) == before:
            print(f"ok: {name}: the {len(wanted)} MTM_* variables of `{name} --help` are wired")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
