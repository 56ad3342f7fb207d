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


def export_dynamo(model, x, path):
    try:
        import onnxscript  # noqa: F401
    except ImportError:
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
    import torchvision
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
    args = parser.parse_args()
    if args.torchvision:
        torchvision_models(args.torchvision, args.size)
    else:
        small_cnn()
