#!/usr/bin/env bash
# Fetches Cerbos 0.55.0 (the comparison peer of `mtm-load`) from the npm package
# @cerbos/cerbos-linux-x64 into .tools/cerbos-0.55.0/cerbos and prints the binary's path.
set -euo pipefail

version=0.55.0
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/.tools/cerbos-$version"
if [ ! -x "$dest/cerbos" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "@cerbos/cerbos-linux-x64@$version" >/dev/null)
  tar -xzf "$work/cerbos-cerbos-linux-x64-$version.tgz" -C "$work" package/cerbos-linux-x64
  mkdir -p "$dest"
  install -m 0755 "$work/package/cerbos-linux-x64" "$dest/cerbos"
fi
echo "$dest/cerbos"
