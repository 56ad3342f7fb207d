#!/usr/bin/env python3
"""Writes the PyTorch-semantics fixtures of the graph core op tests into Tests/GraphCoreTests/Fixtures/.

    python3 scripts/make_engine_fixtures.py            # torch if importable, else NumPy
    python3 scripts/make_engine_fixtures.py --numpy    # force the NumPy implementation
    python3 scripts/make_engine_fixtures.py --check    # (needs torch) also check NumPy against torch
    python3 scripts/make_engine_fixtures.py --out DIR  # write elsewhere (e.g. to diff against the committed ones)
    python3 scripts/make_engine_fixtures.py --only distillation   # write one file, leave the others as they are

Each fixture file holds, per case, the inputs (float32, written with the shortest decimal that reads back
as the same float32), the upstream gradient, and the expected forward output and gradients. Expected values
are computed in float64 from those float32 inputs, so that the tests measure only the float32 error of the
engine. Every file records its generator ("torch x.y" or "numpy x.y") and this script's path.

With torch, the expected values come from torch.nn.functional (conv2d, batch_norm, max_pool2d, avg_pool2d,
interpolate(mode="bilinear", align_corners=False), cross_entropy, kl_div + cross_entropy for distillation; tensor_ops:
broadcast +, −, ·, ÷, sigmoid, hardsigmoid, hardswish, silu, softmax, permute, F.pad, cat, mean) and torch.autograd. Without torch, they come from the NumPy functions below, written from PyTorch's documented semantics (formulas in each
docstring) and independent of the Swift code. `--check` runs both and fails if they disagree.

Inputs come from a seeded NumPy generator, so reruns write identical inputs.
"""

import argparse
import json
import os
import sys

import numpy as np

SCRIPT = "scripts/make_engine_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "GraphCoreTests", "Fixtures")

try:  # torch is optional: the script falls back to NumPy cleanly when it is missing.
    import torch
    import torch.nn.functional as F
except Exception:  # noqa: BLE001 — any import failure means "no torch"
    torch = None


# ----------------------------------------------------------------------------------------------------------
# Input generation
# ----------------------------------------------------------------------------------------------------------

def normal(rng, shape, std=1.0):
    return (rng.standard_normal(shape) * std).astype(np.float32)


