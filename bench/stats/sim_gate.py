#!/usr/bin/env python3
"""`validate --baseline` gate simulation (issue 13, item 3; bench/STATS_DESIGN.md §3).

Same test rows for both runs: n rows, errors e ~ Bern(pi); old score U_old = mu*e + z1,
new score U_new = mu2*e + rho*z1 + sqrt(1 - rho^2)*z2 (z1, z2 ~ N(0, 1)): within-class
correlation rho, population AUCs Phi(mu/sqrt 2) and Phi(mu2/sqrt 2) = old AUC - drop.

Gates (fail = "regressed"), D = AUC_old - AUC_new on the shared rows, margin m:
- `current`: fail when AUC_new < the old run's own 2.5% percentile bootstrap bound (main);
- `delong`: fail when D + z_0.95 * SE_DeLong(paired) > m;
- `boot_pct`: fail when the 95th percentile of D* (shared resample indices) > m;
- `boot_basic`: fail when 2D - q_0.05(D*) > m.
Bootstrap gates use 500 resamples here (1000 in the tool) to keep the run short.

    python bench/stats/sim_gate.py [--draws 2000]   # writes bench/stats/sim_gate.json
"""
import argparse
import json
import pathlib

import numpy as np
from scipy.stats import norm, rankdata

HERE = pathlib.Path(__file__).resolve().parent
Z95 = norm.ppf(0.95)


def delong_components(u, e):
    """AUC and DeLong's structural components V10 (per error) and V01 (per correct row)."""
    n1, n0 = e.sum(), (~e).sum()
    r_all = rankdata(u)
    r_err, r_ok = rankdata(u[e]), rankdata(u[~e])
    v10 = (r_all[e] - r_err) / n0
    v01 = 1.0 - (r_all[~e] - r_ok) / n1
    return v10.mean(), v10, v01


def delong_paired(u_old, u_new, e):
    """(D = AUC_old - AUC_new, SE of D) by DeLong et al. 1988."""
    a, v10a, v01a = delong_components(u_old, e)
    b, v10b, v01b = delong_components(u_new, e)
    d10, d01 = v10a - v10b, v01a - v01b
    var = d10.var(ddof=1) / len(d10) + d01.var(ddof=1) / len(d01)
    return a - b, float(np.sqrt(max(var, 0.0)))


def delong_se(u, e):
    _, v10, v01 = delong_components(u, e)
    return float(np.sqrt(v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)))


def boot_aucs(us, e, W):
    """AUC of each score in `us` under each row-multiplicity vector in W [B, n]."""
    out = []
    for u in us:
        order = np.argsort(u, kind="stable")
        uo, eo, Wo = u[order], e[order], W[:, order]
        # ties: group runs; correct weight strictly below + half the tied correct weight
        starts = np.r_[0, np.nonzero(uo[1:] != uo[:-1])[0] + 1]
        grp = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(uo)]))
        w_ok = np.where(~eo, Wo, 0)
        g_ok = np.add.reduceat(w_ok, starts, axis=1)
        below = np.cumsum(g_ok, axis=1) - g_ok
        credit = below[:, grp] + 0.5 * g_ok[:, grp]
        w_err = np.where(eo, Wo, 0)
        num = (w_err * credit).sum(axis=1)
        n1, n0 = w_err.sum(axis=1), w_ok.sum(axis=1)
        out.append(num / (n1 * n0))
    return out


def simulate(draws, seed, n, pi, auc_old, drop, rho, boot=500, with_boot=True):
    rng = np.random.default_rng(seed)
    mu = np.sqrt(2) * norm.ppf(auc_old)
    mu2 = np.sqrt(2) * norm.ppf(auc_old - drop)
    m = 0.01
    fails = {"current": 0, "delong": 0, "boot_pct": 0, "boot_basic": 0}
    se_paired, se_single, d_obs = [], [], []
    for _ in range(draws):
        e = rng.uniform(size=n) < pi
        z1, z2 = rng.normal(size=n), rng.normal(size=n)
        u_old = mu * e + z1
        u_new = mu2 * e + rho * z1 + np.sqrt(1 - rho * rho) * z2
        d, se = delong_paired(u_old, u_new, e)
        se_paired.append(se)
        se_single.append(delong_se(u_old, e))
        d_obs.append(d)
        fails["delong"] += d + Z95 * se > m
        if with_boot:
            W = rng.multinomial(n, np.full(n, 1.0 / n), size=boot)
            W = W[(W * e).sum(axis=1) > 0]
            a_old, a_new = boot_aucs([u_old, u_new], e, W)
            ds = np.sort(a_old - a_new)
            fails["boot_pct"] += np.quantile(ds, 0.95) > m
            fails["boot_basic"] += 2 * d - np.quantile(ds, 0.05) > m
            auc_new = delong_components(u_new, e)[0]
            fails["current"] += auc_new < np.quantile(np.sort(a_old), 0.025)
    return {
        "n": n, "pi": pi, "auc_old": auc_old, "drop": drop, "rho": rho, "draws": draws,
        "fail_rate": {k: v / draws for k, v in fails.items()} if with_boot else {"delong": fails["delong"] / draws},
        "mean_paired_se": float(np.mean(se_paired)), "mean_single_se": float(np.mean(se_single)),
        "sd_of_D": float(np.std(d_obs)),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=2000)
    a = ap.parse_args()
    rows = []
    seed = 0
    for n in (400, 600):
        for rho in (0.9, 0.95, 0.98, 0.99, 0.995, 0.999):
            for drop in (0.0, 0.01, 0.02):
                seed += 1
                boot = n == 400 and rho in (0.98, 0.995) and drop in (0.0, 0.02)
                r = simulate(a.draws, seed, n, 0.15, 0.87, drop, rho, with_boot=boot)
                rows.append(r)
                print(json.dumps(r), flush=True)
    # the current gate against identical-architecture drops (review: 0.021 passes 98%)
    for drop in (0.021, 0.034, 0.048):
        seed += 1
        r = simulate(a.draws, seed, 400, 0.15, 0.87, drop, 0.99, with_boot=True)
        rows.append(r)
        print(json.dumps(r), flush=True)
    (HERE / "sim_gate.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
