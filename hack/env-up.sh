#!/usr/bin/env bash
# Brings up the local environment kfws is tested and demonstrated against, all on 127.0.0.1:
#   dockerd (no bridge network), an open registry, a TLS + htpasswd registry, base images,
#   buildkitd (hack/env-buildkit.sh), and (hack/env-k8s.sh) a Kubernetes control plane with KWOK nodes and a Kubeflow-like target.
# State lives in .kfws-env/ (git-ignored). Idempotent: what already runs is reused.
# On failure it names the part and its log, and stops whatever this run started.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$ROOT/hack/lib.sh"

mkdir -p "$STATE"
STARTED_THIS_RUN=()
on_fail() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "env-up: failed; stopping what this run started: ${STARTED_THIS_RUN[*]:-nothing}" >&2
    for part in "${STARTED_THIS_RUN[@]}"; do stop_part "$part" || true; done
  fi
  exit $rc
}
trap on_fail EXIT

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  [[ -x /bin/busybox ]] && /bin/busybox --list >/dev/null 2>&1 && file_is_static /bin/busybox \
    || missing+=(busybox-static)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  if ((${#missing[@]})); then
    echo "env-up: installing Debian packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then fail_part packages "run as root, or install: ${missing[*]}" /dev/null; fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$STATE/apt.log" 2>&1 \
      || fail_part packages "apt-get update failed" "$STATE/apt.log"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >>"$STATE/apt.log" 2>&1 || fail_part packages "apt-get install failed" "$STATE/apt.log"
  fi
}

start_dockerd() {
  local dir="$STATE/docker"
  if docker_ready; then echo "dockerd: already running ($DOCKER_SOCK)"; return; fi
  mkdir -p "$dir/data" "$EXEC_ROOT"
  printf '{}\n' >"$dir/daemon.json"
  # --bridge=none: no docker0 on a private range; builds use the host network instead.
  setsid dockerd \
    --config-file "$dir/daemon.json" \
    --host "unix://$DOCKER_SOCK" \
    --data-root "$dir/data" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$dir/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    --userland-proxy=false \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  STARTED_THIS_RUN+=(dockerd)
  wait_for dockerd 60 docker_ready "$dir/dockerd.log"
}

write_registry_config() { # name port tls(0/1)
  local name=$1 port=$2 tls=$3 dir="$STATE/registry-$1"
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: info}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $dir/data}"
    # the open registry allows manifest deletes (`kfws prune --yes`); the TLS one keeps the
    # distribution registry's default (refused with 405), so that path is tested for real
    if [[ $tls == 0 ]]; then echo "  delete: {enabled: true}"; fi
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: kfws-local-$name"
    if [[ $tls == 1 ]]; then
      echo "  tls: {certificate: $STATE/pki/registry.crt, key: $STATE/pki/registry.key}"
      echo "auth:"
      echo "  htpasswd: {realm: kfws-local, path: $dir/htpasswd}"
    fi
  } >"$dir/config.yml.new"
}

make_pki() {
  local pki="$STATE/pki"
  [[ -f $pki/registry.crt && -f $pki/ca.crt ]] && return
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kfws local test CA" \
      -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout registry.key -out registry.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile ext.cnf -out registry.crt
  ) >"$pki/openssl.log" 2>&1 || fail_part pki "openssl failed" "$pki/openssl.log"
}

start_registry() { # name port tls
  local name=$1 port=$2 tls=$3 dir="$STATE/registry-$1"
  write_registry_config "$name" "$port" "$tls"
  if registry_ready "$port" "$tls"; then
    if cmp -s "$dir/config.yml.new" "$dir/config.yml"; then
      rm -f "$dir/config.yml.new"
      echo "registry-$name: already running (127.0.0.1:$port)"; return
    fi
    # running with an older configuration of ours: restart it with this one (data is kept)
    echo "registry-$name: configuration changed; restarting it"
    kill_pidfile "$dir/registry.pid"
  fi
  port_free "$port" || fail_part "registry-$name" "port 127.0.0.1:$port is taken by another process (set KFWS_ENV_PORT_BASE to move all ports)" /dev/null
  mv "$dir/config.yml.new" "$dir/config.yml"
  if [[ $tls == 1 ]]; then
    [[ -f $dir/htpasswd ]] || htpasswd -Bbc "$dir/htpasswd" "$AUTH_USER" "$(auth_password)" 2>/dev/null
  fi
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/registry.pid"
  STARTED_THIS_RUN+=("registry-$name")
  wait_for "registry-$name" 30 "registry_ready $port $tls" "$dir/registry.log"
}

trust_auth_registry() {
  # dockerd reads a registry's CA from /etc/docker/certs.d/<host:port>/ca.crt (fixed path).
  mkdir -p "/etc/docker/certs.d/127.0.0.1:$PORT_AUTH"
  cp "$STATE/pki/ca.crt" "/etc/docker/certs.d/127.0.0.1:$PORT_AUTH/ca.crt"
  # The Docker config kfws and dockerd's client read credentials from (never printed).
  mkdir -p "$STATE/docker-config"
  python3 - "$STATE/docker-config/config.json" "127.0.0.1:$PORT_AUTH" "$AUTH_USER" "$(auth_password)" <<'PY'
import base64, json, os, sys
path, host, user, password = sys.argv[1:]
token = base64.b64encode(f"{user}:{password}".encode()).decode()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"auths": {host: {"auth": token}}}, f, indent=2)
PY
}