def distinct(rng, shape, gap=0.05):
    """Distinct values `gap` apart in a random order: no max-pool window holds a tie."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * gap).astype(np.float32).reshape(shape)


# ----------------------------------------------------------------------------------------------------------
# NumPy implementations of PyTorch's semantics (float64)
# ----------------------------------------------------------------------------------------------------------

def np_conv2d(x, w, b, stride, padding, dilation, groups, gy):
    """torch.nn.functional.conv2d, NCHW, weight [K, C/groups, kH, kW]:

        y[n, k, i, j] = b[k] + Σ_{c ∈ group(k), u, v} x_pad[n, c, i·sh + u·dh, j·sw + v·dw] · w[k, c − c0(k), u, v]

    with x_pad = x zero-padded by (ph, pw), Ho = ⌊(H + 2ph − dh(kH − 1) − 1) / sh⌋ + 1 (same for W).
    Gradients for upstream gy: dx scatters gy·w back through the same taps, dw gathers gy·x, db = Σ gy.
    """
    x, w, gy = x.astype(np.float64), w.astype(np.float64), gy.astype(np.float64)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    kg = k // groups
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    y = np.zeros((n, k, ho, wo))
    dxp = np.zeros_like(xp)
    dwt = np.zeros_like(w)
    for g in range(groups):
        cs, ks = slice(g * cg, (g + 1) * cg), slice(g * kg, (g + 1) * kg)
        for u in range(kh):
            for v in range(kw):
                rows = slice(u * dh, u * dh + sh * (ho - 1) + 1, sh)
                cols = slice(v * dw, v * dw + sw * (wo - 1) + 1, sw)
                patch = xp[:, cs, rows, cols]                        # [N, Cg, Ho, Wo]
                wuv = w[ks, :, u, v]                                 # [Kg, Cg]
                y[:, ks] += np.einsum("nchw,kc->nkhw", patch, wuv)
                dxp[:, cs, rows, cols] += np.einsum("nkhw,kc->nchw", gy[:, ks], wuv)
                dwt[ks, :, u, v] += np.einsum("nkhw,nchw->kc", gy[:, ks], patch)
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    dx = dxp[:, :, ph:ph + h, pw:pw + wd]
    db = gy.sum(axis=(0, 2, 3)) if b is not None else None
    return y, dx, dwt, db


def np_batch_norm_training(x, w, b, rm, rv, momentum, eps, gy):
    """torch.nn.functional.batch_norm(training=True) over [N, C, H, W], m = N·H·W per channel:

        μ = mean(x), σ² = mean((x − μ)²) (biased), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β
        running_mean ← (1 − momentum)·running_mean + momentum·μ
        running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)   (unbiased)
        dβ = Σ g, dγ = Σ g·x̂, dx = γ/√(σ² + ε) · (g − mean(g) − x̂·mean(g·x̂))
    """
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    w, b = w.astype(np.float64), b.astype(np.float64)
    axes = (0, 2, 3)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu = x.mean(axis=axes)
    var = ((x - mu[None, :, None, None]) ** 2).mean(axis=axes)
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mu[None, :, None, None]) * inv[None, :, None, None]
    y = w[None, :, None, None] * xhat + b[None, :, None, None]
    new_rm = (1 - momentum) * rm.astype(np.float64) + momentum * mu
    new_rv = (1 - momentum) * rv.astype(np.float64) + momentum * var * m / (m - 1)
    db = gy.sum(axis=axes)
    dw = (gy * xhat).sum(axis=axes)
    dx = (w * inv)[None, :, None, None] * (gy - (db / m)[None, :, None, None] - xhat * (dw / m)[None, :, None, None])
    return y, new_rm, new_rv, dx, dw, db


def np_batch_norm_inference(x, w, b, rm, rv, eps):
    """batch_norm(training=False): y = γ·(x − running_mean)/√(running_var + ε) + β."""
    c = lambda t: t.astype(np.float64)[None, :, None, None]  # noqa: E731
    return (x.astype(np.float64) - c(rm)) / np.sqrt(c(rv) + eps) * c(w) + c(b)


def _pool_windows(h, k, s, p):
    ho = (h + 2 * p - k) // s + 1  # floor mode
    return ho, [(o * s - p, o * s - p + k) for o in range(ho)]


def np_max_pool2d(x, kernel, stride, padding, gy):
    """max_pool2d (floor mode): y = max over the window of the input, padding never wins (it is −∞).
    The gradient goes to the first maximum of the window in row-major order (PyTorch's CPU kernel keeps the
    first index whose value is strictly greater)."""
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    n, c, h, w = x.shape
    ho, rows = _pool_windows(h, kernel[0], stride[0], padding[0])
    wo, cols = _pool_windows(w, kernel[1], stride[1], padding[1])
    y = np.zeros((n, c, ho, wo))
    dx = np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for i, (r0, r1) in enumerate(rows):
                for j, (c0, c1) in enumerate(cols):
                    best, arg = -np.inf, None
                    for r in range(max(r0, 0), min(r1, h)):
                        for q in range(max(c0, 0), min(c1, w)):
                            if x[b, ch, r, q] > best:
                                best, arg = x[b, ch, r, q], (r, q)
                    y[b, ch, i, j] = best
                    dx[b, ch, arg[0], arg[1]] += gy[b, ch, i, j]
    return y, dx


def np_avg_pool2d(x, kernel, stride, padding, gy):
    """avg_pool2d(count_include_pad=True, floor mode): y = Σ window / (kH·kW), padded zeros included;
    each input receives gy/(kH·kW) from every window that covers it."""
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    n, c, h, w = x.shape
    ho, rows = _pool_windows(h, kernel[0], stride[0], padding[0])
    wo, cols = _pool_windows(w, kernel[1], stride[1], padding[1])
    area = kernel[0] * kernel[1]
    y = np.zeros((n, c, ho, wo))
    dx = np.zeros_like(x)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            rs, cs = slice(max(r0, 0), min(r1, h)), slice(max(c0, 0), min(c1, w))
            y[:, :, i, j] = x[:, :, rs, cs].sum(axis=(2, 3)) / area
            dx[:, :, rs, cs] += gy[:, :, i, j][:, :, None, None] / area
    return y, dx


def _bilinear_axis(in_size, out_size):
    """PyTorch's align_corners=False source coordinate for output index d, with scale = in/out:
    src = max((d + 0.5)·in/out − 0.5, 0), i0 = ⌊src⌋, i1 = min(i0 + 1, in − 1), λ1 = src − i0, λ0 = 1 − λ1."""
    m = np.zeros((out_size, in_size))
    scale = in_size / out_size
    for d in range(out_size):
        src = max((d + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(np.floor(src)), in_size - 1)
        i1 = min(i0 + 1, in_size - 1)
        l1 = src - i0
        m[d, i0] += 1 - l1
        m[d, i1] += l1
    return m


def np_resize_bilinear(x, size, gy):
    """interpolate(mode="bilinear", align_corners=False) to `size` is separable: y = Aᵧ · x · Aₓᵀ per plane,
    with A from `_bilinear_axis`; so dx = Aᵧᵀ · gy · Aₓ."""
    ay, ax = _bilinear_axis(x.shape[2], size[0]), _bilinear_axis(x.shape[3], size[1])
    y = np.einsum("oh,nchw,pw->ncop", ay, x.astype(np.float64), ax)
    dx = np.einsum("oh,ncop,pw->nchw", ay, gy.astype(np.float64), ax)
    return y, dx


def np_cross_entropy(logits, labels, weight, gloss):
    """cross_entropy(reduction="mean", weight=w): loss = Σᵢ w[yᵢ]·(−log softmax(xᵢ)[yᵢ]) / Σᵢ w[yᵢ];
    d loss/d xᵢ = w[yᵢ]·(softmax(xᵢ) − onehot(yᵢ)) / Σ w[y]."""
    x = logits.astype(np.float64)
    n, k = x.shape
    w = np.ones(k) if weight is None else weight.astype(np.float64)
    z = x - x.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    wy = w[labels]
    loss = -(wy * logp[np.arange(n), labels]).sum() / wy.sum()
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    grad *= (wy / wy.sum())[:, None] * gloss
    return np.array(loss), grad


def np_distillation(student, teacher, labels, temperature, alpha, weight, gloss):
    """Hinton distillation, as `alpha·T²·kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") +
    (1 − alpha)·cross_entropy(s, y, weight=w)`:

        p = softmax(t/T), q = softmax(s/T), loss = α·T²·(1/N)·Σᵢ Σⱼ pᵢⱼ·(log pᵢⱼ − log qᵢⱼ) + (1 − α)·CE
        d loss/d s = α·T·(q − p)/N + (1 − α)·d CE/d s        (the teacher t is a constant)
    """
    s, t = student.astype(np.float64) / temperature, teacher.astype(np.float64) / temperature
    n = s.shape[0]

    def log_softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    logq, logp = log_softmax(s), log_softmax(t)
    p = np.exp(logp)
    kl = (p * (logp - logq)).sum() / n
    ce, gce = np_cross_entropy(student, labels, weight, 1.0)
    loss = alpha * temperature ** 2 * kl + (1 - alpha) * ce
    grad = (alpha * temperature * (np.exp(logq) - p) / n + (1 - alpha) * gce) * gloss
    return np.array(loss), grad


# ----------------------------------------------------------------------------------------------------------
# torch versions (float64 from the same float32 inputs)
# ----------------------------------------------------------------------------------------------------------

def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _np(t):
    return t.detach().numpy()


def torch_conv2d(x, w, b, stride, padding, dilation, groups, gy):
    tx, tw = _t(x, True), _t(w, True)
    tb = _t(b, True) if b is not None else None
    y = F.conv2d(tx, tw, tb, stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation), groups=groups)
    y.backward(_t(gy))
    return _np(y), _np(tx.grad), _np(tw.grad), (_np(tb.grad) if tb is not None else None)


def torch_batch_norm_training(x, w, b, rm, rv, momentum, eps, gy):
    tx, tw, tb = _t(x, True), _t(w, True), _t(b, True)
    trm, trv = _t(rm), _t(rv)
    y = F.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=momentum, eps=eps)
    y.backward(_t(gy))
    return _np(y), _np(trm), _np(trv), _np(tx.grad), _np(tw.grad), _np(tb.grad)


def torch_batch_norm_inference(x, w, b, rm, rv, eps):
    return _np(F.batch_norm(_t(x), _t(rm), _t(rv), _t(w), _t(b), training=False, eps=eps))


def torch_max_pool2d(x, kernel, stride, padding, gy):
    tx = _t(x, True)
    y = F.max_pool2d(tx, tuple(kernel), tuple(stride), tuple(padding))
    y.backward(_t(gy))
    return _np(y), _np(tx.grad)


def torch_avg_pool2d(x, kernel, stride, padding, gy):
    tx = _t(x, True)
    y = F.avg_pool2d(tx, tuple(kernel), tuple(stride), tuple(padding), count_include_pad=True)
    y.backward(_t(gy))
    return _np(y), _np(tx.grad)


def torch_resize_bilinear(x, size, gy):
    tx = _t(x, True)
    y = F.interpolate(tx, size=tuple(size), mode="bilinear", align_corners=False)
    y.backward(_t(gy))
    return _np(y), _np(tx.grad)


def torch_cross_entropy(logits, labels, weight, gloss):
    tx = _t(logits, True)
    loss = F.cross_entropy(tx, torch.tensor(labels, dtype=torch.long),
                           weight=None if weight is None else _t(weight))
    loss.backward(_t(gloss))
    return _np(loss), _np(tx.grad)


def torch_distillation(student, teacher, labels, temperature, alpha, weight, gloss):
    ts = _t(student, True)
    soft = F.kl_div(F.log_softmax(ts / temperature, dim=1), F.softmax(_t(teacher) / temperature, dim=1),
                    reduction="batchmean")
    hard = F.cross_entropy(ts, torch.tensor(labels, dtype=torch.long), weight=None if weight is None else _t(weight))
    loss = alpha * temperature ** 2 * soft + (1 - alpha) * hard
    loss.backward(_t(gloss))
    return _np(loss), _np(ts.grad)


def _unbroadcast(g, shape):
    """Sums a broadcast result's gradient back to an operand's shape (NumPy's broadcasting, undone)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True).reshape(shape)


def np_tensor_forward(case, x):
    """The tensor ops' forward in float64: a∘b with NumPy broadcasting; σ; hardsigmoid(α, β) max(0, min(1, αx+β));
    hardswish x·relu6(x+3)/6; silu x·σ; softmax along an axis; permute; np.pad's constant/reflect/edge; cat; mean."""
    op, at = case["op"], case
    if op in ("add", "sub", "mul", "div"):
        a, b = x
        return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    if op == "concat":
        return np.concatenate(x, axis=at["axis"])
    v = x[0]
    if op == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if op == "hard_sigmoid":
        return np.clip(at["alpha"] * v + at["beta"], 0, 1)
    if op == "hard_swish":
        return v * np.clip(v + 3, 0, 6) / 6
    if op == "swish":
        return v / (1 + np.exp(-v))
    if op == "softmax":
        e = np.exp(v - v.max(axis=at["axis"], keepdims=True))
        return e / e.sum(axis=at["axis"], keepdims=True)
    if op == "transpose":
        return v.transpose(at["permutation"])
    if op == "pad":
        widths = list(zip(at["begin"], at["end"]))
        if at["mode"] == "constant":
            return np.pad(v, widths, mode="constant", constant_values=at["value"])
        return np.pad(v, widths, mode=at["mode"])
    if op == "reduce_mean":
        return v.mean(axis=tuple(at["axes"]), keepdims=at["keep_dims"])
    raise ValueError(op)


def np_tensor_op(case, inputs, gy):
    """Forward and input gradients for upstream gy: broadcast gradients summed back over broadcast axes
    (d(a/b)/db = −a/b²); σ(1−σ); hardsigmoid α inside (0, 1) only; hardswish 0 below −3, x/3 + ½ on [−3, 3], 1 above
    (PyTorch's); silu σ + xσ(1−σ); softmax s·(g − Σg·s); the inverse permutation; padding's gradient gathered back to
    the elements each output copied (np.add.at); cat's slices; mean g / count broadcast."""
    op, at = case["op"], case
    x = [v.astype(np.float64) for v in inputs]
    g = gy.astype(np.float64)
    y = np_tensor_forward(case, x)
    if op in ("add", "sub", "mul", "div"):
        a, b = x
        da, db = {"add": (g, g), "sub": (g, -g), "mul": (g * b, g * a), "div": (g / b, -g * a / (b * b))}[op]
        return y, [_unbroadcast(da, a.shape), _unbroadcast(db, b.shape)]
    if op == "concat":
        cuts = np.cumsum([t.shape[at["axis"]] for t in x])[:-1]
        return y, list(np.split(g, cuts, axis=at["axis"]))
    v = x[0]
    if op == "sigmoid":
        return y, [g * y * (1 - y)]
    if op == "hard_sigmoid":
        t = at["alpha"] * v + at["beta"]
        return y, [g * np.where((t > 0) & (t < 1), at["alpha"], 0)]
    if op == "hard_swish":
        return y, [g * np.where(v < -3, 0, np.where(v <= 3, v / 3 + 0.5, 1))]
    if op == "swish":
        s = 1 / (1 + np.exp(-v))
        return y, [g * (s + v * s * (1 - s))]
    if op == "softmax":
        return y, [y * (g - (g * y).sum(axis=at["axis"], keepdims=True))]
    if op == "transpose":
        return y, [g.transpose(np.argsort(at["permutation"]))]
    if op == "pad":
        widths = list(zip(at["begin"], at["end"]))
        ids = np.arange(v.size).reshape(v.shape)
        index = (np.pad(ids, widths, mode="constant", constant_values=-1) if at["mode"] == "constant"
                 else np.pad(ids, widths, mode=at["mode"]))
        dx = np.zeros(v.size)
        keep = index.ravel() >= 0
        np.add.at(dx, index.ravel()[keep], g.ravel()[keep])
        return y, [dx.reshape(v.shape)]
    if op == "reduce_mean":
        axes = tuple(at["axes"])
        count = np.prod([v.shape[i] for i in axes])
        gk = g if at["keep_dims"] else np.expand_dims(g, axes)
        return y, [np.broadcast_to(gk / count, v.shape)]
    raise ValueError(op)


def torch_tensor_op(case, inputs, gy):
    op, at = case["op"], case
    x = [_t(v, True) for v in inputs]
    if op in ("add", "sub", "mul", "div"):
        y = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op](x[0], x[1])
    elif op == "sigmoid":
        y = torch.sigmoid(x[0])
    elif op == "hard_sigmoid":
        assert abs(at["alpha"] - 1 / 6) < 1e-12 and at["beta"] == 0.5, "torch's hardsigmoid is α = 1/6, β = 1/2"
        y = F.hardsigmoid(x[0])
    elif op == "hard_swish":
        y = F.hardswish(x[0])
    elif op == "swish":
        y = F.silu(x[0])
    elif op == "softmax":
        y = torch.softmax(x[0], dim=at["axis"])
    elif op == "transpose":
        y = x[0].permute(*at["permutation"])
    elif op == "pad":
        # F.pad lists (begin, end) pairs from the last axis backwards; replicate is ONNX's edge.
        pads = [p for axis in reversed(range(len(at["begin"]))) for p in (at["begin"][axis], at["end"][axis])]
        while len(pads) > 4 and pads[-2:] == [0, 0]:  # reflect/replicate take the trailing padded axes only
            pads = pads[:-2]
        mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[at["mode"]]
        y = F.pad(x[0], pads, mode=mode, value=at["value"]) if mode == "constant" else F.pad(x[0], pads, mode=mode)
    elif op == "concat":
        y = torch.cat(x, dim=at["axis"])
    elif op == "reduce_mean":
        y = x[0].mean(dim=tuple(at["axes"]), keepdim=at["keep_dims"])
    else:
        raise ValueError(op)
    y.backward(_t(gy))
    return _np(y), [_np(t.grad) for t in x]


