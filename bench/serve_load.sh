#!/usr/bin/env bash
# The served model's throughput and latency over HTTP, beside the runtime's in-process throughput, in one run:
#
#     bash bench/serve_load.sh [MODEL.onnx] [SECONDS]
#     BODY=binary bash bench/serve_load.sh …     # tensors as binary (the binary tensor data extension), not JSON text
#
# Serves MODEL.onnx (default: PneumoNet at 28 px with seeded weights: speed does not depend on training) with
# `pneumo serve` on loopback, drives single-image `infer` requests with wrk (Debian's) at 1, 16 and 64 connections
# for SECONDS each (default 10), then times the same file in process with `pneumo bench infer` at batch 64. The load
# generator shares the machine with the server, as the issue's targets assume. Prints one table; nothing is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "serve_load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
SECONDS_EACH=${2:-10}
PORT=${PORT:-18431}
swift build -c release --product pneumo >/dev/null
BIN=.build/release/pneumo
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

MODEL=${1:-$WORK/pneumonet.onnx}
[ -f "$MODEL" ] || "$BIN" export --model pneumonet --input-size 28 --channels 1 --dynamic-batch --out "$MODEL" >/dev/null
BODY=${BODY:-json}
HEADER_LENGTH=$(python3 - "$WORK/body" "$BODY" <<'PY'
import json, random, struct, sys
random.seed(0)
values = [round(random.gauss(0, 1), 4) for _ in range(784)]
if sys.argv[2] == "binary":
    header = json.dumps({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 4 * len(values)}}]}).encode()
    open(sys.argv[1], "wb").write(header + struct.pack("<%df" % len(values), *values))
    print(len(header))
else:
    open(sys.argv[1], "w").write(json.dumps({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                                         "data": values}]}))
    print(0)
PY
)
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if $HEADER_LENGTH > 0 then wrk.headers["Inference-Header-Content-Length"] = "$HEADER_LENGTH" end
wrk.body = io.open("$WORK/body", "rb"):read("*a")
LUA

"$BIN" serve --onnx "$MODEL" --name pneumonet --port "$PORT" --log-level warning &
SERVER=$!
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null || { echo "serve_load: the server did not become ready" >&2; exit 1; }

echo "single-image infer requests, $BODY tensors, ${SECONDS_EACH} s per row"
printf "%-12s %12s %10s %10s\n" connections "requests/s" "p50 ms" "p99 ms"
for c in 1 16 64; do
    out=$(wrk -t1 -c"$c" -d"${SECONDS_EACH}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v2/models/pneumonet/infer")
    if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "serve_load: some requests failed" >&2; exit 1; fi
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    ms() { echo "$out" | awk -v q="$1" '$1 == q { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }'; }
    printf "%-12s %12s %10s %10s\n" "$c" "$rps" "$(ms 50%)" "$(ms 99%)"
done
kill -TERM "$SERVER"; wait "$SERVER"; SERVER=
"$BIN" bench infer --onnx "$MODEL" --batch 1,64 --no-peer | sed 's/^/in-process: /'
