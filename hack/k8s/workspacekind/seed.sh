#!/usr/bin/env bash
# The Notebooks 2.0 part of the local cluster (called by hack/env-k8s.sh): the WorkspaceKind CRD,
# the seeded kind `jupyterlab` with its status set through the status subresource (as the
# controller would: there is none here), and kfws's WorkspaceKind ClusterRoles bound to the
# environment's two ServiceAccounts, as `kfws rbac --workspacekinds` prints them.
#
#   seed.sh up KUBECTL KUBECONFIG ROOT LOG      create what is missing
#   seed.sh reseed KUBECTL KUBECONFIG ROOT LOG  the kind back to the seed (deleted and created
#                                               again, so no field manager of a test is left),
#                                               and kfws's backups of it gone
set -euo pipefail
MODE=$1 KUBECTL=$2 KUBECONFIG_ADMIN=$3 ROOT=$4 LOG=$5
HERE="$ROOT/hack/k8s/workspacekind"
KINDS=(jupyterlab)
NS=kubeflow # where kfws keeps its backups (the workspaces' cluster.namespace)
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_ADMIN" --request-timeout=30s "$@" >>"$LOG" 2>&1; }

crd() {
  k apply --server-side --field-manager=kfws-env -f "$HERE/crd.yaml"
  k wait --for=condition=Established --timeout=60s crd/workspacekinds.kubeflow.org
}

rbac() { # kfws/rbac.py is standard-library only: the system python3 renders it
  local f
  f="$(dirname "$LOG")/rbac-workspacekinds.yaml"
  PYTHONPATH=$ROOT python3 -m kfws.rbac workspacekinds "${KINDS[@]}" >"$f"
  k apply -f "$f"
}

status() { # what the controller would report: which values are in use
  k patch workspacekind "$1" --subresource=status --type=merge --patch-file "$HERE/$1-status.yaml"
}

kind_up() { # create the kind and its status if it is missing
  if ! k get workspacekind "$1"; then
    k create -f "$HERE/$1.yaml"
    status "$1"
  fi
}

kind_reseed() {
  k delete workspacekind "$1" --ignore-not-found --wait=true
  k -n "$NS" delete configmap "kfws-backup-workspacekind-$1" --ignore-not-found
  k create -f "$HERE/$1.yaml"
  status "$1"
}

crd
case $MODE in
  up) for kind in "${KINDS[@]}"; do kind_up "$kind"; done ;;
  reseed) for kind in "${KINDS[@]}"; do kind_reseed "$kind"; done ;;
  *) echo "usage: $0 up|reseed KUBECTL KUBECONFIG ROOT LOG" >&2; exit 2 ;;
esac
rbac
