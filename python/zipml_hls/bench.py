"""``zipml-hls bench``: epoch throughput of every kernel against the 32-bit baselines and
the machine's measured read bandwidth, in one run on the same data (docs/BENCH.md)."""

from __future__ import annotations

import json
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import __version__, engine, fpga
from ._validation import check_allocation
from .backend import get_backend
from .data import atomic_write_bytes
from .engine import KernelRun, SgdConfig, prepare, sharded_pass
from .hls_flow import TOP_BITS, TOP_SAMPLINGS
from .quantize import optimal_level_table
from .scaling import FeatureScaling, LabelScaling
from .spec import format as F
from .spec.losses import LOSSES

SCHEMA_VERSION = 2  #: 2: rows carry their loss; 3/6-bit, loss and more two-worker rows


@dataclass(frozen=True)
class BenchConfig:
    rows: int = 131_072  # x 2048 float32 = 1 GiB: memory-bound
    features: int = 2048
    small_rows: int = 65_536  # x 32 float32 = 8 MiB: cache-resident
    small_features: int = 32
    repeats: int = 5
    tta_rows: int = 131_072  # time-to-accuracy problem: 131072 x 512 (256 MiB)
    tta_features: int = 512
    tta_epochs: int = 10
    tta_rounds: int = 3  # time to accuracy: rounds over all precisions, median wall times
    sklearn: bool = True
    golden_rows: int = 256
    widths: tuple = (1, 2, 3, 4, 6, 8)  # uniform levels, double and naive sampling
    losses: tuple = ("hinge", "log_loss")  # beside least squares, double sampling, at loss_bits
    loss_bits: tuple = (1, 2, 4, 8)
    two_worker_bits: tuple = (1, 2, 4, 8)  # double sampling (and fp32) on two workers

    @classmethod
    def quick(cls) -> "BenchConfig":
        return cls(rows=2048, features=512, small_rows=2048, small_features=32, repeats=5, tta_rows=4096,
                   tta_features=64, tta_epochs=4, tta_rounds=1, golden_rows=32)


def cpu_description() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def epoch_times(fn, repeats: int) -> list[float]:
    """Wall times of ``repeats`` calls of ``fn``."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _row(kernel, bits, sampling, levels, n, d, nbytes, times, bandwidth, prepare_s, extrapolated=False,
         note="", workers=1, loss="squared_error"):
    med = float(np.median(times))
    return {"kernel": kernel, "bits": bits, "sampling": sampling, "levels": levels, "workers": workers, "loss": loss,
            "bits_per_value": 32 if bits == 32 else (64 if kernel == "sklearn" else F.stored_bits(bits, sampling)),
            "n_samples": n, "n_features": d, "bytes_per_epoch": int(nbytes), "epoch_s_median": med,
            "epoch_s_min": float(np.min(times)), "epoch_s_max": float(np.max(times)), "samples_per_s": n / med,
            "gbytes_per_s": nbytes / med / 1e9, "roofline_fraction": nbytes / med / bandwidth,
            "speedup_vs_fp32": None, "prepare_s": prepare_s, "extrapolated": extrapolated, "note": note}


def problem(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32)
    y = X @ rng.standard_normal(d).astype(np.float32) + 0.1 * rng.standard_normal(n).astype(np.float32)
    return X, y.astype(np.float64)


def _loss_rows(X, scaling, ys, bits: int, shift: int, fit_s: float, bandwidth: float, cfg: BenchConfig,
               say) -> list[dict]:
    """The other losses at ``bits``, double sampling, on the labels' signs (+-1): each timed
    from the model that one untimed epoch of it leaves, so that the margin losses see the
    mix of rows of a run (rows past the margin, rows stepping, rows refetched). The bytes
    per epoch count the refetched rows' float32 values too."""
    n, d = X.shape
    signs = np.where(ys >= 0, 1.0, -1.0)
    rows = []
    for loss in cfg.losses:
        config = SgdConfig(bits, "double", "uniform", shift, 0, 1, 0, "hls", loss=loss)
        start = time.perf_counter()
        data = prepare(X, scaling, config)  # with the refetch positions where the loss refetches
        prep = fit_s + time.perf_counter() - start
        run = KernelRun(signs, config)
        trained = run(data, 1, shift, 0, np.zeros(d + 1)).history[0]
        results = []
        t = epoch_times(lambda: results.append(run(data, 1, shift, 0, trained)), cfg.repeats)
        refetched = 0 if results[-1].refetches is None else int(results[-1].refetches[0])
        note = ("polynomial kernel, degree " + str(config.poly_degree) if LOSSES[loss].kernel == "polynomial"
                else f"{refetched / n:.0%} of rows refetched" if data.full is not None else "")
        rows.append(_row("quantized", bits, "double", "uniform", n, d, data.lines.nbytes + 4 * d * refetched, t,
                         bandwidth, prep, note=note, loss=loss))
        say(f"    {F.precision_label(bits, 'double')} {loss}: {np.median(t):.4f} s/epoch")
    return rows


