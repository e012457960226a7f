"""Figures for the report and the benchmark (matplotlib, written as PNG without a display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .spec.format import SUPPORTED_BITS, precision_label  # noqa: E402

_COLORS = {32: "black", 8: "tab:blue", 6: "tab:purple", 4: "tab:green", 3: "tab:olive", 2: "tab:orange",
           1: "tab:red"}


def _color(bits: int) -> str:
    return _COLORS.get(bits, "tab:gray")  # a width added later still plots
_STYLES = {"fp32": "-", "double": "-", "naive": "--", "nearest": ":"}
_BITS_TICKS = list(SUPPORTED_BITS)


def _panels(n: int, width: float = 6, height: float = 4):
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, axes[0]


def _style(ax, xlabel: str, ylabel: str, title: str | None = None, legend_size=8, ncol: int = 1) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size, ncol=ncol)


def _bits_axis(ax) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(_BITS_TICKS, labels=[str(b) for b in _BITS_TICKS])


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _label(row) -> str:
    return precision_label(row["bits"], row["sampling"])


def convergence(results: dict, path: Path, title: str = "Training loss per epoch") -> Path:
    """One panel per data set: loss curves of every precision (log scale)."""
    fig, axes = _panels(len(results), height=4.2)
    for ax, (name, rows) in zip(axes, results.items()):
        for row in rows:
            curve = row["loss_curve"]
            ax.plot(range(1, len(curve) + 1), curve, _STYLES[row["sampling"]], color=_color(row["bits"]),
                    label=_label(row), linewidth=1.6)
        ax.set_yscale("log")
        _style(ax, "epoch", "training loss (0.5 MSE, original units)", name, ncol=2)
    fig.suptitle(title)
    return _save(fig, path)


def final_loss_vs_bits(results: dict, path: Path) -> Path:
    """Final loss relative to fp32, against bits, for each sampling mode."""
    fig, axes = _panels(len(results))
    for ax, (name, rows) in zip(axes, results.items()):
        fp32 = next(r["final_loss"] for r in rows if r["bits"] == 32)
        for sampling in ("double", "naive", "nearest"):
            pts = sorted((r["bits"], r["final_loss"] / fp32) for r in rows if r["sampling"] == sampling)
            if pts:
                ax.plot(*zip(*pts), _STYLES[sampling], marker="o", label=sampling)
        ax.axhline(1.0, color="black", linewidth=0.8, label="fp32")
        ax.set_yscale("log")
        _bits_axis(ax)
        _style(ax, "bits per value", "final loss / fp32 final loss", name, legend_size=None)
    return _save(fig, path)


def speedup_vs_bits(throughput: dict, projection: dict, path: Path) -> Path:
    """Measured CPU epoch speedup over fp32 and the FPGA cycle model's speedup over the
    32-bit engine, against stored bits per value (b + 2 for double sampling)."""
    fig, (ax,) = _panels(1, height=4)
    for sampling, marker in (("double", "o"), ("naive", "s")):
        cpu = sorted((r["bits_per_value"], r["speedup_vs_fp32"]) for r in throughput["rows"]
                     if r["kernel"] == "quantized" and r.get("levels", "uniform") == "uniform"
                     and r["sampling"] == sampling and r.get("workers", 1) == 1
                     and r.get("loss", "squared_error") == "squared_error")
        fpga = sorted((r["stored_bits"], r["speedup_vs_32bit"]) for r in projection["rows"]
                      if r["sampling"] == sampling)
        ax.plot(*zip(*cpu), "-", marker=marker, label=f"CPU measured, {sampling}")
        ax.plot(*zip(*fpga), ":", marker=marker, label=f"FPGA cycle model, {sampling}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(projection["paper_best_speedup"], color="gray", linestyle="--", linewidth=0.8, label="paper: up to 6.5x")
    ax.set_xscale("log", base=2)
    ticks = sorted({r["stored_bits"] for r in projection["rows"]} | {32})
    ax.set_xticks(ticks, labels=[str(b) for b in ticks])
    _style(ax, "stored bits per value (double: b + 2)", "epoch speedup over 32 bits")
    return _save(fig, path)


def levels_loss_vs_bits(claims: dict, path: Path) -> Path:
    """Final loss relative to fp32 against stored bits per value, uniform vs optimal levels."""
    fig, axes = _panels(len(claims))
    for ax, (name, claim) in zip(axes, claims.items()):
        for sampling, style in (("double", "-"), ("naive", "--")):
            if sampling not in claim:
                continue
            for levels, color in (("uniform", "tab:gray"), ("optimal", "tab:blue")):
                rows = claim[sampling][levels]["rows"]
                ax.plot([r["bits_per_value"] for r in rows], [r["ratio_to_fp32"] for r in rows], style,
                        marker="o", color=color, label=f"{levels} levels, {sampling}")
        ax.axhline(1 + claim["tolerance"], color="black", linewidth=0.8, linestyle=":",
                   label=f"fp32 + {claim['tolerance']:.0%}")
        ax.set_yscale("log")
        _style(ax, "stored bits per value", "final loss / fp32 final loss", name)
    return _save(fig, path)


def levels_bits_worth(variance: dict, path: Path) -> Path:
    """Per data set: how many times fewer bits optimal levels need for uniform levels'
    rounding variance, against bits (the range over draws as a band)."""
    fig, (ax,) = _panels(1)
    for name, draws in variance.items():
        bits = [row["bits"] for row in draws[0]]
        ratios = np.array([[row["bits_ratio"] for row in draw] for draw in draws])
        line, = ax.plot(bits, np.median(ratios, axis=0), marker="o", label=name)
        if len(draws) > 1:
            ax.fill_between(bits, ratios.min(axis=0), ratios.max(axis=0), color=line.get_color(), alpha=0.2)
    ax.axhline(1.0, color="gray", linewidth=0.8, linestyle=":")
    _style(ax, "bits per value (index bits)", "fewer bits than uniform levels, same variance (x)")
    return _save(fig, path)


def time_to_loss(tta: dict, path: Path) -> Path:
    """Training loss against wall time of fit() (quantization included) for each precision,
    one point per max_iter budget; scikit-learn's pipeline in black."""
    fig, (ax,) = _panels(1)
    for c in tta["curves"]:
        if c["sampling"] == "sklearn":
            ax.plot(c["wall_s"], c["loss"], "-.", marker=".", color="black", label="StandardScaler + SGDRegressor")
        else:
            ax.plot(c["wall_s"], c["loss"], _STYLES[c["sampling"]], marker=".", color=_color(c["bits"]), label=_label(c))
    ax.axhline(tta["target_loss"], color="gray", linestyle=":", label="fp32 final loss + 1%")
    ax.set_yscale("log")
    ax.set_xscale("log")
    _style(ax, "wall time of fit(), s (quantization included)", f"training loss ({tta['loss_units']})")
    return _save(fig, path)


