#!/usr/bin/env bash
# bench/fleet.sh: how long robo fleet status takes to read a thousand hosts'
# reports, and how much it allocates, from a real Samba server on loopback
# and from a local folder (the Go benchmarks in internal/fleet/samba_test.go;
# they start their own smbd through internal/shares/sambatest). See
# docs/performance.md, "Fleet status".
#
#   bench/fleet.sh                      # 10 reads of 1,000 reports each
#   COUNT=3 BENCHTIME=20x bench/fleet.sh
#
# Environment:
#   BENCHTIME  go test -benchtime          (default 10x)
#   COUNT      go test -count              (default 1)
#   ROBO_BENCH_SESSIONS  SMB sessions of the reader (default 2, robo's)
#
# Needs root, samba (smbd, smbpasswd) and go. Results: go test's benchmark
# lines (ns/op, µs/host, B/op, allocs/op) on stdout and in
# bench/out/fleet-<date>.txt, with the machine's load average beside them.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/bench/out
mkdir -p "$OUT"
RESULT=$OUT/fleet-$(date +%Y%m%d-%H%M%S).txt
cd "$REPO"
{
	echo "# bench/fleet.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	ROBO_REQUIRE_SAMBA=1 go test -run '^$' -bench 'FleetRead' -benchmem \
		-benchtime "${BENCHTIME:-10x}" -count "${COUNT:-1}" ./internal/fleet/
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULT"
