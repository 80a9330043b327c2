#!/usr/bin/env bash
# The Kubernetes part of the local environment, all on 127.0.0.1:
#   etcd, kube-apiserver (RBAC + Node authorization), kube-controller-manager, kube-scheduler,
#   all built from Go modules by hack/build-k8s.sh, and KWOK playing the kubelet of two fake
#   nodes, so Deployments get pods that become Running and Ready with no containers.
# Seeds a Kubeflow-like jupyter-web-app in two layouts (1.10 in `kubeflow`, 1.0 in
# `kubeflow-legacy`), the Notebook CRD with notebooks in two profile namespaces
# (hack/k8s/notebooks; KWOK reports each container's imageID), applies kfws's two least-privilege Roles (the writer, deploy/rbac/kfws-role.yaml,
# narrowed to each namespace's web app ConfigMap by name as `kfws rbac` prints it, and the read-only
# one, deploy/rbac/kfws-readonly-role.yaml), and writes an admin, a writer ("restricted") and a
# read-only kubeconfig plus .kfws-env/k8s/env.sh.
#
#   bash hack/env-k8s.sh              start (idempotent: reuses what runs) and seed what is missing
#   bash hack/env-k8s.sh down         stop every process of it (data stays for a warm start)
#   bash hack/env-k8s.sh reseed       put both namespaces back to the pristine seed
#   bash hack/env-k8s.sh stop-part P  stop one part (etcd, kube-apiserver, ... or kubernetes)
#
# Pod and Service IPs are fake and come from documentation ranges (TEST-NET-1/-2): nothing may
# send traffic to them. Nodes' addresses are 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$ROOT/hack/lib.sh"

K8S="$STATE/k8s"
PKI="$K8S/pki"
PORT_ETCD=$((PORT_BASE + 10))
PORT_ETCD_PEER=$((PORT_BASE + 11))
PORT_API=$((PORT_BASE + 12))
PORT_KCM=$((PORT_BASE + 13))
PORT_SCHED=$((PORT_BASE + 14))
PORT_KWOK=$((PORT_BASE + 15))
SERVICE_CIDR=198.51.100.0/24 # TEST-NET-2: fake Service IPs
POD_CIDR=192.0.2.1/24        # TEST-NET-1: fake pod IPs (KWOK hands them out)
NS=kubeflow
NS_LEGACY=kubeflow-legacy
PARTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
ADMIN_KUBECONFIG="$K8S/admin.kubeconfig"
RESTRICTED_KUBECONFIG="$K8S/kfws-restricted.kubeconfig"
READONLY_KUBECONFIG="$K8S/kfws-readonly.kubeconfig"
SEED="$ROOT/hack/k8s/seed"
NOTEBOOKS="$ROOT/hack/k8s/notebooks"

log_of() { echo "$K8S/$1/$1.log"; }
pid_of() { echo "$K8S/$1/$1.pid"; }
alive() { [[ -f $(pid_of "$1") ]] && kill -0 "$(cat "$(pid_of "$1")")" 2>/dev/null; }

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" --request-timeout=30s "$@"; }

# --- stopping -----------------------------------------------------------------------------------
stop_one() { kill_pidfile "$(pid_of "$1")"; }

