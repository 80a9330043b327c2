#!/usr/bin/env bash
# Stops everything hack/env-up.sh started. Keeps built binaries (outside the clone) and, unless
# --purge is given, the state folder's data; removes the registry CA it trusted.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/hack/lib.sh"
if [[ -x $ROOT/hack/env-k8s.sh ]]; then bash "$ROOT/hack/env-k8s.sh" down || true; fi
bash "$ROOT/hack/env-buildkit.sh" down || true
stop_part registry-auth
stop_part registry-open
stop_part dockerd
# containerd started by dockerd exits with it; make sure nothing of ours is left
pkill -f "containerd.*$EXEC_ROOT" 2>/dev/null || true
rm -rf "/etc/docker/certs.d/127.0.0.1:$PORT_AUTH"
rm -f "$STATE/env.sh"
if [[ ${1:-} == --purge ]]; then
  umount "$STATE"/docker/data/overlay2/*/merged 2>/dev/null || true
  rm -rf "$STATE" "$EXEC_ROOT"
fi
echo "env-down: stopped"
