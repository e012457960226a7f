"""Step-size policy of the estimators: the initial power-of-two step and the adaptive
halving schedule (the kernels' own fixed schedule is ``spec.schedule``; the per-feature
step multipliers are ``conditioning``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .backend import get_backend
from .scaling import FeatureSummary, sample_rows
from .spec import format as F

#: Rows spread over the data (``scaling.sample_rows``) whose rounding variances the set-up uses.
SAMPLED_ROWS = 4096


@dataclass(frozen=True)
class RoundingStats:
    """What the set-up needs of the rounding variances (L_k+1 - a)(a - L_k) of stochastic
    rounding of sampled scaled values a (``of``): at the levels of ``bits`` bits (uniform,
    or the data's level tables), each feature's mean Var[Q(a)] (``mean``, for the
    conditioning), the largest sum of them over a row (``row_max``, for the step), and each
    feature's mean variance of double data's one-time rounding to the fine grid, which cuts
    each interval between levels into 2^FRACTION_BITS (``stored``, the stored-rounding
    correction). float64, scaled units squared. ``at_levels``: whether they are at the
    data's own levels (False: an older quantized file of optimal levels, which kept uniform
    levels' variances; no correction from those, docs/FORMATS.md section 10)."""

    mean: np.ndarray
    row_max: float
    stored: np.ndarray
    at_levels: bool = True

    @classmethod
    def of(cls, X: np.ndarray, scaling, bits: int, table: np.ndarray | None = None,
           m: int = SAMPLED_ROWS) -> "RoundingStats":
        """Of about ``m`` rows of X spread over it (``scaling.sample_rows``; every row when X
        has at most ``m``), scaled by ``scaling`` (a FeatureScaling), at uniform levels or
        at the level tables ``table`` (Q0.24, (d, 2^bits), ``QuantizedData.level_table``):
        one native pass over those rows, without a scaled copy (uniform levels' variances in
        float32, as the scaled values; tables' in float64)."""
        rows = sample_rows(X.shape[0], m)
        mean, row_max, stored = get_backend("hls").rounding_stats(X, None if rows.size == X.shape[0] else rows,
                                                                   scaling.lo, scaling.inv, bits, table)
        return cls(mean=mean, row_max=row_max, stored=stored)


#: The relative ridge the stored-rounding correction may leave on a feature (``correction_margin``).
CORRECTION_BIAS = 0.005


def correction_margin(var: np.ndarray, stored: np.ndarray, bias: float = CORRECTION_BIAS) -> np.ndarray:
    """Each feature's share of its stored rounding's variance V_j that the stored-rounding
    correction leaves in: min(1/2, bias var_j / V_j), a ridge of at most ``bias`` times
    the feature's own variance ``var_j`` (scaled units), so its coefficient is pulled
    towards zero by at most about that share. Why any: the correction takes V_j w_j off
    the gradient, but along directions the data do not span (duplicated or re-expressed
    columns) the stored rounding's curvature is all there is, and its realised value over
    the rows, like the estimate of V_j, is off by a few percent, so a full correction
    leaves those directions flat or unstable and the weights' difference there wanders
    far (2 bits, 200000 rows, 3 columns repeated in other units: 2.3-6.8x least squares
    with a full correction, 1.01-1.12x with this ridge). Skewed and
    squeezed columns, whose V_j is near var_j, keep almost all of theirs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(stored > 0, np.minimum(0.5, bias * np.asarray(var) / stored), 0.5)


def _float32_weights(weight: np.ndarray) -> tuple[np.ndarray, int]:
    """(weight / 2^drop as float32, drop): features of a range near float32's smallest (inv
    near its largest) would overflow float32, so their weights go in divided by a power of
    two, and the bound comes out multiplied by it."""
    drop = int(np.ceil(np.log2(weight.max() / 2.0**100))) if weight.size and weight.max() > 2.0**100 else 0
    return (weight / 2.0**drop).astype(np.float32), drop


def row_bounds(X: np.ndarray, scaling, conditioning=None) -> tuple[float, float]:
    """(R, S) of ``auto_step_shift``: R = max_i sum_j 2^p_j |a_ij - m_j| and S = max_i
    sum_j 2^p_j (a_ij - m_j)^2, in one native pass over X itself (no scaled copy), as
    sums of 2^p_j inv_j |x_ij - c_j| and (2^(p_j/2) inv_j (x_ij - c_j))^2 with c_j = lo_j +
    m_j / inv_j in float32 (the same sums up to that rounding, which can make them larger
    where |lo_j| is far above the feature's range; values outside the fitted range count
    unclipped; both only ever give a smaller step). Each row's sums are its own, so the
    maxima over chunks of X are the maxima over X."""
    (bound, square_bound), = _row_bounds(X, scaling, [conditioning])
    return float(bound), float(square_bound)


def row_bounds_both(X: np.ndarray, scaling, conditioning) -> np.ndarray:
    """``row_bounds`` without and with ``conditioning`` from the same pass over X: [R, S, R
    conditioned, S conditioned] (``DataStats.of_bounds``' order)."""
    return _row_bounds(X, scaling, [None, conditioning]).ravel()


def _row_bounds(X: np.ndarray, scaling, conditionings) -> np.ndarray:
    """(R, S) of ``row_bounds`` for each of ``conditionings`` (None: m = 0, p = 0) as the
    rows of a (k, 2) array, from one native pass over X."""
    d = X.shape[1]
    inv = scaling.inv.astype(np.float64)
    origins, weights, roots, scales = [], [], [], []
    for conditioning in conditionings:
        shifts = np.zeros(d) if conditioning is None else conditioning.shifts
        centers = np.zeros(d) if conditioning is None else conditioning.centers
        weight, drop = _float32_weights(np.exp2(shifts) * inv)
        root, drop_root = _float32_weights(np.exp2(shifts / 2.0) * inv)
        origins.append(np.where(inv > 0, scaling.lo + centers / np.where(inv > 0, inv, 1.0), scaling.lo))
        weights.append(weight)
        roots.append(root)
        scales.append([2.0**drop, 4.0**drop_root])
    bounds = get_backend("hls").weighted_row_bound(X, np.array(origins, dtype=np.float32), np.array(weights),
                                                   np.array(roots))
    return bounds * np.array(scales)


def _exponent(x: float) -> int:
    """ceil(log2(x)) clipped to the kernels' step exponents [1, MAX_SHIFT]."""
    return int(min(F.MAX_SHIFT, max(1, math.ceil(math.log2(x)))))


def step_shift_of(bound: float, row_variance: float, damped: bool) -> int:
    """A step exponent of ``auto_step_shift`` from a row bound (R, or S for the undamped
    start's doublings, ``row_bounds``) and V (``RoundingStats.row_max``; 0 at 32 bits):
    ceil(log2(bound + 1 + V)), or with ``damped`` (``damps_noise``) ceil(log2((bound + 1)
    (1 + V))), clipped to [1, MAX_SHIFT]."""
    return _exponent((bound + 1.0) * (1.0 + row_variance) if damped else bound + 1.0 + row_variance)


#: The rounding share (``rounding_share``) above which the adaptive schedule starts damped
#: too: log-normal features at 2 bits, 2.4, trained better damped (held-out R^2 0.617 against
#: 0.553), Gaussian ones, 1.0-1.2, far better undamped on wide data.
NOISY_ROUNDING = 2.2


def rounding_share(mean_rounding: np.ndarray, var: np.ndarray) -> float:
    """sum_j Var[Q(a_j)] / sum_j var_j: stochastic rounding's variance against the
    features' own (``RoundingStats.mean`` and the features' variances, scaled units). About
    1 for Gaussian features at 2 bits and 12 at 1 bit, 2 for uniform ones at 1 bit, 0 for
    0/1 columns at 1 bit, 13.5 for Student-t (3 degrees of freedom) features at 2 bits,
    whose far tails squeeze the rest into the middle of the range."""
    total = float(np.sum(var))
    return float(np.sum(mean_rounding)) / total if total > 0 else 0.0


def damps_noise(bits: int, share: float, adaptive: bool) -> bool:
    """Whether the automatic step is also divided by 1 + V (``auto_step_shift``): under a
    fixed schedule (``adaptive`` False), whose start bounds every later step, at 1 bit, and
    where the rounding share (``rounding_share``) passes NOISY_ROUNDING. (At 1 bit uniform
    features, share 2, and skewed tabular ones ended further off undamped in 20 epochs.)"""
    return not adaptive or bits == 1 or share > NOISY_ROUNDING


def spread_share(var: np.ndarray) -> float:
    """The rounding share (``rounding_share``) that 2 bits' uniform levels would give
    features of scaled variances ``var`` whose values spread evenly within their intervals:
    1/54 (Delta^2 / 6 at Delta = 1/3) per varying feature over sum_j var_j. About 1.2 for
    Gaussian columns, 0.2 for uniform ones, 4 and more for log-normal and Student-t ones:
    whether the features fill their ranges or tails squeeze them, which the share at 1 bit
    (about 15 for Gaussian and log-normal columns alike) does not tell. From the features'
    moments only, so fit(X) and fit(quantize(X)) agree."""
    var = np.asarray(var, np.float64)
    total = float(np.sum(var))
    return float(np.count_nonzero(var > 0)) / 54.0 / total if total > 0 else 0.0


#: The rounding share (``rounding_share``) up to which an undamped adaptive start may double
#: towards S's rule (``automatic_start``): about 0.04 for Gaussian features at 4 bits, 0.2 for
#: uniform ones at 2 bits and 1 for Gaussian ones, 0 at 32 bits.
QUIET_ROUNDING = 0.1


def automatic_start(bound: float, square_bound: float, row_variance: float, share: float, bits: int,
                    adaptive: bool, spread: float = 0.0, flatter: int = 0,
                    doublings: int = 0) -> tuple[int, int, int, bool]:
    """(step exponent, extra halvings, raises, persistent) of ``eta0='auto'`` from R and S
    (``row_bounds``), V (``RoundingStats.row_max``), the rounding share
    (``rounding_share``) and the ``spread_share``: the undamped start and its extra
    halvings down to the damped one, or, where ``damps_noise``, the damped start and no
    extra halvings; how often ``AdaptiveSchedule`` may double the step (``raises``), and
    whether a persistent fall earns a doubling too (``persistent``, below).

    R bounds the squared row norm S reads exactly (|a - m| >= (a - m)^2 for scaled values),
    so S's rule, ceil(log2(S + 1 + V)), keeps every row's step within its residual as R's
    does, at a larger step (by R / S: a few powers of two on sparse rows and where rows
    are wide against their count, which R's start trains far too slowly: 3500 x 2000, 1%
    filled, fp32 held-out R^2 0.918-0.930, least squares 0.989). Starting there, when it
    was tried, cost well-conditioned data more halvings than their epochs allowed (fp32
    training loss 3% higher after 20 epochs on 5000 x 20 uniform rows) and low-bit runs
    their noise floor (lognormal-weighted rows at 2 bits: held-out R^2 0.69 against 0.83).
    So an adaptive schedule whose rounding is quiet (``share`` at most QUIET_ROUNDING: 4
    bits and more on Gaussian features) starts at R's rule and may double up to S's where
    its loss falls steadily and slowly, or falls for twice as long at any pace
    (``persistent``, ``AdaptiveSchedule``): such rows fell by 10-45% an epoch from R's
    start for 15 epochs (dense 3500 x 2000 at 4 bits: held-out R^2 0.955-0.958 without
    those doublings, 0.983-0.986 with them, 0.992-0.994 at the best fixed step;
    ``python scripts/sparse_regression.py``), well-conditioned data, quick to converge, by
    more than 1% for a few epochs only.

    The damped start of an adaptive schedule at 1 bit on features that fill their ranges
    (``spread`` at most NOISY_ROUNDING: damped for the width, not for the tails) may double
    up to one time less than the damping halved it, staying below the undamped start.
    Heavy tails keep the damped start: doubling it there (log-normal columns at 1 bit,
    Student-t ones at 2 bits) ended worse (least squares; ``doublings`` below lifts these
    bounds for the losses that take it).

    A loss whose second derivative in f is at most 2^-``flatter`` (``Loss.flatter``) keeps
    eta (R + 1) 2^-flatter <= 1 at an undamped start ``flatter`` powers of two larger (at
    most 1/2), halving as far as before. (log_loss, 2: one-vs-rest on iris at 8 bits ended
    at 1.29x LogisticRegression's training log loss from least squares' start, 1.16x from
    this one, and 4-bit breast cancer, wine and digits 24-52% lower;
    ``python scripts/log_loss_start.py``.)

    ``doublings`` (``Loss.doublings``: the hinge and squared hinge) raises an adaptive
    schedule's doublings to at least that many, persistent falls counted, from either start."""
    if adaptive and doublings:  # (a loss's own doublings, ``Loss.doublings``: persistent falls count)
        shift, extra, raises, _ = automatic_start(bound, square_bound, row_variance, share, bits, adaptive, spread,
                                                  flatter)
        return shift, extra, max(raises, doublings), True
    damped_shift = step_shift_of(bound, row_variance, True)
    if not damps_noise(bits, share, adaptive):
        shift = max(1, step_shift_of(bound, row_variance, False) - flatter)
        quiet = adaptive and share <= QUIET_ROUNDING
        raises = max(0, shift - max(1, step_shift_of(square_bound, row_variance, False) - flatter)) if quiet else 0
        return shift, damped_shift - shift, raises, raises > 0
    fills = adaptive and bits == 1 and spread <= NOISY_ROUNDING
    raises = max(0, damped_shift - step_shift_of(bound, row_variance, False) - 1) if fills else 0
    return damped_shift, 0, raises, False


def weight_start(weights: np.ndarray | None, adaptive: bool) -> tuple[int, int]:
    """(halvings of the automatic start, extra halvings of the adaptive schedule) that
    sample weights ``weights`` (on the kernels' scale; None: none) take. A row of weight u
    steps u times as far, and the start keeps eta (R + 1) <= 1, half of where a step
    overshoots its row's residual. A fixed schedule, whose start bounds every later step,
    keeps the heaviest row within that: weights up to 2 keep the step, heavier ones lower
    it by ceil(log2(u_max / 2)). SGD is stable in mean square (the error shrinks in
    expectation over the rows) while eta (R + 1) E[u^2] / E[u] < 2, so the adaptive
    schedule keeps that at most 2, starting lower by ceil(log2(E[u^2] / (2 E[u]))) only,
    and may halve as far as the heaviest row's rule besides. (The heaviest row's start cut
    the step of Exponential(1) weights 8x on 2250 rows, where E[u^2] / E[u] is 2: held-out
    R^2 0.862-0.935 at 4 bits against 0.969-0.971, weighted Ridge 0.981-0.985;
    ``python scripts/weighted_rows.py``, docs/API.md.)"""
    if weights is None or not np.any(weights):
        return 0, 0
    heaviest = max(0, math.ceil(math.log2(float(weights.max()) / 2.0)))
    if not adaptive:
        return heaviest, 0
    stable = max(0, math.ceil(math.log2(float(np.mean(np.square(weights)) / np.mean(weights)) / 2.0)))
    return stable, max(0, heaviest - stable)


#: ``AdaptiveSchedule``'s longest run of epochs without a halving, without sample weights.
HALVE_EVERY = 20


def weight_spread(weights: np.ndarray) -> float:
    """n / n_eff = E[u^2] / E[u]^2 of sample weights (not all 0): how much noisier
    weighted SGD is than at even weights, at the same mean step. 1 exactly for equal
    weights (taken as 1 + Var[u] / E[u]^2)."""
    return 1.0 + float(np.var(weights) / np.mean(weights) ** 2)


def halve_every(weights: np.ndarray | None) -> int:
    """The adaptive schedule's longest run of epochs without a halving: HALVE_EVERY, times
    ``weight_spread`` for sample weights (the rows' effective share: weighted SGD at its
    stable step gains that much less per epoch), at most 4 HALVE_EVERY. Fixed by the
    weights of fit, or of partial_fit's first call."""
    if weights is None or not np.any(weights):
        return HALVE_EVERY
    return int(min(4 * HALVE_EVERY, math.ceil(HALVE_EVERY * weight_spread(weights))))


def auto_step_shift(X: np.ndarray, scaling, bits: int, conditioning=None, rounding: RoundingStats | None = None,
                    adaptive: bool = True) -> int:
    """Initial step for least-squares SGD: eta = 2^-ceil(log2(R + 1 + V)), or
    2^-ceil(log2((R + 1)(1 + V))) under a fixed schedule (``adaptive`` False), at 1 bit and
    where stochastic rounding is noisy against the features (``damps_noise``).

    R = max_i sum_j 2^p_j |a_ij - m_j| bounds E||Q(a_i) - m||^2 weighted by the per-feature
    step multipliers (for levels in [0, 1], E[(Q(a) - m)^2] <= |a - m| + Var), so
    eta (sum_j 2^p_j (Q(a)_j - m_j)^2 + 1) <= 1 on average: stable for the fp32 baseline.
    (S = max_i sum_j 2^p_j (a_ij - m_j)^2 reads that norm exactly; the adaptive schedule
    may double up to its rule where rounding is quiet, ``automatic_start``.)
    V = max_i sum_j Var[Q(a_ij)] is the rounding variance of a row (0 at 32 bits), which
    adds to E||Q(a_i) - m||^2: the sum keeps the double-sampled update w -= eta Q2 (Q1^T w - b)
    stable. Its noise eta Q2 (Q1 - a)^T w sets the loss the run settles at; the adaptive
    schedule halves the step down to where that noise is small (extra halvings), so
    it starts at the sum. A fixed schedule cannot. And at 1 bit, and where the rounding
    variance passes about twice the features' own (``rounding_share``: heavy tails at 2
    bits), that noise drove the sum's larger steps far off before the schedule halved them,
    and the weights stayed there (Student-t features at 2 bits: held-out R^2 0.13-0.62
    against 0.81-0.85): those divide the step by 1 + V too. From that product's start, 2
    bits on 5000 x 2000 Gaussian rows reached training R^2 0.40, from the sum's 0.95
    (``python scripts/wide_regression.py --rows 5000 --features 2000 --bits 2``, with
    ``--eta0 3.814697265625e-06`` for the product's). ``a`` is X scaled by ``scaling`` (a
    FeatureScaling); R and S are ``row_bounds``; ``conditioning``: the centers m_j and exponents
    p_j (``conditioning.Conditioning``; None: m = 0, p = 0); V is ``rounding.row_max`` over
    sampled rows (``RoundingStats.of(X, scaling, bits)``; None: computed here).
    """
    v, share = 0.0, 0.0
    if bits != F.FULL_PRECISION:
        rounding = RoundingStats.of(X, scaling, bits) if rounding is None else rounding
        v, share = rounding.row_max, rounding_share(rounding.mean, FeatureSummary.of(X, scaling=scaling).var)
    return automatic_start(*row_bounds(X, scaling, conditioning), v, share, bits, adaptive)[0]


#: The halvings after which ``AdaptiveSchedule`` may stop (the estimators add ``automatic_start``'s extra ones).
ADAPTIVE_HALVINGS = 6

#: The relative gains on the epoch before that ``AdaptiveSchedule`` counts towards a raise:
#: at least RAISE_GAIN (a loss that falls steadily) and at most RAISE_CEILING (not yet the
#: descent of a step that already works).
RAISE_GAIN, RAISE_CEILING = 0.01, 0.1


class AdaptiveSchedule:
    """Halve the step when the training loss has not improved by ``tol`` (relative) and by
    ``noise_z`` standard errors for ``n_iter_no_change`` epochs, and at least every
    ``halve_every`` epochs (a loss that creeps down at too large a step still gets a
    smaller one); stop when, after ``max_halvings`` halvings, it has also not improved by
    ``tol`` alone for ``n_iter_no_change`` epochs. Improvements are relative to the best
    loss or ``floor``, whichever is larger: a loss that can fall towards 0 (a margin loss on
    separable classes) then stops once its gains are below ``tol * floor``, instead of
    counting ever smaller gains as relative progress.

    A damped start (``automatic_start``) can be far below the step the data take: 1 bit on
    Gaussian features, where the rounding variance V of a row is 12 times the features' own,
    divides it by 1 + V, and a loss that falls by 1.5% an epoch then gets its forced
    halvings long before it is done (make_regression 15000 x 500 at 1 bit: held-out R^2
    0.30). So before its first halving the schedule doubles the step, up to ``raises``
    times (``automatic_start`` gives such starts their count, and quiet undamped starts
    theirs, up to S's rule: rows wide against their count converge slowly from R's), after
    ``n_iter_no_change`` epochs in a row that each gain RAISE_GAIN (or ``tol``, if larger)
    on the epoch before beyond ``noise_z`` standard errors, but less than RAISE_CEILING
    (larger gains are the descent of a step that works), or, with ``persistent`` (quiet
    undamped starts), after twice as many epochs in a row of such gains at any pace; each
    doubling allows one more halving. A doubling whose first epoch ends above the epoch before it is
    undone, and no more follow. (R^2 0.789 and 0.828 there, seeds 0 and 1:
    ``test_one_bit_on_gaussian_features_trains_past_its_damped_start``.)"""

    def __init__(self, step_shift: int, tol: float, n_iter_no_change: int, max_halvings: int = ADAPTIVE_HALVINGS,
                 halve_every: int = HALVE_EVERY, noise_z: float = 3.0, floor: float = 0.0, raises: int = 0,
                 persistent: bool = False):
        self.shift = step_shift
        self.tol, self.patience, self.noise_z, self.floor = tol, n_iter_no_change, noise_z, floor
        self.max_halvings, self.halve_every, self.raises = max_halvings, halve_every, raises
        self.persistent, self.falling = persistent, 0
        self.best, self.stale, self.halvings, self.since = np.inf, 0, 0, 0
        self.lowest, self.flat, self.previous, self.fast = np.inf, 0, np.inf, 0
        self.window_total, self.window_squares, self.window_rows = 0.0, 0.0, 0

    #: What ``state`` holds: the step exponent, the floor, the counts of ``update``, the
    #: halvings and doublings it may make, its ``halve_every``, the last epoch's loss,
    #: whether persistent falls earn doublings and ``update_window``'s partial window (states
    #: saved without the optional ones had ADAPTIVE_HALVINGS, HALVE_EVERY, no doublings and
    #: an empty window).
    STATE = ("shift", "floor", "best", "lowest", "stale", "halvings", "since", "flat", "max_halvings", "halve_every",
             "raises", "fast", "previous", "persistent", "falling", "window_total", "window_squares", "window_rows")
    OPTIONAL = {"max_halvings", "halve_every", "raises", "fast", "previous", "persistent", "falling", "window_total",
                "window_squares", "window_rows"}

    def state(self) -> dict:
        """The schedule's step and counts, for a model file (bests not yet set as None)."""
        return {name: (None if getattr(self, name) == np.inf else getattr(self, name)) for name in self.STATE}

    @classmethod
    def resumed(cls, state: dict, tol: float, n_iter_no_change: int) -> "AdaptiveSchedule":
        """A schedule that goes on from ``state`` (``state()``'s) with these settings."""
        schedule = cls(int(state["shift"]), tol, n_iter_no_change,
                       max_halvings=int(state.get("max_halvings", ADAPTIVE_HALVINGS)),
                       halve_every=int(state.get("halve_every", HALVE_EVERY)), floor=float(state["floor"]),
                       raises=int(state.get("raises", 0)), persistent=bool(state.get("persistent", False)))
        for name in ("best", "lowest", "previous"):
            setattr(schedule, name, np.inf if state.get(name) is None else float(state[name]))
        for name in ("stale", "halvings", "since", "flat", "fast", "falling", "window_rows"):
            setattr(schedule, name, int(state.get(name, 0)))
        for name in ("window_total", "window_squares"):
            setattr(schedule, name, float(state.get(name, 0.0)))
        return schedule

    def _improved(self, best: float) -> float:
        """The loss below which ``best`` counts as improved on: best - tol max(best, floor)
        (written so that best = inf, before the first epoch, gives inf)."""
        return min(best * (1 - self.tol), best - self.tol * self.floor)

    def update_window(self, loss: float, error: float, rows: int, window: int) -> None:
        """partial_fit's ``update``: record a call's pass loss and standard error over its
        ``rows`` rows, and once the calls since the last update hold ``window`` rows, update
        with their row-weighted mean loss and its standard error (the stopping rule has no
        say: every call runs its epoch). A loss that is not finite is left out of the window,
        as ``update`` leaves it out of the counts."""
        if not np.isfinite(loss) or not np.isfinite(error):
            return
        self.window_total += loss * rows
        self.window_squares += (error * rows) ** 2
        self.window_rows += rows
        if self.window_rows >= window:
            held = self.window_rows
            loss, error = self.window_total / held, float(np.sqrt(self.window_squares)) / held
            self.window_total, self.window_squares, self.window_rows = 0.0, 0.0, 0
            self.update(loss, error)

    def update(self, loss: float, error: float = 0.0) -> bool:
        """Record an epoch's loss and the standard error that the quantization draws give
        it (``KernelRun.pass_loss``); returns True when training should stop.

        The step halves on improvements beyond the noise: the estimates of 1- and 2-bit
        double sampling on small data would otherwise set new bests by chance and keep the
        step large. Training stops only when the loss is flat without that margin too: a
        loss that still creeps down by less than its noise keeps training, at ever smaller
        steps. With ``error`` 0 both rules are the same."""
        if not np.isfinite(loss):
            return True
        self.since += 1
        # (the first epoch has no epoch before it: it does not count)
        gain, before = max(RAISE_GAIN, self.tol), self.previous
        falls = np.isfinite(before) and loss < before * (1 - gain) - self.noise_z * error
        self.fast = self.fast + 1 if falls and loss > before * (1 - RAISE_CEILING) else 0
        self.falling = self.falling + 1 if falls else 0
        self.previous = loss
        if self.halvings == 0 and self.since == 1 and np.isfinite(before) and loss > before:
            # the first epoch after a doubling (the only change that leaves no halving) lost
            # ground: back to the step before, and no more doublings (nor another undoing:
            # the next epoch has no epoch before it at its step)
            self.shift, self.raises = min(self.shift + 1, F.MAX_SHIFT), 0
            self.max_halvings = max(0, self.max_halvings - 1)
            self.stale, self.since, self.flat, self.fast, self.previous = 0, 0, 0, 0, np.inf
            return False
        if loss < self._improved(self.best) - self.noise_z * error:
            self.best, self.stale = loss, 0
        else:
            self.stale += 1
        if loss < self._improved(self.lowest):
            self.lowest, self.flat = loss, 0
        else:
            self.flat += 1
        persists = self.persistent and self.falling >= 2 * self.patience
        if self.raises and self.halvings == 0 and (self.fast >= self.patience or persists):
            self.shift, self.raises, self.max_halvings = max(1, self.shift - 1), self.raises - 1, self.max_halvings + 1
            self.stale, self.since, self.flat, self.fast, self.falling = 0, 0, 0, 0, 0
            return False
        if self.stale >= self.patience or self.since >= self.halve_every:
            if self.flat >= self.patience and (self.halvings >= self.max_halvings or self.shift >= F.MAX_SHIFT):
                return True
            self.shift = min(self.shift + 1, F.MAX_SHIFT)
            self.halvings, self.stale, self.since, self.flat = self.halvings + 1, 0, 0, 0
        return False