stop_all() {
  local i
  for ((i = ${#PARTS[@]} - 1; i >= 0; i--)); do stop_one "${PARTS[i]}"; done
  # anything of ours left behind (e.g. a pidfile lost), stopped one by one by its id
  local pid
  for pid in $(our_pids); do kill "$pid" 2>/dev/null || true; done
}

our_pids() {
  # processes of this environment: one of our binaries, with our state folder in its arguments
  local pid exe
  for pid in $(pgrep -f -- "$K8S/" || true); do
    exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) || continue
    case ${exe##*/} in
      etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok) echo "$pid" ;;
    esac
  done
}

# --- build and PKI ------------------------------------------------------------------------------
build() {
  mkdir -p "$K8S"
  local out
  if ! bash "$ROOT/hack/build-k8s.sh" --check >/dev/null 2>&1; then
    echo "kubernetes: building etcd, the control plane, kubectl and KWOK from Go modules (once;" \
      "about 6 minutes on 2 CPUs; log: $K8S/build.log)"
  fi
  out=$(bash "$ROOT/hack/build-k8s.sh" 2>"$K8S/build.log") \
    || fail_part k8s-build "building the control plane from Go modules failed" "$K8S/build.log"
  BIN="$(tail -n 1 <<<"$out")/bin"
  [[ -x $BIN/kube-apiserver && -x $BIN/kubectl ]] \
    || fail_part k8s-build "no binaries in $BIN" "$K8S/build.log"
}

client_cert() { # name CN [O]
  local subj="/CN=$2"
  [[ -n ${3:-} ]] && subj="/O=$3$subj"
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$1.key" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile "$1.ext" -out "$1.crt"
}

make_pki() {
  [[ -f $PKI/.complete ]] && return
  rm -rf "$PKI"
  mkdir -p "$PKI"
  (
    set -e
    cd "$PKI"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kfws local kubernetes CA" \
      -keyout ca.key -out ca.crt
    # the API server's serving certificate: 127.0.0.1, plus the in-cluster names and the first
    # Service IP it would be reached by (never used here, but expected in its certificate)
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' \
      'subjectAltName=IP:127.0.0.1,IP:198.51.100.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local' \
      >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt
    # the key pair ServiceAccount tokens are signed and verified with
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    client_cert admin kfws-admin system:masters
    client_cert controller-manager system:kube-controller-manager
    client_cert scheduler system:kube-scheduler
    # KWOK updates node and pod status for any node it plays: simplest as a cluster admin
    client_cert kwok kwok-controller system:masters
    chmod 644 ca.crt
    touch .complete
  ) >"$K8S/openssl.log" 2>&1 || fail_part k8s-pki "openssl failed" "$K8S/openssl.log"
}

write_kubeconfig() { # file user-name [cert-name | token=TOKEN] [namespace]
  local file=$1 user=$2 cred=$3 ns=${4:-default} auth
  if [[ $cred == token=* ]]; then
    auth="    token: ${cred#token=}"
  else
    auth="    client-certificate-data: $(base64 -w0 <"$PKI/$cred.crt")
    client-key-data: $(base64 -w0 <"$PKI/$cred.key")"
  fi
  (
    umask 077
    cat >"$file.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kfws-local
  cluster:
    server: https://127.0.0.1:$PORT_API
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
$auth
contexts:
- name: $user@kfws-local
  context:
    cluster: kfws-local
    user: $user
    namespace: $ns
current-context: $user@kfws-local
KC
    mv "$file.tmp" "$file"
  )
}

write_component_kubeconfigs() {
  write_kubeconfig "$ADMIN_KUBECONFIG" kfws-admin admin "$NS"
  write_kubeconfig "$K8S/controller-manager.kubeconfig" controller-manager controller-manager
  write_kubeconfig "$K8S/scheduler.kubeconfig" scheduler scheduler
  write_kubeconfig "$K8S/kwok.kubeconfig" kwok kwok
}

# --- starting -----------------------------------------------------------------------------------
STARTED=()
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 && ${#STARTED[@]} -gt 0 ]]; then
    echo "env-k8s: failed; stopping what this run started: ${STARTED[*]}" >&2
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_one "${STARTED[i]}"; done
  fi
  exit $rc
}

ready_etcd() { curl -s --max-time 2 "http://127.0.0.1:$PORT_ETCD/health" | grep -q '"health":"true"'; }
ready_kube-apiserver() {
  [[ $(curl -s --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$PORT_API/readyz") == ok ]]
}
# their serving certificates are self-signed; /healthz is open to anyone by default. They skip
# looking up a front-proxy CA (--authentication-skip-lookup): there is no front proxy here.
ready_kube-controller-manager() { [[ $(curl -sk --max-time 2 "https://127.0.0.1:$PORT_KCM/healthz") == ok ]]; }
ready_kube-scheduler() { [[ $(curl -sk --max-time 2 "https://127.0.0.1:$PORT_SCHED/healthz") == ok ]]; }
ready_kwok() { [[ $(curl -s --max-time 2 "http://127.0.0.1:$PORT_KWOK/healthz") == ok ]]; }

port_of() {
  case $1 in
    etcd) echo "$PORT_ETCD $PORT_ETCD_PEER" ;;
    kube-apiserver) echo "$PORT_API" ;;
    kube-controller-manager) echo "$PORT_KCM" ;;
    kube-scheduler) echo "$PORT_SCHED" ;;
    kwok) echo "$PORT_KWOK" ;;
  esac
}

