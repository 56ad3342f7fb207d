#!/usr/bin/env python3
"""ONNX files written by torch.onnx.export, for the importer's tests (Tests/ONNXTests). Needs torch (and
onnxscript for the dynamo exporter); run with the venv that has them:

    /work/venv-torch/bin/python scripts/make_onnx_fixtures.py
        writes Tests/ONNXTests/Fixtures/ (committed, a few KB each):
        - small_cnn_opset13.onnx, small_cnn_opset17.onnx: the TorchScript exporter (dynamo=False), dynamic batch
          axis "batch". In eval mode it folds each conv + batch-norm pair into the conv (weights renamed
          onnx::Conv_N), emits ReLU6 as Clip with Constant bounds, the bilinear upsampling as Resize with
          sizes computed from Shape/Slice/Concat, and x.view(x.size(0), -1) as Shape/Gather/Unsqueeze/Concat
          feeding a Reshape.
        - small_cnn_dynamo_opset18.onnx: the dynamo exporter (when onnxscript is installed): Shape(start, end),
          ReduceMean for the adaptive average pool, Clip bounds as initializers.
        - small_cnn_input.npy [3, 1, 16, 16] (a batch other than the export's 2) and small_cnn_output.npy, the
          eval-mode PyTorch logits in float32; small_cnn.json records the versions.

    /work/venv-torch/bin/python scripts/make_onnx_fixtures.py --torchvision OUTDIR [--size 64]
        writes torchvision's resnet18 and mobilenet_v2 (num_classes=2, seeded random weights, batch-norm
        statistics randomised) as OUTDIR/{resnet18,mobilenet_v2}_{opset13,opset17,dynamo_opset18}.onnx with
        OUTDIR/{name}_input.npy [2, 3, S, S] and OUTDIR/{name}_output.npy (too large to commit; the Swift test
        `torchvisionExports` runs this when the venv exists and skips otherwise).

    /work/venv-torch/bin/python scripts/make_onnx_fixtures.py --families
        writes Tests/ONNXTests/Fixtures/families_{opset17,opset20,dynamo}.onnx (committed, ~30 KB each): FamiliesNet,
        the ops of MobileNetV3 and EfficientNet in a few thousand weights (below), through the TorchScript exporter at
        opsets 17 and 20 (dynamic batch) and the default exporter (dynamo, its default opset); families_input.npy
        [2, 3, 24, 24], families_output.npy (PyTorch, eval mode) and families_ort_{variant}.npy (ONNX Runtime on each
        file, checked here against PyTorch to 1e-5); families.json records versions, opsets and op counts.

    /work/venv-torch/bin/python scripts/make_onnx_fixtures.py --torchvision-families OUTDIR [--size 64]
        writes torchvision's mobilenet_v3_small and efficientnet_b0 (weights=None, num_classes=2, seed 0, weights
        N(0, 1/fan_in), batch-norm affine parameters randomised and running statistics measured on random images, eval
        mode) as OUTDIR/{name}_{legacy,dynamo}.onnx (TorchScript exporter with
        dynamo=False, and the default exporter, each at its default opset), OUTDIR/{name}_input.npy [2, 3, S, S],
        {name}_output.npy (PyTorch) and {name}_ort_{variant}.npy (ONNX Runtime). Too large to commit: the Swift test
        `torchvisionFamilies` runs this where torch is installed and skips otherwise.

    /work/venv-torch/bin/python scripts/make_onnx_fixtures.py --check-torch
        exits 0 when torch, torchvision and onnx import (the tests' probe: torch's exporters need onnx).

torchvision's PyPI wheel for Linux is built against CUDA; where its C++ ops cannot load (no CUDA libraries), its
import fails registering them. The models used here are pure Python, so `import_torchvision` then imports it with
that registration module stubbed out.

FamiliesNet: (x − 0.45) / 0.226 (Sub, Div by constants); conv-bn-hardswish (stride 2); depthwise conv-bn-relu;
MobileNetV3's squeeze-excitation (mean, 1×1 conv, relu, 1×1 conv, hardsigmoid, Mul); 1×1 conv-bn; EfficientNet's
MBConv middle (1×1 conv-bn-SiLU, squeeze-excitation with SiLU and sigmoid, 1×1 conv-bn) and a residual Add; reflect
Pad; Concat with its own Transpose (H ↔ W); constant Pad; 1×1 conv; a channel Softmax over a pooled 1×1 conv, times
the map and a constant; ReduceMean over W then H (rank 3 between); linear, hardswish, dropout, linear.

The small CNN: bilinear resize 16 → 24 (align_corners=False), conv-bn-relu, max-pool 2, a batch-norm on its
own (kept as BatchNormalization since no conv precedes it), strided conv + bias, depthwise conv-bn-ReLU6,
pointwise conv, residual add + relu, 3×3 average pool with padding (count_include_pad=True), adaptive average
pool, flatten by view, dropout, linear. Seeds are fixed; reruns write the same values.
"""

