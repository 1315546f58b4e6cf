#!/usr/bin/env bash
# The crash harness at full size: kill `robo apply` with SIGKILL at random
# moments, TRIALS times (default 200; each trial kills twice, then checks
# that the next apply converges). See TestCrashHarness in
# cmd/robo/crash_test.go and docs/safety.md. A failure names its trial and
# kill delays; replay the run with ROBO_CRASH_SEED=<seed from the first line>.
#
#   bench/crash.sh        # 200 trials, about 2 minutes
#   bench/crash.sh 1000
set -euo pipefail
cd "$(dirname "$0")/.."
export ROBO_CRASH_TRIALS="${1:-200}"
go test -count=1 -timeout 60m -run 'TestCrashHarness$' -v ./cmd/robo/
