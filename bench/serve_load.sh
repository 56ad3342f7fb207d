#!/usr/bin/env bash
# The served model's throughput and latency over HTTP, beside the runtime's in-process throughput, in one run:
#
#     bash bench/serve_load.sh [MODEL.onnx] [SECONDS]
#     BODY=binary bash bench/serve_load.sh …     # tensors as binary (the binary tensor data extension), not JSON text
#     SERVE_ARGS="--event-loops 2" bash bench/serve_load.sh …   # extra `pneumo serve` options
#     SERVE_ARGS="--batching thread" bash bench/serve_load.sh …   # batches on the batching thread, not the event loops
#     PNEUMO=/path/to/another/pneumo bash bench/serve_load.sh …   # another build (say, an older commit's), not built here
#
# Serves MODEL.onnx (default: PneumoNet at 28 px with seeded weights: speed does not depend on training) with
# `pneumo serve` on loopback, drives single-image `infer` requests with wrk (Debian's) at 1, 16 and 64 connections
# for SECONDS each (default 10), then times the same file in process with `pneumo bench infer` at batch 64. The load
# generator shares the machine with the server, as the issue's targets assume. Prints one table; nothing is kept.
set -euo pipefail
# Each run decides its plans afresh, as the figures in bench/README.md were measured (no tuning cache between runs).
export PNEUMO_TUNING_CACHE=${PNEUMO_TUNING_CACHE:-off}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "serve_load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
SECONDS_EACH=${2:-10}
PORT=${PORT:-18431}
if [ -n "${PNEUMO:-}" ]; then BIN=$PNEUMO; else swift build -c release --product pneumo >/dev/null; BIN=.build/release/pneumo; fi
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

MODEL=${1:-$WORK/pneumonet.onnx}
[ -f "$MODEL" ] || "$BIN" export --model pneumonet --input-size 28 --channels 1 --dynamic-batch --out "$MODEL" >/dev/null
BODY=${BODY:-json}
# shellcheck source=bench/serve_request.sh
source bench/serve_request.sh
write_infer_request "$WORK" "$BODY"

"$BIN" serve --onnx "$MODEL" --name pneumonet --port "$PORT" --log-level warning ${SERVE_ARGS:-} &
SERVER=$!
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null || { echo "serve_load: the server did not become ready" >&2; exit 1; }

# Where the CPU goes, per request: the server's (all its threads: HTTP, handlers, batches) and wrk's, from their
# user + system times; and the batches' mean size, from the server's metrics.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# Context switches of all the server's threads (voluntary and not): the hops a request makes between threads.
switches() { cat /proc/"$SERVER"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
batches() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^pneumo_batch_size_sum/ {s = $2} /^pneumo_batch_size_count/ {c = $2} END {print s + 0, c + 0}'; }
TICK=$(getconf CLK_TCK)
echo "single-image infer requests, $BODY tensors, ${SECONDS_EACH} s per row (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf "%-12s %12s %10s %10s %18s %15s %11s %14s\n" connections "requests/s" "p50 ms" "p99 ms" "server CPU us/req" "wrk CPU us/req" "mean batch" "switches/req"
for c in 1 16 64; do
    read -r s0 n0 < <(batches); t0=$(cpu_ticks); x0=$(switches)
    out=$( { /usr/bin/time -f "wrk-cpu %U %S" wrk -t1 -c"$c" -d"${SECONDS_EACH}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v2/models/pneumonet/infer"; } 2>&1 )
    t1=$(cpu_ticks); x1=$(switches); read -r s1 n1 < <(batches)
    if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "serve_load: some requests failed" >&2; exit 1; fi
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    ms() { echo "$out" | awk -v q="$1" '$1 == q { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }'; }
    server_us=$(awk -v d=$((t1 - t0)) -v t="$TICK" -v r="$requests" 'BEGIN {printf "%.0f", d / t * 1e6 / r}')
    wrk_us=$(echo "$out" | awk -v r="$requests" '/^wrk-cpu/ {printf "%.0f", ($2 + $3) * 1e6 / r}')
    batch=$(awk -v s0="$s0" -v s1="$s1" -v n0="$n0" -v n1="$n1" 'BEGIN {printf "%.1f", (n1 > n0 ? (s1 - s0) / (n1 - n0) : 0)}')
    per_request=$(awk -v x="$((x1 - x0))" -v r="$requests" 'BEGIN {printf "%.2f", x / r}')
    printf "%-12s %12s %10s %10s %18s %15s %11s %14s\n" "$c" "$rps" "$(ms 50%)" "$(ms 99%)" "$server_us" "$wrk_us" "$batch" "$per_request"
    last_cpu_us=$((server_us + wrk_us)); last_rps=$rps; last_batch=$batch
done
kill -TERM "$SERVER"; wait "$SERVER"; SERVER=
# In process at batch 64 and at the batch size served at 64 connections (its mean, to the nearest multiple of 8): the
# issue compares served and in-process throughput "at the same batch size".
near=$(awk -v b="$last_batch" 'BEGIN {n = int(b / 8 + 0.5) * 8; print (n < 8 ? 8 : n > 64 ? 64 : n)}')
sizes=$( [ "$near" = 64 ] && echo 1,64 || echo "1,$near,64" )
"$BIN" bench infer --onnx "$MODEL" --batch "$sizes" --no-peer > "$WORK/infer"
sed 's/^/in-process: /' "$WORK/infer"
awk -v r="$last_rps" -v near="$near" '$1 == 64 && NF >= 5 {b64 = $5} $1 == near && NF >= 5 {bn = $5}
    END {printf "served / in-process at 64 connections: %.2f at batch 64, %.2f at batch %d (the served mean batch, to a multiple of 8)\n", r / b64, r / bn, near}' "$WORK/infer"
# The same comparison in CPU time, which other processes on the machine disturb far less than wall time: the
# runtime's CPU per image at batch 64 on one thread (no OpenMP spinning counted; two threads can at best halve the
# time per image, so this bounds the in-process throughput on two cores of its own from above), the difference
# between 20 and 420 timed batches so that loading and compiling cancel out, against the server's and wrk's CPU
# per request at 64 connections.
cpu_of() { /usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN" bench infer --onnx "$MODEL" --batch 64 --threads 1 --parallelism single-thread --no-peer --runs "$1" >/dev/null; awk '{print $1 + $2}' "$WORK/time"; }
a=$(cpu_of 20); b=$(cpu_of 420)
awk -v a="$a" -v b="$b" -v s="$last_cpu_us" 'BEGIN { c = (b - a) * 1e6 / (400 * 64)
    printf "in-process CPU per image at batch 64 (one thread): %.1f us; served at 64 connections, server + wrk: %d us per request; CPU ratio %.2f\n", c, s, c / s }'
