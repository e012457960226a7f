"""The paper's core experiments as functions returning plain data (dicts and lists),
shared by ``zipml-hls reproduce`` and the scripts in scripts/."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .datasets import make_ill_conditioned_regression, make_synthetic_regression, make_tabular_regression
from .spec.losses import LOSSES
from .spec import format as F
from .step_size import RoundingStats
from .linear_model import ZipMLClassifier, ZipMLRegressor

#: The paper-style experiments compare precisions under one fixed schedule: the step
#: halves every 3 epochs (the estimators' default is the adaptive schedule).
SCHEDULE = 3

PRECISIONS = [(F.FULL_PRECISION, "fp32")] + [(b, s) for b in sorted(F.SUPPORTED_BITS, reverse=True)
                                             for s in ("double", "naive")]


def training_loss(est, X, y) -> float:
    """The training objective of a fitted estimator's final model on the full-precision
    data (original units; +1/-1 units for classifiers, averaged over one-vs-rest models).
    The report's final losses use it: ``loss_curve_`` is the kernels' pass estimate (a
    running mean over a moving model, noisy at 1 and 2 bits on small data)."""
    if isinstance(est, ZipMLClassifier):
        scores = est._decision(X)
        signs = est._targets(y)
        return float(np.mean(LOSSES[est.loss].objective(signs, scores)))
    return float(0.5 * np.mean((est.predict(X) - y) ** 2))


def regression_datasets(n: int, d: int) -> dict:
    """Data that is generated (n x d synthetic) or ships with scikit-learn: name -> (X, y)."""
    from sklearn.datasets import load_diabetes

    X, y, _ = make_synthetic_regression(n, d, random_state=0)
    return {f"synthetic {n}x{d}": (X, y), "diabetes 442x10": load_diabetes(return_X_y=True)}


def lognormal_regression(n: int, d: int, seed: int = 1):
    """Heavy-tailed features (lognormal, sigma 1.2) and a target linear in their logs."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(sigma=1.2, size=(n, d))
    signal = np.log1p(X) @ rng.standard_normal(d)
    return X, signal + 0.3 * signal.std() * rng.standard_normal(n)


def skewed_datasets(n: int = 20_000, d: int = 50) -> dict:
    """Data with skewed features: heavy-tailed synthetic, and scikit-learn's breast cancer
    set (30 skewed measurements; the target is the +1/-1 diagnosis, fitted by least squares)."""
    from sklearn.datasets import load_breast_cancer

    Xc, yc = load_breast_cancer(return_X_y=True)
    return {f"lognormal {n}x{d}": lognormal_regression(n, d), "breast cancer 569x30": (Xc, 2.0 * yc - 1.0)}


def levels_variance(X, bits_list=(2, 3, 4), max_bits: int = 12) -> list:
    """Rounding variance of uniform against variance-optimal levels at equal bits, on X's
    min/max-scaled values: per b, V_uniform(b) / V_optimal(b) (the optimal tables the
    kernels use, ``levels.level_tables``), and the bits uniform levels need for
    V_optimal(b): log2 V_uniform interpolated linearly between whole bits, so
    ``bits_worth`` / b is how many times fewer bits optimal levels store for that variance."""
    from .backend import get_backend
    from .levels import level_tables, quantization_variance
    from .scaling import FeatureScaling

    X = np.asarray(X, dtype=np.float32)
    scaling = FeatureScaling.fit(X)
    scaled = scaling.transform(X).astype(np.float64)
    positions = get_backend("hls").positions(X, scaling.lo, scaling.inv)  # Q0.24, as quantize() sees them

    def variance(levels_per_feature) -> float:  # mean rounding variance per value, scaled units
        total = sum(quantization_variance(scaled[:, j], levels) for j, levels in enumerate(levels_per_feature))
        return total / scaled.size

    uniform = {b: variance([np.linspace(0.0, 1.0, 1 << b)] * X.shape[1]) for b in range(1, max_bits + 1)}
    logs = np.log2([uniform[k] for k in range(1, max_bits + 1)])
    rows = []
    for b in bits_list:
        optimal = variance(level_tables(positions, b).astype(np.float64) / F.POS_ONE)
        # log2 V_uniform falls with bits: the first whole bits at or below log2 V_optimal, interpolated back
        k = int(np.argmax(logs <= np.log2(optimal))) if np.any(logs <= np.log2(optimal)) else max_bits - 1
        k = max(k, 1)
        worth = k + (logs[k - 1] - np.log2(optimal)) / (logs[k - 1] - logs[k])
        rows.append({"bits": b, "uniform": uniform[b], "optimal": optimal, "ratio": uniform[b] / optimal,
                     "bits_worth": float(worth), "bits_ratio": float(worth) / b})
    return rows


