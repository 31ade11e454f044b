#!/usr/bin/env bash
# Prints the path of a working Python of the version Databricks runs (3.12 by default), or nothing.
# Looks on PATH first, then in pyenv's versions (a pyenv shim fails when 3.12 is not its global version).
set -u
want="${1:-3.12}"
candidates=("python$want")
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for dir in "$root"/versions/"$want"*/bin; do candidates+=("$dir/python$want"); done
candidates+=("/usr/bin/python$want" "/usr/local/bin/python$want")
for exe in "${candidates[@]}"; do
  path="$(command -v "$exe" 2>/dev/null)" || continue
  version="$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue
  if [ "$version" = "$want" ]; then echo "$path"; exit 0; fi
done
exit 1
