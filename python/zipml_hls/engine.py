"""The training engine: scaled data -> (quantize) -> SGD kernel -> model history.

Shared by the estimators and the benchmark; works in the scaled space (features in
[0, 1], labels centred and divided by their spread, or +1/-1 for margin losses) and
returns float64 models there. Every kernel call goes through :mod:`zipml_hls.backend`.
The training loss comes from the kernel's own pass (the predictions it made before each
update), so no epoch reads the full-precision data to evaluate it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from ._validation import check_allocation
from .backend import SgdResult, get_backend
from .conditioning import Conditioning, level_unit, stored_variance_values
from .polynomial import logistic_polynomial
from .quantize import QuantizedData, optimal_level_table, quantize_checked
from .scaling import FeatureScaling
from .spec import format as F
from .spec.losses import LOSSES
from .spec.rng import STREAM_BLOCK, STREAM_EPOCH, stream_key
from .spec.schedule import epoch_shift


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one (a
    container's or taskset's cores), else every core. n_jobs=-1 counts these."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class SgdConfig:
    """What one training run needs besides the data.

    bits: 1, 2, 3, 4, 6, 8, or 32 (the fp32 baseline); sampling: 'double' | 'naive' |
    'nearest' (for log_loss, 'double' means degree + 1 independent samples drawn in the
    kernel); levels:
    'uniform' | 'optimal'; step_shift: eta_0 = 2^-step_shift; decay_epochs: eta halves
    every this many epochs (0: constant); n_copies: quantized copies cycled over epochs
    when ``fresh_samples`` is off; seed: the counter-based RNG seed; backend: 'hls' (C++
    kernels) or 'reference' (NumPy golden model); loss: a name of ``spec.losses.LOSSES``;
    shuffle: rows in a fresh order every epoch; fresh_samples: fresh quantization draws
    every epoch (without them double sampling solves the problem of one draw): drawn by
    the kernel from the stored fine grid for double data (unbiased for the stored
    values), by quantizing again for naive data; requantize: double data are quantized
    again every epoch as well (a fresh fine-grid rounding: unbiased for the data);
    fit_intercept: False keeps the intercept at its initial value (with centers at the
    position of x = 0 the model has no offset).
    """

    bits: int
    sampling: str
    levels: str
    step_shift: int
    decay_epochs: int
    n_copies: int
    seed: int
    backend: str
    loss: str = "squared_error"
    model_bits: int = 0  #: round the model to this many bits for the dot product (0: exact)
    grad_bits: int = 0  #: round each update to this many bits (0: exact)
    model_quantization: str = "grid"  #: how model_bits and grad_bits round: 'grid' or 'qsgd'
    refetch: bool = True  #: losses with refetching: refetch full-precision rows near the margin
    poly_degree: int = 5  #: log_loss: degree of the polynomial (degree + 1 samples)
    poly_range: float = 4.0  #: log_loss: the polynomial approximates on [-R, R]
    shuffle: bool = False
    fresh_samples: bool = False
    requantize: bool = False  #: double data with fresh samples: quantize again every epoch too
    n_jobs: int = 1  #: worker threads: targets in parallel, or one target's pass in blocks (sharded_pass)
    block_rows: int = 32768  #: n_jobs > 1 with a single target: rows per worker between model averages
    fit_intercept: bool = True  #: False: the kernels leave the intercept as it is
    levels_method: str | None = None  #: optimal levels: quantize's levels_method (None: per feature, its default)

    @property
    def samples_per_value(self) -> int:
        """Samples the kernel reads per value: degree + 1 for log_loss on double data, else 2."""
        polynomial = LOSSES[self.loss].kernel == "polynomial"
        return self.poly_degree + 1 if polynomial and self.sampling == "double" else 2

    @property
    def quantized(self) -> bool:
        return self.bits != F.FULL_PRECISION

    @property
    def resamples(self) -> bool:
        """Fresh draws every epoch by quantizing again on the host: naive data, and double
        data with ``requantize``. Otherwise double data are stored once and the kernel draws
        its samples afresh every epoch from that copy (two, or degree + 1 for log_loss;
        spec.resample); nearest rounding has no draws."""
        return self.fresh_samples and self.quantized and (
            self.sampling == "naive" or (self.sampling == "double" and self.requantize))

    def kernel_seed(self, epoch: int) -> int:
        """The kernel's seed in ``epoch`` (its draws of double data's samples and of model
        and gradient rounding): fresh every epoch, or with ``fresh_samples`` off those of
        epoch ``epoch mod n_copies`` again (keyed by position in the pass: a row gets the
        same samples again only if it is visited at the same position)."""
        return epoch_seed(self.seed, epoch if self.fresh_samples else epoch % self.n_copies)


@dataclass(frozen=True)
class Prepared:
    """Data as a kernel reads it: scaled float32 rows (fp32) or quantized lines."""

    n_features: int
    scaled: np.ndarray | None = None
    lines: np.ndarray | None = None
    level_values: np.ndarray | None = None  # Q0.10 per-feature tables (optimal levels)
    sampling: str = "double"  # the stored sampling
    full: np.ndarray | None = None  # refetching: Q0.24 positions (n, d)
    rows: np.ndarray | None = None  # the stored rows the kernel visits, in order (None: as stored)


def prepare(X: np.ndarray, scaling: FeatureScaling, config: SgdConfig, seed: int | None = None, n_copies=None,
            table: np.ndarray | None = None, full: np.ndarray | None = None,
            rows: np.ndarray | None = None) -> Prepared:
    """Scale (and quantize, unless bits = 32) ``X``, a validated float32 C array, or its
    rows ``rows`` in that order. ``seed``, ``n_copies``: override the config's; ``table``,
    ``full``: level tables and refetch positions computed before (reused; ``full`` already
    in the order of ``rows``)."""
    if not config.quantized:
        return Prepared(X.shape[1], scaled=scaling.transform(X if rows is None else X[rows]))
    q = quantize_checked(X, config.bits, config.sampling, config.levels,
                         config.seed if seed is None else seed, n_copies or config.n_copies, config.backend,
                         scaling, levels_method=config.levels_method, samples_per_value=config.samples_per_value,
                         table=table, rows=rows)
    if full is None and LOSSES[config.loss].refetch and config.refetch:
        full = get_backend(config.backend).positions(X if rows is None else X[rows], scaling.lo, scaling.inv)
    return Prepared(X.shape[1], lines=q.lines, level_values=q.level_values, sampling=config.sampling,
                    full=full)


def epoch_order(seed: int, epoch: int, n: int, backend: str = "hls", visits: np.ndarray | None = None) -> np.ndarray:
    """The rows of epoch ``epoch`` in the order they are visited (``spec.rng.epoch_order``,
    computed by ``backend``: the native one holds no GIL while it works). ``visits``: how
    often each row is visited (``split_visits``): the list of visits, row 0's first,
    in the order of the permutation of its length, so a row's visits spread over the epoch."""
    if visits is None:
        return get_backend(backend).epoch_order(seed, epoch, n)
    listed = np.repeat(np.arange(n, dtype=np.int64), visits)
    return listed[get_backend(backend).epoch_order(seed, epoch, listed.size)]