def throughput(name: str, n: int, d: int, cfg: BenchConfig, say) -> dict:
    """Every contender on one n x d float32 problem."""
    X, y = problem(n, d)
    # X's whole 8-byte words (any n x d; a tiny X: one word of zeros)
    words = X.reshape(-1).view(np.uint8)[:X.nbytes // 8 * 8].view(np.uint64) if X.nbytes >= 8 else np.zeros(1, np.uint64)
    bandwidth = float(words.nbytes / np.median(epoch_times(lambda: get_backend("hls").stream_read(words), cfg.repeats)))
    say(f"  {name} {n} x {d}: read bandwidth {bandwidth / 1e9:.1f} GB/s")
    # The first allocation of this size can include the OS compacting memory into huge
    # pages (2-3 s for 1 GiB here): paid once, untimed, so that it lands on no contender.
    np.empty_like(X).fill(0)
    start = time.perf_counter()
    scaling = FeatureScaling.fit(X)
    fit_s = time.perf_counter() - start  # every contender needs the min/max
    start = time.perf_counter()
    Xs = scaling.transform(X)  # the float baselines' scaled copy
    scale_s = fit_s + time.perf_counter() - start
    ys = LabelScaling.fit(y).transform(y)
    shift = 12
    rows = []
    zeros = np.zeros(d + 1)
    fp32 = KernelRun(ys, SgdConfig(32, "double", "uniform", shift, 0, 1, 0, "hls"))
    scaled = engine.Prepared(d, scaled=Xs)
    t = epoch_times(lambda: fp32(scaled, 1, shift, 0, zeros), cfg.repeats)
    rows.append(_row("fp32", 32, "fp32", "-", n, d, Xs.nbytes, t, bandwidth, scale_s))
    contenders = [(b, s, "uniform") for b in cfg.widths for s in ("double", "naive")]
    contenders += [(4, "double", "optimal"), (4, "double", "shared")]  # shared: levels_method='shared'
    info = get_backend("hls").info()
    two_workers = [(fp32, scaled, 32, "fp32", Xs.nbytes, scale_s)]  # n_jobs=2: engine.sharded_pass
    for bits, sampling, levels in contenders:
        config = SgdConfig(bits, sampling, "optimal" if levels == "shared" else levels, shift, 0, 1, 0, "hls")
        start = time.perf_counter()
        table = optimal_level_table(X, bits, scaling, "hls", "shared") if levels == "shared" else None
        data = prepare(X, scaling, config, table=table)  # quantizes X itself, without the scaled copy
        prep = fit_s + time.perf_counter() - start
        run = KernelRun(ys, config)
        t = epoch_times(lambda: run(data, 1, shift, 0, zeros), cfg.repeats)
        note = "" if data.level_values is None else (f"level tables, {info['fast_sgd']} kernel" if info["fast_sgd_tables"]
                                                     else "level tables, portable kernel")
        rows.append(_row("quantized", bits, sampling, levels, n, d, data.lines.nbytes, t, bandwidth, prep,
                         note=note))
        say(f"    {F.precision_label(bits, sampling)} {levels}: {np.median(t):.4f} s/epoch")
        if (sampling, levels) == ("double", "uniform") and bits in cfg.two_worker_bits:
            two_workers.append((run, data, bits, sampling, data.lines.nbytes, prep))
        del data
        if (sampling, levels) == ("double", "uniform") and bits in cfg.loss_bits:
            rows += _loss_rows(X, scaling, ys, bits, shift, fit_s, bandwidth, cfg, say)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zipml-bench") as pool:
        for run, data, bits, sampling, nbytes, prep in two_workers:
            t = epoch_times(lambda: sharded_pass(run, data, None, zeros, shift, 0, 2, SgdConfig.block_rows,
                                                 lambda fn, items: list(pool.map(fn, items))), cfg.repeats)
            rows.append(_row("fp32" if bits == 32 else "quantized", bits, sampling, "uniform" if bits < 32 else "-",
                             n, d, nbytes, t, bandwidth, prep, workers=2,
                             note="n_jobs=2: blocks of rows on two threads, models averaged"))
            say(f"    {F.precision_label(bits, sampling)}, 2 workers: {np.median(t):.4f} s/epoch")
    if cfg.sklearn:
        from sklearn.linear_model import SGDRegressor

        start = time.perf_counter()
        X64 = Xs.astype(np.float64)
        ys32 = ys.astype(np.float32)
        prep = scale_s + time.perf_counter() - start
        sgd = SGDRegressor(learning_rate="constant", eta0=2.0**-shift, penalty=None, shuffle=False, tol=None)
        t = epoch_times(lambda: sgd.partial_fit(X64, ys32), cfg.repeats)
        rows.append(_row("sklearn", 64, "SGDRegressor", "-", n, d, X64.nbytes, t, bandwidth, prep,
                         note="scikit-learn SGDRegressor.partial_fit, float64, constant step"))
        del X64
    sub = max(1, min(n, cfg.golden_rows))
    golden = SgdConfig(4, "double", "uniform", shift, 0, 1, 0, "reference")
    q = prepare(X[:sub], scaling, golden)
    run = KernelRun(ys[:sub], golden)
    t = epoch_times(lambda: run(q, 1, shift, 0, zeros), 1)
    t = [x * n / sub for x in t]
    rows.append(_row("golden", 4, "double", "uniform", n, d, q.lines.nbytes * n / sub, t, bandwidth, None,
                     extrapolated=True, note=f"NumPy golden model timed on {sub} rows, scaled to {n}"))
    base = rows[0]["epoch_s_median"]
    for r in rows:
        r["speedup_vs_fp32"] = base / r["epoch_s_median"]
    return {"name": name, "n_samples": n, "n_features": d, "float32_bytes": int(X.nbytes),
            "read_bandwidth_gbps": bandwidth / 1e9, "rows": rows}


#: The max_iter of the fits of the time to accuracy: every budget in turn up to the first
#: that reaches the target. 100 is the estimators' default.
FIT_BUDGETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100)
TTA_PRECISIONS = ((32, "fp32"), (8, "double"), (4, "double"), (2, "double"), (4, "naive"))


