#!/usr/bin/env python3
"""Writes the reference fixtures of the model-family tests into Tests/ModelsTests/Fixtures/ (needs torch and
torchvision):

    python3 scripts/make_model_fixtures.py

1. models.json: for every named family member (and a few option settings), the PyTorch model's
   parameter count (`sum(p.numel() for p in model.parameters())`), buffer count, state-dict names and
   shapes in order (num_batches_tracked left out: the engine keeps no such counter), and the
   convolution + linear multiply-accumulates of one sample at 28 and 64 px, counted with forward hooks
   (conv: output elements · in/groups · kH · kW; linear: in · out).
   The networks come from torchvision where they exist there (resnet18 with the spec's
   `fc = Sequential(Dropout, Linear(512, 2))` head, the baseline = that model behind a bilinear resize to
   224, mobilenet_v2), and from the PyTorch re-implementations below otherwise (reduced-width ResNet-18
   and its grouped / depthwise-separable / low-rank variants, PneumoNet, a spec-file model). Each
   re-implementation is written from the Swift doc comments, not from the Swift code; the reduced-width
   ResNet-18 is checked here against torchvision's at width 1 (same state dict, same outputs).

2. *_forward.safetensors: eval-mode forward references. Each file holds the model's state dict
   (float32; batch-norm statistics and affine parameters randomised away from their 1/0 initial values so
   that inference-mode batch-norm is exercised), an `input` and the `logits` that PyTorch computes in
   float64 from those float32 weights and input; `__metadata__` names the model, the generator versions
   and this script. Written by hand: 8-byte little-endian header length, JSON header
   {name: {dtype: "F32", shape, data_offsets}}, raw little-endian data.
   - resnet18_w0125_forward: ResNet-18 at width 0.125 (stages 8-16-32-64), 3 channels, 32 px input
     resized bilinearly to 64 (align_corners=False) inside the model, as the baseline resizes to 224.
   - pneumonet_forward: PneumoNet with widths [8, 16, 32, 64], 1 channel, 28 px.
   - mobilenetv2_w025_forward: torchvision mobilenet_v2(width_mult=0.25, num_classes=2), 32 px.

Seeds are fixed, so reruns write identical files.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock

SCRIPT = "scripts/make_model_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")
GENERATOR = f"torch {torch.__version__.split('+')[0]}, torchvision {torchvision.__version__.split('+')[0]}"


# ----------------------------------------------------------------------------------------------------------
# ResNet-18 family
# ----------------------------------------------------------------------------------------------------------

def block_conv3x3(cin, cout, stride, style):
    """One 3×3 block convolution computed as `style` (see BlockConvolution in Sources/Models/ResNetVariants.swift's
    doc comment): standard, ("grouped", g), "dws" (depthwise 3×3 then pointwise 1×1, nothing between),
    ("lowrank", r) (3×3 to r' = min(r, out, 9·in) channels, then 1×1)."""
    if style == "standard":
        return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    if style == "dws":
        return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
                             nn.Conv2d(cin, cout, 1, bias=False))
    kind, n = style
    if kind == "grouped":
        return nn.Conv2d(cin, cout, 3, stride, 1, groups=n, bias=False)
    if kind == "lowrank":
        r = min(n, cout, 9 * cin)
        return nn.Sequential(nn.Conv2d(cin, r, 3, stride, 1, bias=False), nn.Conv2d(r, cout, 1, bias=False))
    raise ValueError(style)


