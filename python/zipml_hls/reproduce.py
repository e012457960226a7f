"""``zipml-hls reproduce``: the paper's core results on data that is generated or ships
with scikit-learn, written as report.md, PNG plots and results.json."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import pickle
import platform
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__, bench, experiments, fpga, plots
from ._validation import show_warning_line
from .data import atomic_write_bytes
from .engine import usable_cores
from .quantize import REQUANTIZE_MAX_VALUES
from .spec.format import precision_label


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def _fewest(levels: dict) -> str:
    """'bits (stored bits)' of the fewest bits that reached the target, or 'not reached'."""
    if levels["fewest_bits"] is None:
        return "not reached"
    return f"{levels['fewest_bits']} ({levels['stored_bits']})"


def _spread(values, unit: str = "") -> str:
    """'1.23x' for one value, '1.20-1.25x' for several (min-max)."""
    lo, hi = min(values), max(values)
    return f"{lo:.2f}{unit}" if len(values) == 1 or f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}-{hi:.2f}{unit}"


def _fmt_precision(row) -> str:
    return precision_label(row["bits"], row["sampling"])


DEFAULT = {"synthetic": (20_000, 200), "epochs": 20, "throughput": (32_768, 2048), "skewed": (20_000, 50),
           "levels_epochs": 20, "limits": (2000, 30), "limits_seeds": 3,
           "deep_learning": {"networks": ("mlp",), "seeds": 5, "epochs": 12}}
FULL = {"synthetic": (100_000, 500), "epochs": 40, "throughput": (131_072, 2048),  # 1 GiB of float32
        "skewed": (100_000, 100), "levels_epochs": 40, "limits": (2000, 30), "limits_seeds": 10,
        "deep_learning": {"networks": ("mlp", "cnn"), "seeds": 10, "epochs": 15}}  # docs/REPORT.md's table
#: What the report says when torch is missing (section 8 needs it).
TORCH_HINT = ('pip install "zipml-hls[torch]" (on a machine without a GPU install the CPU build of PyTorch '
              "first, e.g. pip install torch --index-url https://download.pytorch.org/whl/cpu, or a pinned "
              "CPU build such as torch==2.13.0 where one is provided: a plain torch requirement may pull a "
              "CUDA build of several GB)")


def user_datasets(name: str, X, y, task: str) -> tuple[dict, dict | None]:
    """A user's data for the report: (sets for the least-squares sections, a 75/25 split
    for the classification section or None). Classes become +1/-1 least-squares targets:
    two classes as they are, more as the most frequent class against the rest."""
    if task == "regression":
        return {name: (X, y)}, None
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    positive = classes[-1] if classes.size == 2 else classes[np.argmax(counts)]
    shown = positive if isinstance(positive, str) else f"{positive:g}"  # (class names from a CSV file are text)
    label = name if classes.size == 2 else f"{name}, class {shown} against the rest"
    stratify = y if counts.min() >= 2 else None
    split = train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify)
    return {label: (X, np.where(y == positive, 1.0, -1.0))}, {name: split}


def reproduce(out: Path, full: bool = False, quiet: bool = False, sizes: dict | None = None,
              data: tuple | None = None, workers: int | None = None) -> dict:
    """Run every experiment and write the report into ``out``; returns the results.

    ``sizes`` overrides the problem sizes (keys as ``DEFAULT``), for quick checks.
    ``data``: (name, X, y, task) of a user's data set ('regression' or 'classification'):
    the convergence, bias, levels and end-to-end sections (and for classes the
    classification section) run on it instead of the generated and bundled sets; the
    throughput and deep-learning sections keep theirs.
    ``workers``: processes that run the untimed sections' independent runs (default: one
    per core this process may use); 0 runs them here, one after another. Every run is
    seeded, so the results are the same either way.
    """
    sizes = {**(FULL if full else DEFAULT), **(sizes or {})}
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    epochs = sizes["epochs"]
    results = {"version": __version__, "full": full, "python": sys.version.split()[0],
               "machine": platform.processor() or platform.machine(), "epochs": epochs,
               "data": None if data is None else {"name": data[0], "shape": list(data[1].shape), "task": data[3]}}
    torch = importlib.util.find_spec("torch") is not None
    results["workers"] = workers = usable_cores() if workers is None else workers  # one process per core
    # The workers start (import numpy, scikit-learn, torch) while the data is made, and wait
    # while the timed sections run: those run alone.
    with _Workers(workers, torch) as pool:
        if data is None:
            datasets, classification = experiments.regression_datasets(*sizes["synthetic"]), None
        else:
            datasets, classification = user_datasets(*data)
        plan = _untimed_plan(datasets, classification, data is None, sizes, torch)
        pool.wait_ready()
        total = len(datasets) + 6
        step = iter(range(1, total + 1))
        conv = {}
        for name, (X, y) in datasets.items():
            _say(quiet, f"[{next(step)}/{total}] convergence on {name}: fp32, and 1 to 8 bits double and naive")
            conv[name] = experiments.convergence(X, y, epochs=epochs,
                                                 progress=None if quiet else lambda p: _say(False, f"      {p} done"))
        results["convergence"] = conv

        dl = sizes["deep_learning"]
        if not torch:
            _say(quiet, f"[{next(step)}/{total}] deep learning skipped: torch is not installed ({TORCH_HINT})")
        else:
            _say(quiet, f"[{next(step)}/{total}] deep learning: networks with quantized weights, {dl['seeds']} "
                        "seeds")
        for section in plan:
            if section != "deep_learning":
                _say(quiet, f"[{next(step)}/{total}] {SECTION_TITLES[section]}")
        _say(quiet, f"      these {len(plan)} sections " + (f"on {workers} worker process{'es' * (workers > 1)}"
                                                              if workers else "in this process"))
        pool_start = time.perf_counter()
        results.update(_run_plan(pool, plan, lambda text: _say(quiet, f"      {text} done "
                                                                      f"({time.perf_counter() - pool_start:.0f} s)")))
    results["untimed_seconds"] = time.perf_counter() - pool_start

    n, d = sizes["throughput"]
    _say(quiet, f"[{next(step)}/{total}] throughput on {n} x {d} float32 and FPGA projection")
    results["throughput"] = bench.throughput("throughput", n, d, bench.BenchConfig(repeats=5, sklearn=False, losses=(),
                                                                                   two_worker_bits=(4,)),
                                             lambda text: None)
    precisions = [(b, s) for b in (8, 4, 2, 1) for s in ("double", "naive")]
    results["fpga_projection"] = fpga.project(n, d, precisions)
    results["data_movement"] = experiments.data_movement(n, d)

    plots.convergence(conv, out / "convergence.png")
    plots.final_loss_vs_bits(conv, out / "final_loss_vs_bits.png")
    plots.speedup_vs_bits(results["throughput"], results["fpga_projection"], out / "speedup.png")
    plots.levels_loss_vs_bits(results["levels"], out / "levels_vs_bits.png")
    plots.levels_bits_worth(results["levels_variance"], out / "levels_variance.png")
    plots.precision_limits(results["precision_limits"], out / "precision_limits.png")
    plots.nonlinear_accuracy(results["nonlinear"], out / "nonlinear.png")
    if results["deep_learning"] is not None:
        plots.deep_learning_accuracy(results["deep_learning"]["results"], out / "deep_learning.png")
    results["seconds"] = time.perf_counter() - start
    atomic_write_bytes(out / "results.json", json.dumps(results, indent=2).encode())
    atomic_write_bytes(out / "report.md", render(results).encode())
    _say(quiet, f"done in {results['seconds']:.0f} s: {out / 'report.md'}")
    return results


SECTION_TITLES = {"naive_bias": "bias of naive sampling against theory",
                  "levels": "variance-optimal vs uniform levels on skewed data",
                  "precision_limits": "precision limits: data only and end to end (grid and qsgd) at 1-8 bits",
                  "nonlinear": "logistic and hinge losses at 2-8 bits against nearest rounding",
                  "deep_learning": "deep learning"}


def _untimed_plan(datasets: dict, classification, generated: bool, sizes: dict, torch: bool) -> dict:
    """The untimed sections (3-6, and 8 where torch is installed; on the user's data when
    not ``generated``) as section -> (runs, combine): runs are (function, args) calls that
    depend on their arguments alone (every one is seeded, so they may run in any process
    and order); ``combine(results)`` makes the section's result from theirs, in the same
    order."""
    epochs = sizes["epochs"]
    plan = {}
    name = next(iter(datasets))
    plan["naive_bias"] = ([(experiments.naive_bias, (*datasets[name], b, 2 * epochs)) for b in (1, 2)],
                          lambda r: dict(zip((1, 2), r)))

    skewed = experiments.skewed_datasets(*sizes["skewed"]) if generated else datasets
    levels_epochs, strictest = sizes["levels_epochs"], min(experiments.LEVELS_TOLERANCES)
    # naive before double, optimal before uniform: the longest searches first
    searches = [(n, s, k) for n in skewed for s in ("naive", "double") for k in reversed(experiments.LEVEL_KINDS)]
    runs = [(experiments.levels_search, (*skewed[n], s, k, levels_epochs, 0, strictest)) for n, s, k in searches]
    if generated:  # the rounding variance at equal bits: 5 draws of the lognormal set, and breast cancer
        lognormal, cancer = skewed
        variances = [(lognormal, (_lognormal_variance, (*sizes["skewed"], seed))) for seed in range(5)]
        variances.append((cancer, (experiments.levels_variance, (skewed[cancer][0],))))
    else:
        variances = [(n, (experiments.levels_variance, (X,))) for n, (X, _) in skewed.items()]

    def levels(r):
        found = dict(zip(searches, r))
        claims = {n: experiments.levels_summary({(s, k): found[(n, s, k)] for s in ("double", "naive")
                                                 for k in experiments.LEVEL_KINDS}, levels_epochs)
                  for n in skewed}
        by_set = {}
        for (n, _), rows in zip(variances, r[len(searches):]):
            by_set.setdefault(n, []).append(rows)
        return {"levels": claims, "levels_variance": by_set}

    plan["levels"] = (runs + [run for _, run in variances], levels)

    limits = experiments.limits_datasets(*sizes["limits"]) if generated else datasets
    seeds = list(range(sizes["limits_seeds"]))
    runs = [(experiments.limits_seed, (X, y, seed, epochs)) for X, y in limits.values() for seed in seeds]
    runs += [(experiments.least_squares_summary, (X, y)) for X, y in limits.values()]

    def precision_limits(r):
        per_set = [r[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(limits))]
        summaries = r[len(limits) * len(seeds):]
        return {n: experiments.limits_summary(p, seeds, epochs, s)
                for n, p, s in zip(limits, per_set, summaries)}

    plan["precision_limits"] = (runs, precision_limits)
    splits = classification or experiments.classification_datasets()
    pairs = [(n, loss) for n in splits for loss in experiments.NONLINEAR_MODES]
    plan["nonlinear"] = ([(experiments.nonlinear_loss, (splits[n], loss, (2, 4, 6, 8), epochs)) for n, loss in pairs],
                         lambda r: _nest(pairs, r))
    if torch:
        from .deep_learning import CELLS, TASKS

        dl = sizes["deep_learning"]
        cells = [(task, net, cell) for task in TASKS for net in dl["networks"] for cell in CELLS]
        plan["deep_learning"] = (
            [(_deep_learning_cell, (task, net, cell, dl["seeds"], dl["epochs"])) for task, net, cell in cells],
            lambda r: _deep_learning_summary(cells, r, dl))
    return plan


def _nest(keys: list, values: list) -> dict:
    """{a: {b: value}} from (a, b) keys and their values."""
    out = {}
    for (a, b), value in zip(keys, values):
        out.setdefault(a, {})[b] = value
    return out


def _lognormal_variance(n: int, d: int, seed: int) -> list:
    """``levels_variance`` of one draw of the lognormal set (made where it runs)."""
    return experiments.levels_variance(experiments.lognormal_regression(n, d, seed)[0])


def _deep_learning_cell(task: str, network: str, cell: tuple, seeds: int, epochs: int) -> tuple:
    """One cell of section 8's table and the CPU seconds it took (one thread: the seconds of
    one core, whatever else the machine runs)."""
    from . import deep_learning

    start = time.process_time()
    rows = deep_learning.table_rows(task, network, range(seeds), epochs, cells=[cell])
    return rows[0], time.process_time() - start


def _deep_learning_summary(cells: list, results: list, settings: dict) -> dict:
    """Section 8's result from its cells (``_deep_learning_cell``), in the table's order."""
    from . import deep_learning

    rows = {}
    for (task, network, _), (row, _) in zip(cells, results):
        rows.setdefault((task, network), []).append(row)
    return deep_learning.summary(rows, range(settings["seeds"]), settings["epochs"], sum(s for _, s in results))


#: The order in which the untimed runs go out, by function: the longest first (as measured
#: here), the many short ones at the end, so that the workers finish together.
RUN_ORDER = (experiments.levels_search, experiments.naive_bias, experiments.limits_seed, experiments.nonlinear_loss,
             _deep_learning_cell, _lognormal_variance, experiments.levels_variance, experiments.least_squares_summary)


def _run_plan(pool, plan: dict, done) -> dict:
    """Every section of ``plan`` (``_untimed_plan``) run by ``pool``; its results (a section
    may give several keys), calling ``done(title)`` as each section is complete. The runs go
    out in ``RUN_ORDER``, so that the workers end together."""
    runs, owner = [], []
    for section, (section_runs, _) in plan.items():
        runs += section_runs
        owner += [section] * len(section_runs)
    left = {section: len(section_runs) for section, (section_runs, _) in plan.items()}
    results = [None] * len(runs)

    def finished(i, result):
        results[i] = result
        left[owner[i]] -= 1
        if not left[owner[i]]:
            done(SECTION_TITLES[owner[i]].split(":")[0])

    order = sorted(range(len(runs)), key=lambda i: RUN_ORDER.index(runs[i][0]))
    pool.run([runs[i] for i in order], lambda k, result: finished(order[k], result))
    out = {"deep_learning": None}
    for section, (section_runs, combine) in plan.items():
        first = owner.index(section)
        value = combine(results[first:first + len(section_runs)])
        out.update(value if section == "levels" else {section: value})
    return out


class _Workers:
    """Worker processes for independent runs: fresh Python interpreters (nothing of this
    one, its threads or its main script is copied or run again), each with one BLAS thread
    (two processes on two cores; more threads only wait for each other). A run goes out
    pickled on a worker's stdin and its result comes back pickled on its stdout; its errors
    go to stderr. The workers ignore Ctrl-C and are stopped when the block is left. With 0
    workers the runs are made in this process, one after another."""

    def __init__(self, count: int, torch: bool):
        env = {**os.environ, **{k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
        code = f"from zipml_hls.reproduce import _worker; _worker({torch!r})"
        self.procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       env=env) for _ in range(count)]
        self.ready = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if exc[0] is not None and proc.poll() is None:
                proc.kill()
            with contextlib.suppress(OSError):  # a worker that failed has closed its end
                proc.stdin.close()  # its end of input: it exits
            proc.wait()
            proc.stdout.close()

    def wait_ready(self) -> None:
        """Wait until every worker has imported what the runs need (once)."""
        for proc in [] if self.ready else self.procs:
            self._receive(proc)
        self.ready = True

    def run(self, runs: list, done) -> None:
        """Make the (function, args) ``runs``, calling ``done(index, result)`` for each (from
        another thread when there are workers); a RuntimeError if a worker fails."""
        if not self.procs:
            for i, (function, args) in enumerate(runs):
                done(i, function(*args))
            return
        self.wait_ready()
        todo = iter(range(len(runs)))
        lock, failed = threading.Lock(), []

        def feed(proc):
            while not failed:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                try:
                    pickle.dump(runs[i], proc.stdin)
                    proc.stdin.flush()
                    result = self._receive(proc)
                except (OSError, RuntimeError):
                    failed.append(proc)
                    return
                with lock:
                    done(i, result)

        threads = [threading.Thread(target=feed, args=(proc,), daemon=True) for proc in self.procs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            raise RuntimeError(f"a worker process of the report failed (exit status {failed[0].wait()}; "
                               "its error is above)")

    @staticmethod
    def _receive(proc):
        try:
            return pickle.load(proc.stdout)
        except EOFError:
            raise RuntimeError(f"a worker process of the report failed (exit status {proc.wait()}; "
                               "its error is above)") from None


def _worker(torch: bool) -> None:
    """The loop of a ``_Workers`` process: imports, says it is ready, then makes runs until
    its input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    out, sys.stdout = sys.stdout.buffer, sys.stderr  # stdout carries only the results
    warnings.showwarning = show_warning_line  # as the command line shows them
    if torch:
        from . import deep_learning  # noqa: F401  (imports torch before the first run)
    pickle.dump(None, out)
    out.flush()
    while True:
        try:
            function, args = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        pickle.dump(function(*args), out)
        out.flush()


