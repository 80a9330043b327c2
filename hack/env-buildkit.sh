#!/usr/bin/env bash
# The BuildKit part of the local environment, all on 127.0.0.1:
#   buildkitd (built from the Go module by hack/build-buildkit.sh; runc from Debian) with the OCI
#   worker on the host network (dockerd here has no bridge either), its root and unix socket
#   under .kfws-env/buildkit/, trusting the TLS registry's CA and talking plain HTTP to the open
#   one; and a second buildkitd on a loopback TCP port with mutual TLS (certificates made here
#   with openssl), the "remote builder" the env tests drive.
# Writes .kfws-env/buildkit/env.sh (BUILDKIT_HOST and the remote builder's address and certs).
#
#   bash hack/env-buildkit.sh              start (idempotent: reuses what runs)
#   bash hack/env-buildkit.sh down         stop both daemons (their caches stay for a warm start)
#   bash hack/env-buildkit.sh stop-part P  stop one part (buildkitd, buildkitd-tcp or buildkit)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$ROOT/hack/lib.sh"

BK="$STATE/buildkit"
PORT_BUILDKIT_TCP=$((PORT_BASE + 30))
SOCK="$BK/local/buildkitd.sock"
TLS="$BK/tls"

daemon_dir() { echo "$BK/$1"; }
alive() { [[ -f $BK/$1/buildkitd.pid ]] && kill -0 "$(cat "$BK/$1/buildkitd.pid")" 2>/dev/null; }

buildctl_ok() { # name address [tls flags...]
  local addr=$2
  shift 2
  "$BIN/buildctl" --addr "$addr" "$@" debug workers >/dev/null 2>&1
}

ensure_binaries() {
  if ! bash "$ROOT/hack/build-buildkit.sh" --check >/dev/null 2>&1; then
    echo "buildkit: building buildkitd and buildctl from Go modules (once; about 4 minutes on" \
      "2 CPUs; log: $BK/build.log)"
  fi
  local out
  out=$(bash "$ROOT/hack/build-buildkit.sh" 2>"$BK/build.log") \
    || fail_part buildkit-build "building buildkitd from Go modules failed" "$BK/build.log"
  BIN="$out/bin"
  if ! command -v runc >/dev/null; then
    echo "env-up: installing Debian packages: runc"
    [[ $(id -u) -eq 0 ]] || fail_part packages "run as root, or install: runc" /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc \
      >"$BK/apt.log" 2>&1 || fail_part packages "apt-get install runc failed" "$BK/apt.log"
  fi
}

make_tls() {
  # A CA of its own for the builder (not the registry's), a server certificate for 127.0.0.1
  # and a client certificate: buildkitd refuses clients without one (mutual TLS).
  [[ -f $TLS/client/key.pem && -f $TLS/server/key.pem ]] && return
  mkdir -p "$TLS/server" "$TLS/client"
  (
    umask 077
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kfws local buildkit CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server/key.pem -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.cnf -out server/cert.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kfws-client" -keyout client/key.pem -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.cnf
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.cnf -out client/cert.pem
    cp ca.pem server/ca.pem
    cp ca.pem client/ca.pem
  ) >"$BK/openssl.log" 2>&1 || fail_part buildkit-tls "openssl failed" "$BK/openssl.log"
}