build_base_images() {
  # No image can be pulled here: make our own notebook-like base FROM scratch with busybox.
  local tag="127.0.0.1:$PORT_OPEN/kfws-base/notebook:busybox"
  # rebuilt whenever hack/base-image/ changes (the marker holds the folder's hash)
  local want; want=$(cat "$ROOT"/hack/base-image/* | sha256sum | cut -d' ' -f1)
  if [[ $(cat "$STATE/base-image.done" 2>/dev/null) == "$want" ]] && registry_has "$PORT_OPEN" kfws-base/notebook busybox; then
    echo "base image: already in the registry ($tag)"; return
  fi
  local ctx="$STATE/base-image"
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$ROOT"/hack/base-image/* "$ctx/"
  cp /bin/busybox "$ctx/busybox"
  docker build --network host -t "$tag" "$ctx" >"$STATE/base-image.log" 2>&1 \
    || fail_part base-image "docker build failed" "$STATE/base-image.log"
  docker push "$tag" >>"$STATE/base-image.log" 2>&1 \
    || fail_part base-image "docker push failed" "$STATE/base-image.log"
  # the same base in the authenticated registry, so builds FROM a private registry are tested too
  local auth_tag="127.0.0.1:$PORT_AUTH/kfws-base/notebook:busybox"
  docker tag "$tag" "$auth_tag"
  docker push "$auth_tag" >>"$STATE/base-image.log" 2>&1 \
    || fail_part base-image "docker push to the auth registry failed" "$STATE/base-image.log"
  echo "$want" >"$STATE/base-image.done"
}

build_python_base() {
  # A Debian base with python3 + pip (for images that pip- or apt-install), from debootstrap.
  # The rootfs tarball is cached outside the clone, like the Kubernetes binaries.
  local tag="127.0.0.1:$PORT_OPEN/kfws-base/python:bookworm"
  # rebuilt whenever hack/base-python/ changes (the marker holds the folder's hash)
  local want; want=$(cat "$ROOT"/hack/base-python/* | sha256sum | cut -d' ' -f1)
  if [[ $(cat "$STATE/base-python.done" 2>/dev/null) == "$want" ]] && registry_has "$PORT_OPEN" kfws-base/python bookworm; then
    echo "python base image: already in the registry ($tag)"; return
  fi
  local cache="${KFWS_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfws-testenv}"
  local tarball="$cache/debian-bookworm-python-minbase.tar" log="$STATE/base-python.log"
  mkdir -p "$cache"
  if [[ ! -f $tarball ]]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends debootstrap >"$log" 2>&1 || fail_part base-python "installing debootstrap failed" "$log"
    local mirror
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    local rootfs="$STATE/rootfs-python"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-pip,sudo,ca-certificates \
      bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >>"$log" 2>&1 \
      || fail_part base-python "debootstrap failed" "$log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  docker import "$tarball" kfws-local/debian-rootfs:bookworm >>"$log" 2>&1 \
    || fail_part base-python "docker import failed" "$log"
  local ctx="$STATE/base-python-ctx"
  rm -rf "$ctx"; mkdir -p "$ctx/extra-ca"
  cp "$ROOT"/hack/base-python/* "$ctx/"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
  docker build --network host -t "$tag" "$ctx" >>"$log" 2>&1 \
    || fail_part base-python "docker build failed" "$log"
  docker push "$tag" >>"$log" 2>&1 || fail_part base-python "docker push failed" "$log"
  echo "$want" >"$STATE/base-python.done"
}

write_env_sh() {
  cat >"$STATE/env.sh" <<ENV
# Written by hack/env-up.sh: source it to talk to the local environment.
# the ports it was started on: the tests' reseeds (hack/env-k8s.sh) must find this one
export KFWS_ENV_PORT_BASE=$PORT_BASE
export DOCKER_HOST=unix://$DOCKER_SOCK
export DOCKER_CONFIG=$STATE/docker-config
export KFWS_TEST_REGISTRY=127.0.0.1:$PORT_OPEN
export KFWS_TEST_REGISTRY_AUTH=127.0.0.1:$PORT_AUTH
export KFWS_TEST_CA_FILE=$STATE/pki/ca.crt
export KFWS_TEST_REGISTRY_AUTH_HTPASSWD=$STATE/registry-auth/htpasswd
export KFWS_TEST_BASE_IMAGE=127.0.0.1:$PORT_OPEN/kfws-base/notebook:busybox
export KFWS_TEST_PYTHON_BASE_IMAGE=127.0.0.1:$PORT_OPEN/kfws-base/python:bookworm
# the contract check's prober (sh + wget): the busybox base, since nothing can be pulled here
export KFWS_PROBE_IMAGE=127.0.0.1:$PORT_OPEN/kfws-base/notebook:busybox
ENV
  if [[ -f $STATE/k8s/env.sh ]]; then cat "$STATE/k8s/env.sh" >>"$STATE/env.sh"; fi
  if [[ -f $STATE/buildkit/env.sh ]]; then cat "$STATE/buildkit/env.sh" >>"$STATE/env.sh"; fi
}

timed packages ensure_packages
timed dockerd start_dockerd
timed pki make_pki
timed registry-open start_registry open "$PORT_OPEN" 0
timed registry-auth start_registry auth "$PORT_AUTH" 1
timed trust trust_auth_registry
timed base-image build_base_images
timed base-python build_python_base
if [[ ${KFWS_ENV_NO_BUILDKIT:-0} != 1 ]]; then
  timed buildkit bash "$ROOT/hack/env-buildkit.sh"
fi
if [[ ${KFWS_ENV_NO_K8S:-0} != 1 ]]; then
  timed kubernetes bash "$ROOT/hack/env-k8s.sh"
fi
write_env_sh
STARTED_THIS_RUN=()
echo "env-up: ready; source $STATE/env.sh"
