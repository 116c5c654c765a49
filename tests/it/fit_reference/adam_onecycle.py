"""Reference trajectories of torch.optim.Adam + torch.optim.lr_scheduler.OneCycleLR.

Regenerate with:  python tests/it/fit_reference/adam_onecycle.py
(requirements: requirements.txt next to this file). Writes adam_onecycle.json, read by
tests/it/fit_optim.rs, which replays the recorded gradients through adue_compile's Adam and
OneCycle and compares the learning rates and the parameters after every step.

The gradient comes from a small non-quadratic objective evaluated at the current
parameters, so it changes sign and scale along the run. Adam runs with foreach=False
(the single-tensor path PyTorch takes on CPU by default), betas (0.9, 0.999), eps 1e-8.
OneCycleLR: pct_start=0.1, anneal_strategy='cos', div_factor=25, final_div_factor=1e4,
three_phase=False, cycle_momentum=False, stepped once per optimizer step.
total_steps = 10 is left out on purpose: PyTorch divides by zero there (0.1*10 - 1 == 0).
"""

import json
import math
from pathlib import Path

import torch

CASES = [(37, 0.05), (1, 0.01), (5, 1e-3), (55, 1e-4), (110, 1e-3)]
N = 7


def run(dtype, total_steps, max_lr):
    theta0 = [math.sin(1.7 * i + 0.3) for i in range(N)]
    p = torch.tensor(theta0, dtype=dtype, requires_grad=True)
    c = torch.tensor([0.5 + 0.3 * i for i in range(N)], dtype=dtype)
    opt = torch.optim.Adam([p], lr=max_lr, foreach=False)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=max_lr,
        total_steps=total_steps,
        pct_start=0.1,
        anneal_strategy="cos",
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        cycle_momentum=False,
    )
    lrs, grads, params = [], [], []
    for step in range(total_steps):
        lrs.append(sched.get_last_lr()[0])
        loss = (c * p**2).sum() * 0.5 + torch.sin(3.0 * p + step).sum() + 1e-3 * (p**4).sum()
        opt.zero_grad()
        loss.backward()
        grads.append(p.grad.tolist())
        opt.step()
        sched.step()
        params.append(p.detach().tolist())
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "total_steps": total_steps,
        "max_lr": max_lr,
        "theta0": [float(v) for v in torch.tensor(theta0, dtype=dtype).tolist()],
        "lrs": lrs,
        "grads": grads,
        "params": params,
    }


def main():
    cases = [run(dtype, t, lr) for dtype in (torch.float64, torch.float32) for t, lr in CASES]
    out = {"torch_version": torch.__version__, "cases": cases}
    path = Path(__file__).with_name("adam_onecycle.json")
    path.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
