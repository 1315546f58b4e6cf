#!/usr/bin/env bash
# bench/screenshots.sh: regenerate the dashboard screenshots in docs/
# (docs/dashboard-*.png, referenced from docs/api.md).
#
#   bench/screenshots.sh           # writes docs/dashboard-{390,1280}-{light,dark}.png, dashboard-{set,log}-{1280-light,390-dark}.png
#   OUT=/tmp/shots bench/screenshots.sh
#
# They are taken by TestBrowserPages (internal/web/browser_test.go) in
# headless Chromium (/usr/bin/chromium), of the demo fleet that
# internal/web/demo_test.go seeds: five sets (ok, failing, running, stale,
# never run) with up to five weeks of runs recorded as robo watch records
# them, and run logs written by the native engine's log writer. The clock
# is fixed (2026-11-26 14:05 UTC) so the pictures only change when the
# pages do. The same test fails if any page is wider than the window at
# 390 px, so a screenshot run is also the layout check.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/docs}
mkdir -p "$OUT"
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
TZ=UTC ROBO_REQUIRE_CHROMIUM=1 ROBO_SCREENSHOTS="$OUT" "$GO" test -count=1 -run '^TestBrowserPages$' ./internal/web
ls -l "$OUT"/dashboard-*.png
