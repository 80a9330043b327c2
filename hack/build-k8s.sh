#!/usr/bin/env bash
# Builds the local test cluster's binaries from Go modules into a cache folder outside the clone:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes)
#   and kwok.
# k8s.io/kubernetes replaces its k8s.io/* staging modules with local paths, so `go install ...@v`
# is refused; we build from a small wrapper module that points each staging module at its
# published v0.X.Y instead (the approach discussed in kubernetes/kubernetes#79384).
# Idempotent: a complete cache (marked by .complete, every binary present) is reused as it is; a
# cache missing a binary (e.g. one made before kubectl was added) gets only what it lacks.
# `build-k8s.sh --check` exits 0 (and prints the folder) when the cache is complete, else 1.
set -euo pipefail

K8S_VERSION="${KFWS_K8S_VERSION:-v1.34.4}"
KWOK_VERSION="${KFWS_KWOK_VERSION:-v0.7.0}"
CACHE_ROOT="${KFWS_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfws-testenv}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION-kwok-$KWOK_VERSION"

K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing() { [[ ! -x "$OUT/bin/$1" ]]; }
all_there() {
  local b
  for b in "${K8S_BINS[@]}" etcd kwok; do missing "$b" && return 1; done
  return 0
}
if [[ -f "$OUT/.complete" ]] && all_there; then
  echo "$OUT"
  exit 0
fi
# --check: only say whether the cache is complete (exit 0 above) or not
[[ ${1:-} == --check ]] && exit 1
rm -f "$OUT/.complete"

command -v go >/dev/null || { echo "build-k8s: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }

staging_minor="v0.${K8S_VERSION#v1.}"   # v1.34.4 -> v0.34.4
work="$OUT.work"
rm -rf "$work"
mkdir -p "$work/k8s" "$work/kwok" "$OUT/bin"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

# --- Kubernetes control plane and etcd -------------------------------------------------------
k8s_dir=$(cd "$work/k8s" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit("go mod download: " + d.get("Error", "no module folder")))')
{
  echo "module kfws.local/testenv-k8s"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  # every `k8s.io/<x> => ./staging/src/k8s.io/<x>` becomes `k8s.io/<x> => k8s.io/<x> v0.X.Y`
  grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$k8s_dir/go.mod" \
    | awk -v v="$staging_minor" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > "$work/k8s/go.mod"
todo=()
for b in "${K8S_BINS[@]}"; do missing "$b" && todo+=("k8s.io/kubernetes/cmd/$b"); done
if ((${#todo[@]})) || missing etcd; then
(
  cd "$work/k8s"
  go mod download k8s.io/kubernetes
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
         "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
         "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION" \
         "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION"
  if ((${#todo[@]})); then
    go build -trimpath -ldflags "-s -w" -o "$OUT/bin/" "${todo[@]}"
  fi
  # etcd's server module has a main package; k8s.io/kubernetes already requires (and so pins)
  # its version, which is the one this API server is tested with. No `go get` here: an unversioned
  # get would upgrade etcd and, with it, grpc under the API server.
  if missing etcd; then
    go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3
  fi
)
fi

# --- KWOK ---------------------------------------------------------------------------------------
missing kwok && (
  cd "$work/kwok"
  printf 'module kfws.local/testenv-kwok\n\ngo 1.24\n' > go.mod
  go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$OUT/bin/kwok" sigs.k8s.io/kwok/cmd/kwok
)

rm -rf "$work"
touch "$OUT/.complete"
echo "$OUT"
