#!/usr/bin/env python3
"""Per-primitive time of one plan from an ONEDNN_VERBOSE=1 log: the fastest and the median execution of every distinct
primitive (kind, implementation, formats, post-ops, shape), how many times one call runs it, and the sum of minima per
call. Steps of our own kernels (streaming, Winograd, ...) do not appear: oneDNN logs only its own primitives.

    ONEDNN_VERBOSE=1 pneumo bench infer --onnx FILE --batch 1 --runs 200 --no-peer > LOG
    python3 bench/onednn_verbose_min.py LOG
"""
import collections
import sys


def main():
    execs = collections.OrderedDict()
    for line in open(sys.argv[1]):
        f = line.strip().split(",")
        # onednn_verbose,exec,cpu,KIND,IMPL,PROP,MEMORY DESCRIPTORS,ATTRIBUTES,AUX,PROBLEM,MS
        if len(f) >= 11 and f[0] == "onednn_verbose" and f[1] == "exec":
            execs.setdefault((f[3], f[4], f[6], f[7], f[9]), []).append(float(f[10]))
    # The number of calls: the least-run primitive that runs at every call (weight reorders run once, when compiling).
    calls = min(len(v) for v in execs.values() if len(v) > 20)
    total = 0.0
    for (kind, impl, mds, attrs, problem), v in execs.items():
        per_call = round(len(v) / calls)
        if per_call == 0:
            continue
        v.sort()
        total += v[0] * per_call
        post = attrs.replace("attr-scratchpad:user", "").strip()
        print(f"{kind:11s} {impl:18s} x{per_call}  min {v[0] * 1e3:7.1f}  median {v[len(v) // 2] * 1e3:7.1f} µs  {problem}  {post}")
    print(f"sum of minima per call {total * 1e3:.0f} µs over {calls} calls")


if __name__ == "__main__":
    main()