args_of() {
  case $1 in
    etcd)
      echo --name=kfws-local --data-dir="$K8S/etcd/data" \
        --listen-client-urls="http://127.0.0.1:$PORT_ETCD" \
        --advertise-client-urls="http://127.0.0.1:$PORT_ETCD" \
        --listen-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" \
        --initial-advertise-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" \
        --initial-cluster="kfws-local=http://127.0.0.1:$PORT_ETCD_PEER" \
        --unsafe-no-fsync=true --quota-backend-bytes=2147483648 --log-level=warn
      ;;
    kube-apiserver)
      echo --etcd-servers="http://127.0.0.1:$PORT_ETCD" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT_API" \
        --cert-dir="$K8S/kube-apiserver/certs" \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" \
        --authorization-mode=Node,RBAC \
        --service-account-issuer="https://127.0.0.1:$PORT_API" \
        --service-account-key-file="$PKI/sa.pub" \
        --service-account-signing-key-file="$PKI/sa.key" \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --allow-privileged=false --profiling=false \
        --endpoint-reconciler-type=none
      ;;
    kube-controller-manager)
      echo --kubeconfig="$K8S/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$K8S/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$K8S/controller-manager.kubeconfig" \
        --authentication-skip-lookup=true \
        --bind-address=127.0.0.1 --secure-port="$PORT_KCM" \
        --cert-dir="$K8S/kube-controller-manager/certs" \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --use-service-account-credentials=true \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --allocate-node-cidrs=false --leader-elect=false --profiling=false
      ;;
    kube-scheduler)
      echo --kubeconfig="$K8S/scheduler.kubeconfig" \
        --authentication-kubeconfig="$K8S/scheduler.kubeconfig" \
        --authorization-kubeconfig="$K8S/scheduler.kubeconfig" \
        --authentication-skip-lookup=true \
        --bind-address=127.0.0.1 --secure-port="$PORT_SCHED" \
        --cert-dir="$K8S/kube-scheduler/certs" \
        --leader-elect=false --profiling=false
      ;;
    kwok)
      # its own (empty) config file, so a user's ~/.kwok/kwok.yaml is never read; default stages
      echo --kubeconfig="$K8S/kwok.kubeconfig" --config="$K8S/kwok/kwok.yaml" \
        --manage-all-nodes=false \
        --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
        --cidr="$POD_CIDR" --node-ip=127.0.0.1 --node-port="$PORT_KWOK" \
        --server-address="127.0.0.1:$PORT_KWOK" --node-lease-duration-seconds=40
      ;;
  esac
}

start_part() { # part seconds
  local part=$1 secs=$2 log port
  log=$(log_of "$part")
  if "ready_$part"; then
    if alive "$part"; then echo "$part: already running"; return; fi
    fail_part "$part" "port $(port_of "$part") answers, but not a process this environment started (set KFWS_ENV_PORT_BASE to move all ports)" /dev/null
  fi
  # a process of ours that runs but does not answer: restart it
  stop_one "$part"
  for port in $(port_of "$part"); do
    port_free "$port" || fail_part "$part" "port 127.0.0.1:$port is taken by another process (set KFWS_ENV_PORT_BASE to move all ports)" /dev/null
  done
  mkdir -p "$K8S/$part"
  if [[ $part == kwok ]]; then
    # KWOK's default pod stages, plus an imageID in each container status (hack/k8s/notebooks)
    { printf 'apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n'
      cat "$NOTEBOOKS/kwok-pod-stages.yaml"; } >"$K8S/kwok/kwok.yaml"
  fi
  # shellcheck disable=SC2046 # the arguments hold no spaces
  setsid "$BIN/$part" $(args_of "$part") >"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_of "$part")"
  STARTED+=("$part")
  local i
  for ((i = 0; i < secs * 4; i++)); do
    "ready_$part" && return 0
    alive "$part" || fail_part "$part" "exited while starting" "$log"
    sleep 0.25
  done
  fail_part "$part" "not ready after ${secs}s" "$log"
}

