#!/usr/bin/env bash
# Builds the CLI as the kubectl plugin kubectl-entramatch, one .tar.gz per
# platform, and writes the krew manifest (entramatch.yaml) that installs
# them, with each archive's sha256:
#
#   hack/plugin-dist.sh VERSION OUTDIR [os/arch ...]
#
# Default platforms: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
# windows/amd64. Upload the archives to the release VERSION; then
# `kubectl krew install --manifest=OUTDIR/entramatch.yaml` installs the
# plugin, and `--archive=` installs it from a local archive.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 VERSION OUTDIR [os/arch ...]" >&2; exit 2; }
version=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2
platforms=("$@")
((${#platforms[@]})) || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "VERSION must be semver with a v, such as v0.1.0: $version" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
release="https://github.com/entramatch/entra-match-operator/releases/download/$version"

manifest="$out/entramatch.yaml"
cat >"$manifest" <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: entramatch
spec:
  version: $version
  homepage: https://github.com/entramatch/entra-match-operator
  shortDescription: Hard matches, sync plans and status of entra-match-operator
  description: |
    The companion of entra-match-operator, which matches on-premises Active
    Directory users with Microsoft Entra ID users declaratively. It converts
    source anchors (objectGUID, mS-DS-ConsistencyGuid, immutableId), reads a
    user's anchors from AD, prints a SyncPlan's per-object report (table,
    CSV, JSON, YAML or one HTML page), summarises a tenant's objects
    (status), and signs a Global Administrator in for the operator (login).
  platforms:
YAML
for p in "${platforms[@]}"; do
  os=${p%/*}
  arch=${p#*/}
  bin=kubectl-entramatch
  [[ $os == windows ]] && bin=kubectl-entramatch.exe
  stage=$(mktemp -d)
  (cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags='-s -w' -o "$stage/$bin" ./cmd/entramatch)
  cp "$root/README.md" "$stage/README.md"
  archive="kubectl-entramatch_${os}_${arch}.tar.gz"
  tar -C "$stage" -czf "$out/$archive" "$bin" README.md
  rm -rf "$stage"
  sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
  cat >>"$manifest" <<YAML
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $release/$archive
    sha256: $sum
    bin: $bin
    files:
    - from: $bin
      to: .
    - from: README.md
      to: .
YAML
  echo "$out/$archive" >&2
done
echo "$manifest"
