#!/usr/bin/env python3
"""The gate on main (fail when AUC_new < the old run's 2.5% percentile bootstrap bound) at real
drops of 0.021 / 0.034 / 0.048 on 400 shared rows (model of sim_gate.py, rho 0.99), 2000 draws,
200 resamples per draw (the quantile only needs to be rough for a rate). Also the paired DeLong
gate (margin 0.01) on the same draws.

    python bench/stats/sim_gate_current.py   # writes bench/stats/sim_gate_current.json
"""
import json
import pathlib

import numpy as np
from scipy.stats import norm

from sim_gate import Z95, boot_aucs, delong_paired

HERE = pathlib.Path(__file__).resolve().parent


def main(draws=2000, n=400, pi=0.15, auc_old=0.87, rho=0.99, B=200):
    out = []
    for i, drop in enumerate((0.021, 0.034, 0.048)):
        rng = np.random.default_rng(1000 + i)
        mu, mu2 = np.sqrt(2) * norm.ppf(auc_old), np.sqrt(2) * norm.ppf(auc_old - drop)
        passed, delong_fail, tolerated = 0, 0, []
        for _ in range(draws):
            e = rng.uniform(size=n) < pi
            z1, z2 = rng.normal(size=n), rng.normal(size=n)
            u_old, u_new = mu * e + z1, mu2 * e + rho * z1 + np.sqrt(1 - rho * rho) * z2
            W = rng.multinomial(n, np.full(n, 1.0 / n), size=B)
            (a_old,) = boot_aucs([u_old], e, W)
            lo = np.quantile(a_old, 0.025)
            d, se = delong_paired(u_old, u_new, e)
            a_new = boot_aucs([u_new], e, np.ones((1, n)))[0][0]
            a_o = boot_aucs([u_old], e, np.ones((1, n)))[0][0]
            passed += a_new >= lo
            tolerated.append(a_o - lo)
            delong_fail += d + Z95 * se > 0.01
        r = {"drop": drop, "rho": rho, "n": n, "draws": draws, "B": B,
             "current_gate_pass_rate": passed / draws, "mean_tolerated_drop": float(np.mean(tolerated)),
             "delong_m0.01_fail_rate": delong_fail / draws}
        print(json.dumps(r), flush=True)
        out.append(r)
    (HERE / "sim_gate_current.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