def nonlinear_accuracy(results: dict, path: Path) -> Path:
    """Test accuracy against bits for each loss, data set and sampling mode."""
    panels = [(name, loss) for name in results for loss in results[name]]
    fig, axes = _panels(len(panels), width=4.5)
    for ax, (name, loss) in zip(axes, panels):
        rows = results[name][loss]
        fp32 = next(r for r in rows if r["mode"] == "fp32")
        ax.axhline(fp32["accuracy"], color="black", linewidth=0.8, label="fp32")
        for mode in dict.fromkeys(r["mode"] for r in rows if r["mode"] != "fp32"):
            pts = sorted((r["bits"], r["accuracy"]) for r in rows if r["mode"] == mode)
            ax.plot(*zip(*pts), marker="o", label=mode)
        ax.set_xticks([2, 4, 6, 8])
        _style(ax, "bits per value", "test accuracy", f"{name}: {loss}", legend_size=7)
    return _save(fig, path)


def precision_limits(limits: dict, path: Path) -> Path:
    """Per data set: final loss over fp32's minus 1 against bits, data only and end to end
    (grid and QSGD rounding; the mean over seeds, their range as a band), on a symmetric log scale (linear within
    +-0.1%: runs at or below fp32 stay visible), with the tolerance as a line."""
    fig, axes = _panels(len(limits), width=4.8)
    for ax, (name, x) in zip(axes, limits.items()):
        lowest = 0.0
        for mode, label, marker in (("data_only", "data only", "o"), ("end_to_end", "data, model, gradient", "s"),
                                    ("end_to_end_qsgd", "... model, gradient by QSGD", "^")):
            bits = [row["bits"] for row in x[mode]["rows"]]
            excess = np.array([row["ratios"] for row in x[mode]["rows"]]) - 1.0
            line, = ax.plot(bits, excess.mean(axis=1), marker=marker, label=label)
            ax.fill_between(bits, excess.min(axis=1), excess.max(axis=1), color=line.get_color(), alpha=0.2)
            lowest = min(lowest, excess.min())
        ax.axhline(x["tolerance"], color="black", linewidth=0.8, linestyle=":", label=f"fp32 + {x['tolerance']:.0%}")
        ax.axhline(0.0, color="gray", linewidth=0.6)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=min(-1e-2, 2 * lowest))
        _bits_axis(ax)
        _style(ax, "bits", "final loss / fp32 - 1", name, legend_size=7)
    return _save(fig, path)


def deep_learning_accuracy(results: dict, path: Path) -> Path:
    """Test accuracy against bits per weight (mean, and the standard deviation over seeds as
    error bars) of each scheme, one panel per task and network; fp32 as a line with its band."""
    panels = [(task, net) for task in results for net in results[task]]
    fig, axes = _panels(len(panels), width=4.8)
    for ax, (task, net) in zip(axes, panels):
        cell = {(r["scheme"], r["bits"]): r for r in results[task][net]["rows"]}
        fp32 = cell[("fp32", 32)]
        ax.axhline(fp32["mean"], color="black", linewidth=0.8, label="fp32")
        ax.axhspan(fp32["mean"] - fp32["std"], fp32["mean"] + fp32["std"], color="black", alpha=0.08)
        for scheme, fmt in (("optimal", "-o"), ("uniform", "--s"), ("nearest", ":^")):
            bits, mean, std = zip(*sorted((b, r["mean"], r["std"]) for (s, b), r in cell.items() if s == scheme))
            ax.errorbar(bits, mean, yerr=std, fmt=fmt, capsize=3, label=scheme)
        xnor = cell[("xnor", 1)]
        ax.errorbar([1], [xnor["mean"]], yerr=[xnor["std"]], fmt="D", color="tab:red", capsize=3, label="XNOR")
        ax.set_xticks(sorted({b for s, b in cell if s != "fp32"}))
        _style(ax, "bits per weight", "test accuracy", f"{task}, {net}")
    return _save(fig, path)
