#!/usr/bin/env python3
"""Where an INT8 file's disagreements with its float model come from, on the val split: how close the float model's
val images lie to the decision boundary, and how far INT8 moves their score (logit₁ − logit₀), with every Q/DQ pair
(the file's own arithmetic) and with the activations' pairs bypassed (the weights' rounding alone). Top-1 agreement
counts images whose score changes sign, so it is decided by the few images whose float score lies within the score's
change of zero. Both runs use ONNX Runtime with its optimizations off (QDQ nodes as float ops).

    python3 bench/int8_error_budget.py DATA.npz FLOAT.onnx INT8.onnx [--nearest K] [--per-layer]

With --per-layer it also runs the file once per convolution with that one convolution in float32 (its float model's
weights with batch-norm folded in, its input's Q/DQ pair bypassed), the others INT8: how much of the error each layer
alone would take away if a mixed-precision plan kept it in float.
"""
import argparse

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


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


def folded_weights(float_model):
    """Each float Conv's weights and bias with the batch norm that follows it folded in, by the Conv's weight name."""
    g = float_model.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consumers = {}
    for n in g.node:
        for v in n.input:
            consumers.setdefault(v, []).append(n)
    out = {}
    for n in g.node:
        if n.op_type != "Conv":
            continue
        w = init[n.input[1]].astype(np.float64)
        b = init[n.input[2]].astype(np.float64) if len(n.input) > 2 and n.input[2] else np.zeros(w.shape[0])
        bn = [c for c in consumers.get(n.output[0], []) if c.op_type == "BatchNormalization"]
        if bn:
            eps = next((a.f for a in bn[0].attribute if a.name == "epsilon"), 1e-5)
            gamma, beta, mean, var = (init[v].astype(np.float64) for v in bn[0].input[1:5])
            k = gamma / np.sqrt(var + eps)
            w, b = w * k[:, None, None, None], beta + (b - mean) * k
        out[n.input[1]] = (w.astype(np.float32), b.astype(np.float32))
    return out


def one_layer_in_float(model, conv, weights):
    """The INT8 model with `conv` computed in float32: float weights and bias, its input's Q/DQ pair bypassed."""
    g = model.graph
    produced_by = {o: n for n in g.node for o in n.output}
    node = next(n for n in g.node if n.op_type == "Conv" and n.output[0] == conv)
    dq = produced_by.get(node.input[0])
    if dq is not None and dq.op_type == "DequantizeLinear":
        q = produced_by.get(dq.input[0])
        if q is not None and q.op_type == "QuantizeLinear":
            node.input[0] = q.input[0]
    (w, b), name = weights, node.input[1]
    g.initializer.extend([numpy_helper.from_array(w, name + ".float"), numpy_helper.from_array(b, name + ".float_bias")])
    del node.input[1:]
    node.input.extend([name + ".float", name + ".float_bias"])
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data"), p.add_argument("float_model"), p.add_argument("int8_model")
    p.add_argument("--nearest", type=int, default=6, help="val images nearest the boundary to list")
    p.add_argument("--per-layer", action="store_true", help="also each convolution alone in float32")
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
    if a.per_layer:
        weights = folded_weights(onnx.load(a.float_model))
        convs = [n for n in onnx.load(a.int8_model).graph.node if n.op_type == "Conv"]
        print("one convolution in float32, the rest as the file:")
        for n in convs:
            if n.input[1] not in weights:
                print(f"  {n.input[1]}: no float weights of that name in the float model")
                continue
            s = scores(one_layer_in_float(onnx.load(a.int8_model), n.output[0], weights[n.input[1]]), x)
            flips = np.nonzero((s > 0) != (f > 0))[0]
            print(f"  {n.input[1]:28s} score change RMS {np.sqrt(np.mean((s - f) ** 2)):.4f}; {len(flips)} flip")


if __name__ == "__main__":
    main()
