#!/usr/bin/env python3
"""Times the same training step as `pneumo bench train` in PyTorch: ResNet-18 (torchvision topology,
Dropout+Linear head, 2 classes), forward + backward + Adam(lr 3e-4, weight decay 1e-4), on random data.

Prints JSON with the same keys (`step_ms` median, `samples_per_s`, `gflops_per_s`) so that the two can be
compared in one run:

    .build/release/pneumo bench train --model resnet18 --input-size 64 --batch 32 --threads 2 --json
    python3 bench/torch_train_step.py --input-size 64 --batch 32 --threads 2

Without a working torchvision (the PyPI wheel is built for CUDA torch and fails to load beside a CPU-only torch), the
same topology is built here from torch.nn: the time of a step does not depend on the weights' initialisation.
Skips cleanly (exit 0, a message on stderr) when torch is not installed.
"""
import argparse
import json
import statistics
import sys
import time


def resnet18(nn, num_classes):
    """torchvision's ResNet-18 topology: a 7×7 stem, max-pool, four stages of two basic blocks, average pool, fc."""
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                               if stride != 1 or cin != cout else None)

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (self.downsample(x) if self.downsample is not None else x))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            stages, cin = [], 64
            for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
                stages.append(nn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1)))
                cin = cout
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input-size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--baseline", action="store_true", help="upsample to 224 first, as the spec's baseline does")
    args = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    try:
        import torchvision
        model = torchvision.models.resnet18(num_classes=2)
    except (ImportError, RuntimeError) as e:
        print(f"torchvision unavailable ({e}); ResNet-18 built from torch.nn", file=sys.stderr)
        model = resnet18(nn, num_classes=2)
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(512, 2))
    if args.baseline:
        inner = model.forward
        model.forward = lambda x: inner(F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
                                        if x.shape[-1] != 224 else x)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=1e-4)
    x = torch.randn(args.batch, 3, args.input_size, args.input_size)
    y = torch.arange(args.batch) % 2
    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    # Forward conv + linear MACs, by hooks; a training step is forward + weight grads + input grads
    # (the first conv needs no input gradient), as `pneumo bench train` counts.
    macs = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs.append((out.numel() * m.weight[0].numel(), m is model.conv1))
        elif isinstance(m, nn.Linear):
            macs.append((inp[0].shape[0] * m.in_features * m.out_features, False))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    training_macs = sum(2 * m + (0 if first else m) for m, first in macs)
    median = statistics.median(times)
    print(json.dumps({
        "peer": f"pytorch {torch.__version__}", "model": "baseline" if args.baseline else "resnet18",
        "input_size": args.input_size, "batch": args.batch, "threads": args.threads,
        "step_ms": median, "samples_per_s": args.batch / (median / 1000),
        "gflops_per_s": 2 * training_macs / (median / 1000) / 1e9,
    }, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
