#!/usr/bin/env python3
"""The PyTorch side of the training acceptance: trains torchvision's ResNet-18 (3-channel input, the spec's
Dropout+Linear 2-class head) on a MedMNIST .npz with the spec's recipe (Adam lr 3e-4, weight decay 1e-4,
StepLR 3 / 0.1, early stopping on val AUC with patience 3, batch 32, inputs scaled to [0, 1] and normalised
with mean 0.5 / std 0.5, grayscale replicated to 3 channels) and prints JSON with `best_epoch`,
`best_val_auc` and `seconds_per_epoch`, the keys `pneumo train --json` prints:

    .build/release/pneumo train --model resnet18 --data FILE --out /tmp/ours --threads 2 --json
    python3 bench/torch_train.py --data FILE --threads 2

Skips cleanly (exit 0, a message on stderr) without torch, torchvision or numpy.
"""
import argparse
import json
import sys
import time


def auc(scores, labels):
    """Mann–Whitney AUC with mid-ranks for ties (as scikit-learn's roc_auc_score)."""
    import numpy as np
    order = np.argsort(scores, kind="mergesort")
    s = np.asarray(scores)[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    y = np.asarray(labels)
    p, n = (y == 1).sum(), (y == 0).sum()
    return float((r[y == 1].sum() - p * (p + 1) / 2) / (p * n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torchvision
    except ImportError as e:
        print(f"skipped: {e}", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = np.load(args.data)

    def tensors(split):
        x = torch.from_numpy(d[f"{split}_images"].astype(np.float32) / 255.0)
        x = ((x - 0.5) / 0.5).unsqueeze(1).repeat(1, 3, 1, 1)
        y = torch.from_numpy(d[f"{split}_labels"].reshape(-1).astype(np.int64))
        return x, y

    xt, yt = tensors("train")
    xv, yv = tensors("val")
    model = torchvision.models.resnet18(num_classes=2)
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(512, 2))
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    best, best_epoch, since, times, history = -1.0, 0, 0, [], []
    g = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            scores = torch.cat([F.softmax(model(xv[i:i + 256]), 1)[:, 1] for i in range(0, len(xv), 256)]).numpy()
        a = auc(scores, yv.numpy())
        times.append(time.perf_counter() - t0)
        history.append({"epoch": epoch + 1, "val_auc": a, "seconds": times[-1]})
        print(f"epoch {epoch + 1}: val AUC {a:.4f} ({times[-1]:.1f} s)", file=sys.stderr)
        if a > best:
            best, best_epoch, since = a, epoch + 1, 0
        else:
            since += 1
            if since >= 3:
                break
    print(json.dumps({"peer": f"pytorch {torch.__version__}", "best_epoch": best_epoch, "best_val_auc": best,
                      "seconds_per_epoch": sum(times) / len(times), "history": history}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
