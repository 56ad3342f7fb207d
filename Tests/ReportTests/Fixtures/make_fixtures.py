#!/usr/bin/env python3
"""TEST FIXTURES for Tests/ReportTests: hand-made run directories with plausible, made-up values.

Nothing here was measured: the numbers are shaped like what `pneumo pipeline` writes (see the contract in
Sources/Report/RunFiles.swift) so the report can be drawn and checked without training a model.

    python3 Tests/ReportTests/Fixtures/make_fixtures.py      # rewrites full_run/ and partial_run/

full_run/     every file of the contract, both profiles and both SLA files; the evaluations with 95% intervals,
              calibration and a val operating curve, sla_optimized.json with intervals and macs_per_sample /
              flops_per_sample (sla_baseline.json keeps the older keys only, so a run mixing the two is covered).
              gflops_per_sample is the spec's convention in both: MACs / 1e9.
partial_run/  data.json and history.json only, plus an eval.json that is not valid JSON (the report must
              say "could not read" for it and "not run" for the rest).
Deterministic: a fixed seed, and JSON with sorted keys. The val scores of the operating curves come from
a second generator, so that every value drawn before them is as it was before they existed.
"""
import base64, json, math, os, random, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
NOTE = "TEST FIXTURE: made-up values (Tests/ReportTests/Fixtures/make_fixtures.py)"
rng = random.Random(20240601)


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def r(x, d=4):
    return round(x, d)


# --- data.json: PneumoniaMNIST's real split sizes -----------------------------------------------------
def split(normal, pneumonia, mean, std):
    return {"total": normal + pneumonia, "normal": normal, "pneumonia": pneumonia,
            "imbalance_ratio": r(max(normal, pneumonia) / min(normal, pneumonia)), "pixel_mean": mean, "pixel_std": std}

data = {"_comment": NOTE, "file": "/root/.medmnist/pneumoniamnist.npz", "image_size": 28,
        "image_shape": [28, 28, 1], "classes": ["normal", "pneumonia"],
        "splits": {"train": split(1214, 3494, 0.572, 0.1689), "val": split(135, 389, 0.5714, 0.1692),
                   "test": split(234, 390, 0.5633, 0.1711)}}