def split_visits(weights: np.ndarray) -> np.ndarray:
    """How often an epoch visits each row of sample weights ``weights`` (not all 0) when
    heavy rows are split: ceil(u_i / m) times, m the mean of the positive weights, each
    visit weighing u_i over that count. Rows up to m are visited once, as they are (a row
    of weight 0 too: no step, but a penalty acts at every visit, and with at least n
    visits its share per visit stays within the per-step bound), and no visit weighs more
    than m; the visits' weights add up to the rows', so the objective is the same, and
    there are fewer than 2n visits."""
    return np.maximum(np.ceil(weights / np.mean(weights[weights > 0])), 1).astype(np.int64)


def epoch_seed(seed: int, epoch: int) -> int:
    """The quantization seed of epoch ``epoch`` when every epoch draws fresh samples."""
    return int(stream_key(seed, STREAM_EPOCH, epoch, 0)[0])


class EpochData:
    """The data of every epoch as the kernel reads it.

    Double data are quantized once: the kernel draws both samples of every value afresh
    each epoch from the stored fine grid (spec.resample), so epochs read only the stored
    bytes. Naive data with fresh samples, and double data with ``requantize``, are
    quantized again every epoch with the draws of :func:`epoch_seed` (epoch e+1 on a
    second thread while epoch e trains; the kernels release the GIL; level tables and
    refetch positions computed once).
    Otherwise ``n_copies`` copies are prepared once and epoch e reads copy e mod n_copies.
    Quantized data given as such (a QuantizedData ``X``, e.g. a memory-mapped file) are
    never quantized again: epoch e reads its copy e mod its number of copies. ``table``:
    float X's optimal level tables, computed before (None: computed here where needed).
    With shuffling epoch e visits the rows in the order :func:`epoch_order`: the kernel
    reads stored rows in that order (``Prepared.rows``), data quantized for the epoch are
    written in it. ``visits``: every row's number of visits (``split_visits``; shuffling
    only), or None (once each).
    """

    def __init__(self, X, scaling: FeatureScaling, config: SgdConfig, table: np.ndarray | None = None,
                 visits: np.ndarray | None = None):
        if visits is not None and not config.shuffle:
            raise ValueError("rows are visited more than once in a shuffled order only")
        self.X, self.scaling, self.config, self.visits = X, scaling, config, visits
        stored = isinstance(X, QuantizedData)
        self.resamples = config.resamples and not stored
        self.n_rows = X.n_samples if stored else X.shape[0]  # (stored rows; visits may be more)
        self.per_epoch = config.shuffle or self.resamples
        self._table, self._full = table, None
        self._stored = None
        self._pool = self._next = self._workers = None
        if stored:
            self._stored = Prepared(X.n_features, lines=X.lines, level_values=X.level_values, sampling=X.sampling)
        elif not config.resamples:  # one quantization (or scaled copy) serves every epoch
            self._stored = prepare(X, scaling, config, n_copies=1 if config.fresh_samples else None, table=table)
        else:
            if config.levels == "optimal" and table is None:
                self._table = optimal_level_table(X, config.bits, scaling, config.backend, config.levels_method)
            if LOSSES[config.loss].refetch and config.refetch:
                self._full = get_backend(config.backend).positions(X, scaling.lo, scaling.inv)

    def _build(self, epoch: int):
        config, n = self.config, self.n_rows
        order = epoch_order(config.seed, epoch, n, config.backend, self.visits) if config.shuffle else None
        if self.resamples:
            full = self._full if self._full is None or order is None else self._full[order]
            data = prepare(self.X, self.scaling, config, seed=epoch_seed(config.seed, epoch), n_copies=1,
                           table=self._table, full=full, rows=order)
            return data, order
        stored = self._stored  # the kernel reads its rows in this order: no reordered copy
        if stored.lines is None:
            return replace(stored, rows=order), order
        c = epoch % stored.lines.shape[0]
        return replace(stored, lines=stored.lines[c:c + 1], rows=order), order

    def epoch(self, epoch: int, prefetch: bool = True):
        """(Prepared data of one copy, row order or None) for ``epoch``; with ``prefetch``,
        starts preparing the next epoch in the background."""
        if not self.per_epoch:
            stored = self._stored
            c = epoch % stored.lines.shape[0] if self.config.quantized else 0
            return (stored if stored.lines is None else replace(stored, lines=stored.lines[c:c + 1])), None
        if self._next is not None and self._next[0] == epoch:
            result = self._next[1].result()
        else:
            result = self._build(epoch)
        if prefetch:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zipml-epoch")
            self._next = (epoch + 1, self._pool.submit(self._build, epoch + 1))
        return result

    def map(self, fn, items) -> list:
        """``fn`` over ``items``, on ``n_jobs`` worker threads (the kernels release the GIL)."""
        items = list(items)
        if self.config.n_jobs <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=self.config.n_jobs, thread_name_prefix="zipml-worker")
        return list(self._workers.map(fn, items))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._next = None
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None


