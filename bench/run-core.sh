#!/usr/bin/env bash
# Broker-core benchmarks: Courier's core and the log baseline (bench/core,
# main module), then the JetStream peer (bench/peers/nats, its own module,
# so that the main module never builds nats), then one combined table of
# absolute numbers and ratios (bench/core/report). About 5 minutes on 2 cores.
#
#   bench/run-core.sh                       # defaults
#   BENCHTIME=1s COUNT=1 bench/run-core.sh  # quicker
#   OUT=/tmp/core-run bench/run-core.sh     # keep the raw outputs there
#   BENCH='EndToEnd|Paced' bench/run-core.sh
#
# Data goes to b.TempDir() (TMPDIR, default /tmp) for both packages, so
# every broker writes to the same filesystem. Extra arguments are passed to
# both go test runs (for example -cpuprofile is best given to one package
# by hand, see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHTIME=${BENCHTIME:-2s}
COUNT=${COUNT:-1}
BENCH=${BENCH:-.}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); loadavg before: $(cat /proc/loadavg)"
echo "# $(nproc) CPUs; $(uname -r); $(go version); temp dir on: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $1, $2}')"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); outputs in $OUT"

start=$SECONDS
go test -run '^$' -bench "$BENCH" -benchtime="$BENCHTIME" -count="$COUNT" "$@" ./bench/core/ | tee "$OUT/core.txt"
(cd bench/peers/nats && go test -run '^$' -bench "$BENCH" -benchtime="$BENCHTIME" -count="$COUNT" "$@" .) | tee "$OUT/nats.txt"
echo "# benchmarks took $((SECONDS - start)) s; loadavg after: $(cat /proc/loadavg)"
echo
go run ./bench/core/report "$OUT/core.txt" "$OUT/nats.txt" | tee "$OUT/report.md"
