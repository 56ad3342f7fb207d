#!/usr/bin/env python3
"""Per-step milliseconds by primitive kind from an `ONEDNN_VERBOSE=1` log of `pneumo bench train`, one column a step,
so that warm-up steps (primitive creation, first touch of new buffers) are seen apart from the steady state:

    ONEDNN_VERBOSE=1 pneumo bench train --model resnet18 --input-size 64 --batch 32 --steps 4 --warmup 2 --threads 2 > v.log
    python3 bench/onednn_verbose_steps.py v.log

A step starts where the log's first executed primitive (same kind, implementation, layouts and shape) runs again.
Convolutions are split by propagation kind; weight reorders by direction (`→ plain` ends in a plain `abcd`).
"""
import collections
import sys


def main(path):
    steps, first = [], None
    for line in open(path):
        if not line.startswith("onednn_verbose") or ",exec," not in line:
            continue
        f = line.strip().split(",")
        kind, signature, ms = f[3], f[3:-1], float(f[-1])
        if first is None or signature == first:
            first = first or signature
            steps.append(collections.defaultdict(float))
        if kind == "convolution":
            kind += " " + f[5]
        elif kind == "reorder":
            kind += " → plain" if "dst_f32::blocked:abcd:" in f[6] else " from plain" if "src_f32::blocked:abcd:" in f[6] else " other"
        steps[-1][kind] += ms
    kinds = sorted({k for s in steps for k in s})
    print(f"{'ms per step':32s}" + "".join(f"{i + 1:>8d}" for i in range(len(steps))))
    for k in kinds:
        print(f"{k:32s}" + "".join(f"{s.get(k, 0):8.1f}" for s in steps))
    print(f"{'total':32s}" + "".join(f"{sum(s.values()):8.1f}" for s in steps))


if __name__ == "__main__":
    main(sys.argv[1])