class VariantBasicBlock(nn.Module):
    """torchvision's BasicBlock with its two 3×3 convolutions replaced."""

    def __init__(self, cin, cout, stride, style):
        super().__init__()
        self.conv1 = block_conv3x3(cin, cout, stride, style)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = block_conv3x3(cout, cout, 1, style)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's ResNet-18 topology with stage widths round(64·w) … round(512·w), the spec's
    Dropout+Linear head, `in_channels` input channels, an optional bilinear resize of the input, and
    BasicBlocks whose 3×3 convolutions are computed as `style` ("standard" uses torchvision's BasicBlock)."""

    def __init__(self, width=1.0, in_channels=3, classes=2, style="standard", upsample=None, dropout=0.5):
        super().__init__()
        ch = [max(1, int(round(c * width))) for c in (64, 128, 256, 512)]
        self.upsample = upsample
        self.conv1 = nn.Conv2d(in_channels, ch[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(ch[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = ch[0]
        for i, out in enumerate(ch):
            stride = 1 if i == 0 else 2
            if style == "standard":
                down = None
                if stride != 1 or c != out:
                    down = nn.Sequential(nn.Conv2d(c, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                blocks = [BasicBlock(c, out, stride, down), BasicBlock(out, out)]
            else:
                blocks = [VariantBasicBlock(c, out, stride, style), VariantBasicBlock(out, out, 1, style)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            c = out
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(c, classes))

    def forward(self, x):
        if self.upsample is not None and x.shape[-1] != self.upsample:
            x = F.interpolate(x, size=(self.upsample, self.upsample), mode="bilinear", align_corners=False)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Resized(nn.Module):
    """The spec baseline's legacy forward: any input that is not `size`×`size` is resized bilinearly."""

    def __init__(self, model, size):
        super().__init__()
        self.model, self.size = model, size

    def forward(self, x):
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.model(x)


def torchvision_resnet18(in_channels=3, classes=2):
    m = torchvision.models.resnet18(weights=None)
    if in_channels != 3:
        m.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    m.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(512, classes))
    return m


# ----------------------------------------------------------------------------------------------------------
# MobileNetV2 (torchvision) and PneumoNet
# ----------------------------------------------------------------------------------------------------------

def mobilenet_v2(width=1.0, expansion=6, in_channels=3, classes=2):
    setting = [[1, 16, 1, 1], [expansion, 24, 2, 2], [expansion, 32, 3, 2], [expansion, 64, 4, 2],
               [expansion, 96, 3, 1], [expansion, 160, 3, 2], [expansion, 320, 1, 1]]
    m = torchvision.models.mobilenet_v2(width_mult=width, num_classes=classes, inverted_residual_setting=setting)
    if in_channels != 3:
        first = m.features[0][0]
        m.features[0][0] = nn.Conv2d(in_channels, first.out_channels, 3, 2, 1, bias=False)
    return m


class DownsampleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SeparableResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class PneumoNet(nn.Module):
    """stem: 3×3 conv s1 + bn + relu; per stage: 3×3 conv s2 + bn + relu, then `blocks` separable residual
    blocks; global average pool; fc = Sequential(Dropout, Linear)."""

    def __init__(self, widths=(16, 32, 64, 128), width=1.0, blocks=1, in_channels=1, classes=2, dropout=0.2):
        super().__init__()
        w = [max(1, int(round(c * width))) for c in widths]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, w[0], 3, 1, 1, bias=False), nn.BatchNorm2d(w[0]))
        self.stages = len(w) - 1
        for i in range(1, len(w)):
            layers = [DownsampleConv(w[i - 1], w[i])] + [SeparableResidualBlock(w[i]) for _ in range(blocks)]
            setattr(self, f"layer{i}", nn.Sequential(*layers))
        self.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(w[-1], classes))

    def forward(self, x):
        x = F.relu(self.stem(x))
        for i in range(1, self.stages + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def spec_tiny_cnn():
    """The example of Tests/ModelsTests/Fixtures/tiny_cnn.yaml as nn.Sequential (children named 0, 1, …)."""

    class Residual(nn.Sequential):
        def forward(self, x):
            return super().forward(x) + x

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        Residual(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16)),
        nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 2))


# ----------------------------------------------------------------------------------------------------------
# Counting
# ----------------------------------------------------------------------------------------------------------

def count_macs(model, channels, size):
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += inp[0].shape[0] * m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, channels, size, size))
    for h in hooks:
        h.remove()
    return total[0]


def state_shapes(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]


def entry(name, model, channels, options=None, zoo=True):
    sd = state_shapes(model)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for k, b in model.named_buffers() if not k.endswith("num_batches_tracked"))
    macs = {str(s): count_macs(model, channels, s) for s in (28, 64)}
    print(f"  {name:18} {json.dumps(options or {}):40} c={channels} params {params:>10,}  "
          f"MACs 28px {macs['28']:>13,}  64px {macs['64']:>13,}")
    return {"name": name, "zoo": zoo, "options": options or {}, "channels": channels, "parameters": params,
            "buffers": buffers, "macs": macs, "state_dict": sd}


def check_resnet_against_torchvision():
    """The re-implementation at width 1 is torchvision's resnet18: same state dict, same eval outputs."""
    torch.manual_seed(0)
    tv = torchvision_resnet18()
    ours = ResNet18(width=1.0)
    assert state_shapes(tv) == state_shapes(ours), "state dicts differ"
    ours.load_state_dict(tv.state_dict())
    tv.eval(), ours.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(tv(x), ours(x)), "outputs differ"


