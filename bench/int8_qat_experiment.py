#!/usr/bin/env python3
"""Would quantization-aware fine-tuning bring an INT8 QDQ file closer to its float model? (issue 19 item 1)

Runs the QDQ file in PyTorch, node by node, as the file's own arithmetic: each activation Q/DQ pair a fake
quantization (straight-through inside its range), each convolution's weights trainable float32 rounded per output
channel onto the file's 7-bit grid (scales fixed, |k| <= 63, straight-through), biases onto theirs. Starting from the
file's weights, it fine-tunes them on the train split towards the float model's outputs and prints, after each
epoch, how far the INT8 score (logit1 - logit0) lies from the float model's on val and which val images flip.
Before training it reproduces `int8_error_budget.py`'s "all Q/DQ" row (ONNX Runtime, optimizations off).

    /work/venv-torch/bin/python bench/int8_qat_experiment.py DATA.npz FLOAT.onnx INT8.onnx [--loss mse|kl] [--epochs 3] [--lr 1e-4]

--loss mse fits the score itself (the quantity whose sign is the top-1 label); kl is distillation at T = 1.
Needs torch (not in CI: an experiment, not a test). Handles the ops of our PneumoNet/ResNet exports.
"""
import argparse

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run(model, constants, x, weights):
    """The model's output; `weights` maps a weight/bias DequantizeLinear output to its trainable float tensor."""
    env = dict(constants)
    env[model.graph.input[0].name] = x
    for n in model.graph.node:
        i = [env[v] if v else None for v in n.input]
        a, op = attributes(n), n.op_type
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]), padding=(p[0], p[1]),
                         groups=a.get("group", 1))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "GlobalAveragePool":
            y = i[0].mean((2, 3), keepdim=True)
        elif op == "Flatten":
            y = i[0].flatten(1)
        elif op == "Gemm":
            y = i[0] @ (i[1].t() if a.get("transB", 0) else i[1]) + (i[2] if len(i) > 2 else 0)
        elif op == "QuantizeLinear":
            y = ("pair", i[0], i[1], i[2])
        elif op == "DequantizeLinear" and isinstance(i[0], tuple):
            _, v, s, z = i[0]
            lo, hi = (0, 255) if z.dtype == torch.uint8 else (-128, 127)
            u = v / s + z.float()
            q = (torch.clamp(torch.round(u), lo, hi) - z.float()) * s
            inside = (u >= lo) & (u <= hi)
            y = torch.where(inside, v + (q - v).detach(), q.detach())
        elif op == "DequantizeLinear":
            w, s = weights[n.output[0]], i[1].float()
            if w.dim() == 4:
                s = s.view(-1, 1, 1, 1)
                y = w + (torch.clamp(torch.round(w / s), -63, 63) * s - w).detach()
            else:
                y = w + (torch.round(w / s) * s - w).detach()
        else:
            raise SystemExit(f"int8_qat_experiment: op {op} is not handled")
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def tensors(model):
    out = {}
    for t in model.graph.initializer:
        v = numpy_helper.to_array(t)
        out[t.name] = torch.tensor(v.copy() if v.dtype in (np.uint8, np.float32) else v.astype(np.float32))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data"), p.add_argument("float_model"), p.add_argument("int8_model")
    p.add_argument("--loss", choices=["mse", "kl"], default="mse")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-4)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    d = np.load(a.data)
    prep = lambda v: torch.tensor(((v.astype(np.float32) / 255 - 0.5) / 0.5)[:, None])   # MedMNIST's Normalize(0.5, 0.5)
    xtr, xva = prep(d["train_images"]), prep(d["val_images"])
    fm, qm = onnx.load(a.float_model), onnx.load(a.int8_model)
    fc, qc = tensors(fm), tensors(qm)
    weights = {}
    for n in qm.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[0].endswith("_quantized"):
            k, s = qc[n.input[0]], qc[n.input[1]]
            weights[n.output[0]] = (k * (s.view(-1, 1, 1, 1) if k.dim() == 4 else s)).clone().requires_grad_(True)
    with torch.no_grad():
        teacher_train, teacher_val = run(fm, fc, xtr, {}), run(fm, fc, xva, {})
    f = (teacher_val[:, 1] - teacher_val[:, 0]).numpy()

    def report(label):
        with torch.no_grad():
            y = run(qm, qc, xva, weights)
        s = (y[:, 1] - y[:, 0]).numpy()
        flips = [int(i) for i in np.nonzero((s > 0) != (f > 0))[0]]
        print(f"{label}: val score change RMS {np.sqrt(np.mean((s - f) ** 2)):.4f}, max {np.abs(s - f).max():.4f}; "
              f"{len(flips)} of {len(f)} flip {flips}", flush=True)

    report("the file as it is")
    opt = torch.optim.Adam(list(weights.values()), lr=a.lr)
    for e in range(a.epochs):
        order = torch.randperm(xtr.shape[0])
        for b in range(0, len(order), 64):
            idx = order[b:b + 64]
            y, t = run(qm, qc, xtr[idx], weights), teacher_train[idx]
            if a.loss == "kl":
                loss = F.kl_div(F.log_softmax(y, 1), F.softmax(t, 1), reduction="batchmean")
            else:
                loss = F.mse_loss(y[:, 1] - y[:, 0], t[:, 1] - t[:, 0])
            opt.zero_grad()
            loss.backward()
            opt.step()
        report(f"epoch {e + 1} ({a.loss}, lr {a.lr:g})")


if __name__ == "__main__":
    main()
