#!/usr/bin/env bash
# Builds kube-apiserver and etcd from source (no prebuilt downloads reach these
# machines) and caches them under bin/k8s/<version>/, with the kubectl of the
# same version (the kubectl plugin's test runs it). Prints the directory.
# The Kubernetes version is the one hack/envtest/go.mod requires; a new
# version gets a new directory, an existing one is reused as is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mod="$root/hack/envtest"
version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$mod/go.mod")
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$mod/go.mod")
out="$root/bin/k8s/$version-etcd$etcd"
log() { echo "envtest: $*" >&2; }
if [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; then
  if [[ ! -x "$out/kubectl" ]]; then
    log "building kubectl $version from source (one time, about a minute)"
    ( cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl )
    mv "$out/kubectl.tmp" "$out/kubectl"
  fi
  echo "$out"
  exit 0
fi
mkdir -p "$out.tmp"
log "building kube-apiserver $version and etcd $etcd from source (one time, ~10 minutes on 2 cores)"
cd "$mod"
export CGO_ENABLED=0
start=$(date +%s)
( cd "$mod" && go build -trimpath -ldflags='-s -w' -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3 ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do sleep 30; kill -0 "$pid" 2>/dev/null && log "etcd still building ($(( $(date +%s) - start ))s)"; done
wait "$pid"
log "etcd built in $(( $(date +%s) - start ))s"
( cd "$mod" && go build -trimpath -ldflags='-s -w' -o "$out.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do sleep 30; kill -0 "$pid" 2>/dev/null && log "kube-apiserver still building ($(( $(date +%s) - start ))s)"; done
wait "$pid"
log "kube-apiserver built in $(( $(date +%s) - start ))s total"
( cd "$mod" && go build -trimpath -ldflags='-s -w' -o "$out.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl )
log "kubectl built in $(( $(date +%s) - start ))s total"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