@dataclass(frozen=True)
class Penalty:
    """Per-feature penalty coefficients per unit step, in the kernel's scaled units and
    already times each feature's step multiplier 2^p_j: ``decay`` a_j (L2: every sample
    w_j -= eta a_j w_j) and ``l1`` t_j (the L1 proximal step: soft thresholding by eta t_j),
    each (d,) float64 or None. Both below 1/2 (the fixed-point format, PENALTY_FRAC)."""

    decay: np.ndarray | None = None
    l1: np.ndarray | None = None

    def fixed(self, values: np.ndarray | None) -> np.ndarray | None:
        """Coefficients as the quantized kernels take them: int32 Q32."""
        if values is None:
            return None
        return np.minimum(np.round(values * 2.0**F.PENALTY_FRAC), 2**31 - 1).astype(np.int32)


def fixed_weights(weights: np.ndarray) -> np.ndarray:
    """Sample weights as the quantized kernels take them: int32 Q16 (1.0 is 2^16)."""
    return np.round(np.asarray(weights, np.float64) * (1 << F.WEIGHT_FRAC)).astype(np.int32)


class KernelRun:
    """One target bound to the kernel, labels converted once (float32 for the fp32
    baseline, Q16 otherwise); calling it runs epochs of the given data on the backend.
    ``conditioning``: per-feature centers and step exponents (``conditioning.Conditioning``),
    or None.
    ``weights``: (n,) sample weights (rows in X's order; the kernel steps by r u_i; the
    pass loss is the mean of u_i times each row's loss), or None; ``visits``: each row's
    visits in a pass (EpochData's, ``split_visits``), each of which weighs u_i over their
    number, for the kernel's step and the pass loss alike (the pass loss still the mean
    over the n rows), or None; ``penalty``: a :class:`Penalty` per row (with ``visits``
    shared out over the visits), or None."""

    def __init__(self, y_scaled: np.ndarray, config: SgdConfig, conditioning: Conditioning | None = None,
                 stored_variance: np.ndarray | None = None, weights: np.ndarray | None = None,
                 penalty: Penalty | None = None, visits: np.ndarray | None = None):
        self.config = config
        self.weights = None if weights is None else np.asarray(weights, np.float64)  # (the zero model's loss)
        self.visit_weights = self.pass_weights = self.weights  # (the kernel's and the pass loss's, by row)
        self.visits_per_row = 1.0
        if visits is not None:
            self.visits_per_row = float(np.sum(visits)) / visits.size
            self.visit_weights = self.weights / visits
            self.pass_weights = self.visit_weights * self.visits_per_row
        if weights is None:
            self.kernel_weights = None
        else:
            self.kernel_weights = (fixed_weights(self.visit_weights) if config.quantized
                                   else self.visit_weights.astype(np.float32))
        penalty = penalty or Penalty()
        if visits is not None:  # the penalty acts at every visit: n / (visits) <= 1 of it each, the same per epoch
            penalty = Penalty(*(None if a is None else a / self.visits_per_row for a in (penalty.decay, penalty.l1)))
        if config.quantized:
            self.decay, self.l1 = penalty.fixed(penalty.decay), penalty.fixed(penalty.l1)
        else:
            self.decay, self.l1 = (None if a is None else a.astype(np.float32) for a in (penalty.decay, penalty.l1))
        self.kernels = get_backend(config.backend)
        if stored_variance is not None and not (config.quantized and config.sampling == "double"
                                                and LOSSES[config.loss].kernel == "linear"):
            raise ValueError("stored_variance corrects the linear kernel on double data")
        # double data's stored-rounding correction (step_size.RoundingStats.stored), Q32
        self.stored_variance = None if stored_variance is None else stored_variance_values(stored_variance)
        self.shifts = self.centers = None
        if conditioning is not None:  # in the kernel's own units
            self.shifts = conditioning.shifts
            self.centers = conditioning.center_values(level_unit(config.bits, config.levels != "uniform"))
        self.labels = F.to_fixed(y_scaled, F.LABEL_FRAC) if config.quantized else y_scaled.astype(np.float32)
        if config.quantized and LOSSES[config.loss].kernel == "polynomial":
            self.poly = logistic_polynomial(config.poly_degree, config.poly_range)

    def __call__(self, data: Prepared, epochs: int, step_shift: int, decay: int, model_init: np.ndarray,
                 order: np.ndarray | None = None, seed: int | None = None) -> SgdResult:
        """``epochs`` epochs on ``data`` (the kernel visits ``data.rows`` of it, the labels
        in ``order``, the rows of X that pass visits) from ``model_init`` (scaled units); ``seed`` of the model and gradient
        rounding (default: the config's). Returns the kernel's SgdResult with the history as
        float64 in scaled units, the predictions as the kernel made them (Q16 int32, or
        float32 for fp32: what ``pass_loss`` reads) and refetches only where rows can be
        refetched."""
        if data.lines is not None and not isinstance(data.lines, np.ndarray):
            # lines held elsewhere (zipml_hls.dask.RemoteLines): the kernel runs where they are
            return data.lines.run(self, data, epochs, step_shift, decay, model_init, order, seed)
        config, kernels = self.config, self.kernels
        labels = self.labels if order is None else self.labels[order]
        weights = self.kernel_weights
        if weights is not None and order is not None:
            weights = weights[order]
        d = data.n_features
        if data.lines is None:
            scale = None if self.shifts is None else np.exp2(self.shifts).astype(np.float32)
            out = kernels.sgd_fp32(data.scaled, labels, epochs, step_shift, decay, model_init.astype(np.float32),
                                   loss=config.loss, rows=data.rows, step_scale=scale, centers=self.centers,
                                   weights=weights, decay=self.decay, l1=self.l1, fit_intercept=config.fit_intercept)
            return out._replace(history=out.history.astype(np.float64))
        init = F.to_fixed(model_init, F.MODEL_FRAC)
        if LOSSES[config.loss].kernel == "polynomial":
            out = kernels.sgd_logistic(data.lines, labels, d, config.bits, data.sampling, config.poly_degree + 1,
                                       epochs, step_shift, decay, F.dot_mult(config.bits), self.poly.fixed_coef(),
                                       self.poly.range_q16(), init, seed=config.seed if seed is None else seed,
                                       rows=data.rows, sample_weights=weights, decay=self.decay, l1=self.l1,
                                       feature_shifts=self.shifts, centers=self.centers,
                                       fit_intercept=config.fit_intercept)
        else:
            tables = data.level_values
            dot_mult = F.dot_mult(config.bits) if tables is None else F.TABLE_DOT_MULT
            out = kernels.sgd_linear(data.lines, labels, d, config.bits, data.sampling, epochs, step_shift, decay,
                                     dot_mult, init, values=tables, loss=config.loss, model_bits=config.model_bits,
                                     grad_bits=config.grad_bits, model_quantization=config.model_quantization,
                                     seed=config.seed if seed is None else seed,
                                     full=data.full, feature_shifts=self.shifts, centers=self.centers,
                                     rows=data.rows, stored_variance=self.stored_variance, sample_weights=weights,
                                     decay=self.decay, l1=self.l1, fit_intercept=config.fit_intercept)
        return out._replace(history=out.history.astype(np.float64) / (1 << F.MODEL_FRAC),
                            refetches=out.refetches if data.full is not None else None)

    def pass_loss(self, result: SgdResult, order: np.ndarray | None = None) -> tuple[float, float]:
        """The training loss (scaled units) of the last epoch of ``result``: the mean of
        the loss's estimate from the predictions the kernel made during that pass
        (``Loss.pass_estimate``), and the standard error that the quantization draws give
        that mean (``Loss.pass_noise``: large for 1- and 2-bit double sampling on small
        data, 0 for fp32); ``order``: the rows that pass visited. One native pass over the
        kernel's own predictions and labels (the same bits as those NumPy definitions,
        without the GIL). With the stored-rounding correction the estimate is of the loss at
        the stored values, which exceeds the data's by 0.5 sum_j V_j w_j^2 in expectation
        over that rounding: that is taken off, with the pass's last model (the kernel's
        correction is per visit: with ``visits`` the rows' mean weight is that many per
        row times the visits')."""
        mean, error = get_backend("hls").pass_loss(result.predictions, self.labels, self.config.loss, order,
                                                   self.pass_weights)
        if self.stored_variance is not None:
            w = result.history[-1, :-1]
            stored = float(self.stored_variance.astype(np.float64) @ (w * w)) / 2.0**F.VARIANCE_FRAC
            mean -= 0.5 * stored * self.visits_per_row
        return mean, error

    def zero_loss(self) -> float:
        """The training loss (scaled units) of the zero model: the baseline a run must beat."""
        labels = self.labels.astype(np.float64)
        y = labels / (1 << F.LABEL_FRAC) if self.config.quantized else labels
        per_sample = LOSSES[self.config.loss].objective(y, 0.0)
        return float(np.mean(per_sample if self.weights is None else per_sample * self.weights))


