#!/usr/bin/env bash
# Two sets of `pneumo serve` options (or two builds) against each other at 64 connections, alternating, so that the
# host's drift falls on both alike:
#
#     bash bench/serve_ab.sh ROUNDS "OPTIONS A" "OPTIONS B" [MODEL.onnx] [SECONDS]
#     PNEUMO_A=/path/to/old/pneumo bash bench/serve_ab.sh 3 "" ""      # two builds, the same options
#
# Each round starts a server with A's options, warms it for 2 s, drives single-image binary `infer` requests with
# `wrk -t1 -c64` for SECONDS (default 8), and reads the server's CPU time; then the same for B. Prints a line per run:
# requests/s and the server's CPU per request. MODEL defaults to PneumoNet at 28 px with seeded weights.
set -euo pipefail
export PNEUMO_TUNING_CACHE=${PNEUMO_TUNING_CACHE:-off}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "serve_ab: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ $# -ge 3 ] || { echo "usage: bash bench/serve_ab.sh ROUNDS \"OPTIONS A\" \"OPTIONS B\" [MODEL.onnx] [SECONDS]" >&2; exit 2; }
ROUNDS=$1; SECONDS_EACH=${5:-8}; PORT=${PORT:-18432}
if [ -z "${PNEUMO_A:-}" ] || [ -z "${PNEUMO_B:-}" ]; then swift build -c release --product pneumo >/dev/null; fi
BIN_A=${PNEUMO_A:-.build/release/pneumo}; BIN_B=${PNEUMO_B:-.build/release/pneumo}
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
MODEL=${4:-$WORK/pneumonet.onnx}
[ -f "$MODEL" ] || "$BIN_A" export --model pneumonet --input-size 28 --channels 1 --dynamic-batch --out "$MODEL" >/dev/null
# shellcheck source=bench/serve_request.sh
source bench/serve_request.sh
write_infer_request "$WORK" binary
URL="http://127.0.0.1:$PORT/v2/models/pneumonet/infer"
echo "single-image binary infer requests at 64 connections, ${SECONDS_EACH} s a run (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
for round in $(seq 1 "$ROUNDS"); do
    for side in A B; do
        if [ $side = A ]; then bin=$BIN_A; options=$2; else bin=$BIN_B; options=$3; fi
        # shellcheck disable=SC2086
        "$bin" serve --onnx "$MODEL" --name pneumonet --port "$PORT" --log-level warning $options > /dev/null 2>&1 &
        SERVER=$!
        for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break; sleep 0.1; done
        wrk -t1 -c64 -d2s -s "$WORK/post.lua" "$URL" >/dev/null
        t0=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
        out=$(wrk -t1 -c64 -d"${SECONDS_EACH}s" -s "$WORK/post.lua" "$URL")
        t1=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
        kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
        if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "serve_ab: some requests failed" >&2; exit 1; fi
        requests=$(echo "$out" | awk '/requests in/ {print $1}')
        printf "round %d %s [%s]: %s requests/s, server %s us of CPU a request\n" "$round" "$side" "$options" \
            "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
            "$(awk -v d=$((t1 - t0)) -v t="$(getconf CLK_TCK)" -v r="$requests" 'BEGIN {printf "%.0f", d / t * 1e6 / r}')"
    done
done