# --- samples.svg: a grid of 8 synthetic 28×28 "chest" images (two lung-shaped dark ovals) --------------
def png(pixels, w, h):
    raw = b"".join(b"\x00" + bytes(pixels[y * w:(y + 1) * w]) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")

def xray(pneumonia):
    px = []
    for y in range(28):
        for x in range(28):
            v = 200 - 3 * abs(y - 14)
            for cx in (9, 19):
                d = ((x - cx) / 5.0) ** 2 + ((y - 13) / 9.0) ** 2
                if d < 1:
                    v -= 120 * (1 - d)
            if pneumonia and ((x - 18) / 4.0) ** 2 + ((y - 17) / 4.0) ** 2 < 1:
                v += 70
            px.append(max(0, min(255, int(v + rng.gauss(0, 10)))))
    return px

grid = ['<svg xmlns="http://www.w3.org/2000/svg" width="464" height="300" viewBox="0 0 464 300" font-family="sans-serif" font-size="11">',
        '<!-- ' + NOTE + ' -->', '<rect width="100%" height="100%" fill="white"/>',
        '<text x="16" y="22" font-size="15" font-weight="bold">PneumoniaMNIST train, 28×28</text>']
for k in range(8):
    label = k % 2
    uri = "data:image/png;base64," + base64.b64encode(png(xray(label), 28, 28)).decode()
    x, y = 16 + (k % 4) * 112, 44 + (k // 4) * 128
    grid.append(f'<image x="{x}" y="{y}" width="96" height="96" style="image-rendering:pixelated" href="{uri}"/>')
    grid.append(f'<text x="{x}" y="{y + 110}" fill="{["#1b7837", "#b2182b"][label]}">#{k * 37} {["normal", "pneumonia"][label]}</text>')
grid.append("</svg>")
samples = "\n".join(grid) + "\n"

# --- history.json: 20 epochs of a ResNet-ish run, cosine learning rate ---------------------------------
history = []
for e in range(1, 21):
    t = e / 20
    history.append({"epoch": e, "learning_rate": r(0.001 * 0.5 * (1 + math.cos(math.pi * (e - 1) / 20)), 6),
                    "train_loss": r(0.09 + 0.38 * math.exp(-4.2 * t) + rng.uniform(-0.005, 0.005)),
                    "train_accuracy": r(0.975 - 0.17 * math.exp(-4.5 * t) + rng.uniform(-0.003, 0.003)),
                    "val_loss": r(0.13 + 0.30 * math.exp(-4.0 * t) + 0.05 * max(0, t - 0.6) + rng.uniform(-0.01, 0.01)),
                    "val_accuracy": r(0.955 - 0.16 * math.exp(-4.0 * t) + rng.uniform(-0.006, 0.006)),
                    "val_auc": r(min(0.995, 0.988 - 0.09 * math.exp(-4.8 * t) + rng.uniform(-0.002, 0.002))),
                    "seconds": r(41.5 + rng.uniform(-1.5, 2.5), 2)})

# --- eval.json (baseline) and eval_optimized.json: test split, scores from two beta distributions --------
labels = [0] * 234 + [1] * 390
val_labels = [0] * 135 + [1] * 389
val_rng = random.Random(20240602)
Z95 = 1.959963984540054


def wilson(k, n):
    """Wilson's 95% score interval of k/n (Metrics.ConfidenceInterval.wilson), None when n is 0."""
    if n == 0:
        return None
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return {"lower": 0.0 if k == 0 else r(max(0, centre - half), 6), "upper": 1.0 if k == n else r(min(1, centre + half), 6)}


def confusion_at(scores, ys, t):
    tp = sum(1 for s, y in zip(scores, ys) if s >= t and y == 1)
    fp = sum(1 for s, y in zip(scores, ys) if s >= t and y == 0)
    tn = sum(1 for s, y in zip(scores, ys) if s < t and y == 0)
    fn = sum(1 for s, y in zip(scores, ys) if s < t and y == 1)
    return tp, fp, tn, fn


def delong(scores, ys):
    """DeLong's 95% interval of the AUC (Metrics.DeLong): variance from the structural components."""
    pos = [s for s, y in zip(scores, ys) if y == 1]; neg = [s for s, y in zip(scores, ys) if y == 0]
    psi = lambda p, n: 1.0 if p > n else 0.5 if p == n else 0.0
    v10 = [sum(psi(p, n) for n in neg) / len(neg) for p in pos]
    v01 = [sum(psi(p, n) for p in pos) / len(pos) for n in neg]
    auc = sum(v10) / len(pos)
    var = lambda v: sum((x - auc) ** 2 for x in v) / (len(v) - 1)
    se = math.sqrt(var(v10) / len(pos) + var(v01) / len(neg))
    return {"lower": r(max(0, auc - Z95 * se), 6), "upper": r(min(1, auc + Z95 * se), 6)}


def calibration(scores, temperature):
    """Brier, ECE and 10 reliability bins of the (calibrated) scores, and both before the temperature."""
    def logit(p):
        p = min(max(p, 1e-7), 1 - 1e-7)
        return math.log(p / (1 - p))
    raw = [1 / (1 + math.exp(-temperature * logit(s))) for s in scores]

    def summary(ps):
        n = len(ps)
        brier = sum((p - y) ** 2 for p, y in zip(ps, labels)) / n
        groups = [[] for _ in range(10)]
        for p, y in zip(ps, labels):
            groups[min(max(int(p * 10), 0), 9)].append((p, y))
        bins, ece = [], 0.0
        for b, g in enumerate(groups):
            k = sum(y for _, y in g)
            mean = sum(p for p, _ in g) / len(g) if g else None
            rate = k / len(g) if g else None
            if g:
                ece += len(g) / n * abs(rate - mean)
            bins.append({"lower": b / 10, "upper": (b + 1) / 10, "count": len(g),
                         "mean_predicted": None if mean is None else r(mean, 6), "observed_rate": None if rate is None else r(rate, 6),
                         "observed_ci95": wilson(k, len(g))})
        return brier, ece, bins

    brier, ece, bins = summary(scores)
    brier_raw, ece_raw, _ = summary(raw)
    return {"temperature": temperature, "temperature_source": "none" if temperature == 1 else "checkpoint",
            "brier": r(brier, 6), "ece": r(ece, 6), "brier_uncalibrated": r(brier_raw, 6), "ece_uncalibrated": r(ece_raw, 6),
            "bins": bins}


def operating_curve(neg_ab, pos_ab):
    """Sensitivity and specificity on a val split drawn like the test one. pneumo eval writes 101 thresholds
    (0, 0.01, …, 1); 21 (every 0.05) keep the fixture short and still draw a curve."""
    scores = [val_rng.betavariate(*neg_ab) if y == 0 else val_rng.betavariate(*pos_ab) for y in val_labels]
    out = []
    for i in range(21):
        t = i / 20
        tp, fp, tn, fn = confusion_at(scores, val_labels, t)
        out.append({"threshold": t, "sensitivity": r(tp / (tp + fn), 6), "sensitivity_ci95": wilson(tp, tp + fn),
                    "specificity": r(tn / (tn + fp), 6), "specificity_ci95": wilson(tn, tn + fp)})
    return out


def evaluation_of(neg_ab, pos_ab, temperature):
    scores = [min(1, max(0, rng.betavariate(*neg_ab) if y == 0 else rng.betavariate(*pos_ab))) for y in labels]

    def metrics(t):
        tp, fp, tn, fn = confusion_at(scores, labels, t)
        se = tp / (tp + fn); sp = tn / (tn + fp); pr = tp / (tp + fp) if tp + fp else 0
        f1 = 2 * pr * se / (pr + se) if pr + se else 0
        return {"threshold": t, "sensitivity": r(se, 6), "specificity": r(sp, 6), "precision": r(pr, 6), "f1": r(f1, 6),
                "accuracy": r((tp + tn) / len(labels), 6),
                "confusion": {"truePositives": tp, "falsePositives": fp, "trueNegatives": tn, "falseNegatives": fn},
                "ci95": {"sensitivity": wilson(tp, tp + fn), "specificity": wilson(tn, tn + fp), "precision": wilson(tp, tp + fp),
                         "accuracy": wilson(tp + tn, len(labels))}}

    pos = [s for s, y in zip(scores, labels) if y == 1]; neg = [s for s, y in zip(scores, labels) if y == 0]
    auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    roc = [{"fpr": 0.0, "tpr": 0.0, "threshold": None}]
    for t in sorted(set(scores), reverse=True):
        m = metrics(t)
        roc.append({"fpr": r(1 - m["specificity"], 6), "tpr": m["sensitivity"], "threshold": r(t, 6)})
    # the largest threshold with sensitivity ≥ 0.98 (chosen on val in real runs; on these scores here), rounded down
    chosen = max(t for t in set(scores) if metrics(t)["sensitivity"] >= 0.98)
    target = dict(metrics(math.floor(chosen * 1e6) / 1e6), target_sensitivity=0.98, chosen_on="val", rule="val-sensitivity")
    return {"_comment": NOTE, "split": "test", "samples": len(labels), "auc": r(auc, 6), "ci95": {"auc": delong(scores, labels)},
            "loss": r(-sum(math.log(max(1e-7, s if y else 1 - s)) for s, y in zip(scores, labels)) / len(labels), 6),
            "thresholds": [metrics(0.4), metrics(0.7)], "target": target, "roc": roc,
            "calibration": calibration(scores, temperature), "operating_curve": operating_curve(neg_ab, pos_ab)}


evaluation = evaluation_of((2.2, 4.0), (5.0, 1.5), 1.0)
evaluation_optimized = evaluation_of((2.0, 4.6), (5.2, 1.4), 0.7)  # T < 1: label smoothing leaves it under-confident
target = evaluation_optimized["target"]

# --- profiles ---------------------------------------------------------------------------------------------
def layers(spec):
    return [{"name": n, "op": op, "macs": m} for n, op, m in spec]

base_layers = [("conv1", "Conv", 118013952)]
c, hw = 64, 56
for stage in range(1, 5):
    for block in range(2):
        stride2 = stage > 1 and block == 0
        cin = c // 2 if stride2 else c
        out_hw = hw
        base_layers.append((f"layer{stage}.{block}.conv1", "Conv", 9 * cin * c * out_hw * out_hw))
        base_layers.append((f"layer{stage}.{block}.conv2", "Conv", 9 * c * c * out_hw * out_hw))
        if stride2:
            base_layers.append((f"layer{stage}.{block}.downsample.0", "Conv", cin * c * out_hw * out_hw))
    c, hw = c * 2, hw // 2
base_layers.append(("fc", "Gemm", 512 * 1))
opt_layers = [("stem.conv", "Conv", 28 * 28 * 9 * 24), ("stem.bn_relu", "Conv", 0)]
c, hw = 24, 28
for i, (cout, stride) in enumerate([(32, 1), (48, 2), (64, 2), (96, 1), (128, 2)]):
    hw2 = hw // stride
    opt_layers.append((f"blocks.{i}.dw", "DepthwiseConv", 9 * c * hw2 * hw2))
    opt_layers.append((f"blocks.{i}.pw", "Conv", c * cout * hw2 * hw2))
    c, hw = cout, hw2
opt_layers = [l for l in opt_layers if l[2] > 0] + [("classifier", "Gemm", 128)]

def latencies(median, n, spread, tail):
    out = [median * math.exp(rng.gauss(0, spread)) for _ in range(n)]
    for i in rng.sample(range(n), tail):
        out[i] *= rng.uniform(1.8, 3.5)
    return [r(x, 4) for x in out]

def profile(model, lay, params, planned, measured, median, n, ops, sweep_base, sweep_best):
    macs = sum(m for _, _, m in lay)
    lat = latencies(median, n, 0.06, n // 80)
    s = sorted(lat)
    mean = sum(lat) / n
    sweep = []
    for b in [1, 2, 4, 8, 16, 32, 64, 128, 256]:
        per = sweep_best + (sweep_base - sweep_best) / b ** 0.85
        sweep.append({"batch": b, "latency_ms": r(per * b, 4), "samples_per_s": r(1000 / per, 1)})
    return {"_comment": NOTE, "model": model, "macs_per_sample": macs, "flops_per_sample": 2 * macs, "parameters": params,
            "peak_memory_bytes": {"planned": planned, "measured": measured},
            "latency_ms": {"mean": r(mean), "median": r(s[n // 2]), "p95": r(s[int(0.95 * (n - 1))]),
                           "std": r(math.sqrt(sum((x - mean) ** 2 for x in lat) / n))},
            "latency_samples_ms": lat, "throughput_samples_per_s": sweep[-1]["samples_per_s"],
            "operation_breakdown": ops, "layers": layers(lay), "sweep": sweep}

baseline = profile("resnet18 (224 px, upsampled)", base_layers, 11171266, 163577856, 171966464, 9.4, 400,
                   {"Conv": 81.3, "BatchNorm": 7.9, "Relu": 4.6, "Add": 2.4, "MaxPool": 1.7, "Upsample": 1.5, "Gemm": 0.1,
                    "Other": 0.5}, 9.4, 2.2)
optimized = profile("pneumonet-dw (28 px)", opt_layers, 48930, 1572864, 1703936, 0.42, 400,
                    {"Conv": 46.2, "DepthwiseConv": 31.5, "Relu": 9.8, "GlobalAveragePool": 4.1, "Gemm": 1.2,
                     "Other": 7.2}, 0.42, 0.11)

# --- analysis.json -----------------------------------------------------------------------------------------
def tech(name, est, meas, retrain):
    e = dict(zip(["macs_reduction", "params_reduction", "speedup"], est))
    m = None if meas is None else dict(zip(["macs_reduction", "params_reduction", "speedup", "max_output_change"], meas))
    return {"name": name, "estimated": e, "measured": m, "needs_retraining": retrain}

analysis = {"_comment": NOTE, "techniques": [
    tech("Drop the 28→224 upsampling", (0.984, 0.0, 45.0), (0.984, 0.0, 31.2, 0.0412), True),
    tech("Fold batch-norm into conv", (0.004, 0.002, 1.12), (0.004, 0.002, 1.09, 2.4e-6), False),
    tech("Depthwise + pointwise 3×3", (0.86, 0.85, 4.1), (0.86, 0.85, 2.7, 0.0188), True),
    tech("Low-rank conv (rank 1/4)", (0.55, 0.55, 1.8), None, True),
    tech("FP16 weights & activations", (0.0, 0.0, 1.6), (0.0, 0.0, 1.21, 0.0009), False),
    tech("Prune 30% of channels", (0.49, 0.49, 1.9), (0.47, 0.48, 1.55, 0.0267), True)]}

# --- sla_*.json ----------------------------------------------------------------------------------------------
def sla(p, sens, spec, auc_, threshold, uncertainty=None):
    lat = p["latency_ms"]["median"]; tput = p["throughput_samples_per_s"]
    g = p["macs_per_sample"] / 1e9; mem = p["peak_memory_bytes"]["measured"] / 2 ** 20
    checks = [("Compute per image", "< 0.4", g, "GFLOP", (0.4 - g) / 0.4),
              ("Peak memory", "< 100", mem, "MB", (100 - mem) / 100),
              ("Latency, batch 1", "< 3", lat, "ms", (3 - lat) / 3),
              ("Throughput", "> 2000", tput, "samples/s", (tput - 2000) / 2000),
              ("Sensitivity", "> 98%", sens, "fraction", (sens - 0.98) / 0.98)]
    rows = [{"name": n, "target": t, "measured": r(m, 6), "unit": u, "margin": r(mg, 4), "pass": mg > 0}
            for n, t, m, u, mg in checks]
    out = {"_comment": NOTE, "gflops_per_sample": r(g, 6), "peak_memory_mb": r(mem, 3), "latency_ms": lat,
           "amortized_latency_ms": r(1000 / tput, 4), "throughput_samples_per_s": tput, "sensitivity": sens,
           "specificity": spec, "auc": auc_, "threshold": threshold, "pass": all(x["pass"] for x in rows),
           "device": "2-core x86-64 CPU (AVX2)", "threads": 2, "checks": rows}
    if uncertainty:  # the keys Deploy.SLAScorecard added with intervals; the sensitivity check carries its own
        out.update(macs_per_sample=p["macs_per_sample"], flops_per_sample=p["flops_per_sample"])  # added with them here
        ci = uncertainty["sensitivity_ci95"]
        rows[-1].update(ci95=ci, interval_crosses_target=ci["lower"] <= 0.98 < ci["upper"])
        out.update(uncertainty)
    return out

full = os.path.join(HERE, "full_run")
write(os.path.join(full, "data.json"), data)
with open(os.path.join(full, "samples.svg"), "w") as f:
    f.write(samples)
write(os.path.join(full, "history.json"), history)
write(os.path.join(full, "eval.json"), evaluation)
write(os.path.join(full, "eval_optimized.json"), evaluation_optimized)
write(os.path.join(full, "profile_baseline.json"), baseline)
write(os.path.join(full, "profile_optimized.json"), optimized)
write(os.path.join(full, "analysis.json"), analysis)
write(os.path.join(full, "sla_baseline.json"), sla(baseline, 0.9846, 0.7991, 0.9712, 0.2931))
write(os.path.join(full, "sla_optimized.json"), sla(optimized, target["sensitivity"], target["specificity"], evaluation_optimized["auc"],
                                                    target["threshold"],
                                                    {"sensitivity_ci95": target["ci95"]["sensitivity"],
                                                     "specificity_ci95": target["ci95"]["specificity"],
                                                     "auc_ci95": evaluation_optimized["ci95"]["auc"], "threshold_rule": target["rule"],
                                                     "temperature": evaluation_optimized["calibration"]["temperature"]}))

partial = os.path.join(HERE, "partial_run")
write(os.path.join(partial, "data.json"), data)
write(os.path.join(partial, "history.json"), history[:6])
with open(os.path.join(partial, "eval.json"), "w") as f:
    f.write('{"split": "test", "samples": 624, "auc": \n')  # cut short on purpose: not valid JSON