# ----------------------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------------------

TENSOR_OP_CASES = [
    # name, input shapes, attributes (op and its own); inputs are standard normal, divisors kept away from 0
    ("mul_se_scale", [[2, 3, 4, 5], [2, 3, 1, 1]], {"op": "mul"}),
    ("mul_scalar_first", [[1], [2, 3, 2, 2]], {"op": "mul"}),
    ("add_row_bias", [[2, 3, 4], [4]], {"op": "add"}),
    ("sub_both_broadcast", [[2, 1, 3], [1, 4, 1]], {"op": "sub"}),
    ("div_channel", [[2, 3, 2, 2], [1, 3, 1, 1]], {"op": "div"}),
    ("div_broadcast_first", [[1, 3, 1, 1], [2, 3, 2, 2]], {"op": "div"}),
    ("sigmoid", [[2, 3, 4]], {"op": "sigmoid"}),
    ("hard_sigmoid_torch", [[2, 3, 4, 2]], {"op": "hard_sigmoid", "alpha": 1 / 6, "beta": 0.5}),
    ("hard_swish", [[2, 3, 4, 2]], {"op": "hard_swish"}),
    ("swish", [[2, 3, 4, 2]], {"op": "swish"}),
    ("softmax_axis1", [[3, 5]], {"op": "softmax", "axis": 1}),
    ("softmax_channels", [[2, 4, 2, 3]], {"op": "softmax", "axis": 1}),
    ("transpose_hw", [[2, 3, 4, 5]], {"op": "transpose", "permutation": [0, 1, 3, 2]}),
    ("transpose_nhwc", [[2, 3, 4, 5]], {"op": "transpose", "permutation": [0, 2, 3, 1]}),
    ("pad_constant", [[1, 2, 3, 4]], {"op": "pad", "begin": [0, 0, 1, 0], "end": [0, 0, 2, 1], "mode": "constant", "value": 0.5}),
    ("pad_reflect", [[1, 2, 4, 5]], {"op": "pad", "begin": [0, 0, 1, 2], "end": [0, 0, 3, 1], "mode": "reflect", "value": 0.0}),
    ("pad_edge", [[2, 1, 3, 3]], {"op": "pad", "begin": [0, 0, 2, 1], "end": [0, 0, 1, 2], "mode": "edge", "value": 0.0}),
    ("concat_channels", [[2, 3, 2, 2], [2, 1, 2, 2], [2, 2, 2, 2]], {"op": "concat", "axis": 1}),
    ("concat_last", [[2, 3], [2, 4]], {"op": "concat", "axis": 1}),
    ("mean_hw_keep", [[2, 3, 4, 5]], {"op": "reduce_mean", "axes": [2, 3], "keep_dims": True}),
    ("mean_w_drop", [[2, 3, 4, 5]], {"op": "reduce_mean", "axes": [3], "keep_dims": False}),
    ("mean_channels_drop", [[2, 3, 4]], {"op": "reduce_mean", "axes": [1], "keep_dims": False}),
]