import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ONNXTests", "Fixtures")


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.act6 = nn.ReLU6()
        self.pw = nn.Conv2d(16, 16, 1)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        x = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.bn2(x)
        x = F.relu(self.conv2(x))
        y = self.pw(self.act6(self.bn3(self.dw(x))))
        x = F.relu(x + y)
        x = F.adaptive_avg_pool2d(self.avg(x), 1)
        x = x.view(x.size(0), -1)
        return self.fc(self.drop(x))


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: x · scale(fc2(act(fc1(mean_hw(x)))))."""

    def __init__(self, channels, squeezed, activation=nn.ReLU, scale=nn.Hardsigmoid):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.activation = activation()
        self.scale = scale()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.scale(self.fc2(self.activation(self.fc1(s))))


def conv_bn(cin, cout, k, stride=1, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*(layers + ([act()] if act else [])))


class FamiliesNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, stride=2, act=nn.Hardswish)
        self.dw = conv_bn(16, 16, 3, groups=16, act=nn.ReLU)
        self.se1 = SqueezeExcitation(16, 8)
        self.pw = conv_bn(16, 24, 1)
        self.expand = conv_bn(24, 32, 1, act=nn.SiLU)
        self.se2 = SqueezeExcitation(32, 8, activation=nn.SiLU, scale=nn.Sigmoid)
        self.project = conv_bn(32, 24, 1)
        self.mix = nn.Conv2d(48, 24, 1)
        self.attention = nn.Conv2d(24, 24, 1)
        self.fc1 = nn.Linear(24, 32)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        x = (x - 0.45) / 0.226
        x = self.pw(self.se1(self.dw(self.stem(x))))
        x = x + self.project(self.se2(self.expand(x)))
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        x = torch.cat([x, x.transpose(2, 3)], dim=1)
        x = self.mix(F.pad(x, (0, 1, 0, 1)))
        w = torch.softmax(self.attention(x.mean(dim=(2, 3), keepdim=True)), dim=1)
        x = (x * w * 24).mean(dim=3).mean(dim=2)
        return self.fc2(self.drop(F.hardswish(self.fc1(x))))


def import_torchvision():
    """torchvision, importable where its CUDA-built C++ ops cannot load (see the module's doc)."""
    try:
        import torchvision
        return torchvision
    except RuntimeError:
        import types
        for name in [n for n in sys.modules if n.startswith("torchvision")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        import torchvision
        return torchvision


def check_onnx():
    """Exits non-zero unless the onnx package imports: torch's exporters need it. Without it, `import onnx` finds this
    folder's `onnx/` (a namespace package with none of onnx's functions) and the export fails halfway."""
    import onnx
    if not hasattr(onnx, "load_model_from_string"):
        sys.exit("the onnx package is not installed (torch.onnx.export needs it)")


def export_default(model, x, path):
    """torch.onnx.export with its defaults (the dynamo exporter in torch ≥ 2.9) and a dynamic batch; node metadata
    (stack traces with this machine's paths) dropped."""
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False, verbose=False)
    import onnx
    m = onnx.load(path)
    for node in m.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del m.graph.value_info[:]
    onnx.save(m, path)


def ort_run(path, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float32)


def onnx_summary(path):
    import collections
    import onnx
    m = onnx.load(path)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return {"opset": opset, "ops": dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items()))}


