#!/usr/bin/env python3
"""Times ONNX Runtime on an .onnx file the way `pneumo bench infer --onnx FILE` times our runtime: per
batch size, `runs` timed calls after `warmup` untimed ones on random float32 input, same thread count.
Prints JSON with the same keys (`batches`: [{batch, latency_ms: {mean, median, p95, std, min, max},
samples_per_s, per_sample_ms}]) so the two can be compared in one run:

    .build/release/pneumo bench infer --onnx model.onnx --batch 1,32,64,256 --threads 2 --json
    python3 bench/ort_infer.py --onnx model.onnx --batch 1,32,64,256 --threads 2

Skips cleanly (exit 0, a message on stderr) when onnxruntime or numpy is not installed.
"""
import argparse
import json
import math
import statistics
import sys
import time


def stats(samples):
    s = sorted(samples)
    n = len(s)
    return {
        "mean": sum(s) / n,
        "median": statistics.median(s),
        "p95": s[max(0, math.ceil(0.95 * n) - 1)],
        "std": statistics.stdev(s) if n > 1 else 0.0,
        "min": s[0],
        "max": s[-1],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--batch", default="1,32,64,256")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        return 0
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    sample_shape = [d for d in inp.shape[1:]]
    rng = np.random.default_rng(0)
    rows = []
    for b in [int(x) for x in args.batch.split(",")]:
        x = rng.standard_normal([b] + sample_shape).astype(np.float32)
        for _ in range(args.warmup):
            session.run(None, {inp.name: x})
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            session.run(None, {inp.name: x})
            times.append((time.perf_counter() - t0) * 1000)
        st = stats(times)
        rows.append({"batch": b, "latency_ms": st, "samples_per_s": b / (st["median"] / 1000),
                     "per_sample_ms": st["median"] / b})
    print(json.dumps({"engine": f"onnxruntime {ort.__version__}", "threads": args.threads, "onnx": args.onnx,
                      "batches": rows}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