LEVEL_KINDS = ("uniform", "optimal")
#: The levels claim's tolerance (of fp32's final loss) and the others it is checked against.
LEVELS_TOLERANCE, LEVELS_TOLERANCES = 0.01, (0.005, 0.01, 0.02)


def levels_claim(X, y, epochs: int = 30, seed: int = 0, tolerance: float = LEVELS_TOLERANCE,
                 samplings=("double", "naive"), tolerances=LEVELS_TOLERANCES) -> dict:
    """For each sampling mode: the fewest bits at which uniform and optimal levels each
    reach fp32's final training loss within ``tolerance``, and the ratio of the bits
    stored per value (b + 2 for double sampling, b for naive); ``by_tolerance``: that
    ratio for each of ``tolerances`` from the same runs. Widths are tried from 1 bit up
    and stop at the first within the strictest tolerance: every fewest-bits answer is
    found by then, and the wider runs (the slowest with optimal levels) change none.
    :func:`levels_search` and :func:`levels_summary` are its parts (independent runs)."""
    strictest = min((tolerance, *tolerances))
    searches = {(s, kind): levels_search(X, y, s, kind, epochs, seed, strictest)
                for s in samplings for kind in LEVEL_KINDS}
    return levels_summary(searches, epochs, seed, tolerance, tolerances)


def levels_search(X, y, sampling: str, levels: str, epochs: int = 30, seed: int = 0,
                  strictest: float = 0.005) -> dict:
    """One (sampling, levels) search of :func:`levels_claim`: fp32's final loss, and a row
    per width from 1 bit up to the first within ``strictest`` of it. The fp32 run is
    repeated by each search (it is the cheapest run) so that the searches are independent."""
    fp32 = training_loss(_fit(X, y, 32, "fp32", epochs, seed)[0], X, y)
    rows = []
    for bits in F.SUPPORTED_BITS:
        est, _ = _fit(X, y, bits, sampling, epochs, seed, levels=levels)
        final = training_loss(est, X, y)
        rows.append({"bits": bits, "bits_per_value": F.stored_bits(bits, sampling),
                     "final_loss": final, "ratio_to_fp32": final / fp32})
        if final / fp32 <= 1 + strictest:
            break
    return {"fp32_loss": fp32, "rows": rows}


def levels_summary(searches: dict, epochs: int, seed: int = 0, tolerance: float = LEVELS_TOLERANCE,
                   tolerances=LEVELS_TOLERANCES) -> dict:
    """:func:`levels_claim`'s result from its searches ((sampling, levels) -> levels_search)."""
    out = {"fp32_loss": next(iter(searches.values()))["fp32_loss"], "tolerance": tolerance, "epochs": epochs,
           "seed": seed}
    for sampling in dict.fromkeys(s for s, _ in searches):
        res = {}
        for kind in LEVEL_KINDS:
            rows = searches[(sampling, kind)]["rows"]
            ok = [r for r in rows if r["ratio_to_fp32"] <= 1 + tolerance]
            res[kind] = {"rows": rows, "fewest_bits": ok[0]["bits"] if ok else None,
                         "stored_bits": ok[0]["bits_per_value"] if ok else None}
        u, o = res["uniform"]["stored_bits"], res["optimal"]["stored_bits"]
        res["stored_bits_ratio"] = u / o if u and o else None
        res["by_tolerance"] = {str(t): _stored_bits_ratio(res, t) for t in tolerances}
        out[sampling] = res
    return out


def _stored_bits_ratio(res: dict, tolerance: float):
    """Uniform's fewest stored bits over optimal's within ``tolerance`` of fp32 (None if
    either never gets there)."""
    fewest = []
    for levels in ("uniform", "optimal"):
        ok = [r["bits_per_value"] for r in res[levels]["rows"] if r["ratio_to_fp32"] <= 1 + tolerance]
        fewest.append(ok[0] if ok else None)
    return fewest[0] / fewest[1] if all(fewest) else None


