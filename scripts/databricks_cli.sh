#!/usr/bin/env bash
# Prints the path of the pinned Databricks CLI, building it once per machine if needed.
#
# The CLI is a Go module: `go mod download` fetches the exact release's source from the Go module
# proxy (`go install` of it is refused), `go build` in a writable copy makes the binary. It is cached
# outside the repository (~/.cache/medallion, or MEDALLION_CACHE), so later runs reuse it in a second.
# DATABRICKS_CLI=/path/to/databricks skips all of this (it must report the pinned version).
set -euo pipefail
VERSION="${DATABRICKS_CLI_VERSION:-0.298.0}"
CACHE="${MEDALLION_CACHE:-$HOME/.cache/medallion}"
BIN="$CACHE/databricks-cli-v$VERSION"

reports_version() { "$1" --version 2>/dev/null | grep -q "v$VERSION\$"; }

if [ -n "${DATABRICKS_CLI:-}" ]; then
  reports_version "$DATABRICKS_CLI" || { echo "DATABRICKS_CLI=$DATABRICKS_CLI is not Databricks CLI v$VERSION" >&2; exit 1; }
  echo "$DATABRICKS_CLI"; exit 0
fi
if [ -x "$BIN" ] && reports_version "$BIN"; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || {
  echo "Go is needed once to build Databricks CLI v$VERSION (or set DATABRICKS_CLI to a v$VERSION binary)" >&2
  exit 1
}
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "building Databricks CLI v$VERSION into $BIN (once per machine, a few minutes)" >&2
module="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/databricks/cli@v$VERSION")"
src="$(printf '%s' "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src" ] || { echo "go mod download gave no source folder:" >&2; printf '%s\n' "$module" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && go build -trimpath \
  -ldflags "-X github.com/databricks/cli/internal/build.buildVersion=$VERSION" \
  -o "$work/databricks" . ) >&2
reports_version "$work/databricks" || { echo "the built CLI does not report v$VERSION" >&2; exit 1; }
mv "$work/databricks" "$BIN"
echo "$BIN"