@dataclass(frozen=True)
class EpochStats:
    """One epoch of every target: losses (T,) from the kernel's pass (scaled units) and
    their standard errors (T,), samples whose step saturated (T,) (zeros for fp32) and
    samples refetched (T,) or None (no refetching)."""

    losses: np.ndarray
    loss_errors: np.ndarray
    saturations: np.ndarray
    refetches: np.ndarray | None


def block_seed(seed: int, block: int) -> int:
    """The kernel seed of block ``block`` of a sharded pass whose epoch seed is ``seed``."""
    return int(stream_key(seed, STREAM_BLOCK, block, 0)[0])


def pass_rounds(n: int, jobs: int, block_rows: int):
    """The rounds of a sharded pass over ``n`` rows (``sharded_pass``): for each, its blocks
    as (block, first position, end position) in the pass."""
    step = jobs * block_rows
    for start in range(0, n, step):
        size = block_rows if n - start >= step else -(-(n - start) // jobs)  # the last round: even blocks
        yield [(start // block_rows + k, a, min(a + size, n))
               for k, a in enumerate(range(start, min(start + step, n), size))]


def sharded_pass(run, data: Prepared, order: np.ndarray | None, model: np.ndarray, shift: int, seed: int,
                 jobs: int, block_rows: int, map_fn) -> SgdResult:
    """One epoch of one target on ``jobs`` workers (local SGD with model averaging),
    deterministic for a given ``jobs`` and the same on both backends.

    The pass (its rows in visiting order) is cut into rounds of ``jobs`` consecutive
    blocks of ``block_rows`` rows; the last round, shorter, into blocks of ceil(rows /
    jobs) rows (so fewer than ``jobs`` of them when that leaves some empty). In a round,
    each block runs the kernel from the round's model, block b with seed ``block_seed(seed,
    b)`` and, when the round has two blocks or more, twice the step; the round's model is
    the mean of its blocks' models (float64 in scaled units; the next call rounds it to the
    kernel's format). With two workers the doubled step keeps one worker's progress per
    epoch in flat directions (the mean of two moves of 2 eta times a block's gradient is
    one move of eta times the two blocks' gradients); in stiff directions each worker
    converges within its block and the mean keeps that. More workers keep the doubled step
    (a larger one would leave the auto step's stability margin), so their progress per
    epoch in flat directions is 2 / jobs of one worker's. ``map_fn(fn, items)`` runs a
    round's blocks (in parallel). Returns the combined model and the pass's predictions
    and counts in pass order."""
    visit = data.rows if data.rows is not None else np.arange(
        data.scaled.shape[0] if data.lines is None else data.lines.shape[1])
    labels = order if order is not None else np.arange(visit.size)
    predictions, saturations, refetches = [], 0, None
    for blocks in pass_rounds(visit.size, jobs, block_rows):
        block_shift = max(1, shift - (len(blocks) > 1))  # twice the step: the mean of two moves
        results = map_fn(lambda blk: run(replace(data, rows=visit[blk[1]:blk[2]]), 1, block_shift, 0, model,
                                         labels[blk[1]:blk[2]], block_seed(seed, blk[0])), blocks)
        model = np.mean([r.history[0] for r in results], axis=0)
        for r in results:
            predictions.append(r.predictions)
            saturations += 0 if r.saturations is None else int(r.saturations[0])
            if r.refetches is not None:
                refetches = (refetches or 0) + int(r.refetches[0])
    return SgdResult(history=model[None], predictions=np.concatenate(predictions),
                     saturations=np.array([saturations]),
                     refetches=None if refetches is None else np.array([refetches]))


def run_epoch(data: EpochData, runs: list, epoch: int, shift: int, models: np.ndarray,
              prefetch: bool = True) -> EpochStats:
    """Epoch ``epoch`` at step 2^-shift for every target (``runs[t]`` from ``models[t]``,
    updated in place) on that epoch's data, the kernel's draws (double data's samples,
    model and gradient rounding) with the epoch's seed. With ``n_jobs`` > 1 several
    targets run in parallel (the same bits as one worker), and a single target's pass runs
    in blocks (``sharded_pass``)."""
    epoch_data, order = data.epoch(epoch, prefetch)
    config, seed = data.config, data.config.kernel_seed(epoch)
    if config.n_jobs > 1 and len(runs) == 1:
        results = [sharded_pass(runs[0], epoch_data, order, models[0], shift, seed, config.n_jobs, config.block_rows,
                                data.map)]
    else:
        results = list(data.map(lambda t: runs[t](epoch_data, 1, shift, 0, models[t], order, seed), range(len(runs))))
    for t, result in enumerate(results):
        models[t] = result.history[0]
    losses, errors = np.array([run.pass_loss(r, order) for run, r in zip(runs, results)]).T
    saturations = np.array([0 if r.saturations is None else int(r.saturations[0]) for r in results])
    refetched = None if results[0].refetches is None else np.array([int(r.refetches[0]) for r in results])
    return EpochStats(losses, errors, saturations, refetched)


def train(data: EpochData, runs: list, epochs: int, models: np.ndarray, on_epoch=None):
    """``epochs`` epochs of the fixed schedule for every target (``runs[t]`` from
    ``models[t]``, d weights + intercept in scaled units), one kernel call per epoch and
    target, every target on that epoch's data.

    Returns the (T, epochs, d+1) float64 histories in scaled units and the EpochStats of
    every epoch. ``on_epoch(e, stats)`` is called after each epoch.
    """
    config = data.config
    check_allocation(8.0 * len(runs) * epochs * models.shape[1], f"the model history of {epochs} epochs")
    history = np.empty((len(runs), epochs, models.shape[1]))
    current = np.array(models, dtype=np.float64)
    stats = []
    for e in range(epochs):
        stats.append(run_epoch(data, runs, e, epoch_shift(config.step_shift, config.decay_epochs, e), current,
                               prefetch=e + 1 < epochs))
        history[:, e] = current
        if on_epoch is not None:
            on_epoch(e, stats[-1])
    return history, stats
