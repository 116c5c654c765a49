"""A faithful PyTorch CPU implementation of adue-compile's AdUE fit loop (the benchmark baseline).

    python bench/fit_torch.py --train T --val V --test S --head original_head.safetensors \
        --grid GRID.json [--threads N] [--seed S]

Same data (the feature files' `features`, `labels`, `logits`), same head (the original head
in the head.safetensors layout, as written by `cargo bench --bench fit -- --save-original`),
same loop as src/fit:
- e = argmax(original logits) != label, U_SR = 1 - max softmax(original logits);
- head = Dropout(0.1) -> Linear [-> tanh|GELU -> Dropout(0.1) -> Linear] (HF's
  RobertaClassificationHead), started from the original weights;
- U = clamp(1 - logsumexp(lambda * softmax(g(h))) / lambda, 1e-7, 1 - 1e-7), lambda = 100;
- loss = BCE(U, e) + alpha * mean((U - U_SR)^2) + beta * sum ||theta - theta0||^2;
- Adam (PyTorch defaults), OneCycleLR(max_lr=lr, pct_start=0.1, cos, div 25, final div 1e4,
  three_phase=False, cycle_momentum=False) stepped per batch; batches of 128 from a fresh
  permutation per epoch;
- early stopping on the validation error ROC-AUC (patience 5) with best-epoch restore;
- the configuration with the highest validation ROC-AUC wins, the first in grid order on ties.
Prints one JSON object like the Rust bench. Only the grid search is timed.
"""

import argparse
import copy
import json
import math
import time

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from sklearn.metrics import roc_auc_score

LAMBDA, EPS, BATCH, DROPOUT, PATIENCE = 100.0, 1e-7, 128, 0.1, 5


class Head(torch.nn.Module):
    """The classification head, with dropout where HF puts it."""

    def __init__(self, path):
        super().__init__()
        with safe_open(path, "pt") as f:
            meta = f.metadata()
        t = load_file(path)
        self.kind = meta["kind"]
        self.drop = torch.nn.Dropout(DROPOUT)
        if self.kind == "dense":
            h, d = t["dense.weight"].shape
            c = t["out_proj.weight"].shape[0]
            self.dense = torch.nn.Linear(d, h)
            self.act = torch.nn.Tanh() if meta["activation"] == "tanh" else torch.nn.GELU()
            self.out_proj = torch.nn.Linear(h, c)
        else:
            c, d = t["weight"].shape
            self.score = torch.nn.Linear(d, c, bias="bias" in t)
        prefix = "" if self.kind == "dense" else "score."
        self.load_state_dict({prefix + k: v for k, v in t.items()})

    def forward(self, x):
        x = self.drop(x)
        if self.kind == "dense":
            return self.out_proj(self.drop(self.act(self.dense(x))))
        return self.score(x)


def uncertainty(logits):
    p = torch.softmax(logits, dim=-1)
    smooth_max = torch.logsumexp(LAMBDA * p, dim=-1) / LAMBDA
    return torch.clamp(1.0 - smooth_max, EPS, 1.0 - EPS)


def load_split(path):
    t = load_file(path)
    x, y, z = t["features"].float(), t["labels"].long(), t["logits"].float()
    p = torch.softmax(z.double(), dim=-1)
    e = (z.argmax(dim=1) != y).float()
    return x, e, (1.0 - p.max(dim=1).values).float()


def auc(head, x, e):
    head.eval()
    with torch.no_grad():
        u = uncertainty(head(x)).double().numpy()
    return float(roc_auc_score(e.numpy(), u))


def one_cycle(opt, max_lr, total_steps):
    """OneCycleLR as configured in src/fit/optim.rs. PyTorch divides by zero when the warm-up
    has zero length (0.1 * total_steps == 1, e.g. 10 steps); there, as in the Rust code, the
    degenerate phase yields its end value (max_lr) and the annealing follows PyTorch's formula.
    """
    try:
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, total_steps=total_steps, pct_start=0.1, anneal_strategy="cos",
            div_factor=25.0, final_div_factor=1e4, three_phase=False, cycle_momentum=False,
        )
    except ZeroDivisionError:
        min_lr = max_lr / 25.0 / 1e4
        end = float(0.1 * total_steps) - 1

        def factor(step):
            if step <= end:
                return 1.0
            pct = (step - end) / (total_steps - 1 - end)
            return (min_lr + (max_lr - min_lr) / 2.0 * (math.cos(math.pi * pct) + 1)) / max_lr

        for group in opt.param_groups:
            group["lr"] = group["initial_lr"] = max_lr
        return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def train(original, x, e, u_sr, xv, ev, alpha, beta, lr, epochs, seed):
    torch.manual_seed(seed)
    head = copy.deepcopy(original)
    params = list(head.parameters())
    anchors = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=lr)
    steps = math.ceil(len(x) / BATCH)
    sched = one_cycle(opt, lr, epochs * steps)
    best_auc, best_epoch, best_state, since = None, 0, None, 0
    loss_sum = 0.0
    for epoch in range(1, epochs + 1):
        head.train()
        perm = torch.randperm(len(x))
        loss_sum = 0.0
        for b in range(steps):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            u = uncertainty(head(x[idx]))
            loss = (
                F.binary_cross_entropy(u, e[idx])
                + alpha * ((u - u_sr[idx]) ** 2).mean()
                + beta * sum(((p - a) ** 2).sum() for p, a in zip(params, anchors))
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
        score = auc(head, xv, ev)
        if best_auc is None or score > best_auc:
            best_auc, best_epoch, since = score, epoch, 0
            best_state = copy.deepcopy(head.state_dict())
        else:
            since += 1
            if since >= PATIENCE:
                break
    head.load_state_dict(best_state)
    result = {"alpha": alpha, "beta": beta, "lr": lr, "epochs": epochs, "best_epoch": best_epoch,
              "val_roc_auc": best_auc, "final_train_loss": loss_sum / steps}
    return result, head


def main():
    ap = argparse.ArgumentParser()
    for name in ("train", "val", "test", "head"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--grid", required=True, help="JSON grid, as printed by the Rust bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.grid) as f:
        grid = json.load(f)
    original = Head(a.head)
    (x, e, u_sr), (xv, ev, u_sr_v), (xt, et, u_sr_t) = map(load_split, (a.train, a.val, a.test))

    start = time.perf_counter()
    best, best_head, results = None, None, []
    for alpha in grid["alpha"]:
        for beta in grid["beta"]:
            for lr in grid["lr"]:
                for epochs in grid["epochs"]:
                    r, head = train(original, x, e, u_sr, xv, ev, alpha, beta, lr, epochs, a.seed)
                    results.append(r)
                    if best is None or r["val_roc_auc"] > best["val_roc_auc"]:
                        best, best_head = r, head
    wall = time.perf_counter() - start

    print(json.dumps({
        "impl": "torch",
        "threads": a.threads,
        "configurations": len(results),
        "wall_s": wall,
        "selected": best,
        "val_roc_auc": auc(best_head, xv, ev),
        "test_roc_auc": auc(best_head, xt, et),
        "sr_val_roc_auc": float(roc_auc_score(ev.numpy(), u_sr_v.numpy())),
        "sr_test_roc_auc": float(roc_auc_score(et.numpy(), u_sr_t.numpy())),
        "train_rows": len(x),
        "dim": x.shape[1],
        "head": original.kind,
    }))


if __name__ == "__main__":
    main()