# --- seeding ------------------------------------------------------------------------------------
seed_file() { # layout -> path of the rendered manifests
  local f="$K8S/seed-$1.yaml"
  python3 "$SEED/render.py" "$1" >"$f"
  echo "$f"
}

create_missing() { # namespace file: create what is missing, leave what exists as it is
  local out
  out=$(kubectl_admin -n "$1" create -f "$2" 2>&1) && return 0
  echo "$out" >>"$K8S/seed.log"
  # "created" lines and AlreadyExists errors are fine; any other line is not
  ! grep -vE '(^[a-z.]+/[^ ]+ created$)|AlreadyExists' <<<"$out" | grep -q .
}

configmap_name() { python3 "$SEED/render.py" "$1" --configmap-name; } # layout -> its ConfigMap

apply_rbac() { # namespace layout selector
  # the Roles as `kfws rbac` prints them for this namespace's ConfigMap (kfws/rbac.py is
  # standard-library only, so the system python3 renders them without the virtualenv)
  local cm
  cm=$(configmap_name "$2") || return 1
  {
    PYTHONPATH=$ROOT python3 -m kfws.rbac writer "$cm"
    echo ---
    PYTHONPATH=$ROOT python3 -m kfws.rbac read-only "$cm"
    echo ---
    # the optional ClusterRole (nodes get/list: the architecture check), bound to both
    # identities; its label keeps it out of the legacy namespace's selector
    PYTHONPATH=$ROOT python3 -m kfws.rbac nodes "$cm"
  } >"$K8S/rbac-$1.yaml" || return 1
  kubectl_admin -n "$1" apply -f "$K8S/rbac-$1.yaml" ${3:+-l "$3"} >>"$K8S/seed.log" 2>&1
}

# --- Kubeflow notebooks (hack/k8s/notebooks): the CRD, two profile namespaces, seeded notebooks
seed_notebooks() {
  local f="$K8S/seed-notebooks.yaml" out
  kubectl_admin apply -f "$NOTEBOOKS/notebook-crd.yaml" >>"$K8S/seed.log" 2>&1 || return 1
  kubectl_admin wait --for=condition=Established crd/notebooks.kubeflow.org --timeout=60s \
    >>"$K8S/seed.log" 2>&1 || return 1
  # kfws's usage ClusterRole (`kfws rbac --role usage`), bound to the read-only identity only:
  # the writer identity is the one without it (the ClusterRole-less path is tested with it)
  PYTHONPATH=$ROOT python3 -m kfws.rbac usage "$NS" >"$K8S/rbac-usage.yaml" || return 1
  kubectl_admin apply -f "$K8S/rbac-usage.yaml" >>"$K8S/seed.log" 2>&1 || return 1
  python3 "$NOTEBOOKS/seed.py" "127.0.0.1:$PORT_OPEN" >"$f" 2>>"$K8S/seed.log" || return 1
  out=$(kubectl_admin create -f "$f" 2>&1) && return 0
  echo "$out" >>"$K8S/seed.log"
  ! grep -vE '(^[a-z.]+/[^ ]+ created$)|AlreadyExists' <<<"$out" | grep -q .
}

unseed_notebooks() { # notebooks and StatefulSets a test added in the profile namespaces go
  local ns
  for ns in $(python3 "$NOTEBOOKS/seed.py" --namespaces); do
    kubectl_admin -n "$ns" delete notebooks.kubeflow.org,statefulsets -l '!kfws.test/seed' \
      --wait=false >>"$K8S/seed.log" 2>&1 || return 1
  done
}

seed_base() {
  local ns
  : >"$K8S/seed.log"
  kubectl_admin apply -f "$SEED/nodes.yaml" >>"$K8S/seed.log" 2>&1 \
    || fail_part k8s-seed "creating the KWOK nodes failed" "$K8S/seed.log"
  for ns in "$NS" "$NS_LEGACY"; do
    kubectl_admin create namespace "$ns" --dry-run=client -o yaml 2>>"$K8S/seed.log" \
      | kubectl_admin apply -f - >>"$K8S/seed.log" 2>&1 \
      || fail_part k8s-seed "creating namespace $ns failed" "$K8S/seed.log"
  done
  apply_rbac "$NS" kf1.10 "" || fail_part k8s-rbac "applying the Roles of deploy/rbac/ to $NS failed" "$K8S/seed.log"
  # the same identities manage the legacy namespace: its Roles and RoleBindings only
  apply_rbac "$NS_LEGACY" kf1.0 app.kubernetes.io/component=rbac \
    || fail_part k8s-rbac "applying the Roles of deploy/rbac/ to $NS_LEGACY failed" "$K8S/seed.log"
}