CONV_CASES = [
    # name, x shape, weight shape, bias, stride, padding, dilation, groups
    ("3x3_pad1_bias", [2, 3, 7, 5], [4, 3, 3, 3], True, [1, 1], [1, 1], [1, 1], 1),
    ("3x3_stride2_pad1", [2, 3, 8, 7], [4, 3, 3, 3], False, [2, 2], [1, 1], [1, 1], 1),
    ("3x3_dilation2_pad2", [1, 2, 9, 7], [3, 2, 3, 3], True, [1, 1], [2, 2], [2, 2], 1),
    ("3x3_groups2", [2, 4, 6, 5], [6, 2, 3, 3], True, [1, 1], [1, 1], [1, 1], 2),
    ("3x3_depthwise_stride2", [2, 4, 7, 7], [4, 1, 3, 3], True, [2, 2], [1, 1], [1, 1], 4),
    ("3x3_depthwise_multiplier2", [1, 3, 5, 6], [6, 1, 3, 3], False, [1, 1], [1, 1], [1, 1], 3),
    ("1x1_stride2_downsample", [2, 4, 7, 6], [5, 4, 1, 1], False, [2, 2], [0, 0], [1, 1], 1),
    ("7x7_stride2_pad3_stem", [1, 1, 11, 11], [4, 1, 7, 7], False, [2, 2], [3, 3], [1, 1], 1),
    ("3x2_asymmetric", [1, 2, 7, 6], [3, 2, 3, 2], True, [2, 1], [1, 0], [1, 2], 1),
]

