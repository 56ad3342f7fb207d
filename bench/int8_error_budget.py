#!/usr/bin/env python3
"""Where an INT8 file's disagreements with its float model come from, on the val split: how close the float model's
val images lie to the decision boundary, and how far INT8 moves their score (logit₁ − logit₀), with every Q/DQ pair
(the file's own arithmetic) and with the activations' pairs bypassed (the weights' rounding alone). Top-1 agreement
counts images whose score changes sign, so it is decided by the few images whose float score lies within the score's
change of zero. Both runs use ONNX Runtime with its optimizations off (QDQ nodes as float ops).

    python3 bench/int8_error_budget.py DATA.npz FLOAT.onnx INT8.onnx [--nearest K]
"""
import argparse

import numpy as np
import onnx
import onnxruntime as ort


def scores(model, x):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    y = s.run(None, {s.get_inputs()[0].name: x})[0]
    return y[:, 1] - y[:, 0]


def activations_bypassed(model):
    """The model with each QuantizeLinear → DequantizeLinear pair on a computed value removed (weights stay rounded)."""
    g = model.graph
    produced_by = {o: n for n in g.node for o in n.output}
    for dq in [n for n in g.node if n.op_type == "DequantizeLinear"]:
        q = produced_by.get(dq.input[0])
        if q is None or q.op_type != "QuantizeLinear":
            continue
        for n in g.node:
            for i, v in enumerate(n.input):
                if v == dq.output[0]:
                    n.input[i] = q.input[0]
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data"), p.add_argument("float_model"), p.add_argument("int8_model")
    p.add_argument("--nearest", type=int, default=6, help="val images nearest the boundary to list")
    a = p.parse_args()
    d = np.load(a.data)
    x = ((d["val_images"].astype(np.float32) / 255 - 0.5) / 0.5)[:, None]   # MedMNIST's Normalize(0.5, 0.5)
    f = scores(onnx.load(a.float_model), x)
    nearest = np.argsort(np.abs(f))[:a.nearest]
    print(f"{len(f)} val images; float score |logit1 - logit0|: median {np.median(np.abs(f)):.3f}; nearest the boundary:")
    print("  " + ", ".join(f"#{i} {f[i]:+.4f}" for i in nearest))
    for label, model in [("all Q/DQ (the file)", onnx.load(a.int8_model)),
                         ("weights only (activations' Q/DQ bypassed)", activations_bypassed(onnx.load(a.int8_model)))]:
        s = scores(model, x)
        flips = np.nonzero((s > 0) != (f > 0))[0]
        print(f"{label}: score change RMS {np.sqrt(np.mean((s - f) ** 2)):.4f}, max {np.max(np.abs(s - f)):.4f}; "
              f"{len(flips)} of {len(f)} flip ({100 * (1 - len(flips) / len(f)):.2f}% agree): {list(map(int, flips))}; "
              f"nearest images' INT8 scores " + ", ".join(f"{s[i]:+.4f}" for i in nearest))


if __name__ == "__main__":
    main()