def data_movement(n: int, d: int, bits_list=(8, 4, 2, 1)) -> list:
    """Bytes moved per epoch of n x d in the paper's computation model, where each SGD step
    reads a sample from the data store, reads the model for its dot product and writes its
    gradient into the model: samples n d s / 8 (s the bits stored per value), model
    n d m / 8 and gradient n d g / 8 (m, g their bits; 32 unless they are quantized too).
    Rows: fp32, then per b double and naive data with a full-precision model and gradient,
    and double data with the model and gradient at b bits too (end to end)."""
    def row(label, sample_bits, model_bits, grad_bits, bits, sampling):
        moved = {"samples": n * d * sample_bits / 8, "model": n * d * model_bits / 8,
                 "gradient": n * d * grad_bits / 8}
        return {"precision": label, "bits": bits, "sampling": sampling, **moved, "total": sum(moved.values())}

    rows = [row("fp32", 32, 32, 32, F.FULL_PRECISION, "fp32")]
    for b in bits_list:
        for sampling in ("double", "naive"):
            rows.append(row(f"{b}-bit {sampling}, data only", F.stored_bits(b, sampling), 32, 32, b, sampling))
        rows.append(row(f"{b}-bit double, end to end", F.stored_bits(b, "double"), b, b, b, "double"))
    return rows


def _fit(X, y, bits, sampling, epochs, seed, **kw):
    kw.setdefault("decay_epochs", SCHEDULE)
    est = ZipMLRegressor(bits=bits, sampling="double" if sampling == "fp32" else sampling, max_iter=epochs,
                         random_state=seed, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # (the report measures the low widths on heavy-tailed data on purpose)
        warnings.filterwarnings("ignore", message="at [23] bits stochastic rounding's variance", category=UserWarning)
        start = time.perf_counter()
        est.fit(X, y)
    return est, time.perf_counter() - start


def convergence(X, y, epochs: int = 20, seed: int = 0, precisions=PRECISIONS, progress=None) -> list:
    """Training loss per epoch for each precision (each with its own auto step): the pass
    estimates of ``loss_curve_``, and the final model's exact loss."""
    rows = []
    for bits, sampling in precisions:
        est, seconds = _fit(X, y, bits, sampling, epochs, seed)
        rows.append({"bits": bits, "sampling": sampling, "eta0": est.eta_, "loss_curve": est.loss_curve_,
                     "final_loss": training_loss(est, X, y), "train_seconds": seconds})
        if progress:
            progress(F.precision_label(bits, sampling))
    return rows


def naive_bias(X, y, bits: int = 2, epochs: int = 40, seed: int = 0) -> dict:
    """Naive vs double sampling against the closed forms, in the scaled space.

    Least squares w_ls = argmin ||A w - b||; the ridge solution that naive sampling
    converges to, w_ridge = (A^T A + n D)^-1 A^T b with D the mean rounding variance
    of each feature (0 for the intercept column).
    """
    out = {"bits": bits, "epochs": epochs}
    models = {}
    for sampling in ("naive", "double"):
        est, _ = _fit(X, y, bits, sampling, epochs, seed)
        models[sampling] = est
    est = models["naive"]
    A = np.hstack([est.scaling_.transform(X).astype(np.float64), np.ones((X.shape[0], 1))])
    b = est.label_scaling_.transform(y)
    n = A.shape[0]
    D = np.append(RoundingStats.of(X, est.scaling_, bits, m=X.shape[0]).mean, 0.0)
    w_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    w_ridge = np.linalg.solve(A.T @ A + n * np.diag(D), A.T @ b)
    scale = est.label_scaling_.scale ** 2
    out["loss_least_squares"] = float(0.5 * np.mean((A @ w_ls - b) ** 2) * scale)
    out["loss_ridge_solution"] = float(0.5 * np.mean((A @ w_ridge - b) ** 2) * scale)
    for sampling, m in models.items():
        w = m._model
        out[sampling] = {"final_loss": training_loss(m, X, y),
                         "dist_to_least_squares": float(np.linalg.norm(w - w_ls) / np.linalg.norm(w_ls)),
                         "dist_to_ridge": float(np.linalg.norm(w - w_ridge) / np.linalg.norm(w_ls))}
    return out


#: Widths of the precision-limits search: the data alone at every supported width, and the
#: data, model and gradient together from 2 bits (their signed grids need at least 2).
DATA_ONLY_BITS = F.SUPPORTED_BITS
END_TO_END_BITS = tuple(b for b in F.SUPPORTED_BITS if b >= 2)

#: Largest n d^2 for which ``least_squares_summary`` solves the problem in closed form.
CLOSED_FORM_MAX_WORK = 2**33


def limits_datasets(n: int, d: int) -> dict:
    """The precision-limits section's data: diabetes (noisy labels, R^2 about 0.5), an
    ill-conditioned n x d set (covariance condition number 10^4) and the tabular n-row set
    (heavy-tailed, wide-range and one-hot columns), both with little label noise (R^2 0.9975)."""
    from sklearn.datasets import load_diabetes

    Xi, yi, _ = make_ill_conditioned_regression(n, d, condition=1e4, noise=0.05)
    Xt, yt, _ = make_tabular_regression(n, noise=0.05)
    return {"diabetes 442x10": load_diabetes(return_X_y=True), f"ill-conditioned {n}x{d}": (Xi, yi),
            f"tabular {n}x{Xt.shape[1]}": (Xt, yt)}


def least_squares_loss(X, y) -> float:
    """The training loss (0.5 mean squared error) of the least-squares fit with an
    intercept, in float64: the floor every fit of X is measured against."""
    A = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(y), 1))])
    return float(0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2))