MAX_POOL_CASES = [
    # name, x shape, kernel, stride, padding
    ("3x3_stride2_pad1_stem", [2, 3, 9, 8], [3, 3], [2, 2], [1, 1]),
    ("2x2_stride2_odd", [1, 2, 7, 5], [2, 2], [2, 2], [0, 0]),
    ("3x3_stride1", [1, 2, 5, 6], [3, 3], [1, 1], [0, 0]),
    ("3x2_stride_2x1_pad_1x0", [1, 2, 7, 5], [3, 2], [2, 1], [1, 0]),
    # ReLU output: windows of zeros tie, and the gradient goes to the first maximum of each window.
    ("ties_after_relu_3x3_stride2_pad1", [1, 2, 9, 8], [3, 3], [2, 2], [1, 1]),
]

AVG_POOL_CASES = [
    ("2x2_stride2", [2, 3, 6, 7], [2, 2], [2, 2], [0, 0]),
    ("3x3_stride2_pad1", [1, 2, 9, 8], [3, 3], [2, 2], [1, 1]),
    ("3x3_stride1_pad1", [1, 2, 5, 4], [3, 3], [1, 1], [1, 1]),
    ("global_5x7", [2, 3, 5, 7], [5, 7], [5, 7], [0, 0]),
]

RESIZE_CASES = [
    # name, x shape, output size
    ("up_5x5_to_11x11", [1, 2, 5, 5], [11, 11]),
    ("up_8x8_to_28x28", [1, 1, 8, 8], [28, 28]),
    ("down_9x9_to_4x4", [2, 2, 9, 9], [4, 4]),
    ("up_5x5_to_7x7", [1, 2, 5, 5], [7, 7]),
    ("mixed_6x7_to_10x3", [1, 2, 6, 7], [10, 3]),
]

