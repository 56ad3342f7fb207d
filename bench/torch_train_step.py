#!/usr/bin/env python3
"""Times the same training step as `pneumo bench train` in PyTorch: ResNet-18 (torchvision topology,
Dropout+Linear head, 2 classes), forward + backward + Adam(lr 3e-4, weight decay 1e-4), on random data.

Prints JSON with the same keys (`step_ms` median, `samples_per_s`, `gflops_per_s`) so that the two can be
compared in one run:

    .build/release/pneumo bench train --model resnet18 --input-size 64 --batch 32 --threads 2 --json
    python3 bench/torch_train_step.py --input-size 64 --batch 32 --threads 2

Skips cleanly (exit 0, a message on stderr) when torch or torchvision is not installed.
"""
import argparse
import json
import statistics
import sys
import time


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
        import torchvision
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=2)
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