def _training_loss(model, X, y) -> float:
    return float(0.5 * np.mean((model.predict(X) - y) ** 2))


def _fit_ladder(make, X, y, target: float) -> list[dict]:
    """``make(max_iter).fit(X, y)`` for each budget of FIT_BUDGETS in turn, timed (the
    whole call: validation, scaling, quantization, epochs), with the training loss of the
    fitted model, up to the first fit that reaches ``target`` or stops before its budget
    (its tolerance stopped it: a larger budget fits the same model)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    fits = []
    for budget in FIT_BUDGETS:
        model = make(budget)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # small budgets stop before converging
            start = time.perf_counter()
            model.fit(X, y)
            wall = time.perf_counter() - start
        epochs = int(np.max((model[-1] if hasattr(model, "steps") else model).n_iter_))  # a pipeline: its SGD's
        fits.append({"max_iter": budget, "epochs": epochs, "wall_s": wall, "loss": _training_loss(model, X, y)})
        if fits[-1]["loss"] <= target or epochs < budget:
            break
    return fits


def time_to_accuracy(cfg: BenchConfig, say) -> dict:
    """Wall time of fit() (defaults but max_iter, as a user calls it) for each precision
    to reach fp32's final training loss within 1%; and of StandardScaler + SGDRegressor."""
    from .linear_model import ZipMLRegressor

    X, y = problem(cfg.tta_rows, cfg.tta_features, seed=1)
    fp32 = ZipMLRegressor(bits=32, random_state=0).fit(X, y)  # its own stopping rule (tol)
    target = 1.01 * _training_loss(fp32, X, y)

    def zipml(bits, sampling):
        return lambda budget: ZipMLRegressor(bits=bits, sampling="double" if bits == 32 else sampling,
                                             max_iter=budget, random_state=0)

    # Rounds over all precisions, interleaved, so that a slow spell of a shared machine
    # does not fall on one precision; the fits are the same every round (fixed seeds),
    # the wall time of each is the median over rounds.
    rounds = [[_fit_ladder(zipml(*p), X, y, target) for p in TTA_PRECISIONS] for _ in range(max(1, cfg.tta_rounds))]
    curves = []
    for k, (bits, sampling) in enumerate(TTA_PRECISIONS):
        fits = rounds[0][k]
        for i, fit in enumerate(fits):
            fit["wall_s"] = float(np.median([r[k][i]["wall_s"] for r in rounds]))
        curves.append({"bits": bits, "sampling": sampling, "fits": fits})
    if cfg.sklearn:
        from sklearn.linear_model import SGDRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        curves.append({"bits": 64, "sampling": "sklearn", "fits": _fit_ladder(
            lambda budget: make_pipeline(StandardScaler(), SGDRegressor(max_iter=budget, random_state=0)), X, y,
            target)})  # one round: its epochs take many times the others'
    base = None
    for c in curves:
        c["wall_s"], c["loss"] = [f["wall_s"] for f in c["fits"]], [f["loss"] for f in c["fits"]]
        hit = next((f for f in c["fits"] if f["loss"] <= target), None)
        c["seconds_to_target"] = None if hit is None else hit["wall_s"]
        c["epochs_to_target"] = None if hit is None else hit["epochs"]
        base = c["seconds_to_target"] if base is None else base  # fp32's, the first curve
        c["time_vs_fp32"] = None if hit is None or not base else hit["wall_s"] / base
        say(f"  {tta_label(c)}: " + ("not reached" if hit is None else
                                     f"{hit['wall_s']:.3f} s ({hit['epochs']} epochs) to fp32 loss + 1%"))
    return {"n_samples": cfg.tta_rows, "n_features": cfg.tta_features, "target_loss": target,
            "loss_units": "0.5 MSE, original units", "rounds": max(1, cfg.tta_rounds), "curves": curves}


