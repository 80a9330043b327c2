#!/usr/bin/env bash
# The main job on the local environment: plan, then apply, workspace.yaml (apply checks every
# offered image against the Kubeflow contract before the spawner offers it); then plan again to
# show that nothing is left to do, and end with every offered image passing the check again. Expects .kfws-env/env.sh to be sourced (make demo does).
set -euo pipefail
cd "$(dirname "$0")/.."
KFWS=${KFWS:-.venv/bin/kfws}
echo "== kfws $("$KFWS" --version | cut -d' ' -f2) against the local environment"
echo "   docker $DOCKER_HOST, registry $KFWS_TEST_REGISTRY, cluster ${KUBECONFIG:-<none>}"
echo
echo "== kfws validate"
"$KFWS" validate -f workspace.yaml
echo
echo "== kfws plan --out .kfws-env/demo-plan.json"
"$KFWS" plan -f workspace.yaml --out .kfws-env/demo-plan.json
echo
echo "== kfws apply .kfws-env/demo-plan.json"
"$KFWS" apply .kfws-env/demo-plan.json -f workspace.yaml
echo
echo "== kfws plan --detailed-exitcode (expect: no changes, exit 0)"
"$KFWS" plan -f workspace.yaml --detailed-exitcode
echo
echo "== kfws check --force (every offered image, run as Kubeflow would, checked again)"
"$KFWS" check -f workspace.yaml --force
