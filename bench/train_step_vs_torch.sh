#!/usr/bin/env bash
# Our training step against PyTorch's in one run (issue 19, item 2): ResNet-18, 64 px, batch 32, Adam (lr 3e-4,
# weight decay 1e-4), 2 threads, random data, natively and with both sides held to AVX2 (ours:
# ONEDNN_MAX_CPU_ISA=AVX2, which holds our own kernels to their AVX2 build too; PyTorch: ATEN_CPU_CAPABILITY=avx2 and
# ONEDNN_MAX_CPU_ISA=AVX2 for its oneDNN). The four runs alternate within each round, so that load on a shared
# machine falls on both sides alike:
#
#     bash bench/train_step_vs_torch.sh [ROUNDS] [STEPS]          # default 3 rounds of 8 timed steps
#     PNEUMO=/path/to/pneumo TORCH_PYTHON=python3 bash bench/train_step_vs_torch.sh
#     BASELINE=/path/to/older/pneumo bash bench/train_step_vs_torch.sh   # an older build too, in the same rounds
#
# Prints each run's median step, then per ISA the median over rounds of ours, PyTorch's and their ratio (lower is
# better for us: the target is ≤ 0.7), with the load average before and after.
set -euo pipefail
# Each run decides its plans afresh, as the figures in bench/README.md were measured (no tuning cache between runs).
export PNEUMO_TUNING_CACHE=${PNEUMO_TUNING_CACHE:-off}
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
STEPS=${2:-8}
TORCH_PYTHON=${TORCH_PYTHON:-/work/venv-torch/bin/python}
if [ -z "${PNEUMO:-}" ]; then
    swift build -c release --product pneumo >/dev/null
    PNEUMO=.build/release/pneumo
fi
"$TORCH_PYTHON" -c "import torch" 2>/dev/null || { echo "train_step_vs_torch: $TORCH_PYTHON cannot import torch" >&2; exit 1; }
COMMON=(--input-size 64 --batch 32 --steps "$STEPS" --threads 2)
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
step_ms() { python3 -c 'import json, sys; print(json.load(sys.stdin)["step_ms"])'; }
for round in $(seq 1 "$ROUNDS"); do
    for isa in native avx2; do
        if [ "$isa" = avx2 ]; then ENV=(env ONEDNN_MAX_CPU_ISA=AVX2); TENV=(env ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
        else ENV=(env); TENV=(env); fi
        ours=$("${ENV[@]}" "$PNEUMO" bench train --model resnet18 "${COMMON[@]}" --json | step_ms)
        theirs=$("${TENV[@]}" "$TORCH_PYTHON" bench/torch_train_step.py "${COMMON[@]}" | step_ms)
        printf 'round %d %-6s ours %8.1f ms  pytorch %8.1f ms  ratio %.2f\n' "$round" "$isa" "$ours" "$theirs" \
            "$(python3 -c "print($ours / $theirs)")"
        before=0
        if [ -n "${BASELINE:-}" ]; then
            before=$("${ENV[@]}" "$BASELINE" bench train --model resnet18 "${COMMON[@]}" --json | step_ms)
            printf 'round %d %-6s baseline %8.1f ms  ratio %.2f\n' "$round" "$isa" "$before" "$(python3 -c "print($before / $theirs)")"
        fi
        echo "$isa $ours $theirs $before" >> "$RESULTS"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
baseline = any(float(b) > 0 for *_, b in rows)
print("| ISA | ours ms | PyTorch ms | ratio (median of rounds) |" + (" baseline ms | baseline ratio |" if baseline else ""))
print("|---|---|---|---|" + ("---|---|" if baseline else ""))
for isa in ("native", "avx2"):
    r = [(float(o), float(t), float(b)) for i, o, t, b in rows if i == isa]
    ours, theirs = statistics.median(o for o, _, _ in r), statistics.median(t for _, t, _ in r)
    ratio = statistics.median(o / t for o, t, _ in r)
    line = f"| {isa} | {ours:.1f} | {theirs:.1f} | {ratio:.2f} |"
    if baseline:
        line += f" {statistics.median(b for _, _, b in r):.1f} | {statistics.median(b / t for _, t, b in r):.2f} |"
    print(line)
PY