def _nonlinear_summary(results: dict, tol: float = 0.01) -> str:
    """What the measurements say, in words: does 8 bits reach fp32 accuracy, and is
    nearest rounding as good as the unbiased estimators (from 4 bits on)?"""
    eight, nearest = [], []
    for by_loss in results.values():
        for rows in by_loss.values():
            fp32 = next(x["accuracy"] for x in rows if x["mode"] == "fp32")
            best8 = max(x["accuracy"] for x in rows if x["bits"] == 8)
            eight.append(best8 >= fp32 - tol)
            for bits in (4, 6, 8):
                near = [x["accuracy"] for x in rows if x["bits"] == bits and x["mode"] == "nearest rounding"]
                other = [x["accuracy"] for x in rows if x["bits"] == bits and x["mode"] not in ("fp32",
                                                                                               "nearest rounding")]
                nearest.append(near[0] >= max(other) - tol)
    first = ("8 bits reach fp32's test accuracy (within 1 point) for every loss and data set"
             if all(eight) else f"8 bits reach fp32's test accuracy in {sum(eight)} of {len(eight)} cases")
    second = ("nearest rounding is within 1 point of the unbiased estimators at 4, 6 and 8 bits everywhere, "
              "the paper's negative result" if all(nearest) else
              f"nearest rounding is within 1 point of the unbiased estimators in {sum(nearest)} of {len(nearest)} "
              "cases at 4-8 bits")
    return f"Measured: {first}; {second}."