def tta_label(c: dict) -> str:
    return "StandardScaler + SGDRegressor" if c["sampling"] == "sklearn" else F.precision_label(c["bits"], c["sampling"])


def run(cfg: BenchConfig, out: Path, hls_report=None, quiet: bool = False) -> dict:
    from . import plots

    def say(text):
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    for n, d in ((cfg.rows, cfg.features), (cfg.small_rows, cfg.small_features), (cfg.tta_rows, cfg.tta_features)):
        check_allocation(4.0 * n * d, f"the benchmark's {n} x {d} float32 data")  # before any work
    out.mkdir(parents=True, exist_ok=True)
    say("[1/3] memory-bound configuration")
    results = {"schema_version": SCHEMA_VERSION, "version": __version__, "cpu": cpu_description(),
               "sgd_fast_path": get_backend("hls").info()["fast_sgd"], "threads": 1, "config": asdict(cfg)}
    results["memory_bound"] = throughput("memory-bound", cfg.rows, cfg.features, cfg, say)
    say("[2/3] cache-resident configuration")
    results["cache_resident"] = throughput("cache-resident", cfg.small_rows, cfg.small_features, cfg, say)
    say("[3/3] time to accuracy")
    results["time_to_accuracy"] = time_to_accuracy(cfg, say)
    assumptions = fpga.assumptions_from_report(hls_report) if hls_report else fpga.FpgaAssumptions()
    precisions = [(b, s) for b in TOP_BITS for s in TOP_SAMPLINGS]  # the synthesis tops
    results["fpga_projection"] = fpga.project(cfg.rows, cfg.features, precisions, assumptions)
    plots.speedup_vs_bits(results["memory_bound"], results["fpga_projection"], out / "speedup_vs_bits.png")
    plots.time_to_loss(results["time_to_accuracy"], out / "time_to_loss.png")
    atomic_write_bytes(out / "bench.json", json.dumps(results, indent=2).encode())
    atomic_write_bytes(out / "bench.md", render(results).encode())
    say(f"wrote {out / 'bench.md'}, bench.json, speedup_vs_bits.png, time_to_loss.png")
    return results


def fpga_assumptions_text(p: dict) -> str:
    """What the FPGA cycle model assumes, for the reports."""
    a = p["assumptions"]
    return (f"Cycles from the engine's cycle model ({p['model']}; the RTL engine's measured cycles equal it), "
            f"line loop II={a['ii']:g}, clock {a['clock_mhz']:g} MHz for every precision, memory "
            f"{a['bandwidth_gbps']:g} GB/s with its latency hidden by prefetching rows ({a['source']}). "
            "Speedups are over the engine's 32-bit fixed-point baseline (sixteen values per line).")