wait_seeded() {
  local ns
  for ns in "$NS" "$NS_LEGACY"; do
    kubectl_admin -n "$ns" rollout status deployment/jupyter-web-app-deployment --timeout=90s \
      >>"$K8S/seed.log" 2>&1 || fail_part k8s-seed "jupyter-web-app in $ns did not become ready (controllers, scheduler, KWOK)" "$K8S/seed.log"
  done
}

workspacekinds() { # up|reseed: the Notebooks 2.0 WorkspaceKind CRD, seeded kind, ClusterRoles
  bash "$ROOT/hack/k8s/workspacekind/seed.sh" "$1" "$BIN/kubectl" "$ADMIN_KUBECONFIG" "$ROOT" \
    "$K8S/seed.log" || fail_part k8s-seed "seeding the WorkspaceKinds failed" "$K8S/seed.log"
}

seed_ensure() {
  seed_base
  create_missing "$NS" "$(seed_file kf1.10)" \
    || fail_part k8s-seed "seeding $NS failed" "$K8S/seed.log"
  create_missing "$NS_LEGACY" "$(seed_file kf1.0)" \
    || fail_part k8s-seed "seeding $NS_LEGACY failed" "$K8S/seed.log"
  workspacekinds up
  seed_notebooks || fail_part k8s-seed "seeding the Kubeflow notebooks failed" "$K8S/seed.log"
  wait_seeded
}

