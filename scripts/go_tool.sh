#!/usr/bin/env bash
# Prints the path of a pinned Go tool, installing it once per machine: scripts/go_tool.sh <module/cmd/x> <version>
# Installed with `go install` into ~/.cache/medallion/bin/<name>-<version> (or MEDALLION_CACHE).
set -euo pipefail
package="$1"; version="$2"
CACHE="${MEDALLION_CACHE:-$HOME/.cache/medallion}"
name="$(basename "$package")"
bin="$CACHE/bin/$name-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "Go is needed once to install $name $version" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/go-tool.XXXXXX")"
trap 'rm -rf "$work"' EXIT
GOBIN="$work" go install "$package@$version" >&2
mkdir -p "$CACHE/bin"
mv "$work/$name" "$bin"
echo "$bin"