def all_entries():
    rows = []
    rows.append(entry("baseline", Resized(torchvision_resnet18(), 224), 3))
    # The wrapper adds a `model.` prefix; the engine's names are torchvision's.
    rows[-1]["state_dict"] = [[k[len("model."):], s] for k, s in rows[-1]["state_dict"]]
    rows.append(entry("resnet18", torchvision_resnet18(), 3))
    rows.append(entry("resnet18", torchvision_resnet18(in_channels=1), 1))
    rows.append(entry("resnet18", ResNet18(width=0.5), 3, {"width": 0.5}))
    rows.append(entry("resnet18-grouped", ResNet18(style=("grouped", 4)), 3))
    rows.append(entry("resnet18-grouped", ResNet18(width=0.5, style=("grouped", 8)), 3, {"width": 0.5, "groups": 8}))
    rows.append(entry("resnet18-dws", ResNet18(style="dws"), 3))
    rows.append(entry("resnet18-lowrank", ResNet18(style=("lowrank", 32)), 3))
    rows.append(entry("resnet18-lowrank", ResNet18(width=0.25, in_channels=1, style=("lowrank", 8)), 1, {"width": 0.25, "rank": 8}))
    rows.append(entry("mobilenetv2", mobilenet_v2(1.0), 3))
    rows.append(entry("mobilenetv2", mobilenet_v2(0.5), 3, {"width": 0.5}))
    rows.append(entry("mobilenetv2", mobilenet_v2(0.5, expansion=4, in_channels=1), 1, {"width": 0.5, "expansion": 4}))
    rows.append(entry("pneumonet", PneumoNet(), 1))
    rows.append(entry("pneumonet", PneumoNet(in_channels=3), 3))
    rows.append(entry("pneumonet", PneumoNet(widths=(24, 48, 96, 192), blocks=2), 1, {"widths": [24, 48, 96, 192], "blocks": 2}))
    rows.append(entry("pneumonet", PneumoNet(width=0.5, blocks=0), 1, {"width": 0.5, "blocks": 0}))
    rows.append(entry("tiny_cnn.yaml", spec_tiny_cnn(), 1, zoo=False))
    return rows


# ----------------------------------------------------------------------------------------------------------
# Forward fixtures (safetensors, written by hand)
# ----------------------------------------------------------------------------------------------------------

def randomise_batch_norm(model, gen, input_shape):
    """Random affine parameters, then running statistics calibrated on random batches (cumulative average),
    so that every layer sees activations of order 1 and the logits depend on the input: with
    untrained statistics deep nets either die or saturate and hide errors in early layers."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        c = m.num_features
        m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
        m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for _ in range(4):
        model(torch.randn(16, *input_shape[1:], generator=gen))
    for m in bns:
        m.momentum = 0.1
        # Keep the statistics away from the exact batch values: a mismatch by a few % is what inference sees.
        m.running_mean.add_(torch.randn(m.num_features, generator=gen) * 0.05)
        m.running_var.mul_(torch.rand(m.num_features, generator=gen) * 0.2 + 0.9)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # align the data section to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    print(f"  wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path):,} bytes)")


def forward_fixture(filename, model, input_shape, description, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        randomise_batch_norm(model, gen, input_shape)
        for m in model.modules():  # logits of order 1 (MobileNetV2's classifier starts at N(0, 0.01))
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / math.sqrt(m.in_features))
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        model.eval()
        x = torch.randn(*input_shape, generator=gen)
        # Reference in float64 from the float32 weights and input: only the engine's float32 error remains.
        logits = model.double()(x.double()).float()
        model.float()
    spread = (logits[0] - logits[1]).abs().max().item()
    assert spread > 0.05 * logits.abs().max().item(), f"{filename}: logits barely depend on the input ({logits})"
    tensors = [(k, v) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    tensors += [("input", x), ("logits", logits)]
    write_safetensors(os.path.join(OUT_DIR, filename), tensors,
                      {"generator": GENERATOR, "script": SCRIPT, "model": description})


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    check_resnet_against_torchvision()
    print(f"{GENERATOR}: reference counts")
    rows = all_entries()
    mb = [r for r in rows if r["name"] == "mobilenetv2" and r["options"] == {"width": 0.5}][0]
    assert mb["parameters"] == 690_242, mb["parameters"]  # the torchvision figure
    doc = {"generator": GENERATOR, "script": SCRIPT,
           "macs": "convolution + linear multiply-accumulates of one sample, by forward hooks",
           "models": rows}
    with open(os.path.join(OUT_DIR, "models.json"), "w") as f:  # one line per model
        head = json.dumps({k: v for k, v in doc.items() if k != "models"}, indent=1)[:-2]
        f.write(head + ',\n "models": [\n')
        f.write(",\n".join("  " + json.dumps(r, separators=(",", ":")) for r in rows))
        f.write("\n ]\n}\n")
    print(f"  wrote Tests/ModelsTests/Fixtures/models.json")

    torch.manual_seed(1)
    forward_fixture("resnet18_w0125_forward.safetensors", ResNet18(width=0.125, upsample=64), (4, 3, 32, 32),
                    "ResNet18(width: 0.125, upsampleTo: 64), input 32 px", seed=2)
    torch.manual_seed(3)
    forward_fixture("pneumonet_forward.safetensors", PneumoNet(widths=(8, 16, 32, 64)), (4, 1, 28, 28),
                    "PneumoNet(widths: [8, 16, 32, 64]), 1 channel, input 28 px", seed=4)
    torch.manual_seed(5)
    forward_fixture("mobilenetv2_w025_forward.safetensors", mobilenet_v2(0.25), (4, 3, 32, 32),
                    "MobileNetV2(width: 0.25), input 32 px", seed=6)


if __name__ == "__main__":
    sys.exit(main())
