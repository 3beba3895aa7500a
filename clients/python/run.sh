#!/usr/bin/env bash
# Plays the start of the MTM partner story with a Python gRPC client: makes a virtual
# environment in .tools/python-client (delete it any time), installs grpcio and grpcio-tools,
# generates stubs from proto/ into a temporary directory, then runs partner_story.py, which
# starts a fresh local suite (or uses --address/--cacert) and exits non-zero on any failure.
#
#   clients/python/run.sh                                   # its own suite in a temp dir
#   clients/python/run.sh --address 127.0.0.1:8443 --cacert .mtm-local/certs/ca.pem \
#       --operator-password-file .mtm-local/data/operator-password
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${MTM_PYTHON_VENV:-$root/.tools/python-client}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

stubs="$(mktemp -d)"
trap 'rm -rf "$stubs"' EXIT
# grpc_tools.protoc adds the google/protobuf well-known types it bundles; the MTM protos
# import nothing else from outside proto/.
(cd "$root/proto" && find mtm -name '*.proto' -print0 | sort -z |
  xargs -0 "$venv/bin/python" -m grpc_tools.protoc -I . \
    --python_out="$stubs" --grpc_python_out="$stubs")

cd "$root"
PYTHONPATH="$stubs" "$venv/bin/python" "$here/partner_story.py" "$@"
