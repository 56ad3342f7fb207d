#!/usr/bin/env python3
"""Writes Tests/RuntimeTests/Fixtures/int8_conv_chains.json: chains of convolutions computed in the integer
arithmetic of an INT8 plan, in NumPy, independent of the Swift code and of oneDNN.

    python3 scripts/make_int8_fixtures.py              # write the fixture
    python3 scripts/make_int8_fixtures.py --out DIR    # write elsewhere (e.g. to diff against the committed one)

Each case is a quantized chain: the input rounded onto a grid, then convolutions (bias, optional ReLU), each
result but the last rounded onto its own grid. The arithmetic (Sources/CPUBackend/Int8WeightRange.swift and
Sources/Runtime/PlanBuilder+Int8.swift state it for the plan):

    activations  q = clip(rint(x / s), -128, 127) (s8) or clip(rint(x / s), 0, 255) (u8), rint = half to even
    weights      s_o = max|w_o| / L, k = clip(rint(w / s_o), -L, L), L = 63 (7-bit) or 127 (8-bit), in float32
    convolution  acc = sum(q * k) in integers; y = acc * (s_x * s_o) + b; ReLU; the next grid rounds y

Every scale is a power of two and every weight and bias a short dyadic fraction, so each float value above is
exact in float32 (the script checks it): the expected outputs are the integer arithmetic's, with no float
rounding to allow for, and a plan must reproduce them bit for bit. Inputs hold exact half steps (ties) and values
beyond their grid (saturation); weights hold half steps too; the script checks that each case has both.
Each case is for one weight range: its weights' channel maxima are L times a power of two.
"""

import argparse
import json
import os

import numpy as np

SCRIPT = "scripts/make_int8_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "RuntimeTests", "Fixtures")


