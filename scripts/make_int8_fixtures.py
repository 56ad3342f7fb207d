#!/usr/bin/env python3
"""Writes Tests/RuntimeTests/Fixtures/int8_conv_chains.json: INT8 weight rounding and chains of convolutions
computed in the integer arithmetic of an INT8 plan, in NumPy, independent of the Swift code and of oneDNN.

    python3 scripts/make_int8_fixtures.py              # write the fixture
    python3 scripts/make_int8_fixtures.py --out DIR    # write elsewhere (e.g. to diff against the committed one)

The arithmetic (Sources/CPUBackend/Int8WeightRange.swift and Sources/Runtime/PlanBuilder+Int8.swift state it for
the plan), with L = 63 (7-bit weights) or 127 (8-bit):

    weights      per output channel o, in float32: m = max|w_o|; of the scales s_j = (m * (1 - j/100)) / L,
                 j = 0..50, the one whose k = clip(rint(w / s_j), -L, L) minimises sum((k * s_j - w)^2) (summed in
                 float64, the first on ties); rint = half to even; an all-zero channel has scale 1
    activations  q = clip(rint(x / s), -128, 127) (s8) or clip(rint(x / s), 0, 255) (u8)
    convolution  acc = sum(q * k) in integers; y = acc * (s_x * s_o) + b; ReLU; the next grid rounds y
    bias         a calibrated plan subtracts, per output channel o, sum over c, i, j of
                 (k * s - w)[o, c, i, j] * mean_c * v_h(i) * v_w(j): mean_c the calibration images' mean of input
                 channel c, v(t) the fraction of output positions at which kernel tap t reads inside the input
                 (bias correction; Sources/Runtime/PlanBuilder+BiasCorrection.swift)

Three kinds of case:

- "weights": random weights (some channels with an outlier, one all zero) and their integers and scales. Each
  channel's best scale beats the next best by a clear margin, so that the order of the float64 sums (Swift adds
  eight lanes at a time) cannot change the choice.
- "chains": quantized chains (grids fixed by fake-quantize nodes): the input onto its grid, then convolutions, each
  result but the last onto its own grid. Every scale is a power of two and every weight lies on its channel's grid
  (so the search keeps j = 0), every bias is a short dyadic fraction: each float value is exact in float32 (the
  script checks it), and a plan must reproduce the expected output bit for bit. Inputs hold exact half steps
  (ties) and values beyond their grid (saturation).
- "calibrated": one convolution of a float model, calibrated on the given images: weights off their grids, so
  the bias correction is material (the script checks it is far above the tolerance); expected output to a
  relative tolerance, since the corrected bias is summed in another order than here.
"""

import argparse
import json
import os

import numpy as np

SCRIPT = "scripts/make_int8_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "RuntimeTests", "Fixtures")
F = np.float32


