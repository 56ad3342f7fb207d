#!/usr/bin/env python3
"""Issue #19 item 1's acceptance: INT8 against float32 and ONNX Runtime on the same trained .onnx files.

For each file, each round runs `pneumo bench infer --onnx FILE --batch 64 --json` four times, alternating: INT8 and
fp32 natively, then INT8 and fp32 under ONEDNN_MAX_CPU_ISA=AVX2 (which restricts oneDNN and our kernels, so INT8 takes
7-bit weights as on a CPU without VNNI; ONNX Runtime cannot be restricted and runs natively in every call). Each call
times ours, then ONNX Runtime fp32 on the same file. INT8 is calibrated on TRAIN images of --data (bench infer's
default split and number, or --calibration-samples) and, in the first round, measured on its val images: top-1
agreement with fp32 and both val AUCs. Prints a Markdown table: medians over the rounds, and the median of each
call's own int8/ORT throughput ratio.

    python3 bench/int8_acceptance.py --pneumo .build/release/pneumo --data DATA.npz --rounds 3 MODEL.onnx [...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def label(onnx):
    """The file's folder and name (runs export `model.onnx` into folders named after the model)."""
    return os.path.join(os.path.basename(os.path.dirname(os.path.abspath(onnx))), os.path.basename(onnx))


def bench(pneumo, onnx, variant, isa, args, agreement):
    precision = "fp32" if variant == "fp32" else "int8"
    cmd = [pneumo, "bench", "infer", "--onnx", onnx, "--batch", "64", "--threads", str(args.threads), "--runs", str(args.runs),
           "--warmup", "5", "--precision", precision, "--json"]
    if variant == "int8-checked":
        cmd += ["--boundary-check"]
    if precision == "int8":
        cmd += ["--calibrate", args.data]
        if args.calibration_samples:
            cmd += ["--calibration-samples", str(args.calibration_samples)]
        if args.int8_weights:
            cmd += ["--int8-weights", args.int8_weights]
        if agreement:
            cmd += ["--agreement-data", args.data]
    env = dict(os.environ)
    env.pop("ONEDNN_MAX_CPU_ISA", None)
    if isa != "native":
        env["ONEDNN_MAX_CPU_ISA"] = isa
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    out = json.loads(r.stdout)
    if out.get("peer_skipped"):
        sys.exit(f"ONNX Runtime did not run: {out['peer_skipped']}")
    return out


def main():
    # Each run decides its plans afresh, as the figures in bench/README.md were measured (no tuning cache between runs).
    os.environ.setdefault("PNEUMO_TUNING_CACHE", "off")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", nargs="+")
    ap.add_argument("--pneumo", default=".build/release/pneumo")
    ap.add_argument("--data", required=True, help="MedMNIST .npz: train images calibrate, val images measure")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--calibration-samples", type=int, help="default: bench infer's")
    ap.add_argument("--int8-weights", choices=["8-bit", "7-bit"], help="default: the ISA's")
    ap.add_argument("--isas", default="native,AVX2")
    ap.add_argument("--boundary-check", action="store_true", help="also INT8 with bench infer --boundary-check")
    args = ap.parse_args()
    isas = args.isas.split(",")
    variants = ("int8", "int8-checked", "fp32") if args.boundary_check else ("int8", "fp32")
    rows = []
    for onnx in args.onnx:
        runs = {(isa, p): [] for isa in isas for p in variants}
        for r in range(args.rounds):
            for isa in isas:
                for p in variants:
                    out = bench(args.pneumo, onnx, p, isa, args, agreement=(r == 0))
                    runs[(isa, p)].append(out)
                    row = out["results"][0]
                    print(f"round {r + 1} {label(onnx)} {isa} {p}: ours {row['samples_per_s']:.0f}/s, "
                          f"ORT {row['onnxruntime']['samples_per_s']:.0f}/s ({out['precision_summary']})", file=sys.stderr, flush=True)
        med = lambda xs: statistics.median(xs)
        sps = lambda outs: med([o["results"][0]["samples_per_s"] for o in outs])
        for isa in isas:
            f = runs[(isa, "fp32")]
            for v in variants[:-1]:
                q = runs[(isa, v)]
                ort = med([o["results"][0]["onnxruntime"]["samples_per_s"] for o in q + f])
                ratio = med([o["results"][0]["throughput_ratio"] for o in q])
                a = q[0]
                auc, auc32 = a["val_auc"], a["val_auc_fp32"]
                rerun = (f"{100 * med([o['results'][0]['boundary_rechecked'] for o in q]):.1f}% (margin {a['boundary_check']['margin']:.3f})"
                         if v == "int8-checked" else "none")
                rows.append(f"| {label(onnx)} | {a['isa']} | {a['int8_weights']} | {rerun} | {100 * a['top1_agreement_val']:.2f}% | "
                            f"{auc32:.4f} | {auc:.4f} | {auc - auc32:+.4f} | {sps(q):.0f} | {sps(f):.0f} | {ort:.0f} | {ratio:.2f}× |")
    print("| model | ISA (ours) | weights | rerun in fp32 | top-1 agreement | val AUC fp32 | val AUC int8 | Δ AUC | ours int8 b64/s | "
          "ours fp32 b64/s | ORT fp32 b64/s | int8/ORT |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