def _verdicts(comparisons: dict, names: tuple) -> str:
    """'higher at 3, 4 bits; tie at 2; ...' from _compare verdicts keyed by bits."""
    by = {}
    for bits, c in comparisons.items():
        by.setdefault(c["verdict"], []).append(str(bits))
    return "; ".join(f"{names[0] if v == 'higher' else names[1] if v == 'lower' else v} at {', '.join(b)} "
                     f"bit{'s' if b != ['1'] else ''}" for v, b in by.items())


def deep_learning_section(dl: dict | None) -> list:
    """Report section 8 (markdown lines): the accuracy table, the plot and the paper's
    ranking checked from the numbers; how to get torch when it was not installed."""
    lines = ["## 8. A little bit of deep learning: networks with quantized weights", ""]
    if dl is None:
        return lines + [f"Not run: PyTorch is not installed. To include this section: {TORCH_HINT}.", ""]
    lines += ["Every Linear and Conv weight is quantized in every forward pass (`zipml_hls.torch`: the gradient "
              "goes straight through to full-precision shadow weights; biases stay fp32), per output channel: "
              f"*optimal* = stochastic rounding to variance-optimal levels (recomputed every {dl['refresh']} steps), "
              "*uniform* = "
              "stochastic rounding to uniform levels between the channel's min and max (both unbiased), *nearest* "
              "= deterministic rounding to those uniform levels, *XNOR* = sign(w) x mean |w| (1 bit). At 1 bit "
              "optimal and uniform levels are the same two levels (min and max), so those rows agree. Test "
              f"accuracy (25% held out) of the network with its quantized weights (one draw for the stochastic "
              f"schemes): mean +- sample standard deviation over {len(dl['seeds'])} seeds, {dl['epochs']} epochs of "
              f"Adam (batch {dl['batch_size']}), one thread, torch {dl['torch']}; {dl['seconds']:.0f} s of one core in all. "
              "Tasks: scikit-learn's 8x8 digits, and *shifted digits* (each digit at a random offset on a "
              f"{dl['canvas']}x{dl['canvas']} canvas with Gaussian noise, sd {dl['noise']}; generated).", "",
              "| task | network | scheme | 1 bit | 2 bits | 3 bits | 4 bits | 32 bits |",
              "|---|---|---|---|---|---|---|---|"]
    for task, by_net in dl["results"].items():
        for net, res in by_net.items():
            cell = {(x["scheme"], x["bits"]): x for x in res["rows"]}
            for scheme in dict.fromkeys(x["scheme"] for x in res["rows"]):
                cells = " | ".join(f"{cell[(scheme, b)]['mean']:.3f} +- {cell[(scheme, b)]['std']:.3f}"
                                   if (scheme, b) in cell else "-" for b in (1, 2, 3, 4, 32))
                lines.append(f"| {task} | {net} | {scheme} | {cells} |")
    lines += ["", "![deep learning](deep_learning.png)", "",
              "The paper's ranking (fp32 >= optimal > uniform; optimal > XNOR at the same or fewer bits), checked "
              "from these numbers: differences of accuracy are paired by seed (a seed gives every scheme the same "
              "initial weights and batch order) and count when their mean exceeds two standard errors, else it is "
              "a tie.", ""]
    uniform_above = 0
    held = {"fp32 >= optimal": [0, 0], "optimal > uniform (2-4 bits)": [0, 0], "optimal > XNOR at 1 bit": [0, 0]}
    for task, by_net in dl["results"].items():
        for net, res in by_net.items():
            rk = res["ranking"]
            first = rk["optimal_above_xnor_from_bits"]
            parts = [f"fp32 against optimal: {_verdicts(rk['fp32_vs_optimal'], ('fp32 higher', 'optimal higher'))}",
                     f"optimal against uniform: "
                     f"{_verdicts(rk['optimal_vs_uniform'], ('optimal higher', 'uniform higher'))}",
                     f"optimal against XNOR: {_verdicts(rk['optimal_vs_xnor'], ('optimal higher', 'XNOR higher'))}"
                     + ("; optimal never above XNOR" if first is None else f"; optimal above XNOR from {first} bits"),
                     f"nearest rounding against optimal: "
                     f"{_verdicts(rk['nearest_vs_optimal'], ('nearest higher', 'optimal higher'))}"]
            if 2 in rk["fp32_vs_optimal"]:
                parts.append(f"optimal at 2 bits is {100 * rk['fp32_vs_optimal'][2]['diff']:.1f} points below fp32")
            lines.append(f"* **{task}, {net}**: " + "; ".join(parts) + ".")
            checks = {"fp32 >= optimal": [c["verdict"] != "lower" for c in rk["fp32_vs_optimal"].values()],
                      "optimal > uniform (2-4 bits)": [c["verdict"] == "higher" for b, c in
                                                       rk["optimal_vs_uniform"].items() if b > 1],
                      "optimal > XNOR at 1 bit": [rk["optimal_vs_xnor"][1]["verdict"] == "higher"]}
            for name, ok in checks.items():
                held[name][0] += sum(ok)
                held[name][1] += len(ok)
            uniform_above += sum(c["verdict"] == "lower" for c in rk["optimal_vs_uniform"].values())
    verdict = ("holds in every comparison" if all(a == b for a, b in held.values()) else "does not hold in full")
    lines += ["", f"**Measured: the paper's ranking {verdict} here** (comparisons where it holds, of all: "
              + ", ".join(f"{name} {a} of {b}" for name, (a, b) in held.items())
              + f"; uniform above optimal in {uniform_above})."]
    return lines + [""]


