#!/usr/bin/env bash
# Builds buildkitd and buildctl from the github.com/moby/buildkit Go module into a cache folder
# outside the clone (next to the Kubernetes binaries of hack/build-k8s.sh).
# `go install github.com/moby/buildkit/cmd/buildkitd@v` is refused (buildkit's go.mod has
# `exclude` directives), so we build from a small wrapper module whose tools.go imports both
# commands; `go mod tidy` then resolves buildkit's dependencies as its own go.mod pins them.
# Idempotent: a complete cache (.complete and both binaries) is reused as it is.
# `build-buildkit.sh --check` exits 0 (and prints the folder) when the cache is complete, else 1.
set -euo pipefail

BUILDKIT_VERSION="${KFWS_BUILDKIT_VERSION:-v0.34.2}"
CACHE_ROOT="${KFWS_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfws-testenv}"
OUT="$CACHE_ROOT/buildkit-$BUILDKIT_VERSION"

complete() { [[ -f $OUT/.complete && -x $OUT/bin/buildkitd && -x $OUT/bin/buildctl ]]; }
if complete; then
  echo "$OUT"
  exit 0
fi
[[ ${1:-} == --check ]] && exit 1
rm -f "$OUT/.complete"

command -v go >/dev/null || { echo "build-buildkit: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }

work="$OUT.work"
rm -rf "$work"
mkdir -p "$work" "$OUT/bin"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
(
  cd "$work"
  printf 'module kfws.local/testenv-buildkit\n\ngo 1.24\n' >go.mod
  cat >tools.go <<'GO'
//go:build tools

// Package tools only pins the commands this module builds.
package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
GO
  go get "github.com/moby/buildkit@$BUILDKIT_VERSION"
  go mod tidy
  # static (CGO off): no libseccomp; buildkitd relies on runc for the sandbox of RUN steps
  go build -ldflags "-s -w" -o "$OUT/bin/" \
    github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
)
rm -rf "$work"
touch "$OUT/.complete"
echo "$OUT"
