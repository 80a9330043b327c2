#!/usr/bin/env bash
# The main job on the local environment: plan, then apply, workspace.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
KFWS=${KFWS:-.venv/bin/kfws}
echo "== environment"
echo "docker:   $DOCKER_HOST"
echo "registry: $KFWS_TEST_REGISTRY (open), $KFWS_TEST_REGISTRY_AUTH (TLS + auth)"
"$KFWS" --version
