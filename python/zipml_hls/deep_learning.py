"""The paper's "little bit of deep learning" as an experiment: small networks trained with
quantized weights (:mod:`zipml_hls.torch`) on scikit-learn's digits and on a generated,
harder variant, for every scheme at 1-4 bits and fp32 over several seeds. Needs torch.

Every random choice is seeded explicitly (parameter initialisation from NumPy, batch order
from a torch.Generator, the quantizer from its own counter-based seeds): no global RNG.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .levels import quantization_variance
from .torch import DEFAULT_REFRESH, WeightQuantizer, quantize_model, weight_levels

TASKS = ("digits", "shifted digits")
NETWORKS = ("mlp", "cnn")
BITS = (1, 2, 3, 4)
CANVAS = 10  #: side of the shifted-digits images
NOISE = 0.1  #: standard deviation of the shifted digits' Gaussian noise
BATCH_SIZE = 128
#: (scheme, bits) of every cell of the accuracy table: fp32, XNOR (1 bit), and the three
#: level schemes at 1-4 bits.
CELLS = [("fp32", 32), ("xnor", 1)] + [(s, b) for s in ("optimal", "uniform", "nearest") for b in BITS]


@dataclass(frozen=True)
class Task:
    """Images (n, 1, side, side) float32 in about [0, 1] and labels 0..9, split 75/25."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def side(self) -> int:
        return self.X_train.shape[-1]


def _split(name: str, images: np.ndarray, labels: np.ndarray) -> Task:
    from sklearn.model_selection import train_test_split

    parts = train_test_split(images.astype(np.float32), labels.astype(np.int64), test_size=0.25, random_state=0,
                             stratify=labels)
    Xtr, Xte, ytr, yte = (torch.from_numpy(np.ascontiguousarray(p)) for p in parts)
    return Task(name, Xtr, ytr, Xte, yte)


def load_task(name: str, seed: int = 0) -> Task:
    """'digits': scikit-learn's 8x8 digits (1797 images) scaled to [0, 1]. 'shifted digits':
    each digit placed at a random offset on a CANVAS x CANVAS canvas with Gaussian noise of
    standard deviation NOISE added (generated from ``seed``): position no longer tells the pixels'
    meaning, which a fully connected network has to learn for every offset."""
    from sklearn.datasets import load_digits

    if name not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {name!r}")
    X, y = load_digits(return_X_y=True)
    images = (X / 16.0).reshape(-1, 1, 8, 8)
    if name == "digits":
        return _split(name, images, y)
    rng = np.random.default_rng(seed)
    canvas = np.zeros((len(X), 1, CANVAS, CANVAS))
    offsets = rng.integers(0, CANVAS - 8 + 1, size=(len(X), 2))
    for i, (r, c) in enumerate(offsets):
        canvas[i, 0, r:r + 8, c:c + 8] = images[i, 0]
    return _split(name, canvas + NOISE * rng.standard_normal(canvas.shape), y)