def conv_int(q, k, groups, padding):
    """Integer conv2d, stride 1: q [N, C, H, W], k [K, C/groups, kh, kw] -> [N, K, H', W'] (int64)."""
    n, c, h, w = q.shape
    kk, cg, kh, kw = k.shape
    x = np.pad(q.astype(np.int64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    out = np.zeros((n, kk, oh, ow), dtype=np.int64)
    per_group = kk // groups
    for o in range(kk):
        g = o // per_group
        for i in range(kh):
            for j in range(kw):
                patch = x[:, g * cg:(g + 1) * cg, i:i + oh, j:j + ow]
                out[:, o] += np.einsum("nchw,c->nhw", patch, k[o, :, i, j].astype(np.int64))
    return out


def round_to_grid(y, scale, unsigned):
    """The grid's integers of y, and how many values were ties (exact half steps) or saturated."""
    t = y / scale
    lo, hi = (0, 255) if unsigned else (-128, 127)
    ties = int(np.sum(np.abs(t - np.floor(t) - 0.5) == 0))
    saturated = int(np.sum((np.rint(t) < lo) | (np.rint(t) > hi)))
    return np.clip(np.rint(t), lo, hi), ties, saturated


def quantize_weights(w, limit):
    """The rule of Int8WeightRange.quantize, in float32."""
    w = w.astype(np.float32)
    m = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    s = np.where(m > 0, m / np.float32(limit), np.float32(1)).astype(np.float32)
    k = np.clip(np.rint(w / s.reshape(-1, 1, 1, 1)), -limit, limit)
    return k, s


def weights(rng, shape, limit):
    """Weights whose channel maxima are limit * 2^-f (f random per channel): values are quarter steps of the
    channel's grid (so half steps, ties, occur), one of them ±limit."""
    k = shape[0]
    per = int(np.prod(shape[1:]))
    u = np.round(rng.uniform(-limit, limit, size=(k, per)) * 4) / 4
    for o in range(k):
        u[o, rng.integers(0, per)] = limit * rng.choice([-1, 1])
    scale = 2.0 ** -rng.integers(3, 7, size=(k, 1))
    return (u * scale).reshape(shape).astype(np.float32)


def tensor(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def case(name, rng, limit, input_shape, input_grid, layers):
    """layers: (out_channels, kernel, groups, padding, relu, grid or None)."""
    x = (rng.integers(-300, 300, size=input_shape) / 32).astype(np.float32)  # steps of 1/32: half the input grid's
    q, ties, saturated = round_to_grid(x.astype(np.float64), input_grid["scale"], input_grid["unsigned"])
    s_x = input_grid["scale"]
    out_layers = []
    for i, (k_out, kernel, groups, padding, relu, grid) in enumerate(layers):
        c_in = q.shape[1]
        w = weights(rng, (k_out, c_in // groups, kernel, kernel), limit)
        b = (rng.integers(-400, 400, size=k_out) / 1024).astype(np.float32)
        k, s = quantize_weights(w, limit)
        acc = conv_int(q, k, groups, padding)
        y = acc.astype(np.float64) * (s_x * s.astype(np.float64)).reshape(1, -1, 1, 1) + b.astype(np.float64).reshape(1, -1, 1, 1)
        assert np.all(y.astype(np.float32).astype(np.float64) == y), f"{name}: layer {i} is not exact in float32"
        if relu:
            y = np.maximum(y, 0)
        layer = {"weight": tensor(w), "bias": tensor(b), "groups": groups, "padding": padding, "relu": relu, "grid": grid}
        out_layers.append(layer)
        if grid is None:
            expected = y
            break
        q, t, sat = round_to_grid(y, grid["scale"], grid["unsigned"])
        ties, saturated = ties + t, saturated + sat
        s_x = grid["scale"]
    half_steps = 0
    for l in out_layers:
        w = np.asarray(l["weight"]["data"], dtype=np.float32).reshape(l["weight"]["shape"])
        _, s = quantize_weights(w, limit)
        t = w / s.reshape(-1, 1, 1, 1)
        half_steps += int(np.sum(np.abs(t - np.floor(t) - 0.5) == 0))
    assert ties > 0 and saturated > 0 and half_steps > 0, f"{name}: ties {ties}, saturated {saturated}, weight half steps {half_steps}"
    return {"name": name, "weight_bits": "7-bit" if limit == 63 else "8-bit", "input_grid": input_grid, "input": tensor(x),
            "layers": out_layers, "expected": tensor(expected),
            "counts": {"activation_ties": ties, "saturated": saturated, "weight_half_steps": half_steps}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()
    rng = np.random.default_rng(19)
    s8 = lambda e: {"scale": 2.0 ** -e, "unsigned": False}
    u8 = lambda e: {"scale": 2.0 ** -e, "unsigned": True}
    cases = []
    for limit, bits in [(63, "7-bit"), (127, "8-bit")]:
        # A signed input into a 3×3 convolution, ReLU onto u8; a depthwise 3×3 convolution of u8, ReLU onto u8; a 1×1
        # convolution to float: ResNet's and PneumoNet's shapes of source.
        cases.append(case(f"{bits} signed input, u8 chain", rng, limit, (2, 3, 6, 6), s8(4),
                          [(8, 3, 1, 1, True, u8(1)), (8, 3, 8, 1, True, u8(2)), (4, 1, 1, 0, False, None)]))
        # Signed values all the way: a depthwise convolution of s8 onto s8 (no ReLU: MobileNetV2's projections), then a
        # 1×1 convolution of s8 to float.
        cases.append(case(f"{bits} signed chain", rng, limit, (2, 8, 5, 5), s8(4),
                          [(8, 3, 8, 1, False, s8(1)), (4, 1, 1, 0, False, None)]))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "int8_conv_chains.json")
    with open(path, "w") as f:
        json.dump({"generator": f"numpy {np.__version__}", "script": SCRIPT, "cases": cases}, f)
        f.write("\n")
    for c in cases:
        print(c["name"], c["counts"])


if __name__ == "__main__":
    main()