write_config() { # name address
  local dir; dir=$(daemon_dir "$1")
  mkdir -p "$dir/root"
  {
    echo "# written by hack/env-buildkit.sh"
    echo "root = \"$dir/root\""
    echo "[grpc]"
    echo "  address = [\"$2\"]"
    if [[ $2 == tcp://* ]]; then
      echo "  [grpc.tls]"
      echo "    cert = \"$TLS/server/cert.pem\""
      echo "    key = \"$TLS/server/key.pem\""
      echo "    ca = \"$TLS/server/ca.pem\""
    fi
    echo "[otel]"
    echo "  socketPath = \"$dir/otel.sock\""
    echo "[worker.oci]"
    echo "  enabled = true"
    echo "  snapshotter = \"overlayfs\""
    echo "  binary = \"$(command -v runc)\""
    echo "  # keep the local cache small: the registry cache is the one meant to be shared"
    echo "  gc = true"
    echo "  gckeepstorage = \"10GB\""
    echo "[worker.containerd]"
    echo "  enabled = false"
    echo "[registry.\"127.0.0.1:$PORT_OPEN\"]"
    echo "  http = true"
    echo "[registry.\"127.0.0.1:$PORT_AUTH\"]"
    echo "  http = false  # buildkitd speaks plain HTTP to a loopback registry unless told"
    echo "  ca = [\"$STATE/pki/ca.crt\"]"
  } >"$dir/buildkitd.toml.new"
}

start_daemon() { # name address [buildctl tls flags...]
  local name=$1 addr=$2 dir
  shift 2
  dir=$(daemon_dir "$name")
  mkdir -p "$dir"
  write_config "$name" "$addr"
  if cmp -s "$dir/buildkitd.toml.new" "$dir/buildkitd.toml" && alive "$name" \
    && buildctl_ok "$name" "$addr" "$@"; then
    rm -f "$dir/buildkitd.toml.new"
    echo "buildkitd-$name: already running ($addr)"
    return
  fi
  stop_one "$name" # a changed configuration (or a daemon that doesn't answer): start afresh
  mv "$dir/buildkitd.toml.new" "$dir/buildkitd.toml"
  if [[ $addr == tcp://* ]]; then
    port_free "$PORT_BUILDKIT_TCP" || fail_part "buildkitd-$name" "port 127.0.0.1:$PORT_BUILDKIT_TCP is taken by another process (set KFWS_ENV_PORT_BASE to move all ports)" /dev/null
  fi
  # --oci-worker-net=host: RUN steps use the host network (no bridge or CNI here).
  # network.host: builds that ask for the host network explicitly (build: {network: host}).
  setsid "$BIN/buildkitd" --config "$dir/buildkitd.toml" --oci-worker-net=host \
    --allow-insecure-entitlement network.host \
    >"$dir/buildkitd.log" 2>&1 </dev/null 8>&- &
  echo $! >"$dir/buildkitd.pid"
  STARTED+=("$name")
  wait_for "buildkitd-$name" 60 "buildctl_ok $name $addr $*" "$dir/buildkitd.log"
  echo "buildkitd-$name: started ($addr)"
}

write_env() {
  cat >"$BK/env.sh" <<ENV
# the BuildKit daemons (hack/env-buildkit.sh)
export PATH=$BIN:\$PATH
export BUILDKIT_HOST=unix://$SOCK
export KFWS_TEST_BUILDKITD=$BIN/buildkitd
export KFWS_TEST_BUILDKIT_TCP=tcp://127.0.0.1:$PORT_BUILDKIT_TCP
export KFWS_TEST_BUILDKIT_TLS_DIR=$TLS/client
ENV
}

up() {
  mkdir -p "$BK"
  STARTED=()
  trap 'rc=$?; if [[ $rc -ne 0 ]]; then for p in "${STARTED[@]}"; do stop_one "$p"; done; fi' EXIT
  ensure_binaries
  make_tls
  start_daemon local "unix://$SOCK"
  start_daemon tcp "tcp://127.0.0.1:$PORT_BUILDKIT_TCP" --tlsdir "$TLS/client" --tlsservername 127.0.0.1
  write_env
  STARTED=()
}

stop_one() { kill_pidfile "$BK/$1/buildkitd.pid"; }

down() {
  stop_one tcp
  stop_one local
  rm -f "$BK/env.sh"
  echo "env-buildkit: stopped"
}

mkdir -p "$BK"
exec 8>"$BK/.lock"
flock -w 300 8 || { echo "env-buildkit: another run holds $BK/.lock" >&2; exit 1; }

case ${1:-up} in
  up) up ;;
  down) down ;;
  stop-part)
    case ${2:?part name} in
      buildkit) down ;;
      buildkitd) stop_one local ;;
      buildkitd-tcp) stop_one tcp ;;
      *) ;;
    esac
    ;;
  *)
    echo "usage: $0 [up|down|stop-part NAME]" >&2
    exit 2
    ;;
esac