def _ratio(value: float) -> str:
    """A loss ratio to fp32: 4 decimals near 1 (the section's threshold is 1%), 3 digits far above."""
    return f"{value:.4f}" if value < 10 else f"{value:.3g}"


def _ratio_cell(ratios: list) -> str:
    """'1.0254 (1.0180-1.0299)': the mean over seeds and the (min-max) range."""
    mean = _ratio(float(np.mean(ratios)))
    return mean if len(ratios) == 1 else f"{mean} ({_ratio(min(ratios))}-{_ratio(max(ratios))})"


def precision_limits_section(limits: dict, generated: bool = True) -> list:
    """Report section 5 (markdown lines): per data set the fewest bits within the tolerance
    of fp32, data only and end to end (grid, qsgd), the ratio of every width, and whether any set shows
    the paper's limits (computed from the numbers). ``generated``: the default sets (False:
    a user's data, which the report names at its top)."""
    first = next(iter(limits.values()))
    tol, seeds = first["tolerance"], first["seeds"]
    lines = ["## 5. Precision limits: data only and end to end", "",
             f"Where low precision stops reaching fp32's training loss. For each data set and each of {len(seeds)} "
             "seeds (the seed sets the quantization draws and the row orders): the fp32 kernel; double-sampled data "
             "at every width with the model and gradient at full precision (*data only*); and data, model (in every "
             "dot product) and gradient (every update) all stochastically rounded to b bits (*end to end*: "
             "unbiased, power-of-two grids that need at least 2 bits), and the same with the model and gradient "
             "rounded by the paper's norm-scaled stochastic quantization (*qsgd*: `model_quantization='qsgd'`, "
             "||v|| sign(v_j) xi_j / (2^(b-1) - 1) per entry of the model or of one sample's update, xi_j an "
             "unbiased level). Every run uses its automatic step and the "
             f"fixed schedule, {first['epochs']} epochs. Each cell: the final model's training loss over the same "
             "seed's fp32 loss, the mean and (min-max) over the seeds. *Fewest bits*: the fewest at which every seed "
             f"is within {tol:.0%} of fp32, and so is every larger width ('not reached': 8 bits miss). The paper's "
             "first version: on hard data, robust convergence needs 8 bits end to end, or 6 bits when only the "
             "samples are quantized.", ""]
    if generated:
        lines += ["Data: scikit-learn's diabetes (noisy labels); *ill-conditioned*, generated Gaussian features whose "
                 "covariance has condition number 10^4 (`zipml_hls.datasets.make_ill_conditioned_regression`: every "
                 "feature mixes strong and weak directions, which no per-feature step removes); *tabular*, generated "
                 "heavy-tailed, wide-range and one-hot columns (`make_tabular_regression`: after min/max scaling most "
                 "values of a heavy-tailed column lie in a small part of its range, where rounding noise is large "
                 "against the column's spread). Both generated sets have label noise of 5% of the signal's standard "
                 "deviation (R^2 = 0.9975): the loss floor is low, so the excess loss of rounding noise shows in the "
                 "ratio; over noisy labels (diabetes) the same excess is a small share of the floor.", ""]
    lines += ["The condition number is that of the min/max-scaled, centred features' covariance over its non-zero "
              "spectrum; 'fp32 / least squares' says how far fp32 itself gets in "
              f"{first['epochs']} epochs (the ratios compare every precision with fp32 under the same budget; '-': "
              "too large to solve in closed form here).", "",
              "| data | condition number | fp32 / least squares | fewest bits, data only | fewest bits, end to end | "
              "fewest bits, qsgd | per seed: data only; end to end; qsgd |", "|---|---|---|---|---|---|---|"]

    def bits(value) -> str:
        return "not reached" if value is None else str(value)

    for name, x in limits.items():
        ls = x["least_squares_loss"]
        floor = "-" if ls is None else _ratio_cell([f / ls for f in x["fp32_loss"]])
        cond = "-" if x["condition_number"] is None else f"{x['condition_number']:.3g}"
        per_seed = "; ".join(", ".join(bits(b) for b in x[mode]["fewest_bits_per_seed"])
                             for mode in ("data_only", "end_to_end", "end_to_end_qsgd"))
        lines.append(f"| {name} | {cond} | {floor} | {bits(x['data_only']['fewest_bits'])} | "
                     f"{bits(x['end_to_end']['fewest_bits'])} | {bits(x['end_to_end_qsgd']['fewest_bits'])} | "
                     f"{per_seed} |")
    lines += ["", "| data | bits | data only / fp32 | end to end / fp32 | qsgd / fp32 |", "|---|---|---|---|---|"]
    qsgd_lower, pairs = 0, 0  # (set, width) pairs where qsgd's mean loss is below the grid's
    for name, x in limits.items():
        e2e = {row["bits"]: row["ratios"] for row in x["end_to_end"]["rows"]}
        qsgd = {row["bits"]: row["ratios"] for row in x["end_to_end_qsgd"]["rows"]}
        for row in x["data_only"]["rows"]:
            b = row["bits"]
            cells = [_ratio_cell(r[b]) if b in r else "-" for r in (e2e, qsgd)]
            lines.append(f"| {name} | {b} | {_ratio_cell(row['ratios'])} | {' | '.join(cells)} |")
            if b in e2e and b in qsgd:
                pairs += 1
                qsgd_lower += float(np.mean(qsgd[b])) < float(np.mean(e2e[b]))
    shown = [name for name, x in limits.items() if experiments.shows_paper_limits(x)]
    claim = (f"4-bit data alone misses fp32's loss by more than {tol:.0%} in every seed while data, model and "
             "gradient at 8 bits reach it in every seed")
    names = " and ".join(", ".join(shown).rsplit(", ", 1))
    lines += ["", f"**Measured: {claim} on {names}.**" if shown else
              f"**Measured: none of the sets tried shows it ({claim}).**", "",
              f"At equal bits end to end, QSGD's mean loss is below the power-of-two grid's in {qsgd_lower} of "
              f"{pairs} (data set, width) pairs.", "",
              "![precision limits](precision_limits.png)", ""]
    return lines