def kernel_label(r) -> str:
    workers = f", {r['workers']} workers" if r.get("workers", 1) > 1 else ""
    if r["kernel"] in ("fp32", "sklearn", "golden"):
        return {"fp32": "fp32 C++ kernel", "sklearn": "scikit-learn SGDRegressor",
                "golden": "NumPy golden model, 4-bit double (extrapolated)"}[r["kernel"]] + workers
    loss = "" if r.get("loss", "squared_error") == "squared_error" else f", {r['loss']}"
    levels = {"optimal": " optimal", "shared": " optimal, shared table"}.get(r["levels"], "")
    return (F.precision_label(r["bits"], r["sampling"]) + levels + loss
            + workers)


def render(r: dict) -> str:
    lines = [f"# zipml-hls benchmark ({r['version']})", "",
             f"CPU: {r['cpu']} (SGD fast path: {r.get('sgd_fast_path', 'none')}); one thread (but the rows "
             f"marked 2 workers); median of "
             f"{r['config']['repeats']} epochs (min-max in bench.json).", ""]
    for key in ("memory_bound", "cache_resident"):
        t = r[key]
        lines += [f"## {t['name']}: {t['n_samples']} x {t['n_features']} "
                  f"({t['float32_bytes'] / 2**20:.0f} MiB float32), read bandwidth {t['read_bandwidth_gbps']:.1f} GB/s",
                  "", "| kernel | bits/value | MiB/epoch | epoch s | GB/s | roofline | speedup vs fp32 | prepare s |",
                  "|---|---|---|---|---|---|---|---|"]
        for x in t["rows"]:
            prep = "-" if x["prepare_s"] is None else f"{x['prepare_s']:.3f}"
            lines.append(f"| {kernel_label(x)} | {x['bits_per_value']} | {x['bytes_per_epoch'] / 2**20:.1f} | "
                         f"{x['epoch_s_median']:.4f} | {x['gbytes_per_s']:.2f} | {x['roofline_fraction']:.0%} | "
                         f"{x['speedup_vs_fp32']:.2f}x | {prep} |")
        lines.append("")
    tta = r["time_to_accuracy"]
    lines += [f"## Time to accuracy: {tta['n_samples']} x {tta['n_features']}", "",
              "Wall time of the first fit() (defaults but max_iter, which takes 1, 2, 3, 4, 6, 8, 12, ... in turn; "
              "the whole call, quantization included) whose model's training loss is within 1% of the loss of "
              f"fp32's default fit ({tta['target_loss']:.5g}, {tta['loss_units']}); median of "
              f"{tta['rounds']} interleaved rounds (scikit-learn: one).", "",
              "| precision | max_iter | epochs | seconds to target | vs fp32 |", "|---|---|---|---|---|"]
    for c in tta["curves"]:
        last = c["fits"][-1]
        if c["seconds_to_target"] is None:
            lines.append(f"| {tta_label(c)} | {last['max_iter']} | {last['epochs']} | not reached "
                         f"(loss {last['loss']:.5g}) | - |")
        else:
            ratio = "-" if c["time_vs_fp32"] is None else f"{c['time_vs_fp32']:.2f}x"
            lines.append(f"| {tta_label(c)} | {last['max_iter']} | {c['epochs_to_target']} | "
                         f"{c['seconds_to_target']:.3f} | {ratio} |")
    p = r["fpga_projection"]
    lines += ["", "## FPGA cycle model", "", fpga_assumptions_text(p), "",
              "| precision | stored bits | values/line | cycles/row | epoch cycles | epoch s | speedup vs 32-bit |",
              "|---|---|---|---|---|---|---|"]
    b = p["baseline"]
    lines.append(f"| 32-bit fixed point | 32 | {b['values_per_line']} | {b['lines_per_row'] + b['row_latency']} | "
                 f"{b['epoch_cycles']:.0f} | {b['epoch_s']:.4f} | 1.00x |")
    for x in p["rows"]:
        lines.append(f"| {F.precision_label(x['bits'], x['sampling'])} | {x['stored_bits']} | {x['values_per_line']} | "
                     f"{x['cycles_per_row']:g} | {x['epoch_cycles']:.0f} | {x['epoch_s']:.4f} | "
                     f"{x['speedup_vs_32bit']:.2f}x |")
    lines += ["", f"The paper reports up to {p['paper_best_speedup']}x on its FPGA.", "",
              "![speedup](speedup_vs_bits.png)", "", "![time to loss](time_to_loss.png)", ""]
    return "\n".join(lines)