def conv_int(q, k, groups, padding, stride=1):
    """Integer conv2d: q [N, C, H, W], k [K, C/groups, kh, kw] -> [N, K, H', W'] (int64)."""
    n, c, h, w = q.shape
    kk, cg, kh, kw = k.shape
    x = np.pad(q.astype(np.int64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, kk, oh, ow), dtype=np.int64)
    per_group = kk // groups
    for o in range(kk):
        g = o // per_group
        for i in range(kh):
            for j in range(kw):
                patch = x[:, g * cg:(g + 1) * cg, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
                out[:, o] += np.einsum("nchw,c->nhw", patch, k[o, :, i, j].astype(np.int64))
    return out


def round_to_grid(y, scale, unsigned):
    """The grid's integers of y, and how many values were ties (exact half steps) or saturated."""
    t = y / scale
    lo, hi = (0, 255) if unsigned else (-128, 127)
    ties = int(np.sum(np.abs(t - np.floor(t) - 0.5) == 0))
    saturated = int(np.sum((np.rint(t) < lo) | (np.rint(t) > hi)))
    return np.clip(np.rint(t), lo, hi), ties, saturated


def quantize_weights(w, limit, margin=None):
    """The rule of Int8WeightRange.quantize, in float32 (errors in float64): scales m·(1 − j/100)/limit, j = 0…50; for
    8-bit weights that none of them leaves exact but m/63 does (the 7-bit grid), m/63 (j = 100 here). With `margin`,
    asserts that each channel's best error is below the next best by that relative margin. Returns k, s, j."""
    w = w.astype(F)
    flat = w.reshape(w.shape[0], -1)
    ks, ss, js = np.zeros_like(flat), np.ones(w.shape[0], dtype=F), []
    for o, ch in enumerate(flat):
        m = np.abs(ch).max()
        if m == 0:
            js.append(None)
            continue
        errors = []
        def error(s):
            d = np.clip(np.rint(ch / s), -limit, limit).astype(F) * s - ch
            return float(np.sum(d.astype(np.float64) ** 2))
        for j in range(51):
            s = F(F(m * (F(1) - F(j) / F(100))) / F(limit))
            errors.append((error(s), j, s))
        best = min(errors, key=lambda e: (e[0], e[1]))
        if limit == 127 and best[0] > 0 and error(F(m / F(63))) == 0:
            best = (0.0, 100, F(m / F(63)))
        if margin is not None:
            second = min(e[0] for e in errors if e[1] != best[1])
            assert second > best[0] * (1 + margin), f"channel {o}: no clear best scale ({best[0]} vs {second})"
        ss[o] = best[2]
        js.append(best[1])
        ks[o] = np.clip(np.rint(ch / best[2]), -limit, limit)
    return ks.reshape(w.shape), ss, js


def grid_weights(rng, shape, limit):
    """Weights on their channel's grid: integers in -limit..limit, one of them ±limit, times 2^-f (f random per
    channel)."""
    k = shape[0]
    per = int(np.prod(shape[1:]))
    u = rng.integers(-limit, limit + 1, size=(k, per)).astype(np.float64)
    for o in range(k):
        u[o, rng.integers(0, per)] = limit * rng.choice([-1, 1])
    return (u * 2.0 ** -rng.integers(3, 7, size=(k, 1))).reshape(shape).astype(F)


def tensor(a):
    a = np.asarray(a, dtype=F)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def chain(name, rng, limit, input_shape, input_grid, layers):
    """layers: (out_channels, kernel, groups, padding, relu, grid or None[, stride])."""
    x = (rng.integers(-300, 300, size=input_shape) / 32).astype(F)  # steps of 1/32: half the input grid's
    q, ties, saturated = round_to_grid(x.astype(np.float64), input_grid["scale"], input_grid["unsigned"])
    s_x = input_grid["scale"]
    out_layers = []
    for i, (k_out, kernel, groups, padding, relu, grid, *rest) in enumerate(layers):
        stride = rest[0] if rest else 1
        w = grid_weights(rng, (k_out, q.shape[1] // groups, kernel, kernel), limit)
        b = (rng.integers(-400, 400, size=k_out) / 1024).astype(F)
        k, s, js = quantize_weights(w, limit)
        assert all(j == 0 for j in js), f"{name}: layer {i} left its weights' own grid ({js})"
        acc = conv_int(q, k, groups, padding, stride)
        y = acc.astype(np.float64) * (s_x * s.astype(np.float64)).reshape(1, -1, 1, 1) + b.astype(np.float64).reshape(1, -1, 1, 1)
        assert np.all(y.astype(F).astype(np.float64) == y), f"{name}: layer {i} is not exact in float32"
        if relu:
            y = np.maximum(y, 0)
        out_layers.append({"weight": tensor(w), "bias": tensor(b), "groups": groups, "padding": padding, "relu": relu, "grid": grid,
                           "stride": stride})
        if grid is None:
            expected = y
            break
        q, t, sat = round_to_grid(y, grid["scale"], grid["unsigned"])
        ties, saturated = ties + t, saturated + sat
        s_x = grid["scale"]
    assert ties > 0 and saturated > 0, f"{name}: ties {ties}, saturated {saturated}"
    return {"name": name, "weight_bits": "7-bit" if limit == 63 else "8-bit", "input_grid": input_grid, "input": tensor(x),
            "layers": out_layers, "expected": tensor(expected), "relative_tolerance": 0,
            "counts": {"activation_ties": ties, "saturated": saturated}}


def calibrated(name, rng, limit, tolerance):
    """One 3×3 convolution (3 -> 8 channels, padding 1, bias, float output) of a float model, calibrated on 16
    images whose largest |value| is 127/16 (input scale 1/16, exact) and whose channels have different means."""
    cal = (rng.integers(-100, 100, size=(16, 3, 6, 6)) / 16 + np.array([1.5, -1.0, 0.5]).reshape(1, 3, 1, 1)).astype(F)
    cal = np.clip(cal, -127 / 16, 127 / 16)
    cal[0, 0, 0, 0] = 127 / 16
    s_x = F(np.abs(cal).max()) / F(127)
    assert s_x == 1 / 16
    w = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(F)
    w[2, 1, 1, 1] = 2.5  # an outlier: the search clips it
    b = (rng.standard_normal(8) * 0.1).astype(F)
    k, s, js = quantize_weights(w, limit, margin=1e-6)
    means = cal.astype(np.float64).mean(axis=(2, 3)).mean(axis=0)
    error = (k * s.reshape(-1, 1, 1, 1) - w).astype(np.float64)  # in float32, as the plan computes it
    inside = np.array([np.mean([0 <= o - 1 + t < 6 for o in range(6)]) for t in range(3)])  # 6×6, padding 1, 3×3
    corrected = b.astype(np.float64) - np.einsum("ocij,c,i,j->o", error, means, inside, inside)
    x = (rng.integers(-300, 300, size=(2, 3, 6, 6)) / 32).astype(F)
    q, ties, saturated = round_to_grid(x.astype(np.float64), float(s_x), False)
    acc = conv_int(q, k, 1, 1)
    y = acc.astype(np.float64) * (float(s_x) * s.astype(np.float64)).reshape(1, -1, 1, 1) + corrected.reshape(1, -1, 1, 1)
    shift = np.abs(corrected - b).max()
    assert shift > 100 * tolerance * np.abs(y).max(), f"{name}: the bias correction ({shift}) is within the tolerance"
    assert ties > 0 and saturated > 0 and (limit == 127 or max(j for j in js) > 0), f"{name}: ties {ties}, saturated {saturated}, scales {js}"
    return {"name": name, "weight_bits": "7-bit" if limit == 63 else "8-bit", "input_grid": None, "calibration": tensor(cal),
            "input": tensor(x), "layers": [{"weight": tensor(w), "bias": tensor(b), "groups": 1, "padding": 1, "relu": False,
                                            "grid": None, "stride": 1}],
            "expected": tensor(y), "relative_tolerance": tolerance,
            "counts": {"activation_ties": ties, "saturated": saturated, "largest_bias_shift": float(shift)}}


def weights_case(name, rng, limit):
    """Channels of 9 and of 36 weights, normal and heavy-tailed (Laplace, where clipping the largest pays), one all
    zero."""
    w9 = np.concatenate([rng.standard_normal((4, 1, 3, 3)) * 0.2, rng.laplace(size=(8, 1, 3, 3)) * 0.1]).astype(F)
    w36 = np.concatenate([rng.standard_normal((2, 4, 3, 3)) * 0.2, rng.laplace(size=(6, 4, 3, 3)) * 0.1]).astype(F)
    w9[5] = 0
    cases = []
    for w in (w9, w36):
        k, s, js = quantize_weights(w, limit, margin=1e-6)
        cases.append({"weight": tensor(w), "integers": tensor(k), "scales": [float(v) for v in s], "chosen": js})
    chosen = [j for c in cases for j in c["chosen"]]
    # With 255 levels clipping seldom pays: the 8-bit channels here keep j = 0, the 7-bit ones mix.
    assert 0 in chosen and None in chosen and (limit == 127 or any(j not in (0, None) for j in chosen)), f"{name}: scales chosen {chosen}"
    return {"name": name, "weight_bits": "7-bit" if limit == 63 else "8-bit", "tensors": cases}


def seven_bit_file_case(rng):
    """8-bit weights of a model quantized with 7-bit weights (a file meant for CPUs without VNNI too): normal
    weights rounded by the 7-bit rule, then quantized by the 8-bit one, which must keep them (its last scale, m/63)."""
    w = (rng.standard_normal((8, 4, 3, 3)) * 0.2).astype(F)
    k7, s7, _ = quantize_weights(w, 63)
    rounded = (k7.reshape(8, -1) * s7[:, None]).astype(F).reshape(w.shape)
    k, s, js = quantize_weights(rounded, 127)
    assert all(j == 100 for j in js) and np.array_equal((k.reshape(8, -1) * s[:, None]).astype(F).reshape(w.shape), rounded), js
    return {"name": "8-bit weights of a 7-bit file", "weight_bits": "8-bit",
            "tensors": [{"weight": tensor(rounded), "integers": tensor(k), "scales": [float(v) for v in s], "chosen": js}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()
    rng = np.random.default_rng(19)
    s8 = lambda e: {"scale": 2.0 ** -e, "unsigned": False}
    u8 = lambda e: {"scale": 2.0 ** -e, "unsigned": True}
    chains, weights = [], []
    for limit, bits in [(63, "7-bit"), (127, "8-bit")]:
        weights.append(weights_case(f"{bits} weights", rng, limit))
        # A signed input into a 3×3 convolution, ReLU onto u8; a depthwise 3×3 convolution of u8, ReLU onto u8; a 1×1
        # convolution to float: ResNet's and PneumoNet's shapes of source.
        chains.append(chain(f"{bits} signed input, u8 chain", rng, limit, (2, 3, 6, 6), s8(4),
                            [(8, 3, 1, 1, True, u8(1)), (8, 3, 8, 1, True, u8(2)), (4, 1, 1, 0, False, None)]))
        # Signed values all the way: a depthwise convolution of s8 onto s8 (no ReLU: MobileNetV2's projections), then a
        # 1×1 convolution of s8 to float.
        chains.append(chain(f"{bits} signed chain", rng, limit, (2, 8, 5, 5), s8(4),
                            [(8, 3, 8, 1, False, s8(1)), (4, 1, 1, 0, False, None)]))
        chains.append(calibrated(f"{bits} calibrated, bias corrected", rng, limit, 1e-6))
        # A strided 1×1 convolution of 8 u8 channels (ResNet's downsample at width 1/8): oneDNN's AVX2 1×1 kernel races
        # on it (Sources/Runtime/PlanBuilder+StridedGather.swift).
        chains.append(chain(f"{bits} strided 1×1 of 8 channels", rng, limit, (3, 8, 8, 8), s8(4),
                            [(8, 3, 1, 1, True, u8(1)), (16, 1, 1, 0, False, None, 2)]))
    # Cases for the INT8 plan's own kernels, after the cases above, which they leave as they were: depthwise maps of
    # PneumoNet's widths and stride 2, unsigned and signed (its AVX-512 build takes 16 channels at a time, its AVX2 build
    # 8), and one-channel images (PneumoNet's stem) at stride 1 and 2.
    for limit, bits in [(63, "7-bit"), (127, "8-bit")]:
        chains.append(chain(f"{bits} depthwise of 32 channels, stride 2", rng, limit, (2, 16, 7, 7), s8(4),
                            [(32, 3, 1, 1, True, u8(1)), (32, 3, 32, 1, True, u8(2), 2), (4, 1, 1, 0, False, None)]))
        chains.append(chain(f"{bits} depthwise of 16 signed channels", rng, limit, (2, 16, 5, 6), s8(4),
                            [(16, 3, 16, 1, False, s8(1)), (4, 1, 1, 0, False, None)]))
        chains.append(chain(f"{bits} one-channel image, u8 chain", rng, limit, (2, 1, 9, 10), s8(4),
                            [(16, 3, 1, 1, True, u8(1)), (4, 1, 1, 0, False, None)]))
        chains.append(chain(f"{bits} one-channel image, stride 2", rng, limit, (3, 1, 7, 8), s8(4),
                            [(8, 3, 1, 1, True, u8(1), 2), (8, 3, 8, 1, True, u8(2)), (4, 1, 1, 0, False, None)]))
    weights.append(seven_bit_file_case(rng))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "int8_conv_chains.json")
    with open(path, "w") as f:
        json.dump({"generator": f"numpy {np.__version__}", "script": SCRIPT, "weights": weights, "chains": chains}, f)
        f.write("\n")
    for c in chains:
        print(c["name"], c["counts"])
    for c in weights:
        print(c["name"], "scales chosen (j)", [t["chosen"] for t in c["tensors"]])


if __name__ == "__main__":
    main()