def export_variants(model, example, x, out, name, variants):
    """Each variant's file and ONNX Runtime's output on `x`, checked against PyTorch's (1e-5 + 1e-4 relative)."""
    with torch.no_grad():
        y = model(x).numpy().astype(np.float32)
    np.save(os.path.join(out, f"{name}_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}_output.npy"), y)
    summaries = {}
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print(f"{name}: onnxruntime is not installed; no ONNX Runtime outputs written", file=sys.stderr)
        for variant, export in variants:
            export(model, example, os.path.join(out, f"{name}_{variant}.onnx"))
        return summaries
    for variant, export in variants:
        path = os.path.join(out, f"{name}_{variant}.onnx")
        export(model, example, path)
        ort_y = ort_run(path, x.numpy())
        worst = float(np.max(np.abs(ort_y - y)))
        if not np.allclose(ort_y, y, atol=1e-5, rtol=1e-4):
            sys.exit(f"{path}: ONNX Runtime differs from PyTorch by {worst}")
        np.save(os.path.join(out, f"{name}_ort_{variant}.npy"), ort_y)
        summaries[variant] = dict(onnx_summary(path), ort_vs_torch_max_abs=worst, bytes=os.path.getsize(path))
    return summaries


def he_initialize(model, generator):
    """Weights N(0, 1/fan_in) and biases N(0, 0.1²), so that activations stay O(1) through the layers and the
    logits depend on every op. With PyTorch's default init (variance 1/(3·fan_in)) they shrink layer by layer: the
    two images' logits came out 0.166–0.168, within 2e-3 of each other, and a wrong op could hide below 1e-4."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (1 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=generator))


def families():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    model = FamiliesNet()
    he_initialize(model, g)
    randomize_batch_norm(model, g)
    model.eval()
    example = torch.randn(2, 3, 24, 24, generator=g)
    x = torch.randn(2, 3, 24, 24, generator=g)
    summaries = export_variants(model, example, x, FIXTURES, "families", [
        ("opset17", lambda m, e, p: export_legacy(m, e, p, 17)),
        ("opset20", lambda m, e, p: export_legacy(m, e, p, 20)),
        ("dynamo", export_default)])
    with open(os.path.join(FIXTURES, "families.json"), "w") as f:
        json.dump({"files": summaries, "input": "families_input.npy", "output": "families_output.npy",
                   "versions": versions()}, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(summaries, indent=1))


def calibrate_batch_norm(model, batches):
    """Running statistics measured on `batches` (train-mode forward passes, cumulative average), so that eval-mode
    batch-norm normalises what reaches it. With randomised statistics alone, activations drift through these deep
    models until the logits no longer depend on the input (MobileNetV3-Small's two images gave equal logits to 8
    digits, EfficientNet-B0's to 1e-6) and a wrong early op would not show."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    for m in norms:
        m.momentum = 0.1
    model.eval()


def torchvision_families(out, size):
    torchvision = import_torchvision()
    os.makedirs(out, exist_ok=True)
    summaries = {}
    for name, ctor in [("mobilenet_v3_small", torchvision.models.mobilenet_v3_small),
                       ("efficientnet_b0", torchvision.models.efficientnet_b0)]:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(2)
        model = ctor(weights=None, num_classes=2)
        he_initialize(model, g)  # torchvision's classifiers start at N(0, 0.01²): MobileNetV3-Small's logits were ~0.01
        randomize_batch_norm(model, g)
        calibrate_batch_norm(model, [torch.randn(8, 3, size, size, generator=g) for _ in range(4)])
        model.eval()
        x = torch.randn(2, 3, size, size, generator=g)
        variants = [("legacy", lambda m, e, p: torch.onnx.export(m, (e,), p, dynamo=False, input_names=["input"],
                                                                 output_names=["output"],
                                                                 dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}))]
        if has_onnxscript():
            variants.append(("dynamo", export_default))
        else:
            print(f"skipping {name}'s dynamo export: the default exporter needs onnxscript", file=sys.stderr)
        summaries[name] = export_variants(model, x, x, out, name, variants)
    print(json.dumps(summaries, indent=1))


