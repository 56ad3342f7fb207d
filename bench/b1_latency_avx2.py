#!/usr/bin/env python3
"""Issue #19 item 3: batch-1 latency of our runtime, restricted to AVX2 and native, against ONNX Runtime on the same
.onnx file, same thread count, interleaved.

For each round and model (resnet18 and the spec baseline at 64 px: ResNet-18 with its input resized bilinearly to 224 px),
it runs `pneumo bench infer --onnx FILE --batch 1 --json` twice, with `ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN and our own
kernels' AVX2 builds, as on an AVX2-only CPU) and without (this CPU's widest ISA); each run times ours, then ONNX Runtime.
ONNX Runtime cannot be restricted to AVX2: "ours AVX2 / ORT" compares our AVX2 build with ORT's native one, which on an
AVX-512 machine is the conservative comparison. Prints the medians over rounds, ratios of medians and per-round
ratios, what each plan was, and the load average before and after.

`--precisions fp32,fp16` also runs our FP16 plans (weights rounded to IEEE half and streamed as half; float32
arithmetic) in the same rounds, against the same ONNX Runtime float32 runs, with their largest logit change.

    python3 bench/b1_latency_avx2.py --pneumo .build/release/pneumo --rounds 5 --threads 2 [--precisions fp32,fp16] [--out DIR] [--json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

MODELS = [("resnet18", 64), ("baseline", 64)]
TARGET = 0.7


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r.stdout


def load():
    return os.getloadavg()[0]


def main():
    # Each run decides its plans afresh, as the figures in bench/README.md were measured (no tuning cache between runs).
    os.environ.setdefault("PNEUMO_TUNING_CACHE", "off")
    ap = argparse.ArgumentParser()
    ap.add_argument("--pneumo", default=".build/release/pneumo")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=200, help="timed calls per run (the baseline: a quarter of it, at least 20)")
    ap.add_argument("--models", default=",".join(m for m, _ in MODELS))
    ap.add_argument("--precisions", default="fp32", help="comma-separated: fp32, fp16")
    ap.add_argument("--out", help="where the .onnx files go (default: a temporary directory)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.rounds < 1 or args.threads < 1 or args.runs < 1:
        sys.exit("--rounds, --threads and --runs must be positive")
    wanted = args.models.split(",")
    if any(m not in dict(MODELS) for m in wanted):
        sys.exit(f"unknown models in {wanted}; known: {[m for m, _ in MODELS]}")
    precisions = args.precisions.split(",")
    if any(p not in ("fp32", "fp16") for p in precisions):
        sys.exit(f"--precisions takes fp32 and fp16; got {precisions}")
    out = args.out or tempfile.mkdtemp(prefix="pneumo-b1-avx2-")
    os.makedirs(out, exist_ok=True)
    native = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    isas = {"avx2": dict(native, ONEDNN_MAX_CPU_ISA="AVX2"), "native": native}
    files = {}
    for model, size in MODELS:
        if model in wanted:
            files[model] = os.path.join(out, f"{model}.onnx")
            run([args.pneumo, "export", "--model", model, "--input-size", str(size), "--out", files[model], "--dynamic-batch"])
    rows = {(m, p, isa): [] for m in files for p in precisions for isa in isas}
    loads = [load()]
    for _ in range(args.rounds):
        for model, onnx in files.items():
            runs = args.runs if model != "baseline" else max(20, args.runs // 4)
            for precision in precisions:
                for isa, env in isas.items():
                    reply = json.loads(run([args.pneumo, "bench", "infer", "--onnx", onnx, "--batch", "1", "--threads", str(args.threads),
                                            "--runs", str(runs), "--precision", precision, "--json"], env))
                    r = reply["results"][0]
                    if "onnxruntime" not in r:
                        sys.exit("onnxruntime is not importable by bench infer: no peer")
                    r["max_relative_output_change"] = reply.get("max_relative_output_change")
                    rows[(model, precision, isa)].append(r)
        loads.append(load())
    summary = []
    for model, precision in ((m, p) for m in files for p in precisions):
        ort = [r["onnxruntime"]["latency_ms"]["median"] for isa in isas for r in rows[(model, precision, isa)]]
        changes = [r["max_relative_output_change"] for isa in isas for r in rows[(model, precision, isa)] if r["max_relative_output_change"] is not None]
        s = {"model": model, "precision": precision, "onnxruntime_ms": statistics.median(ort),
             "max_relative_output_change": max(changes) if changes else None}
        for isa in isas:
            rs = rows[(model, precision, isa)]
            ours = statistics.median(r["latency_ms"]["median"] for r in rs)
            s[isa] = {"ours_ms": ours, "ratio": ours / s["onnxruntime_ms"],
                      "round_ratios": [r["latency_ms"]["median"] / r["onnxruntime"]["latency_ms"]["median"] for r in rs],
                      # auto's race of the whole call with and without each kernel family it weighed, per round
                      "family_races": [re.findall(r"(\d+ [\w-]+) convolutions: with ([\d.]+) ms, without ([\d.]+) ms", r.get("parallelism_reason", ""))
                                       for r in rs],
                      "plans": sorted({r.get("parallelism", "") + "".join(f", {r[k]} {k.replace('_convolutions', '')}" for k in sorted(r)
                                                                        if k.endswith("_convolutions") and r[k]) for r in rs})}
        summary.append(s)
    if args.json:
        print(json.dumps({"threads": args.threads, "rounds": args.rounds, "load_average": loads, "results": summary}, indent=2))
        return 0
    print(f"{args.rounds} rounds, {args.threads} threads, batch 1; ratio = ours / ONNX Runtime (native), median of rounds; "
          f"1-min load average {min(loads):.1f}–{max(loads):.1f}")
    print("ONNX Runtime runs float32 in every row; ours in the row's precision (fp16: logit change against our fp32, relative to the largest)")
    print(f"{'model':9} {'ours':>4} {'ours AVX2 ms':>12} {'ours native ms':>14} {'ORT ms':>8} {'AVX2/ORT':>8} {'native/ORT':>10}   per-round AVX2/ORT")
    for s in summary:
        a, n = s["avx2"], s["native"]
        change = f"  logit change {s['max_relative_output_change']:.1e}" if s["max_relative_output_change"] is not None else ""
        print(f"{s['model']:9} {s['precision']:>4} {a['ours_ms']:12.3f} {n['ours_ms']:14.3f} {s['onnxruntime_ms']:8.3f} {a['ratio']:8.2f} {n['ratio']:10.2f}"
              f"   {' '.join(f'{x:.2f}' for x in a['round_ratios'])}  ({'met' if a['ratio'] <= TARGET else 'NOT met'} ≤ {TARGET}){change}")
        print(f"{'':9} plans: AVX2 {'; '.join(a['plans'])} | native {'; '.join(n['plans'])}")
        for isa in isas:
            races = {}
            for rnd in s[isa]["family_races"]:
                for family, with_ms, without_ms in rnd:
                    races.setdefault(family, []).append(f"{float(with_ms):.2f}/{float(without_ms):.2f}")
            if races:
                print(f"{'':9} auto's races, {isa}, with/without ms per round: " + "; ".join(f"{f}: {' '.join(v)}" for f, v in races.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