reseed_ns() { # namespace layout: back to the pristine seed, whatever was done to it
  local ns=$1 f keep name
  f=$(seed_file "$2") || return 1
  create_missing "$ns" "$f" || return 1
  # PUT without a resourceVersion: every field back to the seed's (labels, annotations, data,
  # the pod template); the Deployment rolls back if its template was changed
  kubectl_admin -n "$ns" replace -f "$f" >>"$K8S/seed.log" 2>&1 || return 1
  # ConfigMaps that are not part of the seed (backups, re-generated hashed ones), Leases and other
  # Deployments go
  keep=$(python3 "$SEED/render.py" "$2" --configmap-name) || return 1
  for name in $(kubectl_admin -n "$ns" get configmaps -o name); do
    name=${name#configmap/}
    [[ $name == kube-root-ca.crt || $name == "$keep" ]] && continue
    kubectl_admin -n "$ns" delete configmap "$name" --wait=false >>"$K8S/seed.log" 2>&1 || return 1
  done
  kubectl_admin -n "$ns" delete leases --all >>"$K8S/seed.log" 2>&1 || return 1
  # and Deployments a test added beside the web app
  kubectl_admin -n "$ns" delete deployments --field-selector "metadata.name!=jupyter-web-app-deployment" \
    --wait=false >>"$K8S/seed.log" 2>&1 || return 1
}

reseed() {
  build
  ready_kube-apiserver || { echo "env-k8s: the API server is not running; run make env-up" >&2; exit 1; }
  seed_base
  reseed_ns "$NS" kf1.10 || fail_part k8s-seed "re-seeding $NS failed" "$K8S/seed.log"
  reseed_ns "$NS_LEGACY" kf1.0 || fail_part k8s-seed "re-seeding $NS_LEGACY failed" "$K8S/seed.log"
  workspacekinds reseed
  unseed_notebooks || fail_part k8s-seed "removing test notebooks failed" "$K8S/seed.log"
  wait_seeded
  echo "env-k8s: $NS and $NS_LEGACY are back to the pristine seed"
}

# --- the restricted identities ------------------------------------------------------------------
can_i() { # kubeconfig verb resource
  [[ -f $1 ]] && [[ $("$BIN/kubectl" --kubeconfig "$1" --request-timeout=10s auth can-i "$2" "$3" \
    -n "$NS" 2>/dev/null) == yes ]]
}

restricted_works() { # the writer may patch the web app's ConfigMap (by name), and no other
  local cm
  cm=$(configmap_name kf1.10) || return 1
  can_i "$RESTRICTED_KUBECONFIG" patch "configmaps/$cm" \
    && ! can_i "$RESTRICTED_KUBECONFIG" patch configmaps/kube-root-ca.crt
}

readonly_works() { # the read-only identity lists ConfigMaps and patches nothing
  local cm
  cm=$(configmap_name kf1.10) || return 1
  can_i "$READONLY_KUBECONFIG" list configmaps && ! can_i "$READONLY_KUBECONFIG" patch "configmaps/$cm"
}

write_sa_kubeconfig() { # file serviceaccount check
  "$3" && return
  local token
  # a bound token for the ServiceAccount from the TokenRequest API (a year: the environment
  # lives long; it is re-issued whenever it stops working, e.g. after a purge)
  token=$(kubectl_admin -n "$NS" create token "$2" --duration=8760h 2>>"$K8S/seed.log") \
    || fail_part k8s-rbac "TokenRequest for ServiceAccount $NS/$2 failed" "$K8S/seed.log"
  write_kubeconfig "$1" "$2" "token=$token" "$NS"
  "$3" || fail_part k8s-rbac "the kubeconfig of ServiceAccount $NS/$2 does not have the rights of its Role in $NS" "$K8S/seed.log"
}

write_restricted_kubeconfigs() {
  write_sa_kubeconfig "$RESTRICTED_KUBECONFIG" kfws restricted_works
  write_sa_kubeconfig "$READONLY_KUBECONFIG" kfws-readonly readonly_works
}

write_env() {
  cat >"$K8S/env.sh" <<ENV
# Kubernetes (hack/env-k8s.sh)
export KUBECONFIG=$ADMIN_KUBECONFIG
export KFWS_TEST_KUBECONFIG_ADMIN=$ADMIN_KUBECONFIG
export KFWS_TEST_KUBECONFIG_RESTRICTED=$RESTRICTED_KUBECONFIG
export KFWS_TEST_KUBECONFIG_READONLY=$READONLY_KUBECONFIG
export KFWS_TEST_NAMESPACE=$NS
export KFWS_TEST_LEGACY_NAMESPACE=$NS_LEGACY
export KFWS_TEST_PROFILE_NAMESPACES="$(python3 "$NOTEBOOKS/seed.py" --namespaces | tr '\n' ' ')"
export KFWS_TEST_KUBE_API=https://127.0.0.1:$PORT_API
export KFWS_TEST_KUBECTL=$BIN/kubectl
export PATH=$BIN:\$PATH
ENV
}

up() {
  trap on_exit EXIT
  local t0=$SECONDS
  build
  make_pki
  write_component_kubeconfigs
  start_part etcd 30
  start_part kube-apiserver 90
  start_part kube-controller-manager 60
  start_part kube-scheduler 60
  start_part kwok 30
  seed_ensure
  write_restricted_kubeconfigs
  write_env
  STARTED=()
  echo "env-k8s: ready in $((SECONDS - t0))s (API https://127.0.0.1:$PORT_API, kubeconfig $ADMIN_KUBECONFIG)"
}

down() {
  stop_all
  rm -f "$K8S/env.sh"
  sleep 0.5
  local left
  left=$(our_pids)
  if [[ -n $left ]]; then
    echo "env-k8s: still running after down: $left" >&2
    return 1
  fi
  echo "env-k8s: stopped"
}

# one run at a time per state folder (several shells may share one environment)
mkdir -p "$K8S"
exec 9>"$K8S/.lock"
flock -w 300 9 || { echo "env-k8s: another env-k8s run holds $K8S/.lock" >&2; exit 1; }

case ${1:-up} in
  up) up ;;
  down) down ;;
  reseed) reseed ;;
  stop-part)
    case ${2:?part name} in
      kubernetes | k8s) stop_all ;;
      etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok) stop_one "$2" ;;
      *) ;; # not one of ours
    esac
    ;;
  *)
    echo "usage: $0 [up|down|reseed|stop-part NAME]" >&2
    exit 2
    ;;
esac