def randomize_batch_norm(model, generator):
    """Batch-norm affine parameters and running statistics away from 1/0, so that inference-mode
    batch-norm (and torch's folding of it into the conv) is exercised, and no two tensors are equal
    (torch's exporter would merge equal initializers)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=generator))
                m.bias.copy_(0.2 * torch.randn(c, generator=generator))
                m.running_mean.copy_(0.2 * torch.randn(c, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(c, generator=generator))


def export_legacy(model, x, path, opset):
    torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=False, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def has_onnxscript():
    """The dynamo exporter needs onnxscript; the TorchScript one does not."""
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


def export_dynamo(model, x, path):
    if not has_onnxscript():
        print(f"skipping {path}: the dynamo exporter needs onnxscript", file=sys.stderr)
        return False
    torch.onnx.export(model, (x,), path, opset_version=18, dynamo=True, input_names=["input"], output_names=["output"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False, verbose=False)
    # The dynamo exporter records each node's Python stack trace (with this machine's paths) as metadata:
    # drop it, the graph is unchanged.
    import onnx
    m = onnx.load(path)
    for node in m.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del m.graph.value_info[:]
    onnx.save(m, path)
    return True


def versions():
    v = {"torch": torch.__version__, "numpy": np.__version__, "script": "scripts/make_onnx_fixtures.py"}
    try:
        import onnxscript
        v["onnxscript"] = onnxscript.__version__
    except ImportError:
        pass
    return v


def small_cnn():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    model = SmallCNN()
    randomize_batch_norm(model, g)
    model.eval()
    example = torch.randn(2, 1, 16, 16, generator=g)
    x = torch.randn(3, 1, 16, 16, generator=g)
    os.makedirs(FIXTURES, exist_ok=True)
    files = []
    for opset in (13, 17):
        name = f"small_cnn_opset{opset}.onnx"
        export_legacy(model, example, os.path.join(FIXTURES, name), opset)
        files.append(name)
    if export_dynamo(model, example, os.path.join(FIXTURES, "small_cnn_dynamo_opset18.onnx")):
        files.append("small_cnn_dynamo_opset18.onnx")
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(FIXTURES, "small_cnn_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(FIXTURES, "small_cnn_output.npy"), y.numpy().astype(np.float32))
    with open(os.path.join(FIXTURES, "small_cnn.json"), "w") as f:
        json.dump({"files": files, "input": "small_cnn_input.npy", "output": "small_cnn_output.npy",
                   "versions": versions()}, f, indent=2, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(FIXTURES, n)) for n in os.listdir(FIXTURES) if n.startswith("small_cnn"))
    print(f"wrote {', '.join(files)} and the input/output arrays to {FIXTURES} ({total} bytes)")


def torchvision_models(out, size):
    torchvision = import_torchvision()
    os.makedirs(out, exist_ok=True)
    for name, ctor in [("resnet18", torchvision.models.resnet18), ("mobilenet_v2", torchvision.models.mobilenet_v2)]:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(2)
        model = ctor(weights=None, num_classes=2)
        randomize_batch_norm(model, g)
        model.eval()
        x = torch.randn(2, 3, size, size, generator=g)
        for opset in (13, 17):
            export_legacy(model, x, os.path.join(out, f"{name}_opset{opset}.onnx"), opset)
        export_dynamo(model, x, os.path.join(out, f"{name}_dynamo_opset18.onnx"))
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(out, f"{name}_input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(out, f"{name}_output.npy"), y.numpy().astype(np.float32))
    print(f"wrote torchvision exports to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torchvision", metavar="OUTDIR", help="export torchvision's resnet18 and mobilenet_v2 there instead")
    parser.add_argument("--size", type=int, default=64, help="input size of the torchvision exports")
    parser.add_argument("--families", action="store_true", help="write the FamiliesNet fixtures instead")
    parser.add_argument("--torchvision-families", metavar="OUTDIR",
                        help="export torchvision's mobilenet_v3_small and efficientnet_b0 there instead")
    parser.add_argument("--check-torch", action="store_true", help="exit 0 when torch, torchvision and onnx import")
    args = parser.parse_args()
    if args.check_torch:
        import_torchvision()
        check_onnx()
    elif args.families:
        families()
    elif args.torchvision_families:
        torchvision_families(args.torchvision_families, args.size)
    elif args.torchvision:
        torchvision_models(args.torchvision, args.size)
    else:
        small_cnn()