def render(r: dict) -> str:
    """The markdown report."""
    lines = [f"# ZipML reproduction report (zipml-hls {r['version']})", "",
             f"{'Full' if r['full'] else 'Default (quick)'} run, {r['epochs']} epochs, "
             f"{r['seconds']:.0f} s on {r['machine']}"
             + f" (sections 3-6{'' if r['deep_learning'] is None else ' and 8'} in {r['untimed_seconds']:.0f} s on "
             f"{r['workers'] or 'no'} worker process{'' if r['workers'] == 1 else 'es'}, the timed 1 and 7 alone)"
             + ". Paper: Zhang et al., *ZipML*, ICML 2017 (arXiv 1611.05402). How to read this report: "
             "docs/REPORT.md.", ""]
    if r.get("data") is not None:
        u = r["data"]
        lines += [f"**Data: {u['name']}** ({u['shape'][0]} x {u['shape'][1]}, {u['task']}), given with `--data`: "
                  "sections 1, 3, 4 and 5" + (" and 6" if u["task"] == "classification" else "") + " run on it "
                  "(classes as +1/-1 least-squares targets in 1-5); the throughput and deep-learning sections "
                  "keep their own data.", ""]
    lines += [
             "## 1. Convergence of low-precision SGD", "",
             "Training loss (0.5 * mean squared error, original units) of each epoch, as the kernel's own pass "
             "measures it (the estimators' `loss_curve_`: the mean of 0.5 (f1 - y)(f2 - y) over the two samples' "
             "predictions made before each update, unbiased with double sampling, so no epoch reads the "
             "full-precision data; at 1 and 2 bits on small data it is noisy). The column 'final loss' is the "
             "final model's loss on the full-precision data. The kernels train on centred features with "
             "per-feature power-of-two steps (the estimators' default `precondition=True`: docs/API.md), which "
             "brings fp32 and every precision down to its floor in a few epochs. Each precision uses the "
             "automatic power-of-two step (column eta0). Every epoch visits the rows in a fresh order and reads "
             "freshly drawn samples (the estimators' defaults `shuffle=True, fresh_samples=True`): double-sampled "
             "data are stored once, on a grid 4x finer than their levels, and the kernel draws both samples "
             "afresh every epoch; the same two samples every epoch would make double sampling solve the problem "
             "of that one draw, and its loss rise again after a few epochs at 1 and 2 bits. The stored copy's "
             "one-time rounding would leave a ridge-like pull; the kernel cancels it for least squares "
             f"(`rounding_correction=True`, docs/FORMATS.md section 5), and data of at most {REQUANTIZE_MAX_VALUES:,} values (diabetes "
             "here) are quantized again every epoch (`requantize='auto'`), so that rounding is fresh too. At 1 "
             "bit the automatic step is small "
             "and this fixed schedule (the step halves every 3 epochs) stops it before it converges. For naive "
             "sampling "
             "the train time includes quantizing every epoch on a second thread (3 and 6 bits have no fast "
             "quantizer yet, so they take longer).", "",
             "![convergence](convergence.png)", ""]
    for name, rows in r["convergence"].items():
        fp32 = next(x["final_loss"] for x in rows if x["bits"] == 32)
        lines += [f"**{name}**", "", "| precision | eta0 | final loss | vs fp32 | train s |", "|---|---|---|---|---|"]
        for x in rows:
            lines.append(f"| {_fmt_precision(x)} | 2^-{int(round(-math.log2(x['eta0'])))} | "
                         f"{x['final_loss']:.6g} | {x['final_loss'] / fp32:.3f}x | {x['train_seconds']:.2f} |")
        lines.append("")
    lines += ["## 2. Final loss against bits", "",
              "Double sampling tracks fp32 down to a few bits; naive sampling's loss floor rises as bits fall "
              "(its gradient is biased).", "", "![final loss vs bits](final_loss_vs_bits.png)", "",
              "## 3. Naive sampling is biased towards a ridge solution", "",
              "Naive quantized SGD solves (A^T A + n D) w = A^T b, D the mean rounding variance per feature; double "
              "sampling solves the least-squares problem: its stored copy's one-time rounding to the 4x finer grid "
              "would add a sixteenth of naive sampling's D, which the kernel cancels (docs/FORMATS.md section 5). "
              "Both statements hold in expectation over fresh samples, which every epoch draws. Distances are "
              "relative to ||w_ls|| in the scaled space; at 1 bit the double-sampled model is still far from "
              "converged after these epochs (section 1).",
              "", "| bits | sampling | final loss | dist. to least squares | dist. to ridge |", "|---|---|---|---|---|"]
    for bits, b in r["naive_bias"].items():
        for s in ("naive", "double"):
            lines.append(f"| {bits} | {s} | {b[s]['final_loss']:.6g} | {b[s]['dist_to_least_squares']:.3f} | "
                         f"{b[s]['dist_to_ridge']:.3f} |")
    first = next(iter(r["naive_bias"].values()))
    lines += ["", f"Closed forms: least-squares loss {first['loss_least_squares']:.6g}; loss of the ridge solution "
              f"at 1 bit {r['naive_bias'][1]['loss_ridge_solution']:.6g}, at 2 bits "
              f"{r['naive_bias'][2]['loss_ridge_solution']:.6g}.", ""]
    lines += ["## 4. Variance-optimal levels move fewer bits", "",
              "Per feature, levels placed to minimise the total rounding variance (exact dynamic program up to 4096 "
              "rows, grid program above) against uniform levels. For each sampling mode: the fewest bits at which "
              "each reaches the fp32 final loss within 1%, and the ratio of bits stored per value (b + 2 for double "
              "sampling, b for naive). Widths are tried from 1 bit up to the first within 0.5% (the strictest "
              "tolerance below), where every answer is known, so the plot's lines end there. The paper reports up to "
              "1.7x. Runs with level tables train conditioned as uniform levels do (centers on the tables' grid of "
              "1/1024, step multipliers from the tables' own rounding variance; docs/API.md, conditioning).", "",
              "| data | sampling | uniform: bits (stored) | optimal: bits (stored) | stored-bits ratio |",
              "|---|---|---|---|---|"]
    for name, c in r["levels"].items():
        for sampling in ("double", "naive"):
            x = c[sampling]
            ratio = "-" if x["stored_bits_ratio"] is None else f"{x['stored_bits_ratio']:.2f}x"
            lines.append(f"| {name} | {sampling} | {_fewest(x['uniform'])} | {_fewest(x['optimal'])} | {ratio} |")
    tolerances = list(next(iter(r["levels"].values()))["double"]["by_tolerance"])
    lines += ["", "The same runs against other tolerances (stored-bits ratio, uniform over optimal; '-': one of "
              "them never reaches it):", "",
              "| data | sampling | " + " | ".join(f"within {float(t):.1%}" for t in tolerances) + " |",
              "|---|---|" + "---|" * len(tolerances)]
    for name, c in r["levels"].items():
        for sampling in ("double", "naive"):
            cells = ["-" if v is None else f"{v:.2f}x" for v in c[sampling]["by_tolerance"].values()]
            lines.append(f"| {name} | {sampling} | " + " | ".join(cells) + " |")
    lines += ["", "![levels](levels_vs_bits.png)", "",
              "At equal bits, without training: the mean rounding variance of uniform levels over that of the "
              "optimal tables the kernels use, and the bits uniform levels need for the optimal tables' variance "
              "(log2 of the uniform variance interpolated between whole bits), as a factor of fewer bits. "
              "Lognormal: the set above drawn with seeds 0-4 (min-max); the paper reports up to 1.7x.", "",
              "| data | bits | variance ratio | uniform bits for the same variance | fewer bits |",
              "|---|---|---|---|---|"]
    for name, draws in r["levels_variance"].items():
        for i, b in enumerate(row["bits"] for row in draws[0]):
            cells = [[draw[i][key] for draw in draws] for key in ("ratio", "bits_worth", "bits_ratio")]
            lines.append(f"| {name} | {b} | " + " | ".join(_spread(v, unit) for v, unit in zip(cells, ("x", "", "x")))
                         + " |")
    lines += ["", "![levels variance](levels_variance.png)", ""]
    lines += precision_limits_section(r["precision_limits"], generated=r.get("data") is None)
    lines += ["## 6. Non-linear models: what low precision can and cannot do", "",
              "Logistic regression by a degree-5 polynomial on [-4, 4] (Chebyshev points, 0 at 4 and 1 at -4) with "
              "6 independent samples per value "
              "(unbiased for the polynomial), and a linear SVM with double sampling, with and without refetching "
              "full-precision rows whose margin is ambiguous, against deterministic nearest rounding. Test accuracy "
              "(25% held out) and training loss.", "",
              "| data | loss | mode | 2 bits | 4 bits | 6 bits | 8 bits | fp32 |", "|---|---|---|---|---|---|---|---|"]
    for name, by_loss in r["nonlinear"].items():
        for loss, rows in by_loss.items():
            fp32 = next(x for x in rows if x["mode"] == "fp32")
            for mode in dict.fromkeys(x["mode"] for x in rows if x["mode"] != "fp32"):
                acc = {x["bits"]: x for x in rows if x["mode"] == mode}
                cells = " | ".join(f"{acc[b]['accuracy']:.3f}" + ("" if acc[b]["refetched"] is None else
                                                                 f" ({acc[b]['refetched']:.0%} refetched)")
                                   for b in (2, 4, 6, 8))
                lines.append(f"| {name} | {loss} | {mode} | {cells} | {fp32['accuracy']:.3f} |")
    lines += ["", _nonlinear_summary(r["nonlinear"]), "", "![non-linear](nonlinear.png)", ""]
    t, p = r["throughput"], r["fpga_projection"]
    lines += ["## 7. Throughput: CPU kernels measured, FPGA projected", "",
              f"One epoch of least-squares SGD over {t['n_samples']} x {t['n_features']} values "
              f"({t['float32_bytes'] / 2**20:.0f} MiB as float32), one thread, median of 5 epochs. "
              "Data preparation (quantize + pack) is timed separately. `zipml-hls bench` runs the full benchmark.",
              "", "| kernel | bytes/epoch | epoch s (median) | GB/s | CPU speedup | prepare s | FPGA speedup (cycle model) |",
              "|---|---|---|---|---|---|---|"]
    proj = {(x["bits"], x["sampling"]): x for x in p["rows"]}
    for x in t["rows"]:
        one_worker = x.get("workers", 1) == 1  # the projection is of one kernel instance
        fpga_cell = "1.00x" if x["kernel"] == "fp32" and one_worker else "-"
        if x["kernel"] == "quantized" and x["levels"] == "uniform" and one_worker and (x["bits"], x["sampling"]) in proj:
            fpga_cell = f"{proj[(x['bits'], x['sampling'])]['speedup_vs_32bit']:.2f}x"  # the synthesis tops' widths
        lines.append(f"| {bench.kernel_label(x)} | {x['bytes_per_epoch'] / 2**20:.1f} MiB | "
                     f"{x['epoch_s_median']:.4f} | {x['gbytes_per_s']:.2f} | {x['speedup_vs_fp32']:.2f}x | "
                     f"{'-' if x['prepare_s'] is None else format(x['prepare_s'], '.3f')} | {fpga_cell} |")
    lines += ["", "FPGA projection: " + bench.fpga_assumptions_text(p) + " The fp32 row's FPGA cell is that baseline. "
              f"The paper reports up to {p['paper_best_speedup']}x on its FPGA. Stored bits compare like "
              "for like: both samples of double sampling lie in one interval between levels, so the paper stores "
              "them as the interval's index and one bit per sample, b + 2 bits per value; this project stores the "
              "same b + 2 bits (the index and 2 fraction bits of one value, from which the kernel draws both "
"samples every epoch), and b bits for naive sampling.", "", "![speedup](speedup.png)", ""]
    epoch_s = {(x["bits"], x["sampling"]): x["epoch_s_median"] for x in t["rows"]
               if x.get("workers", 1) == 1 and x["levels"] in ("uniform", "-")
               and x.get("loss", "squared_error") == "squared_error"}
    lines += [f"Data movement per epoch of {t['n_samples']} x {t['n_features']} in the paper's computation model "
              "(each SGD step reads a sample, reads the model for its dot product and writes its gradient into "
              "the model), MiB, next to the measured CPU epoch of the same data (the CPU kernels keep the model "
              "on chip, so only the samples cross the memory bus there; no kernel here rounds the model and "
              "gradient fast, so end-to-end rows have no time):", "",
              "| precision | samples | model | gradient | total | / fp32 | CPU epoch s |", "|---|---|---|---|---|---|---|"]
    fp32_total = r["data_movement"][0]["total"]
    for x in r["data_movement"]:
        measured = epoch_s.get((x["bits"], x["sampling"])) if "end to end" not in x["precision"] else None
        lines.append(f"| {x['precision']} | {x['samples'] / 2**20:.1f} | {x['model'] / 2**20:.1f} | "
                     f"{x['gradient'] / 2**20:.1f} | {x['total'] / 2**20:.1f} | {x['total'] / fp32_total:.2f} | "
                     f"{'-' if measured is None else format(measured, '.4f')} |")
    lines += [""]
    lines += deep_learning_section(r["deep_learning"])
    return "\n".join(lines)
