#!/usr/bin/env bash
# Native-API benchmarks: Courier's API over loopback driven by the Go
# client (bench/api, main module), then the NATS peer over loopback
# (bench/peers/nats, its own module: JetStream with SyncAlways and its
# default, and core NATS request/reply).
#
#   bench/run-api.sh                         # defaults
#   BENCHTIME=20000x bench/run-api.sh        # a fixed message count
#   OUT=/tmp/api-run bench/run-api.sh        # keep the raw outputs there
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHTIME=${BENCHTIME:-2s}
PINGTIME=${PINGTIME:-3000x}
COUNT=${COUNT:-1}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); loadavg before: $(cat /proc/loadavg)"
echo "# $(nproc) CPUs; $(uname -r); $(go version); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
go test -run '^$' -bench 'APIAsync|APIPublishAsync' -benchtime="$BENCHTIME" -count="$COUNT" ./bench/api/ | tee "$OUT/api.txt"
go test -run '^$' -bench 'APIPingPong' -benchtime="$PINGTIME" -count="$COUNT" ./bench/api/ | tee -a "$OUT/api.txt"
go test -run '^$' -bench 'APIRequestLoop' -benchtime="$PINGTIME" -count="$COUNT" -cpu 1 -benchmem ./bench/api/ | tee -a "$OUT/api.txt"
(cd bench/peers/nats && go test -run '^$' -bench 'NetJetStream' -benchtime="$BENCHTIME" -count="$COUNT" . && \
  go test -run '^$' -bench 'NetCorePingPong' -benchtime="$PINGTIME" -count="$COUNT" . && \
  go test -run '^$' -bench 'NetCoreRequestLoop' -benchtime="$PINGTIME" -count="$COUNT" -cpu 1 -benchmem .) | tee "$OUT/nats.txt"
echo "# loadavg after: $(cat /proc/loadavg)"
