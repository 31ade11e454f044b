#!/usr/bin/env bash
# Headless Chromium for the dashboard preview tests (tests/integration/test_dashboard_preview.py):
# Debian's package, installed once when missing (needs root, as on the CI runner).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed: the dashboard preview tests need it (Debian: apt-get install chromium)" >&2
  exit 0
fi
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
chromium --version 2>/dev/null | tail -1
