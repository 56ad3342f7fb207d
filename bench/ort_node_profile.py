#!/usr/bin/env python3
"""ONNX Runtime's own per-node time on one .onnx at batch 1, or --batch N for a file with a symbolic batch (SessionOptions.enable_profiling): the fastest and the median
call of every node, for comparing layer by layer with our steps (bench/onednn_verbose_min.py, `pneumo profile`). Minima
are what to compare on a loaded machine: a descheduled thread inflates medians, never minima.

    python3 bench/ort_node_profile.py FILE.onnx [--runs 400] [--threads 2] [--batch 1]
"""
import argparse
import collections
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1, help="the batch of a symbolic batch dimension (default 1)")
    args = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(prefix="ort-profile-"), "p")
    s = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    i = s.get_inputs()[0]
    shape = [args.batch if not isinstance(d, int) else d for d in i.shape[:1]] + [1 if not isinstance(d, int) else d for d in i.shape[1:]]
    x = {i.name: np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    for _ in range(args.runs):
        s.run(None, x)
    path = s.end_profiling()
    nodes, calls = collections.OrderedDict(), []
    for e in json.load(open(path)):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            nodes.setdefault((e["name"][:-len("_kernel_time")], e["args"].get("op_name", "")), []).append(e["dur"])
        elif e.get("cat") == "Session" and e["name"] == "model_run":
            calls.append(e["dur"])
    os.remove(path)
    print(f"ONNX Runtime {ort.__version__}, {args.threads} threads, input {shape}, {args.runs} calls; µs per call of each node")
    total = 0
    for (name, op), v in nodes.items():
        v.sort()
        total += v[0]
        print(f"{name:58s} {op:18s} min {v[0]:6d}  median {v[len(v) // 2]:6d}")
    calls.sort()
    print(f"sum of node minima {total} µs; whole call min {calls[0]}, median {calls[len(calls) // 2]} µs")


if __name__ == "__main__":
    main()