def least_squares_summary(X, y) -> dict:
    """The loss floor and conditioning of least squares on X (None for both when n d^2 is
    above ``CLOSED_FORM_MAX_WORK``): the training loss of the least-squares fit with an
    intercept, and the condition number of the min/max-scaled, centred features' covariance
    over its non-zero spectrum (exact collinearities, as of one-hot groups with the
    intercept, leave no direction SGD has to move along)."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if n * d * d > CLOSED_FORM_MAX_WORK:
        return {"least_squares_loss": None, "condition_number": None}
    loss = least_squares_loss(X, y)
    span = X.max(axis=0) - X.min(axis=0)
    scaled = (X - X.min(axis=0)) / np.where(span > 0, span, 1.0)
    scaled -= scaled.mean(axis=0)
    spectrum = np.linalg.eigvalsh(scaled.T @ scaled / n)
    spectrum = spectrum[spectrum > 1e-9 * spectrum[-1]]
    return {"least_squares_loss": float(loss), "condition_number": float(spectrum[-1] / spectrum[0])}


def fewest_bits(ratios: dict, tolerance: float):
    """The fewest bits b of ``ratios`` (bits -> the final loss over fp32's of every seed)
    at which every seed is within 1 + ``tolerance``, and so is every larger width (a width
    that reaches it while a larger one misses was lucky); None when the largest misses."""
    fewest = None
    for bits in sorted(ratios, reverse=True):
        if max(ratios[bits]) > 1 + tolerance:
            break
        fewest = bits
    return fewest


#: The precision-limits modes: their widths and the estimator options at each width.
LIMITS_MODES = {"data_only": (DATA_ONLY_BITS, lambda bits: {}),
                "end_to_end": (END_TO_END_BITS, lambda bits: {"model_bits": bits, "grad_bits": bits}),
                "end_to_end_qsgd": (END_TO_END_BITS, lambda bits: {"model_bits": bits, "grad_bits": bits,
                                                                   "model_quantization": "qsgd"})}


def precision_limits(X, y, seeds=(0, 1, 2), epochs: int = 20, tolerance: float = 0.01) -> dict:
    """Where low precision stops reaching fp32's training loss. For each seed: fp32, and
    double-sampled data at every width with the model and gradient at full precision
    ('data_only') and at the data's bits too, rounded on power-of-two grids ('end_to_end')
    and by QSGD ('end_to_end_qsgd', model_quantization='qsgd'), each with its automatic step
    and the fixed schedule. Per mode and width: every seed's final loss and its ratio to the
    same seed's fp32 loss; the fewest bits within ``tolerance`` in every seed
    (:func:`fewest_bits`) and in each seed alone. With the least-squares floor and
    condition number of ``least_squares_summary``. :func:`limits_seed` and
    :func:`limits_summary` are its parts (the seeds' runs are independent)."""
    return limits_summary([limits_seed(X, y, seed, epochs) for seed in seeds], seeds, epochs,
                          least_squares_summary(X, y), tolerance)


def limits_seed(X, y, seed: int, epochs: int = 20) -> dict:
    """One seed's runs of :func:`precision_limits`: fp32's final loss and every mode's
    final loss per width."""
    return {"fp32": training_loss(_fit(X, y, F.FULL_PRECISION, "fp32", epochs, seed)[0], X, y),
            "losses": {mode: {bits: training_loss(_fit(X, y, bits, "double", epochs, seed, **extra(bits))[0],
                                                  X, y) for bits in widths}
                       for mode, (widths, extra) in LIMITS_MODES.items()}}


def limits_summary(per_seed: list, seeds, epochs: int, summary: dict, tolerance: float = 0.01) -> dict:
    """:func:`precision_limits`' result from its seeds' :func:`limits_seed` (in ``seeds``'
    order) and ``least_squares_summary``."""
    fp32 = [s["fp32"] for s in per_seed]
    out = {"epochs": epochs, "seeds": list(seeds), "tolerance": tolerance, "fp32_loss": fp32, **summary}
    for mode, (widths, _) in LIMITS_MODES.items():
        by_bits = {bits: [s["losses"][mode][bits] for s in per_seed] for bits in widths}
        ratios = {bits: [loss / base for loss, base in zip(values, fp32)] for bits, values in by_bits.items()}
        out[mode] = {"rows": [{"bits": bits, "losses": by_bits[bits], "ratios": r} for bits, r in ratios.items()],
                     "fewest_bits": fewest_bits(ratios, tolerance),
                     "fewest_bits_per_seed": [fewest_bits({bits: [r[i]] for bits, r in ratios.items()}, tolerance)
                                              for i in range(len(fp32))]}
    return out


def shows_paper_limits(limits: dict, data_bits: int = 4, end_to_end_bits: int = 8) -> bool:
    """Whether a ``precision_limits`` result shows the paper's limits: ``data_bits``-bit data
    alone misses fp32's loss by more than the tolerance in every seed, while data, model and
    gradient at ``end_to_end_bits`` bits reach it in every seed."""
    bound = 1 + limits["tolerance"]
    data = next(r["ratios"] for r in limits["data_only"]["rows"] if r["bits"] == data_bits)
    e2e = next(r["ratios"] for r in limits["end_to_end"]["rows"] if r["bits"] == end_to_end_bits)
    return min(data) > bound and max(e2e) <= bound


def classification_datasets() -> dict:
    """Classification data that ships with scikit-learn, split 75/25 (fixed seed)."""
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    out = {}
    for name, loader in (("breast cancer", load_breast_cancer), ("digits (one-vs-rest)", load_digits)):
        X, y = loader(return_X_y=True)
        out[name] = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return out


NONLINEAR_MODES = {
    "log_loss": [("double", {}, "multiple sampling (unbiased for P)"), ("nearest", {}, "nearest rounding")],
    "hinge": [("double", {"refetch": True}, "double sampling + refetching"),
              ("double", {"refetch": False}, "double sampling, no refetching"),
              ("nearest", {"refetch": False}, "nearest rounding")],
}


def nonlinear(split, bits_list=(2, 4, 6, 8), epochs: int = 20, seed: int = 0) -> dict:
    """Logistic and hinge models at several precisions and sampling modes: test accuracy,
    training loss, and (hinge) the fraction of samples refetched in the last epoch
    (loss -> :func:`nonlinear_loss`)."""
    return {loss: nonlinear_loss(split, loss, bits_list, epochs, seed) for loss in NONLINEAR_MODES}


def nonlinear_loss(split, loss: str, bits_list=(2, 4, 6, 8), epochs: int = 20, seed: int = 0) -> list:
    """The rows of :func:`nonlinear` for one loss: fp32, then every mode at every width."""
    Xtr, Xte, ytr, yte = split
    fp32 = ZipMLClassifier(loss=loss, bits=32, max_iter=epochs, decay_epochs=SCHEDULE, random_state=seed).fit(Xtr, ytr)
    rows = [{"bits": 32, "mode": "fp32", "accuracy": fp32.score(Xte, yte),
             "train_loss": training_loss(fp32, Xtr, ytr), "refetched": None}]
    for sampling, extra, label in NONLINEAR_MODES[loss]:
        for bits in bits_list:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est = ZipMLClassifier(loss=loss, bits=bits, sampling=sampling, max_iter=epochs,
                                      decay_epochs=SCHEDULE, random_state=seed, **extra).fit(Xtr, ytr)
            rows.append({"bits": bits, "mode": label, "accuracy": est.score(Xte, yte),
                         "train_loss": training_loss(est, Xtr, ytr),
                         "refetched": est.refetch_fraction_[-1] if est.refetch_fraction_ else None})
    return rows
