#!/usr/bin/env python3
"""INT8 ONNX files (QDQ, `pneumo optimize` with a `quantize-int8` step) in ONNX Runtime, against the float model they came
from, on the val split: top-1 agreement and val AUC, twice per file: with ORT's optimizations off (QDQ nodes run as float
ops: the file's own arithmetic, simulated) and on (QLinearConv: ORT's int8 kernels on this CPU). Where the CPU lacks VNNI,
ORT's kernels add u8·s8 product pairs in saturating 16-bit arithmetic, so 8-bit weights change its results there.

    python3 bench/int8_file_in_ort.py DATA.npz FLOAT.onnx INT8.onnx [INT8.onnx ...]
"""
import sys

import numpy as np
import onnxruntime as ort


def logits(path, x, optimize):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def auc(score, y):
    """Mann–Whitney: the probability that a positive scores above a negative (no ties in float logits)."""
    ranks = np.empty(len(score))
    ranks[np.argsort(score)] = np.arange(1, len(score) + 1)
    pos = int(y.sum())
    return (ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    d = np.load(sys.argv[1])
    x = ((d["val_images"].astype(np.float32) / 255 - 0.5) / 0.5)[:, None]   # MedMNIST's Normalize(0.5, 0.5), one channel
    y = d["val_labels"].reshape(-1)
    f = logits(sys.argv[2], x, True)
    print(f"{len(y)} val images; float model val AUC {auc(f[:, 1] - f[:, 0], y):.4f}")
    for path in sys.argv[3:]:
        for optimize, how in [(False, "QDQ as float ops"), (True, "ORT int8 kernels")]:
            q = logits(path, x, optimize)
            differ = int((q.argmax(1) != f.argmax(1)).sum())
            print(f"{path} ({how}): top-1 agreement {100 * (1 - differ / len(y)):.2f}% ({differ} differ), "
                  f"val AUC {auc(q[:, 1] - q[:, 0], y):.4f}")


if __name__ == "__main__":
    main()
