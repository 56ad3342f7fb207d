#!/usr/bin/env python3
"""Writes Tests/ClinicalMetricsTests/Fixtures/clinical_stats.json: independent references for the clinical statistics.

Run from the package root:  python3 scripts/make_metrics_fixtures.py
Needs numpy and scipy. Each reference is computed a different way from the Swift code:

  wilson     scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
  delong     the O(m·n) pairwise kernel psi(x, y) of DeLong et al. (1988), not mid-ranks; p-value from
             scipy.stats.norm; two models' scores on the same images, with ties
  brier/ece  numpy, 10 equal-width bins of P(pneumonia) (the last bin includes 1)
  temperature  scipy.optimize.minimize_scalar on the mean negative log-likelihood over log T (not Newton)
"""
import json
import os

import numpy as np
from scipy import optimize, stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ClinicalMetricsTests", "Fixtures", "clinical_stats.json")


def wilson_cases():
    cases = []
    for k, n in [(0, 10), (1, 29), (15, 148), (81, 263), (389, 389), (385, 389), (97, 131), (5, 5)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        cases.append({"k": k, "n": n, "lower": float(ci.low), "upper": float(ci.high)})
    return cases


def delong_components(scores, labels):
    x = scores[labels == 1]
    y = scores[labels == 0]
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


def delong_case(rng):
    n = 120
    labels = (rng.random(n) < 0.7).astype(int)
    truth = labels + rng.normal(0, 0.9, n)
    # Rounded to two decimals so that ties occur within and across classes.
    a = np.round(1 / (1 + np.exp(-truth)), 2)
    b = np.round(1 / (1 + np.exp(-(truth + rng.normal(0, 0.8, n)))), 2)
    out = {"labels": labels.tolist(), "scores_a": a.tolist(), "scores_b": b.tolist()}
    comps = []
    for s in (a, b):
        auc, v10, v01 = delong_components(s, labels)
        var = v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)
        comps.append((auc, v10, v01, var))
        half = 1.959963984540054 * np.sqrt(var)
        out.setdefault("models", []).append({"auc": auc, "variance": var,
                                             "lower": max(0.0, auc - half), "upper": min(1.0, auc + half)})
    (aa, a10, a01, va), (ab, b10, b01, vb) = comps
    cov = np.cov(a10, b10)[0, 1] / len(a10) + np.cov(a01, b01)[0, 1] / len(a01)
    z = (aa - ab) / np.sqrt(va + vb - 2 * cov)
    out["comparison"] = {"difference": aa - ab, "z": z, "p_value": 2 * stats.norm.sf(abs(z))}
    return out


def calibration_case(rng):
    n = 300
    labels = (rng.random(n) < 0.65).astype(int)
    # Over-confident scores: class-conditional normal margins whose likelihood-optimal scale is about 1.9,
    # multiplied by 4, so the fitted T is near 2.
    margin = 4 * (1.5 * (2 * labels - 1) + rng.normal(0, 1.25, n))
    p = 1 / (1 + np.exp(-margin))
    brier = np.mean((p - labels) ** 2)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = 0.0
    rows = []
    for b in range(10):
        m = bins == b
        if m.sum():
            ece += m.sum() / n * abs(labels[m].mean() - p[m].mean())
        rows.append({"count": int(m.sum()), "mean_predicted": float(p[m].mean()) if m.sum() else None,
                     "observed_rate": float(labels[m].mean()) if m.sum() else None})

    def nll(log_t):
        z = margin / np.exp(log_t)
        s = np.where(labels == 1, z, -z)
        return np.mean(np.logaddexp(0, -s))

    res = optimize.minimize_scalar(nll, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10})
    return {"labels": labels.tolist(), "scores": p.tolist(), "brier": brier, "ece": ece, "bins": rows,
            "temperature": float(np.exp(res.x)), "nll_at_temperature": float(res.fun), "nll_at_one": float(nll(0.0))}


def main():
    rng = np.random.default_rng(20261205)
    fixture = {"wilson": wilson_cases(), "delong": delong_case(rng), "calibration": calibration_case(rng)}
    with open(OUT, "w") as f:
        json.dump(fixture, f, default=float)
        f.write("\n")
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
