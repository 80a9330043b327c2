# Shared by hack/env-up.sh, hack/env-down.sh and hack/env-k8s.sh. Paths and ports in one place.
# shellcheck shell=bash
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
STATE=${KFWS_ENV_DIR:-$ROOT/.kfws-env}
PORT_BASE=${KFWS_ENV_PORT_BASE:-15000}
PORT_OPEN=$((PORT_BASE + 1))
PORT_AUTH=$((PORT_BASE + 2))
AUTH_USER=kfws-test
DOCKER_SOCK="$STATE/docker/docker.sock"
# dockerd's exec-root holds containerd's sockets; unix socket paths are limited to 108 bytes, so
# it lives under /run with a short name derived from the state folder instead of inside it.
EXEC_ROOT="/run/kfws-$(printf '%s' "$STATE" | sha256sum | cut -c1-10)"
export DOCKER_HOST="unix://$DOCKER_SOCK" DOCKER_CONFIG="$STATE/docker-config"

auth_password() {
  # A random password made once per environment, kept in the state folder, never printed.
  local f="$STATE/registry-auth/password"
  if [[ ! -s $f ]]; then
    mkdir -p "$(dirname "$f")"
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$f")
  fi
  cat "$f"
}

file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

docker_ready() { [[ -S $DOCKER_SOCK ]] && docker version >/dev/null 2>&1; }

registry_ready() { # port tls
  if [[ $2 == 1 ]]; then
    # 401 without credentials is the healthy answer of the auth registry
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$STATE/pki/ca.crt" "https://127.0.0.1:$1/v2/") == 401 ]]
  else
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/") == 200 ]]
  fi
}

registry_has() { # port repo tag
  [[ $(curl -s -o /dev/null -w '%{http_code}' -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$1/v2/$2/manifests/$3") == 200 ]]
}

fail_part() { # part message log
  echo "env-up: part '$1' could not start: $2 (log: $3)" >&2
  if [[ -f $3 && $3 != /dev/null ]]; then tail -n 15 "$3" | sed 's/^/    /' >&2; fi
  exit 1
}

wait_for() { # part seconds check-command log
  local part=$1 secs=$2 check=$3 log=$4 i
  for ((i = 0; i < secs * 4; i++)); do
    if eval "$check"; then return 0; fi
    sleep 0.25
  done
  fail_part "$part" "not ready after ${secs}s" "$log"
}

timed() { # label command...
  local label=$1 t0 t1; shift
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN{printf "env-up: %-14s %6.1fs\n", l, b-a}'
}

kill_pidfile() { # pidfile
  [[ -f $1 ]] || return 0
  local pid; pid=$(cat "$1")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

stop_part() {
  case $1 in
    dockerd) kill_pidfile "$STATE/docker/dockerd.pid" ;;
    registry-open) kill_pidfile "$STATE/registry-open/registry.pid" ;;
    registry-auth) kill_pidfile "$STATE/registry-auth/registry.pid" ;;
    buildkit) bash "$ROOT/hack/env-buildkit.sh" stop-part buildkit ;;
    *) [[ -x $ROOT/hack/env-k8s.sh ]] && bash "$ROOT/hack/env-k8s.sh" stop-part "$1" ;;
  esac
}