def make_network(name: str, side: int, seed: int, classes: int = 10) -> nn.Module:
    """'mlp': side^2 -> 64 -> classes with ReLU; 'cnn': two 3x3 convolutions (8 and 16
    filters, ReLU, 2x2 max pooling) and a linear layer. Weights and biases uniform in
    +-1/sqrt(fan_in) (PyTorch's default bounds) from a NumPy generator seeded with ``seed``;
    the layers are built on the meta device, so torch's global generator is not touched."""
    meta = {"device": "meta"}
    if name == "mlp":
        layers = [nn.Flatten(), nn.Linear(side * side, 64, **meta), nn.ReLU(), nn.Linear(64, classes, **meta)]
    elif name == "cnn":
        layers = [nn.Conv2d(1, 8, 3, padding=1, **meta), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(8, 16, 3, padding=1, **meta), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(16 * (side // 4) ** 2, classes, **meta)]
    else:
        raise ValueError(f"network must be one of {NETWORKS}, got {name!r}")
    model = nn.Sequential(*layers).to_empty(device="cpu")
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                bound = 1.0 / math.sqrt(layer.weight[0].numel())
                for p in (layer.weight, layer.bias):
                    p.copy_(torch.from_numpy(rng.uniform(-bound, bound, p.shape)))
    return model


def quantized_layers(model: nn.Module) -> list:
    """The layers of ``model`` whose weight a WeightQuantizer replaces."""
    return [m for m in model.modules() if parametrize.is_parametrized(m, "weight")
            and isinstance(m.parametrizations.weight[0], WeightQuantizer)]


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Share of ``X`` classified as ``y``, in eval mode (quantized weights of the current step)."""
    model.eval()
    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).double().mean())


def train_network(task: Task, network: str, scheme: str, bits: int, seed: int, *, epochs: int = 15,
                  batch_size: int = BATCH_SIZE, lr: float = 0.01, refresh: int | None = None, after_step=None):
    """Train ``network`` on ``task`` with weights quantized by ``scheme`` at ``bits`` bits
    (Adam on the shadow weights, step ``lr``, divided by 10 for the last third of the
    epochs; cross-entropy; ``refresh`` as quantize_model's). ``after_step(model, step)``,
    if given, is called after every optimizer step. Returns (model, seconds)."""
    model = make_network(network, task.side, seed)
    quantize_model(model, scheme, None if scheme in ("fp32", "xnor") else bits, seed=seed, refresh=refresh)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    start, step = time.perf_counter(), 0
    for epoch in range(epochs):
        if epoch == (2 * epochs) // 3:
            for group in opt.param_groups:
                group["lr"] = lr / 10
        model.train()
        order = torch.randperm(len(task.y_train), generator=batches)
        for i in range(0, len(order), batch_size):
            rows = order[i:i + batch_size]
            opt.zero_grad()
            loss_fn(model(task.X_train[rows]), task.y_train[rows]).backward()
            opt.step()
            step += 1
            if after_step:
                after_step(model, step)
    return model, time.perf_counter() - start


def _summary(values) -> dict:
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max())}


def accuracy_table(task: Task, network: str, seeds, epochs: int = 15, cells=CELLS, progress=None) -> list:
    """Test accuracy of every (scheme, bits) cell over ``seeds``: one row per cell with the
    accuracies, their mean, sample standard deviation, min and max, and the mean seconds
    per training run."""
    rows = []
    for scheme, bits in cells:
        acc, secs = [], []
        for seed in seeds:
            model, seconds = train_network(task, network, scheme, bits, seed, epochs=epochs)
            acc.append(accuracy(model, task.X_test, task.y_test))
            secs.append(seconds)
        rows.append({"scheme": scheme, "bits": bits, "accuracies": acc, **_summary(acc),
                     "train_seconds": float(np.mean(secs))})
        if progress:
            progress(f"{scheme} {bits}")
    return rows


def _compare(a: dict, b: dict) -> dict:
    """Mean difference of accuracies a - b, paired by seed (a seed gives every cell the same
    initial weights and batch order), its standard error, and a verdict: 'higher' or 'lower'
    beyond two standard errors, else 'tie'; 'identical' when every seed agrees."""
    d = np.subtract(a["accuracies"], b["accuracies"])
    diff = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
    if not d.any():
        verdict = "identical"
    else:
        verdict = "higher" if diff > 2 * se else "lower" if diff < -2 * se else "tie"
    return {"diff": diff, "se": se, "verdict": verdict}


def ranking(rows: list) -> dict:
    """The paper's ranking checked cell by cell: fp32 against optimal, optimal against
    uniform, optimal against XNOR and nearest rounding against optimal at each bits (rows of
    :func:`accuracy_table` over the same seeds), and the fewest bits at which optimal is above
    XNOR beyond two standard errors (None: at no bits)."""
    cell = {(r["scheme"], r["bits"]): r for r in rows}
    fp32, xnor_row = cell[("fp32", 32)], cell[("xnor", 1)]
    out = {"fp32_vs_optimal": {}, "optimal_vs_uniform": {}, "optimal_vs_xnor": {}, "nearest_vs_optimal": {}}
    for bits in sorted(b for s, b in cell if s == "optimal"):
        opt = cell[("optimal", bits)]
        out["fp32_vs_optimal"][bits] = _compare(fp32, opt)
        out["optimal_vs_uniform"][bits] = _compare(opt, cell[("uniform", bits)])
        out["optimal_vs_xnor"][bits] = _compare(opt, xnor_row)
        out["nearest_vs_optimal"][bits] = _compare(cell[("nearest", bits)], opt)
    above = [b for b, c in out["optimal_vs_xnor"].items() if c["verdict"] == "higher"]
    out["optimal_above_xnor_from_bits"] = min(above) if above else None
    return out


def refresh_study(task: Task, network: str = "mlp", bits: int = 2, refreshes=(1, 10, 100, 1000),
                  seed: int = 0, epochs: int = 15, every: int = 10) -> list:
    """How stale optimal levels may be. For each ``refresh``: one training run timed (and
    its test accuracy), and the same run again measuring, after every ``every`` steps, the
    total rounding variance of all quantized weights under the levels in use, under levels
    computed afresh and under uniform levels (measuring changes no draw). Returns per
    refresh the mean variance ratios stale / fresh and uniform / fresh, seconds, accuracy."""
    out = []
    for refresh in refreshes:
        model, seconds = train_network(task, network, "optimal", bits, seed, epochs=epochs, refresh=refresh)
        ratios = []

        def measure(model, step):
            if step % every:
                return
            total = np.zeros(3)
            for layer in quantized_layers(model):
                w = layer.parametrizations.weight.original.detach()
                values = w.reshape(w.shape[0], -1).double().numpy()
                tables = (layer.parametrizations.weight[0].levels(w), weight_levels(w, "optimal", bits),
                          weight_levels(w, "uniform", bits))
                total += [sum(quantization_variance(values[c], lev[c].numpy()) for c in range(len(values)))
                          for lev in tables]
            ratios.append(total / total[1])

        train_network(task, network, "optimal", bits, seed, epochs=epochs, refresh=refresh, after_step=measure)
        stale, _, uniform = np.mean(ratios, axis=0)
        out.append({"refresh": refresh, "stale_over_fresh": float(stale), "uniform_over_fresh": float(uniform),
                    "train_seconds": seconds, "accuracy": accuracy(model, task.X_test, task.y_test)})
    return out


def experiment(tasks=TASKS, networks=("mlp",), seeds=range(5), epochs: int = 12, progress=None) -> dict:
    """The accuracy table and ranking of every network on every task (:func:`table_rows` per
    task and network, :func:`summary` of them)."""
    start = time.perf_counter()
    rows = {}
    for task_name in tasks:
        for network in networks:
            if progress:
                progress(f"{task_name}, {network}")
            rows[(task_name, network)] = table_rows(task_name, network, seeds, epochs)
    return summary(rows, seeds, epochs, time.perf_counter() - start)


def table_rows(task_name: str, network: str, seeds, epochs: int = 12, cells=CELLS) -> list:
    """:func:`accuracy_table` of ``cells`` on the task named ``task_name``. Runs on one thread
    (these networks are too small for intra-op threads to pay, and one thread gives the same
    numbers on any machine with this torch build); the caller's thread count is restored.
    The rows depend on the arguments alone, so the cells may be split over processes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return accuracy_table(load_task(task_name), network, list(seeds), epochs, cells)
    finally:
        torch.set_num_threads(threads)


def summary(rows: dict, seeds, epochs: int, seconds: float) -> dict:
    """:func:`experiment`'s result from (task, network) -> :func:`table_rows` and the seconds
    they took."""
    out = {}
    for (task_name, network), table in rows.items():
        out.setdefault(task_name, {})[network] = {"rows": table, "ranking": ranking(table)}
    return {"epochs": epochs, "seeds": list(seeds), "torch": torch.__version__, "batch_size": BATCH_SIZE,
            "refresh": DEFAULT_REFRESH, "canvas": CANVAS, "noise": NOISE, "results": out, "seconds": seconds}