BN_CASES = [
    # name, x shape
    ("n3_c4_5x3", [3, 4, 5, 3]),
    ("n1_c2_4x4", [1, 2, 4, 4]),
]

CE_CASES = [
    # name, logits shape, class weights?
    ("unweighted", [6, 3], False),
    ("weighted", [7, 4], True),
]

DISTILL_CASES = [
    # name, logits shape, temperature, alpha, class weights?
    ("t4_alpha0.7_two_classes", [8, 2], 4.0, 0.7, False),
    ("t2_alpha0.5_weighted", [6, 3], 2.0, 0.5, True),
    ("t1_alpha1_soft_only", [5, 4], 1.0, 1.0, False),
    ("t8_alpha0.3_confident_teacher", [6, 3], 8.0, 0.3, False),
]


def f32(a):
    """float32 values as plain floats whose shortest decimal reads back as the same float32."""
    return [float(np.format_float_positional(v, unique=True, trim="0")) for v in np.asarray(a, np.float32).ravel()]


def tensor(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": f32(a)}


def build(impl):
    """Returns {file name: list of cases} computed with `impl` ("torch" or "numpy")."""
    use_torch = impl == "torch"
    rng = np.random.default_rng(20240611)
    files = {}

    cases = []
    for name, xs, ws, has_bias, stride, padding, dilation, groups in CONV_CASES:
        x, w = normal(rng, xs), normal(rng, ws, std=0.5)
        b = normal(rng, [ws[0]]) if has_bias else None
        ho = (xs[2] + 2 * padding[0] - dilation[0] * (ws[2] - 1) - 1) // stride[0] + 1
        wo = (xs[3] + 2 * padding[1] - dilation[1] * (ws[3] - 1) - 1) // stride[1] + 1
        gy = normal(rng, [xs[0], ws[0], ho, wo])
        fn = torch_conv2d if use_torch else np_conv2d
        y, dx, dw, db = fn(x, w, b, stride, padding, dilation, groups, gy)
        t = {"x": tensor(x), "weight": tensor(w), "grad_output": tensor(gy), "output": tensor(y),
             "grad_input": tensor(dx), "grad_weight": tensor(dw)}
        if b is not None:
            t["bias"], t["grad_bias"] = tensor(b), tensor(db)
        cases.append({"name": name, "attributes": {"stride": stride, "padding": padding, "dilation": dilation,
                                                   "groups": groups}, "tensors": t})
    files["conv2d"] = cases

    cases = []
    momentum, eps = 0.1, 1e-5
    for name, xs in BN_CASES:
        c = xs[1]
        x = normal(rng, xs, std=2.0) + np.float32(0.5)
        w, b = normal(rng, [c]), normal(rng, [c])
        rm, rv = normal(rng, [c], std=0.3), (rng.uniform(0.5, 2.0, [c])).astype(np.float32)
        gy = normal(rng, xs)
        if use_torch:
            y, nrm, nrv, dx, dw, db = torch_batch_norm_training(x, w, b, rm, rv, momentum, eps, gy)
            yi = torch_batch_norm_inference(x, w, b, rm, rv, eps)
        else:
            y, nrm, nrv, dx, dw, db = np_batch_norm_training(x, w, b, rm, rv, momentum, eps, gy)
            yi = np_batch_norm_inference(x, w, b, rm, rv, eps)
        cases.append({"name": name, "attributes": {"momentum": momentum, "epsilon": eps}, "tensors": {
            "x": tensor(x), "weight": tensor(w), "bias": tensor(b), "running_mean": tensor(rm),
            "running_var": tensor(rv), "grad_output": tensor(gy), "output_training": tensor(y),
            "updated_running_mean": tensor(nrm), "updated_running_var": tensor(nrv), "grad_input": tensor(dx),
            "grad_weight": tensor(dw), "grad_bias": tensor(db), "output_inference": tensor(yi)}})
    files["batch_norm"] = cases

    for key, table, fn in (("max_pool2d", MAX_POOL_CASES, torch_max_pool2d if use_torch else np_max_pool2d),
                           ("avg_pool2d", AVG_POOL_CASES, torch_avg_pool2d if use_torch else np_avg_pool2d)):
        cases = []
        for name, xs, kernel, stride, padding in table:
            if key == "max_pool2d" and name.startswith("ties"):
                x = np.maximum(normal(rng, xs) - np.float32(0.8), np.float32(0))
            elif key == "max_pool2d":
                x = distinct(rng, xs)
            else:
                x = normal(rng, xs)
            ho = (xs[2] + 2 * padding[0] - kernel[0]) // stride[0] + 1
            wo = (xs[3] + 2 * padding[1] - kernel[1]) // stride[1] + 1
            gy = normal(rng, [xs[0], xs[1], ho, wo])
            y, dx = fn(x, kernel, stride, padding, gy)
            cases.append({"name": name, "attributes": {"kernel": kernel, "stride": stride, "padding": padding},
                          "tensors": {"x": tensor(x), "grad_output": tensor(gy), "output": tensor(y),
                                      "grad_input": tensor(dx)}})
        files[key] = cases

    cases = []
    for name, xs, size in RESIZE_CASES:
        x = normal(rng, xs)
        gy = normal(rng, [xs[0], xs[1]] + size)
        y, dx = (torch_resize_bilinear if use_torch else np_resize_bilinear)(x, size, gy)
        cases.append({"name": name, "attributes": {"size": size}, "tensors": {
            "x": tensor(x), "grad_output": tensor(gy), "output": tensor(y), "grad_input": tensor(dx)}})
    files["resize_bilinear"] = cases

    cases = []
    for name, shape, weighted in CE_CASES:
        logits = normal(rng, shape, std=2.0)
        labels = rng.integers(0, shape[1], shape[0])
        weight = rng.uniform(0.5, 3.0, shape[1]).astype(np.float32) if weighted else None
        gloss = np.float32(0.75)
        loss, grad = (torch_cross_entropy if use_torch else np_cross_entropy)(logits, labels, weight, gloss)
        t = {"logits": tensor(logits), "labels": tensor(labels.astype(np.float32)), "grad_loss": tensor(gloss),
             "loss": tensor(loss), "grad_logits": tensor(grad)}
        if weight is not None:
            t["class_weights"] = tensor(weight)
        cases.append({"name": name, "attributes": {}, "tensors": t})
    files["softmax_cross_entropy"] = cases

    # Its own generator, so that adding these cases left the inputs of the files above unchanged.
    rng = np.random.default_rng(20250301)
    cases = []
    for name, shape, temperature, alpha, weighted in DISTILL_CASES:
        student = normal(rng, shape, std=2.0)
        teacher = normal(rng, shape, std=6.0 if "confident" in name else 2.0)
        labels = rng.integers(0, shape[1], shape[0])
        weight = rng.uniform(0.5, 3.0, shape[1]).astype(np.float32) if weighted else None
        gloss = np.float32(0.75)
        loss, grad = (torch_distillation if use_torch else np_distillation)(student, teacher, labels, temperature, alpha,
                                                                            weight, gloss)
        t = {"student": tensor(student), "teacher": tensor(teacher), "labels": tensor(labels.astype(np.float32)),
             "grad_loss": tensor(gloss), "loss": tensor(loss), "grad_student": tensor(grad)}
        if weight is not None:
            t["class_weights"] = tensor(weight)
        cases.append({"name": name, "attributes": {"temperature": temperature, "alpha": alpha}, "tensors": t})
    files["distillation"] = cases

    # Its own generator again: the tensor ops (MobileNetV3's and EfficientNet's) left every file above unchanged.
    rng = np.random.default_rng(20260601)
    cases = []
    for name, shapes, attributes in TENSOR_OP_CASES:
        inputs = [normal(rng, sh) for sh in shapes]
        if attributes["op"] == "div":  # |b| ≥ 0.5: the quotient's gradient stays O(1)
            inputs[1] = (np.sign(inputs[1]) * (0.5 + np.abs(inputs[1]))).astype(np.float32)
        out_shape = list(np.shape(np_tensor_forward(attributes, [v.astype(np.float64) for v in inputs])))
        gy = normal(rng, out_shape)
        y, grads = (torch_tensor_op if use_torch else np_tensor_op)(attributes, inputs, gy)
        t = {"grad_output": tensor(gy), "output": tensor(y)}
        for k, (v, dv) in enumerate(zip(inputs, grads)):
            t[f"x{k}"], t[f"grad_x{k}"] = tensor(v), tensor(dv)
        cases.append({"name": name, "attributes": attributes, "tensors": t})
    files["tensor_ops"] = cases
    return files


def compare(a, b):
    """Largest absolute difference between two builds' expected tensors (inputs are identical by seed)."""
    worst = 0.0
    for key in a:
        for ca, cb in zip(a[key], b[key]):
            for name, ta in ca["tensors"].items():
                d = np.max(np.abs(np.array(ta["data"]) - np.array(cb["tensors"][name]["data"])), initial=0)
                if d > 1e-5:
                    print(f"  mismatch {key}/{ca['name']}/{name}: {d:.3g}")
                worst = max(worst, d)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numpy", action="store_true", help="use the NumPy implementation even if torch is present")
    parser.add_argument("--check", action="store_true", help="compare the NumPy implementation with torch")
    parser.add_argument("--out", default=OUT_DIR, help="output folder (default: Tests/GraphCoreTests/Fixtures)")
    parser.add_argument("--only", action="append", metavar="OP",
                        help="write only this fixture file (e.g. distillation); repeatable")
    args = parser.parse_args()

    impl = "torch" if torch is not None and not args.numpy else "numpy"
    if torch is None and not args.numpy:
        print("torch is not importable; using the NumPy implementation of PyTorch's semantics", file=sys.stderr)
    if args.check:
        if torch is None:
            sys.exit("--check needs torch")
        worst = compare(build("torch"), build("numpy"))
        print(f"numpy vs torch: largest difference {worst:.3g}")
        if worst > 1e-5:
            sys.exit("the NumPy implementation disagrees with torch")

    generator = f"torch {torch.__version__}" if impl == "torch" else f"numpy {np.__version__}"
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for key, cases in build(impl).items():
        if args.only and key not in args.only:
            continue
        doc = {"generator": generator, "script": SCRIPT, "op": key,
               "note": "expected values computed in float64 from the float32 inputs stored here",
               "cases": cases}
        path = os.path.join(args.out, key + ".json")
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        size = os.path.getsize(path)
        total += size
        print(f"wrote {path} ({len(cases)} cases, {size / 1024:.1f} KiB)")
    print(f"total {total / 1024:.1f} KiB, generator {generator}")


if __name__ == "__main__":
    main()
