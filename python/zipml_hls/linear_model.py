"""scikit-learn estimators trained by the ZipML low-precision SGD kernels."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import engine
from .ingest import quantize_sparse
from ._validation import (_all_finite, check_bits, check_choice, check_int, check_matrix, check_seed, check_sparse,
                          numeric_input, one_line)
from .backend import BACKENDS, get_backend
from .polynomial import logistic_polynomial
from .levels import TABLE_METHODS, is_shared
from .quantize import LEVELS, REQUANTIZE_MAX_VALUES, QuantizedData, check_labels, optimal_level_table
from .scaling import (LABEL_REACH, MIN_STRETCH, FeatureScaling, FeatureSummary, LabelScaling, sample_rows,
                      stretched_features, unscale_models)
from .spec import format as F
from .spec.losses import CLASSIFIER_LOSSES, LOSSES
from .spec.schedule import epoch_shift, step_shift_from_eta
from .conditioning import Conditioning
from .step_size import (ADAPTIVE_HALVINGS, HALVE_EVERY, SAMPLED_ROWS, AdaptiveSchedule, RoundingStats,
                        automatic_start, correction_margin, halve_every, rounding_share, row_bounds, spread_share,
                        weight_spread, weight_start)

_MAX_BACKOFF = 8
#: The largest |weight| (scaled units) a run may reach before fit widens the label scale and
#: starts again: half the kernels' Q7.24 range of +-128, past which the model wraps.
MODEL_HEADROOM = 64.0
#: The rounding share (``step_size.rounding_share``) above which ``_warn_rounding_noise`` warns,
#: at 2 and 3 bits.
NOISY_ROUNDING_WARNING = 3.0

#: The smallest class, as a share of the rows and in rows, whose loss ``_warn_majority``
#: reports: at 1 bit squared hinge predicted none of a 1.6% class (tests/test_losses.py).
MINORITY_SHARE, MINORITY_ROWS = 0.005, 20

#: Values per block of ``_decision_blocks`` (16 MiB in float64): of float32 X's rows copied to
#: float64, else of the products.
JUDGED_VALUES = 1 << 21

#: partial_fit cannot start again: it warns once labels or weights pass this (3/4 of +-128).
PARTIAL_FIT_RANGE = 96.0
PENALTIES = ("l2", "l1", "elasticnet", None)
#: sample weights are Q16 in the kernels (int32): below 2^15
MAX_SAMPLE_WEIGHT = float(2**15)
#: the settings a fitted model's kernel state depends on: partial_fit needs them unchanged
_FITTED_SETTINGS = ("bits", "sampling", "levels", "levels_method", "precondition", "rounding_correction", "loss",
                    "poly_degree", "poly_range", "refetch", "fit_intercept")

def _resolve_seed(random_state) -> int:
    """An RNG seed in [0, 2^32): ints are used as they are; None draws a fresh one."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**32))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32))
    return check_seed(random_state, "random_state")


class _Progress:
    """Progress on stderr for ``verbose``: a bar on a terminal, else one line per epoch."""

    def __init__(self, est, total: int):
        self.start, self.bar, self.lines = time.perf_counter(), None, False
        if not est.verbose:
            return
        if sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"{type(est).__name__} {est._precision()}", unit="epoch", leave=False)
        else:
            self.lines, self.name = True, f"{type(est).__name__} {est._precision()}"

    def epoch(self, e: int, loss: float, shift: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4g}", eta=f"2^-{shift}", refresh=False)
        elif self.lines:
            print(f"{self.name}: epoch {e + 1}, training loss {loss:.6g}, step 2^-{shift}, "
                  f"{time.perf_counter() - self.start:.2f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _exact(number):
    """A number to compare with Python floats without overflow: a Python int as it is
    (float() of 10**400 overflows), anything else (NumPy scalars too) as a float."""
    return number if isinstance(number, int) else float(number)


def _check_width(n_features: int, name: str) -> None:
    """A ValueError when the kernels' on-chip model cannot hold ``n_features`` weights."""
    limit = get_backend("hls").constants()["max_features"]
    if n_features > limit:
        raise ValueError(f"{name} has {n_features} features; the kernels' on-chip model holds at most {limit}")


#: The adaptive schedule's floor for margin losses, as a fraction of the zero model's loss
#: (``AdaptiveSchedule``'s ``floor``; docs/API.md, "Schedule").
MARGIN_LOSS_FLOOR = 0.25

#: Positive sample weights whose E[u^2] / E[u]^2 is at most this step once by their weight
#: (``_visits``): weighted SGD's noise is at most that much above even weights', and split
#: visits would cost up to 1.5 times the epoch ('balanced' classes down to 30/70 stay there).
EVEN_WEIGHTS_SPREAD = 1.25

#: A margin loss's run with the automatic step stops once its loss exceeds this many times
#: the zero model's, to start again at half the step: at low bits its gradient is biased
#: where the rounding error reaches the margin, the weights grow and with them that error,
#: and smaller steps slow the drift but do not undo it. ``DRIFT_ROWS`` rows of float X
#: confirm at full precision what the pass loss flags.
MARGIN_DRIFT_RATIO = 2.0
DRIFT_ROWS = 4096

#: The rows of consecutive partial_fit calls whose mean pass loss the adaptive schedule reads
#: as one epoch's (``AdaptiveSchedule.update_window``; calls of that many rows or more one at
#: a time). Small batches' losses differ by their rows more than by training, and read call
#: by call the schedule halved on that noise: 256-row batches of a 95/5 set, 10 passes, ended
#: at 1/1000 of the start with a balanced accuracy of 0.553 (log_loss, 8 bits; fit 0.821),
#: 0.701 with this window (``python scripts/partial_fit_batches.py``). A window of 4096 rows
#: reached 0.776 there but halved too seldom for 1000-row calls of least squares at 2 bits
#: (60 calls: 1.18-1.40x least squares' loss against 1.03-1.06x; ``tests/test_regressor.py``).
PARTIAL_FIT_WINDOW = 1024

#: A run that ends above this many times the zero model's loss (or overflows) diverged: its
#: warning advises a smaller step, not more epochs.
DIVERGED_RATIO = 10.0

#: Whether ``precondition`` gives ``log_loss`` per-feature step multipliers too (it always
#: centres). Off: they help some sets and hurt others (iris and breast cancer up, digits down
#: and running all 100 epochs; ``python scripts/log_loss_conditioning.py``; docs/API.md).
LOG_LOSS_MULTIPLIERS = False


#: Rows sampled for the stretched-feature check: 1% tails of 1024 rows place the middle
#: 98% well enough, at a quarter of the cost of the rounding statistics' 4096.
STRETCH_ROWS = 1024


#: Fewest float32 steps a feature's range must hold (as many as 6-bit codes have levels):
#: below, the float32 copy the kernels read (values near a large offset: timestamps,
#: coordinates) is coarser than most quantizations, at every precision. (N(0, 1) features
#: offset by 3e6, 25 steps: held-out R^2 0.9992 at 8 bits, as least squares; by 3e7: 0.939, docs/API.md.)
FLOAT32_MIN_STEPS = 1 << 6


def _width(bits: int) -> str:
    """A width for a message: '1 bit', '2 bits', ..."""
    return "1 bit" if bits == 1 else f"{bits} bits"


def _listed(features: np.ndarray) -> str:
    """Feature indices for a warning: the first 8, then '...'."""
    return ", ".join(str(j) for j in features[:8]) + (", ..." if features.size > 8 else "")


def _warn_rounding_noise(total: float, mean_rounding: np.ndarray, var: np.ndarray, bits: int,
                         stretched: np.ndarray) -> None:
    """At 2 and 3 bits, warn where stochastic rounding's variance over all features passes
    NOISY_ROUNDING_WARNING times theirs (``total``, ``step_size.rounding_share`` of
    ``mean_rounding``, ``RoundingStats.mean``, and ``var``, scaled units), naming the
    features of the largest share that the ``stretched`` warning has not: heavy tails or skew crowd their
    values into a small part of the range. Silent, such fits ended far from least squares
    (10000 x 50 at 2 bits: Student-t features of 3 and 5 degrees of freedom 4.4-14x and
    1.5x, shares 16 and 5.5; log-normal 3.3x, 3.5; at 10 degrees of freedom 1.06x, 2.4). 1
    bit is left out: there even Gaussian features' rounding is 12 times their own."""
    if bits not in (2, 3) or total <= NOISY_ROUNDING_WARNING:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(var > 0, mean_rounding / var, 0.0)
    share[stretched] = 0.0
    noisy = np.flatnonzero(share > NOISY_ROUNDING_WARNING)
    noisy = noisy[np.argsort(-share[noisy], kind="stable")]
    named = f" (the most: {_listed(noisy)})" if noisy.size else ""
    warnings.warn(f"at {bits} bits stochastic rounding's variance is {total:.3g} times the features' own{named}: heavy "
                  "tails or skew crowd their values into a small part of their range, which the levels then read "
                  "mostly as noise. Unbiased, but such fits end far from least squares: use more bits, "
                  "levels='optimal', or transform those features (e.g. np.log1p, np.clip at percentiles)",
                  UserWarning, stacklevel=5)


def _warn_coarse_float32(scaling: FeatureScaling) -> None:
    """Warn of features whose range float32 resolves in fewer than FLOAT32_MIN_STEPS steps."""
    lo, hi = scaling.lo.astype(np.float64), scaling.hi.astype(np.float64)
    step = np.spacing(np.maximum(np.abs(scaling.lo), np.abs(scaling.hi))).astype(np.float64)
    steps = (hi - lo) / step
    coarse = np.flatnonzero((hi > lo) & (steps < FLOAT32_MIN_STEPS))
    if coarse.size:
        j = int(coarse[np.argmin(steps[coarse])])
        warnings.warn(f"{coarse.size} feature(s) ({_listed(coarse)}) vary little around a large offset: feature {j} "
                      f"spans [{lo[j]:.9g}, {hi[j]:.9g}], where float32, which the kernels read, holds only "
                      f"{steps[j]:.0f} steps of {step[j]:g}; subtract an offset first (e.g. X - X.mean(axis=0), "
                      "or a StandardScaler)", UserWarning, stacklevel=5)


def _valid_average(k) -> bool:
    """An ``average_epochs`` value fit accepts (set_params leaves the kept models alone otherwise)."""
    try:
        check_int(k, "average_epochs", 0)
    except (TypeError, ValueError):
        return False
    return True


class _ZipMLLinear(BaseEstimator):
    """Shared machinery: validation, scaling, the kernels, the schedule, unscaling.

    Trains one linear model (of the estimator's loss) per column of a target matrix
    (n, T), every target on the same data of each epoch.
    """

    def __init__(self, bits=8, sampling="double", levels="uniform", max_iter=100, eta0="auto", decay_epochs=None,
                 tol=1e-3, n_iter_no_change=3, shuffle=True, fresh_samples=True, precondition=True, n_copies=1,
                 random_state=None, backend="hls", verbose=0, model_bits=None, grad_bits=None,
                 model_quantization="grid", early_stopping=False,
                 validation_fraction=0.1, n_jobs=None, rounding_correction=True, requantize="auto",
                 feature_range=None, penalty="l2", alpha=0.0, l1_ratio=0.15, fit_intercept=True, warm_start=False,
                 average_epochs=0, levels_method=None):
        self.bits = bits
        self.sampling = sampling
        self.levels = levels
        self.max_iter = max_iter
        self.eta0 = eta0
        self.decay_epochs = decay_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.fresh_samples = fresh_samples
        self.precondition = precondition
        self.n_copies = n_copies
        self.random_state = random_state
        self.backend = backend
        self.verbose = verbose
        self.model_bits = model_bits
        self.grad_bits = grad_bits
        self.model_quantization = model_quantization
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.rounding_correction = rounding_correction
        self.requantize = requantize
        self.feature_range = feature_range
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.average_epochs = average_epochs
        self.levels_method = levels_method

    _loss_name = "squared_error"  # the classifier's `loss` parameter overrides it
    _multi_output = False  # 2-D y: several targets (the regressor)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # fit quantizes sparse X block by block where the settings allow it; predict multiplies it
        try:
            tags.input_tags.sparse = self._needs_float_rows(sparse=True) is None
        except (KeyError, TypeError, ValueError):  # parameters fit will refuse
            tags.input_tags.sparse = False
        tags.target_tags.multi_output = self._multi_output
        return tags

    @property
    def _loss_spec(self):
        return LOSSES[self._loss_name]

    # ------------------------------------------------------------ checks
    def _check_params(self) -> None:
        check_bits(self.bits, allow_full=True)
        check_choice(self.sampling, "sampling", F.TRAINING_SAMPLINGS)
        check_choice(self.levels, "levels", LEVELS)
        if self.levels == "optimal" and self.bits == F.FULL_PRECISION:
            raise ValueError("levels='optimal' places the levels of quantized data; bits=32 trains on float32 "
                             "values: choose bits below 32, or levels='uniform'")
        if self.levels_method is not None:
            check_choice(self.levels_method, "levels_method", TABLE_METHODS)
            if self.levels != "optimal":
                raise ValueError(f"levels_method={self.levels_method!r} places optimal levels: it needs "
                                 f"levels='optimal', not {self.levels!r}")
        check_int(self.max_iter, "max_iter", 1)
        if self.decay_epochs is not None:
            check_int(self.decay_epochs, "decay_epochs", 0)
        check_int(self.n_iter_no_change, "n_iter_no_change", 1)
        check_int(self.average_epochs, "average_epochs", 0)
        if self.tol is not None and (isinstance(self.tol, bool) or not isinstance(self.tol, (int, float, np.number))
                                     or not 0 <= _exact(self.tol) <= sys.float_info.max):
            raise ValueError(f"tol must be a finite number >= 0 or None, got {self.tol!r:.40}")
        check_int(self.n_copies, "n_copies", 1, 2**31 - 1)
        if self.n_copies != 1 and self.fresh_samples:
            raise ValueError(f"n_copies={self.n_copies} applies with fresh_samples=False (copies cycled over epochs); "
                             "with fresh samples every epoch draws its own")
        if self.n_jobs is not None:
            check_int(self.n_jobs, "n_jobs", -(2**31))
            if self.n_jobs == 0:
                raise ValueError("n_jobs must be a positive number of threads, -1 for every core, or None (1), got 0")
        for name in ("shuffle", "fresh_samples", "precondition", "early_stopping", "rounding_correction"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not (isinstance(self.requantize, (bool, np.bool_)) or (isinstance(self.requantize, str)
                                                                   and self.requantize == "auto")):
            raise TypeError(f"requantize must be 'auto', True or False, got {self.requantize!r}")
        self._feature_range()
        if not isinstance(self.verbose, (bool, np.bool_)):  # scikit-learn takes a bool too
            check_int(self.verbose, "verbose", 0)
        check_choice(self.backend, "backend", BACKENDS)
        if (isinstance(self.validation_fraction, bool) or not isinstance(self.validation_fraction, (float, np.floating))
                or not 0.0 < self.validation_fraction < 1.0):
            raise ValueError(f"validation_fraction must be a float in (0, 1), got {self.validation_fraction!r}")
        if self.early_stopping and self.decay_epochs is not None:
            raise ValueError("early_stopping=True drives the adaptive schedule: it needs decay_epochs=None, got "
                             f"decay_epochs={self.decay_epochs!r}")
        check_choice(self.model_quantization, "model_quantization", F.MODEL_QUANTIZATIONS)
        for name in ("model_bits", "grad_bits"):
            value = getattr(self, name)
            if value is not None:
                check_int(value, name, 2, 24)
                if self.bits == F.FULL_PRECISION:
                    raise ValueError(f"{name} applies to the low-precision kernels; got bits=32")
                if self._loss_spec.kernel != "linear":
                    raise ValueError(f"{name} is not available with loss={self._loss_name!r}")
        if self.levels == "optimal" and self._loss_spec.kernel != "linear":
            raise ValueError(f"levels='optimal' is not available with loss={self._loss_name!r}")
        if self.penalty is not None:
            check_choice(self.penalty, "penalty", PENALTIES)
        for name, upper in (("alpha", sys.float_info.max), ("l1_ratio", 1.0)):
            value = getattr(self, name)
            if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{name} must be a float, got {value!r:.40}")
            if not 0 <= _exact(value) <= upper:
                raise ValueError(f"{name} must be a finite float in [0, {upper:g}], got {value!r:.40}")
        for name in ("fit_intercept", "warm_start"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not self.fit_intercept:
            # no intercept: features centred at the level of x = 0 and the kernel's intercept frozen at 0
            if self.levels != "uniform":
                raise ValueError("fit_intercept=False needs levels='uniform': the model is centred at the level of "
                                 "x = 0, which per-feature level tables need not hold")
        if not (isinstance(self.eta0, str) and self.eta0 == "auto"):
            if isinstance(self.eta0, (bool, str)) or not isinstance(self.eta0, (int, float, np.number)):
                raise TypeError(f"eta0 must be 'auto' or a positive float, got {self.eta0!r}")
            if not 0 < _exact(self.eta0) <= sys.float_info.max:
                raise ValueError(f"eta0 must be 'auto' or a positive finite float, got {self.eta0!r:.40}")

    def _feature_range(self):
        """``feature_range`` checked: (lo, hi) float32 arrays, or None."""
        if self.feature_range is None:
            return None
        try:
            lo, hi = (np.asarray(a, dtype=np.float64) for a in self.feature_range)
        except (TypeError, ValueError):
            raise ValueError("feature_range must be None or a pair (lo, hi) of per-feature minima and maxima, got "
                             f"{self.feature_range!r:.80}") from None
        if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
            raise ValueError(f"feature_range needs two 1-D arrays of one value per feature, got shapes {lo.shape} "
                             f"and {hi.shape}")
        with np.errstate(over="ignore"):
            lo32, hi32 = lo.astype(np.float32), hi.astype(np.float32)
        if not (np.isfinite(lo32).all() and np.isfinite(hi32).all()) or np.any(lo32 > hi32):
            raise ValueError("feature_range needs finite float32 minima and maxima with lo <= hi")
        return lo32, hi32

    def _count_clipped(self, X) -> None:
        """Count the values of X outside the feature scaling (``n_clipped_``) and warn
        the first time there are any: the kernels see them clipped to the range's ends
        (later batches of partial_fit count theirs without a warning each)."""
        outside = self.scaling_.outside(X)
        first = self.n_clipped_ == 0
        self.n_clipped_ += outside
        if outside and first:
            warnings.warn(f"{outside} of this call's {X.size} values lie outside the feature ranges and were clipped "
                          "to them (later partial_fit calls count theirs in n_clipped_ without a warning); pass "
                          "feature_range=(lo, hi) covering all the data", UserWarning, stacklevel=4)

    def _warn_model_range(self, Y) -> None:
        """Warn (once a fit) where a partial_fit batch's labels, or the weights after it,
        pass PARTIAL_FIT_RANGE in the first batch's label scaling: the model wraps
        past that range (fit widens the scale and starts again; ``MODEL_HEADROOM``)."""
        if self._loss_spec.margin or self.bits == F.FULL_PRECISION or getattr(self, "_far_labels_warned", False):
            return
        labels = max(float(np.max(np.abs(ls.transform(Y[:, t])), initial=0.0))
                     for t, ls in enumerate(self._label_scalings))
        weights = float(np.max(np.abs(self._models)))
        if max(labels, weights) > PARTIAL_FIT_RANGE:
            self._far_labels_warned = True
            warnings.warn(f"in the first batch's label scale, this batch's labels lie up to {labels:.3g} from its "
                          f"mean and the model's weights reach {weights:.3g}; the kernels hold them within +-128 "
                          "and wrap past it. Start partial_fit with a batch whose labels span the data's range, or "
                          "fit all the data", UserWarning, stacklevel=4)

    def _validate_fit(self, X, y, reset):
        if isinstance(X, QuantizedData):
            raise TypeError("partial_fit takes float data; fit trains on quantized data")
        if y is None:  # scikit-learn's words
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X = numeric_input(X, "X")
        y = numeric_input(y, "y", text_ok=isinstance(self, ClassifierMixin))
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # its finiteness check sums y, which may overflow
                X, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                                     multi_output=self._multi_output)
        except (ValueError, TypeError) as exc:
            raise one_line(exc, X, y) from None
        _check_width(X.shape[1], "X")  # before any set-up work (level tables of 70000 features take minutes)
        return check_matrix(X, finite="known"), y  # validate_data has refused NaN and infinity

    def _validate_quantized(self, q: QuantizedData, y):
        """Checks for fit(q, y): the estimator's precision is the data's, nothing needs the
        float data, and labels come from ``y`` or the data. Returns the labels."""
        ours = (int(self.bits), self.sampling, self.levels)
        if ours != (q.bits, q.sampling, q.levels):
            raise ValueError(f"the quantized data are {q.bits}-bit {q.sampling} with {q.levels} levels; the estimator "
                             f"has bits={self.bits}, sampling={self.sampling!r}, levels={self.levels!r}: set them to "
                             "the data's")
        if q.stats is None:
            raise ValueError("this QuantizedData has no set-up statistics (.stats); quantize the data with "
                             "zipml_hls.quantize")
        if self.levels_method == "shared" and not is_shared(q.level_table):
            raise ValueError("levels_method='shared', but the quantized data hold per-feature level tables (they "
                             "keep their own): leave levels_method None, or quantize with levels_method='shared'")
        self._refuse_float_rows(sparse=False)
        if q.sampling == "naive" and self.fresh_samples and q.n_copies < int(self.max_iter):
            # naive samples are the stored ones: fewer copies than epochs repeat them
            warnings.warn(f"the naive data hold {q.n_copies} quantized cop{'y' if q.n_copies == 1 else 'ies'} and epoch e "
                          f"reads copy e mod {q.n_copies}: epochs after the first {q.n_copies} reuse samples, not fresh "
                          f"ones (quantize with n_copies={self.max_iter}, as many as max_iter, or fit dense X, which "
                          "is quantized anew every epoch)", stacklevel=3)
        if int(self.n_copies) not in (1, q.n_copies):
            raise ValueError(f"n_copies={self.n_copies}, but the quantized data hold {q.n_copies} copies "
                             "(epoch e reads copy e mod their number)")
        _check_width(q.n_features, "the quantized data")
        if y is None:
            if q.labels is None:
                raise ValueError("the quantized data hold no labels: pass y, or quantize with y=")
            y = np.asarray(q.labels)
        y = np.asarray(y)
        if y.shape != (q.n_samples,):
            raise ValueError(f"y must be 1-D with one label per row of the quantized data ({q.n_samples}), got "
                             f"shape {y.shape}")
        self.n_features_in_ = q.n_features
        if q.feature_names is not None:  # as fitting on the DataFrame (or the file's columns) would set them
            self.feature_names_in_ = np.asarray(q.feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return y

    def _needs_float_rows(self, sparse: bool) -> str | None:
        """The setting that cannot train on one quantization of the data (quantized data;
        with ``sparse``, sparse X quantized once at uniform levels), as 'name=value'; None:
        every setting can. fit refuses it; the sparse tag and the command line's choice of a
        LIBSVM file's form ask it."""
        if sparse and int(self.bits) == F.FULL_PRECISION:
            return "bits=32"
        if sparse and self.levels != "uniform":
            return f"levels={self.levels!r}"
        if not self.fit_intercept:  # its scaling must put x = 0 on a level
            return "fit_intercept=False"
        if not isinstance(self.requantize, str) and self.requantize:  # quantizes X again every epoch
            return "requantize=True"
        if self.early_stopping:  # scores held-out float rows
            return "early_stopping=True"
        if self._loss_spec.refetch and self.refetch:
            return f"refetch=True (loss={self._loss_name!r})"
        return None

    def _refuse_float_rows(self, sparse: bool) -> None:
        setting = self._needs_float_rows(sparse)
        if setting is not None:
            raise ValueError(f"{setting} needs dense float X: quantized data and sparse X (quantized once) have no "
                             f"float rows (pass dense X, or change {setting.split('=')[0]})")

    def _sparse_data(self, X, y):
        """Sparse X quantized once at the estimator's precision, block by block without its
        dense form (``ingest.quantize_sparse``): (QuantizedData, labels), trained on as
        quantized data are."""
        if y is None:  # scikit-learn's words
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        self._refuse_float_rows(sparse=True)
        _check_width(X.shape[1], "X")
        X = check_sparse(X)
        copies = 1 if self.fresh_samples else int(self.n_copies)
        q = quantize_sparse(X, int(self.bits), self.sampling, _resolve_seed(self.random_state), copies)
        return q, self._validate_quantized(q, y)

    def _validate_predict(self, X):
        check_is_fitted(self, "coef_")
        X = numeric_input(X, "X")
        try:
            return validate_data(self, X, reset=False, dtype=[np.float64, np.float32], accept_sparse="csr")
        except (ValueError, TypeError) as exc:
            raise one_line(exc, X) from None

    # ---------------------------------------------------------- training
    def _start(self, X, Y, seed: int | None = None, weights: np.ndarray | None = None,
               visits: np.ndarray | None = None) -> np.ndarray | None:
        """Fit the scalings and the schedule on the first data seen (``seed``: resolved
        already, else from ``random_state``); for quantized data from their statistics
        (``QuantizedData.stats``: the same as fit(X) computes from X). ``weights``: the
        sample weights of these rows, or None; ``visits``: each row's visits in an epoch
        (``_visits``), whose weights set the start and the halving period. Returns the
        level tables of float X with optimal levels (for its quantization:
        engine.EpochData), else None."""
        bits = int(self.bits)
        stats = X.stats if isinstance(X, QuantizedData) else None
        known = self._feature_range()
        if known is not None and (stats is not None or known[0].size != X.shape[1]):
            raise ValueError(f"feature_range has {known[0].size} features, X has {X.shape[1]}" if stats is None else
                             "feature_range applies to float data; quantized data carry their own scaling")
        self.n_clipped_, self._far_labels_warned, self._schedule = 0, False, None
        origin = table = stretched = None
        if stats is None:
            # ranges and moments in one pass (moments in the units of the known ranges, if given)
            summary = FeatureSummary.of(X, scaling=None if known is None else FeatureScaling.from_range(*known))
            own = summary.scaling
            if not self.fit_intercept:  # x = 0 inside every range, on a level: the model's center
                summary = summary.rescaled(summary.scaling.through_origin(bits))
                origin = summary.scaling.origin(bits)
            elif self.levels == "uniform" and known is None:  # (given ranges are kept, as quantize keeps them)
                summary = summary.zeros_on_levels(X, bits, sample_rows(X.shape[0], SAMPLED_ROWS))
            # Var[Q(a)] of sampled values at the levels X is quantized with, for the conditioning,
            # the initial step and the stored-rounding correction
            if bits != F.FULL_PRECISION and self.levels == "optimal":
                table = optimal_level_table(X, bits, summary.scaling, self.backend, self.levels_method)
            rounding = None if bits == F.FULL_PRECISION else RoundingStats.of(X, summary.scaling, bits, table)
            if rounding is not None and isinstance(X, np.ndarray):
                stretched = self._warn_stretched(X, summary.scaling, bits, tables=table is not None,
                                                 own=None if self.fit_intercept else own)
            _warn_coarse_float32(summary.scaling)
        else:  # (quantized data train with an intercept: _needs_float_rows)
            summary, rounding = stats.summary, stats.rounding
        # stochastic rounding's variance over the features' own: the step's damping and a warning
        share = 0.0 if rounding is None else rounding_share(rounding.mean, summary.var)
        if stretched is not None:
            _warn_rounding_noise(share, rounding.mean, summary.var, bits, stretched)
        self.scaling_ = summary.scaling
        if known is not None:
            self._count_clipped(X)
        if self._loss_spec.margin:  # margin losses read the +1/-1 labels as they are
            self._label_scalings = [LabelScaling(0.0, 1.0) for _ in range(Y.shape[1])]
        else:
            self._label_scalings = [LabelScaling.fit(Y[:, t], centred=bool(self.fit_intercept))
                                    for t in range(Y.shape[1])]
        # per-feature centers and step multipliers; without intercept the centers are at x = 0
        # (step multipliers only where preconditioning)
        precondition = bool(self.precondition)
        self._conditioning = (Conditioning.fit(summary, bits, rounding, origin, tables=self.levels == "optimal")
                              if precondition else None)
        centres_only = precondition and self._loss_spec.kernel == "polynomial" and not LOG_LOSS_MULTIPLIERS
        if centres_only:
            self._conditioning = replace(self._conditioning, shifts=np.zeros_like(self._conditioning.shifts))
        if origin is not None and not precondition:
            self._conditioning = Conditioning(centers=origin, shifts=np.zeros(origin.size, np.uint8))
        # The step bound's conditioning: the multipliers before an L2 penalty lowers them (quantized
        # data keep the bound of those); log_loss centred at the means: the uncentred rows, as
        # quantized data keep them too. The centred rows' R can be up to about 2x theirs
        # (|a - m| <= a + m, sum_j m_j <= R), so its start, 4x least squares' for its curvature
        # of at most 1/4 (Loss.flatter), can reach eta ||a - m||^2 / 4 = 2 on a row, where a step
        # overshoots; the loss's bounded gradient keeps that from growing, and on one-hot blocks,
        # where the gap is largest (R 35 centred, 20 not), it trained best
        # (scripts/log_loss_start.py; docs/API.md).
        by = None if centres_only and origin is None else self._conditioning
        self._limit_shifts_by_penalty()
        # what each visit steps by: its row's weight, or a share of it (split rows)
        steps = weights if visits is None else np.repeat(weights / visits, visits)
        # least squares on double data: cancel the stored copy's rounding (docs/FORMATS.md section 5);
        # with sample weights each visit's pull is weighted: the correction by their mean
        corrects = (self.rounding_correction and bits != F.FULL_PRECISION and self.sampling == "double"
                    and self._loss_name == "squared_error" and rounding.at_levels)
        self._stored_variance = None
        if corrects:
            stored = rounding.stored * (1.0 - correction_margin(summary.var, rounding.stored))
            # (at most the kernel's largest, 1/64: heavy weights scale it past that)
            self._stored_variance = (stored if steps is None else
                                     np.minimum(stored * float(np.mean(steps)), 1 / 64))
        if self.eta0 == "auto":
            bounds = row_bounds(X, self.scaling_, by) if stats is None else stats.step_bounds(by is not None)
            adaptive = self.decay_epochs is None
            shift, extra, self._raises, self._persistent = automatic_start(
                *bounds, 0.0 if rounding is None else rounding.row_max, share, bits, adaptive, spread_share(summary.var),
                self._loss_spec.flatter, self._loss_spec.doublings)
            by_weights, weights_extra = weight_start(steps, adaptive)
            self._step_shift, self._extra_halvings = min(F.MAX_SHIFT, shift + by_weights), extra + weights_extra
        else:
            self._step_shift, self._extra_halvings, self._raises, self._persistent = (
                step_shift_from_eta(float(self.eta0)), 0, 0, False)
        self.eta_ = 2.0**-self._step_shift
        self._halve_every = halve_every(steps)
        self._seed = _resolve_seed(self.random_state) if seed is None else seed
        self._models = np.zeros((Y.shape[1], summary.mean.shape[0] + 1))
        self._fitted_settings = self._settings()
        self._reset_curves()
        return table

    def _settings(self) -> dict:
        """The parameters the fitted kernel state depends on (_FITTED_SETTINGS) as set now."""
        return {name: getattr(self, name) for name in _FITTED_SETTINGS if hasattr(self, name)}

    def _check_unchanged_settings(self) -> None:
        """partial_fit continues the fitted model: a ValueError naming the first parameter
        changed (set_params) since the model was started."""
        for name, value in getattr(self, "_fitted_settings", {}).items():
            now = getattr(self, name)
            try:
                same = now is value or bool(now == value)
            except (TypeError, ValueError):  # values that do not compare: changed
                same = False
            if not same:
                raise ValueError(f"{name} is {now!r} now but the model was fitted with {name}={value!r}; "
                                 f"partial_fit continues that model: set {name}={value!r} again, or call fit to "
                                 "start a new one")

    # ------------------------------------------------ weights and penalties
    def _penalty_split(self) -> tuple[float, float]:
        """(alpha of the L2 term, alpha of the L1 term) of ``penalty``, ``alpha`` and ``l1_ratio``."""
        if self.penalty is None or float(self.alpha) == 0.0:
            return 0.0, 0.0
        ratio = {"l2": 0.0, "l1": 1.0}.get(self.penalty, float(self.l1_ratio))
        alpha = float(self.alpha) * getattr(self, "_weight_gain", 1.0)  # (the objective's scale: _gained)
        return alpha * (1.0 - ratio), alpha * ratio

    def _step_multipliers(self) -> np.ndarray:
        d = self.scaling_.inv.shape[0]
        return np.ones(d) if self._conditioning is None else np.exp2(self._conditioning.shifts.astype(np.float64))

    def _penalty_per_step(self, scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(L2, L1) coefficients of every feature per unit step in scaled units before its
        step multiplier (``_penalty`` explains them; 0 where a penalty is not set), L1's for
        the label scale ``scale``, by default the targets' smallest (the largest L1)."""
        l2, l1 = self._penalty_split()
        inv = self.scaling_.inv.astype(np.float64)
        if scale is None:
            scale = min(ls.scale for ls in self._label_scalings)
        return l2 * inv**2, l1 * inv / scale

    def _limit_shifts_by_penalty(self) -> None:
        """With a penalty, feature j's step multiplier 2^p_j is lowered until its L2 and L1
        coefficients per unit step (``_penalty_per_step`` times 2^p_j) are at most 1/2: where
        the penalty outweighs the feature's own curvature it sets the step, and the kernels'
        penalty format ends there. (Only the step size of the feature changes, not the
        objective: proximal SGD has the same solution.) Called again by partial_fit where
        alpha or penalty changed since (the multipliers then only go down)."""
        self._penalty_limited = self._penalty_split()
        if self._conditioning is None:
            return
        a = np.maximum(*self._penalty_per_step())
        if not a.any():
            return
        with np.errstate(divide="ignore"):
            limit = np.where(a > 0, np.floor(np.log2(0.5 / np.where(a > 0, a, 1.0))), 255)
        shifts = np.minimum(self._conditioning.shifts, np.clip(limit, 0, 255)).astype(np.uint8)
        self._conditioning = replace(self._conditioning, shifts=shifts)

    def _penalty(self, target: int) -> engine.Penalty | None:
        """The penalty of target ``target`` in the kernels' units (engine.Penalty): the
        objective (1/n) sum_i u_i L_i + alpha ((1 - r)/2 |coef|^2 + r |coef|_1) in original
        units is, in the scaled space (w_j = coef_j range_j / scale), the L2 coefficient
        alpha (1 - r) / range_j^2 and the L1 coefficient alpha r / (scale range_j), each
        times the feature's step multiplier 2^p_j. Coefficients above 1/2 are capped there
        (and fit warns)."""
        l2, l1 = self._penalty_split()
        if l2 == 0.0 and l1 == 0.0:
            return None
        mult = self._step_multipliers()
        decay, l1_coef = self._penalty_per_step(self._label_scalings[target].scale)
        return engine.Penalty(decay=np.minimum(decay * mult, 0.5) if l2 else None,
                              l1=np.minimum(l1_coef * mult, 0.5) if l1 else None)

    def _warn_stretched(self, X: np.ndarray, scaling: FeatureScaling, bits: int, tables: bool = False,
                        own: FeatureScaling | None = None) -> np.ndarray:
        """Warn of features whose usual values a few far ones squeeze into one step of the
        uniform levels (``scaling.stretched_features`` on about ``STRETCH_ROWS`` rows spread
        over X): silent otherwise, their coefficients would just come out noisy. Level
        ``tables`` take the same rule: they place their levels where the values are, but on
        the kernel's grid of 1/1024 of the range, which then holds fewer points over those
        values than the width has levels (1 bit: the uniform levels). ``own``: the features'
        own ranges where ``scaling`` widened them to hold 0 (no intercept): features that
        only the widening squeezes get a warning of their own, which names that cause.
        Returns the features warned of."""
        features, stretch = stretched_features(X, scaling, bits, sample_rows(X.shape[0], STRETCH_ROWS))
        if not features.size:
            return features
        where = ("within one step of the uniform levels" if not tables else
                 "within 1/(2^bits - 1) of the range, where the level tables' grid of 1/1024 holds fewer points "
                 "than the levels")
        width = _width(bits)
        widened = np.zeros(features.size, bool)
        if own is not None:  # (the middle span is range / stretch: the same values against the own range)
            own_stretch = stretch * own.span()[features] / scaling.span()[features]
            widened = own_stretch < max(MIN_STRETCH, float((1 << bits) - 1))
        if widened.any():
            far, j = features[widened], int(features[widened][0])
            warnings.warn(f"{far.size} feature(s) ({_listed(far)}) lie far from 0 (feature {j} spans "
                          f"[{own.lo[j]:.6g}, {own.hi[j]:.6g}]): without an intercept "
                          "(fit_intercept=False) each range is widened to hold 0, and their values then span up to "
                          f"{stretch[widened].max():.3g} times less than it, which at {width} lie {where}, read "
                          "mostly as rounding noise. Centre those features (subtract their means) or keep "
                          "fit_intercept=True", UserWarning, stacklevel=5)
        if not widened.all():
            warnings.warn(f"{features.size - int(widened.sum())} feature(s) ({_listed(features[~widened])}) have a "
                          "few values far outside the rest: their range is up to "
                          f"{stretch[~widened].max():.3g} times that of their middle 98% of values, which at "
                          f"{width} lie {where} and are read mostly as rounding noise (unbiased, but their "
                          "coefficients come out noisy). Clip or transform those features (e.g. np.clip at "
                          "percentiles, np.log1p), or use more bits", UserWarning, stacklevel=5)
        return features

    def _warn_capped_penalty(self) -> None:
        """Warn of features whose penalty per unit step passes the kernels' 1/2 even at step
        multiplier 1 (``_limit_shifts_by_penalty`` lowers the others'): ``_penalty`` caps it."""
        l2, l1 = self._penalty_per_step()
        capped = np.flatnonzero((l2 >= 0.5) | (l1 >= 0.5))
        if capped.size:
            warnings.warn(f"alpha={self.alpha} penalises {capped.size} feature(s) ({_listed(capped)}) beyond what "
                          "the kernels' penalty format holds (1/2 per unit step in scaled units: alpha / range_j^2 "
                          "for L2, alpha / (range_j label_scale) for L1); their penalty is capped there, so L2 "
                          "shrinks them less than Ridge would and L1 zeroes fewer coefficients than Lasso would. "
                          "A feature with a small range takes a large penalty in original units: standardize X or "
                          "lower alpha", UserWarning, stacklevel=4)

    def _sample_weights(self, sample_weight, X, y) -> np.ndarray | None:
        """``sample_weight`` (and the classifier's ``class_weight``) as one weight per row,
        checked, or None when every weight is 1 (the unweighted kernels, bit for bit)."""
        n = X.n_samples if isinstance(X, QuantizedData) else X.shape[0]
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, np.empty((n, 0)), dtype=np.float64,
                                           ensure_non_negative=True)
        weights = self._class_weights(y, weights)
        if weights is None or np.all(weights == 1.0):
            return None
        if weights.max() >= MAX_SAMPLE_WEIGHT:
            raise ValueError(f"sample_weight has a weight of {weights.max():g}; the kernels take weights below "
                             f"{MAX_SAMPLE_WEIGHT:g} (Q16): scale them down (their ratios and the step set the fit)")
        return weights

    def _class_weights(self, y, weights):
        """The regressor has no class weights: ``weights`` as they are."""
        return weights

    def _gained(self, weights, first: bool, n: int):
        """Sample weights times the power of two 2^m that brings their mean into (1/2, 1]:
        the kernels hold weights in Q16 (a weight of 1e-5 would be 0) and a row steps in
        proportion to its weight, so weights normalised to sum to 1 would barely move the
        model, and the stored-rounding correction is scaled by the mean weight, which past
        the kernel's 1/64 would cap it (at 1 bit from a mean weight of about 1.5). 2^m is
        kept where the largest weight stays below the kernels' MAX_SAMPLE_WEIGHT and, scaled
        down, the smallest positive one at 2^-8 or more. The objective is scaled by the same
        2^m, alpha with it (_penalty_split), so its minimiser is unchanged; the losses
        reported are divided by it. fit and partial_fit's first call fix 2^m
        (``_weight_gain``, kept in model files); later partial_fit calls' weights (None: 1
        for each of the ``n`` rows) take the same."""
        if first or not hasattr(self, "_weight_gain"):
            m = 0
            if weights is not None and weights.max() > 0:
                m = -int(np.ceil(np.log2(weights.mean())))
                m = min(m, int(np.ceil(np.log2(MAX_SAMPLE_WEIGHT / weights.max()))) - 1)
                if m < 0:
                    m = max(m, min(0, int(np.ceil(-8 - np.log2(weights[weights > 0].min())))))
            self._weight_gain = 2.0**m
        if self._weight_gain == 1.0:
            return weights
        gained = (np.ones(n) if weights is None else weights) * self._weight_gain
        if gained.max() >= MAX_SAMPLE_WEIGHT:
            raise ValueError(f"sample weights up to {gained.max() / self._weight_gain:g} on the scale of the first "
                             f"fit's, which it multiplied by {self._weight_gain:g}, exceed the kernels' "
                             f"{MAX_SAMPLE_WEIGHT:g}: pass weights on that scale")
        return gained

    def _previous(self):
        """warm_start: the fitted coef_ and intercept_ (with classes_ for classifiers) that
        the next fit starts from, or None."""
        if not self.warm_start or not hasattr(self, "_coef"):
            return None
        return self._coef.copy(), self._intercept.copy(), getattr(self, "classes_", None)

    def _initial_models(self, coef_init, intercept_init, previous) -> np.ndarray | None:
        """The scaled-space models (T, d + 1) that reproduce ``coef_init`` / ``intercept_init``
        (original units; either may be None: zeros), else the warm-start model ``previous``,
        else None (zeros). The inverse of scaling.unscale_models."""
        T, d = self._models.shape[0], self._models.shape[1] - 1
        if coef_init is None and intercept_init is None:
            if previous is None:
                return None
            coef, intercept, classes = previous
            if classes is not None and not np.array_equal(classes, self.classes_):
                raise ValueError(f"warm_start: the classes {self.classes_.tolist()} differ from the fitted model's "
                                 f"{classes.tolist()}; fit with warm_start=False")
            if coef.shape != (T, d):
                raise ValueError(f"warm_start: the fitted model has {coef.shape[1]} features, X has {d}")
        else:
            coef = np.zeros((T, d)) if coef_init is None else np.asarray(coef_init, dtype=np.float64)
            intercept = np.zeros(T) if intercept_init is None else np.asarray(intercept_init, dtype=np.float64)
            if coef.size != T * d or intercept.size != T:
                raise ValueError(f"coef_init must have {T} x {d} values and intercept_init {T}, got shapes "
                                 f"{coef.shape} and {intercept.shape}")
            coef, intercept = coef.reshape(T, d), intercept.reshape(T)
            if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
                raise ValueError("coef_init and intercept_init must be finite")
            if not self.fit_intercept and np.any(intercept != 0):
                raise ValueError("intercept_init applies with fit_intercept=True; without an intercept it is 0")
        inv, lo = self.scaling_.inv.astype(np.float64), self.scaling_.lo.astype(np.float64)
        centers = np.zeros(d) if self._conditioning is None else self._conditioning.centers
        models = np.zeros((T, d + 1))
        for t, ls in enumerate(self._label_scalings):
            w = np.where(inv > 0, coef[t] / (ls.scale * np.where(inv > 0, inv, 1.0)), 0.0)
            models[t, :d] = w
            # without intercept the kernel's stays 0 (its centers sit at x = 0)
            models[t, d] = ((intercept[t] - ls.center) / ls.scale + (w * inv) @ lo + w @ centers
                            if self.fit_intercept else 0.0)
        return models

    def _reset_curves(self) -> None:
        self.n_iter_ = 0
        self._recent_models, self._recent_shift = [], None  # average_epochs: models at one step, oldest first
        self.loss_curve_ = []
        self.saturations_ = []
        self.refetch_fraction_ = []
        self.validation_loss_curve_ = []

    def _requantizes(self, X) -> bool:
        """``requantize`` resolved for X ('auto': at most REQUANTIZE_MAX_VALUES values;
        never for quantized data)."""
        if isinstance(X, QuantizedData):
            return False
        if isinstance(self.requantize, str):
            return X.shape[0] * X.shape[1] <= REQUANTIZE_MAX_VALUES  # (a sparse X's too: its dense form's)
        return bool(self.requantize)

    def _config(self, step_shift: int, decay_epochs: int, seed: int, requantize: bool = False,
                n_copies: int | None = None) -> engine.SgdConfig:
        """The engine's configuration (``requantize`` resolved: partial_fit quantizes every
        batch afresh anyway; ``n_copies``: quantized data's own)."""
        extra = {}
        if self._loss_spec.refetch:
            extra["refetch"] = bool(self.refetch)
        if self._loss_spec.kernel == "polynomial":
            extra.update(poly_degree=int(self.poly_degree), poly_range=float(self.poly_range))
        return engine.SgdConfig(bits=int(self.bits), sampling=self.sampling, levels=self.levels,
                                levels_method=self.levels_method, step_shift=step_shift,
                                decay_epochs=decay_epochs, n_copies=n_copies or int(self.n_copies), seed=seed,
                                backend=self.backend, loss=self._loss_name, model_bits=int(self.model_bits or 0),
                                grad_bits=int(self.grad_bits or 0), model_quantization=self.model_quantization,
                                shuffle=bool(self.shuffle),
                                fresh_samples=bool(self.fresh_samples), requantize=requantize,
                                n_jobs=self._workers(), fit_intercept=bool(self.fit_intercept), **extra)

    def _workers(self) -> int:
        """Threads of ``n_jobs``: None is 1, -k every core but k - 1 (as scikit-learn)."""
        if self.n_jobs is None:
            return 1
        jobs = int(self.n_jobs)
        return jobs if jobs > 0 else max(1, engine.usable_cores() + 1 + jobs)

    def _runs(self, Y, config: engine.SgdConfig, weights: np.ndarray | None = None,
              visits: np.ndarray | None = None) -> list:
        return [engine.KernelRun(ls.transform(Y[:, t]), config, self._conditioning, self._stored_variance,
                                 weights=weights, penalty=self._penalty(t), visits=visits)
                for t, ls in enumerate(self._label_scalings)]

    def _visits(self, weights: np.ndarray | None) -> np.ndarray | None:
        """How often an epoch of fit() or a partial_fit call visits each row
        (``engine.split_visits``), or None (once, stepping by its weight): shuffled rows
        whose positive weights spread beyond EVEN_WEIGHTS_SPREAD. A row k times the mean
        positive weight steps k times by about that mean instead of once by k times it, so
        heavy rows no longer set the step and its noise (lognormal weights,
        sigma 1.5, 2 bits: held-out R^2 0.54-0.71 stepping once by weight, weighted Ridge
        0.98; ``python scripts/weighted_rows.py --weights lognormal``, docs/API.md)."""
        positive = None if weights is None else weights[weights > 0]
        if positive is None or not self.shuffle or not positive.size:
            return None
        if weight_spread(positive) <= EVEN_WEIGHTS_SPREAD:
            return None
        return engine.split_visits(weights)

    def _run(self, X, Y, config: engine.SgdConfig, epochs: int, weights: np.ndarray | None = None,
             table: np.ndarray | None = None, visits: np.ndarray | None = None) -> float:
        """Train every target ``epochs`` epochs of the fixed schedule. Returns the worst
        ratio, over targets, of the last epoch's loss to the loss of predicting the
        target's mean (inf if not finite). ``table``: X's level tables (``_start``), or None;
        ``visits``: ``_visits(weights)``."""
        data = engine.EpochData(X, self.scaling_, config, table, visits)
        runs = self._runs(Y, config, weights, visits)
        progress = _Progress(self, epochs)

        def on_epoch(e, stats):
            progress.epoch(e, self._record_epoch(stats, Y.shape[0], visits), epoch_shift(config.step_shift,
                                                                                         config.decay_epochs, e))

        try:
            histories, stats = engine.train(data, runs, epochs, self._models, on_epoch=on_epoch)
        finally:
            data.close()
        self._models[:] = histories[:, -1]
        self._peak = float(np.max(np.abs(histories), initial=0.0))
        for e in range(max(0, epochs - int(self.average_epochs)), epochs):
            self._remember(histories[:, e], epoch_shift(config.step_shift, config.decay_epochs, e))
        progress.close()
        self._set_coef()
        return self._worst_ratio(runs, stats[-1])

    def _run_adaptive(self, X, Y, config: engine.SgdConfig, held_out=None, weights: np.ndarray | None = None,
                      table: np.ndarray | None = None, visits: np.ndarray | None = None) -> float:
        """Epoch by epoch, every target in lockstep, with the step of
        :class:`~zipml_hls.step_size.AdaptiveSchedule` driven by the mean training loss
        of the kernels' pass (clamped at 0: with double sampling the unbiased estimate can
        be negative), or with ``held_out`` = (X_val, Y_val) by the full-precision loss on
        those rows (early stopping; the last models are kept, as scikit-learn's SGD does), up to
        ``max_iter`` epochs (a ConvergenceWarning when they run out before the schedule
        stops, as scikit-learn's SGD warns at max_iter). Returns the worst final-loss ratio
        to the zero model, as ``_run`` (with early stopping: of the held-out loss), or inf
        where a margin loss's run drifted (``_drifted``) and stopped early."""
        data = engine.EpochData(X, self.scaling_, config, table, visits)
        runs = self._runs(Y, config, weights, visits)
        zero = np.array([r.zero_loss() for r in runs])  # (each target's, for the floor and _drifted)
        # margin losses can fall towards 0 on separable classes: gains count against a floor of
        # a fraction of the zero model's loss (least squares keeps its relative rule)
        floor = MARGIN_LOSS_FLOOR * float(np.mean(zero)) / self._weight_gain if self._loss_spec.margin else 0.0
        # tol=None (scikit-learn's): the step halves as with tol 0, and every epoch up to max_iter runs
        schedule = self._adaptive_schedule(config.step_shift, self._extra_halvings, self._raises, floor)
        progress = _Progress(self, int(self.max_iter))
        converged = drifted = False
        self._peak = 0.0
        try:
            for e in range(int(self.max_iter)):
                shift = schedule.shift
                stats = engine.run_epoch(data, runs, e, shift, self._models, prefetch=e + 1 < int(self.max_iter))
                self._peak = max(self._peak, float(np.max(np.abs(self._models))))
                self._remember(self._models, shift)
                loss, noise = self._record_epoch(stats, Y.shape[0], visits), self._loss_error(stats)
                if held_out is not None:
                    loss, noise = self._validation_loss(*held_out), 0.0
                    self.validation_loss_curve_.append(loss)
                progress.epoch(e, loss, shift)
                if self._loss_spec.margin and self.eta0 == "auto" and self._drifted(X, Y, weights, zero, stats):
                    drifted = True  # (judged a failure: _fit starts again at half the step)
                    break
                if schedule.update(max(loss, 0.0), noise) and (self.tol is not None or not np.isfinite(loss)):
                    converged = True
                    break
        finally:
            data.close()
        progress.close()
        self.final_eta_ = 2.0**-schedule.shift
        self._schedule = schedule  # (partial_fit goes on with it)
        self._set_coef()
        if drifted:
            self._run_drifted = True  # (worse than the zero model, not diverged: _fit's warning)
            return np.inf
        if not converged and self.tol is not None and np.isfinite(self.loss_curve_[-1]):  # as scikit-learn's SGD
            warnings.warn(f"Maximum number of epochs (max_iter={self.max_iter}) reached before the adaptive "
                          f"schedule converged (training loss {self.loss_curve_[-1]:.6g}); raise max_iter",
                          ConvergenceWarning, stacklevel=4)
        if held_out is not None:
            return self._held_out_ratio(*held_out[1:], self.validation_loss_curve_[-1])
        return self._worst_ratio(runs, stats)

    def _adaptive_schedule(self, shift: int, extra: int, raises: int, floor: float = 0.0) -> AdaptiveSchedule:
        """A new adaptive schedule from step exponent ``shift`` with this estimator's tol and
        n_iter_no_change, ADAPTIVE_HALVINGS + ``extra`` halvings, ``raises`` doublings (earned
        by persistent falls too where ``automatic_start`` said so) and the halving period of its
        weights (HALVE_EVERY for a model file of a fixed schedule, which has none)."""
        return AdaptiveSchedule(shift, float(self.tol or 0.0), int(self.n_iter_no_change),
                                max_halvings=ADAPTIVE_HALVINGS + extra,
                                halve_every=getattr(self, "_halve_every", HALVE_EVERY), floor=floor, raises=raises,
                                persistent=bool(raises) and getattr(self, "_persistent", False))

    def _validation_loss(self, X_val, Y_val, w_val=None) -> float:
        """The objective of the current models on held-out rows, full precision, original
        units (mean over targets; weighted by the rows' sample weights ``w_val``): the
        schedule follows the last models, as the pass loss does."""
        self._set_coef(self._models)
        scores = X_val @ self._coef.T + self._intercept
        loss = self._loss_spec.objective(Y_val, scores)
        return float(np.mean(loss if w_val is None else loss * w_val[:, None]))

    def _decision_blocks(self, X):
        """(rows, f) for blocks of dense float X: f = X[rows] @ coef_.T + intercept_ in
        float64, (rows, n_models). Float32 X multiplies in float32 (no float64 copy) unless
        a product could pass its range (features of ranges near 1e-38 have coefficients
        near 1e38), then in float64 blocks of JUDGED_VALUES values; otherwise in blocks of
        JUDGED_VALUES models' values (products of small blocks cost BLAS's threads more than
        the arithmetic: 1024-row blocks of 131072 x 2048 took 20x as long as one product)."""
        limits = np.maximum(np.abs(self.scaling_.lo), np.abs(self.scaling_.hi)).astype(np.float64)
        in_range = np.all(np.abs(self._coef) < 1e37) and np.all(np.abs(self._coef) @ limits < 1e37)
        dtype = np.float32 if X.dtype == np.float32 and in_range else np.float64
        coef = self._coef.T.astype(dtype)
        width = X.shape[1] if X.dtype != dtype else coef.shape[1]  # (a copy of X's rows, or the products)
        rows = max(1024, JUDGED_VALUES // max(1, width))
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], rows):
                block = slice(start, start + rows)
                yield block, (X[block].astype(dtype, copy=False) @ coef).astype(np.float64) + self._intercept

    def _training_ratio(self, X, Y, weights=None) -> float | None:
        """The largest of ``_training_ratios`` over targets, on every row of X: a label far
        out that a sample misses moves least squares' weights too, and on the sample alone
        a fit as good as least squares measured 5-14x the mean."""
        ratios = self._training_ratios(X, Y, weights)
        return None if ratios is None else float(np.max(ratios))

    def _training_ratios(self, X, Y, weights=None) -> np.ndarray | None:
        """Each target's ratio of the fitted model's (coef_, intercept_) loss on the rows of
        X at full precision to the zero model's (the target's training mean, f = 0 in the
        scaled space, as _held_out_ratio; inf where not finite); None where every weight
        is 0."""
        if weights is not None and not weights.any():
            return None
        loss = np.zeros(Y.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            for block, f in self._decision_blocks(X):
                u = 1.0 if weights is None else weights[block, None]
                loss += np.sum(self._loss_spec.objective(Y[block], f) * u, axis=0)
            ratios = loss / X.shape[0] / (self._zero_losses(Y, 1.0 if weights is None else weights) + 1e-300)
        return np.where(np.isfinite(ratios), ratios, np.inf)

    def _zero_losses(self, Y, u) -> np.ndarray:
        """Each target's mean loss (weighted by ``u``: per-row weights, or 1.0) of predicting
        its training mean, f = 0 in the scaled space: the baseline a fit must beat."""
        return np.array([np.mean(self._loss_spec.objective(Y[:, t], ls.center) * u)
                         for t, ls in enumerate(self._label_scalings)])

    def _held_out_ratio(self, Y_val, w_val, loss: float) -> float:
        """A held-out loss over that of predicting each target's training mean (f = 0 in
        the scaled space), as _worst_ratio for the pass loss."""
        zero = np.mean(self._zero_losses(Y_val, 1.0 if w_val is None else w_val))
        return loss / (zero + 1e-300) if np.isfinite(loss) else np.inf

    def _split_validation(self, X, Y, seed: int, weights=None):
        """Early stopping: (X_train, Y_train, weights_train, (X_val, Y_val, weights_val)) with
        a ``validation_fraction`` of the rows held out (stratified by class for classifiers),
        else (X, Y, weights, None)."""
        if not self.early_stopping:
            return X, Y, weights, None
        from sklearn.model_selection import train_test_split

        n_val = int(np.ceil(float(self.validation_fraction) * X.shape[0]))
        if X.shape[0] - n_val < 2 or n_val < 1:
            raise ValueError(f"early_stopping needs at least 2 training rows and 1 validation row; "
                             f"{X.shape[0]} rows with validation_fraction={self.validation_fraction}")
        stratify = None
        if isinstance(self, ClassifierMixin):
            stratify = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]
            counts = np.unique(stratify, return_counts=True)[1]
            if counts.min() < 2 or n_val < len(counts) or X.shape[0] - n_val < len(counts):
                stratify = None  # too few rows of some class, or held out, to split by class
        train, val = (np.sort(rows) for rows in train_test_split(np.arange(X.shape[0]), test_size=n_val,
                                                                  random_state=seed % (2**31), stratify=stratify))
        # the held-out rows in float64 once: their loss is evaluated after every epoch
        w_train, w_val = (None, None) if weights is None else (weights[train], weights[val])
        return X[train], Y[train], w_train, (X[val].astype(np.float64), Y[val], w_val)

    def _record_epoch(self, stats: engine.EpochStats, n_rows: int, visits: np.ndarray | None = None) -> float:
        """Count an epoch: its training loss from the kernel's pass (original units, mean
        over targets) in ``loss_curve_``, the samples whose step saturated in
        ``saturations_`` and, with refetching, the fraction of the pass's visits refetched
        (``n_rows`` rows, each visited ``visits`` times, or once). Returns the loss."""
        scales = np.array([ls.scale for ls in self._label_scalings]) ** 2 / self._weight_gain
        loss = float(np.mean(stats.losses * scales))
        self.n_iter_ += 1
        self.loss_curve_.append(loss)
        self.saturations_.append(int(stats.saturations.sum()))
        if stats.refetches is not None:
            self.refetch_fraction_.append(float(np.mean(stats.refetches)) / (n_rows if visits is None
                                                                                   else int(visits.sum())))
        return loss

    def _loss_error(self, stats: engine.EpochStats) -> float:
        """The standard error of ``_record_epoch``'s loss (original units, targets
        independent)."""
        scales = np.array([ls.scale for ls in self._label_scalings]) ** 2 / self._weight_gain
        return float(np.sqrt(np.sum(np.square(stats.loss_errors * scales))) / scales.size)

    def _worst_ratio(self, runs, stats: engine.EpochStats) -> float:
        """Largest ratio, over targets, of the last epoch's pass loss to the loss of the
        zero model (in the scaled space: the target's mean for least squares, f = 0 for
        margin losses); inf when a loss is not finite or a step saturated. The pass loss's
        magnitude counts: double sampling's unbiased estimate is below 0 only by its noise,
        and an estimate below minus the zero model's loss is a model grown far past the
        data (the stored-rounding correction's term, 0.5 sum_j V_j w_j^2, then dominates)."""
        if stats.saturations.any():
            return np.inf
        worst = 0.0
        for run, loss in zip(runs, stats.losses):
            base = run.zero_loss() + 1e-300
            worst = max(worst, abs(loss) / base if np.isfinite(loss) else np.inf)
        return worst

    def _drifted(self, X, Y, weights, zero: np.ndarray, stats: engine.EpochStats) -> bool:
        """Whether some target's pass loss exceeds MARGIN_DRIFT_RATIO times its zero model's
        loss (``zero``: each target's, scaled units) by more than 3 standard errors, and
        that target's model loss, at full precision on DRIFT_ROWS rows of dense float X
        (other X: never), does too. The pass loss alone misleads at 1 bit, where the
        rounding noise biases the margin losses' estimate upward, on models that beat the
        zero model too."""
        flagged = stats.losses - 3.0 * stats.loss_errors > MARGIN_DRIFT_RATIO * zero
        if not flagged.any() or not isinstance(X, np.ndarray):
            return False
        rows = sample_rows(X.shape[0], DRIFT_ROWS)
        self._set_coef(self._models)
        ratios = self._training_ratios(X[rows], Y[rows], None if weights is None else weights[rows])
        return ratios is not None and bool(np.any(flagged & (ratios > MARGIN_DRIFT_RATIO)))

    def _precision(self) -> str:
        return F.precision_label(self.bits, self.sampling)

    def _remember(self, models: np.ndarray, shift: int) -> None:
        """Keep a copy of the models an epoch at step 2^-``shift`` ended on, for
        ``average_epochs``: the last that many at the current step (a new step starts the
        average afresh: models of a larger step fluctuate more, and of a smaller one would
        lag behind)."""
        k = int(self.average_epochs)
        if k == 0:  # a later average_epochs > 0 starts afresh, never mixing epochs across the gap
            self._recent_models, self._recent_shift = [], None
            return
        if shift != self._recent_shift:
            self._recent_models, self._recent_shift = [], shift
        self._recent_models = (self._recent_models + [np.array(models, dtype=np.float64)])[-k:]

    def _averaged_models(self) -> list:
        """The models the output averages: the last ``average_epochs`` of those kept (a
        later ``set_params`` may have lowered it), none when it is 0 (or a value that the
        next fit will refuse)."""
        k = self.average_epochs
        return self._recent_models[-int(k):] if _valid_average(k) and k > 0 else []

    def set_params(self, **params):
        """As scikit-learn's (no checks: fit makes them), and a fitted estimator's ``coef_``
        / ``intercept_`` follow a new ``average_epochs`` at once (the mean of the last that
        many models kept, or the last models at 0), so that they, ``save_model`` and a
        loaded copy agree."""
        super().set_params(**params)
        if "average_epochs" in params and hasattr(self, "_models") and _valid_average(self.average_epochs):
            self._recent_models = self._averaged_models()
            if not self._recent_models:
                self._recent_shift = None
            self._set_coef()
        return self

    def _set_coef(self, models: np.ndarray | None = None) -> None:
        """coef_ / intercept_ from scaled-space ``models`` (None: the mean of the models
        ``_remember`` kept for ``average_epochs``, or the last models when it is 0). Training
        continues from the last models (``_models``) either way: the average is output
        only, as the mean of iterates of averaged SGD."""
        recent = self._averaged_models() if models is None else []
        if models is None:
            models = np.mean(recent, axis=0) if recent else self._models
        self._n_averaged = len(recent)  # for save_model: coef_ is the mean of that many kept models
        centers = None if self._conditioning is None else self._conditioning.centers
        pairs = [unscale_models(models[t][None], self.scaling_, ls, centers)
                 for t, ls in enumerate(self._label_scalings)]
        self._coef = np.vstack([c for c, _ in pairs])
        # without intercept: exactly 0 (the centers' share cancels the scaling's offset
        # up to float32 rounding of the scaling)
        intercepts = np.concatenate([i for _, i in pairs])
        self._intercept = intercepts if self.fit_intercept else np.zeros_like(intercepts)

    def _warn(self, what: str) -> None:
        # (more epochs cannot mend a run that diverged: only a smaller step can)
        advice = ", not more epochs" if what == "diverged" else " or raise max_iter"
        warnings.warn(f"SGD {what} (training loss {self.loss_curve_[-1]:.3g}); lower eta0 (now {self.eta_:g})"
                      f"{advice}", ConvergenceWarning, stacklevel=3)

    def _fit(self, X, Y, weights=None, coef_init=None, intercept_init=None, previous=None):
        """Train from zero (or from ``coef_init`` / ``intercept_init``, or the warm-start
        model ``previous``): the adaptive schedule (decay_epochs=None) or ``max_iter``
        epochs of the fixed one; with eta0='auto' a run that ends worse than the zero model
        restarts with half the step (up to 8 times): judged at full precision on every row
        of dense float X (the pass loss's estimate can be far off where its noise is large,
        at 1 bit on skewed features), else by the pass loss; a margin loss's run that drifts
        stops early and counts as worse (``_drifted``). With early
        stopping, a ``validation_fraction`` of the rows is held out and drives the schedule
        (and judges the run). A run whose weights pass MODEL_HEADROOM (least squares: labels
        far out, nearly collinear features) restarts with a wider label scale
        (``_widen_label_scale``) at the same step. ``weights``: per-row sample weights, or None."""
        seed = _resolve_seed(self.random_state)
        X, Y, weights, held_out = self._split_validation(X, Y, seed, weights)
        n = X.n_samples if isinstance(X, QuantizedData) else X.shape[0]
        weights = self._gained(weights, True, n)  # (the held-out rows' weights stay as given)
        visits = self._visits(weights)
        table = self._start(X, Y, seed, weights, visits)
        self._warn_capped_penalty()
        init = self._initial_models(coef_init, intercept_init, previous)
        if init is not None:
            self._models[:] = init
        copies = X.n_copies if isinstance(X, QuantizedData) else None
        for attempt in range(_MAX_BACKOFF + 1):
            self._run_drifted = False
            if self.decay_epochs is None:
                config = self._config(self._step_shift, 0, self._seed, self._requantizes(X), copies)
                worst = self._run_adaptive(X, Y, config, held_out, weights, table, visits)
            else:
                config = self._config(self._step_shift, int(self.decay_epochs), self._seed, self._requantizes(X),
                                      copies)
                worst = self._run(X, Y, config, int(self.max_iter), weights, table, visits)
                self.final_eta_ = 2.0**-epoch_shift(self._step_shift, int(self.decay_epochs), int(self.max_iter) - 1)
            # near the model's range (quantized least squares): it may have wrapped; restart with
            # a wider label scale, and a smaller step too where the run also diverged
            wide = config.quantized and not self._loss_spec.margin and self._peak > MODEL_HEADROOM
            if held_out is None and isinstance(X, np.ndarray) and np.isfinite(worst):
                judged = self._training_ratio(X, Y, weights)
                worst = worst if judged is None else judged
            if worst <= 1.0 and not wide:
                return self
            if not np.any(self.scaling_.inv):  # no feature varies: a smaller step cannot help
                warnings.warn("every feature of X is constant (in float32, where values below about 1e-38 are 0): "
                              "the model predicts what the intercept learns", UserWarning, stacklevel=3)
                return self
            halve = worst > 1.0 and self.eta0 == "auto" and self._step_shift < F.MAX_SHIFT
            if attempt == _MAX_BACKOFF or not (wide or halve):
                break
            if wide:
                self._widen_label_scale()
                init = self._initial_models(coef_init, intercept_init, previous)
            if halve:  # a run that doubled its step first retries its start without doublings
                doubled = self._schedule is not None and self._schedule.raises < self._raises
                self._step_shift, self._raises = self._step_shift + (0 if doubled else 1), 0
                self.eta_ = 2.0**-self._step_shift
            self._models[:] = 0.0 if init is None else init
            self._reset_curves()
        if worst <= 1.0:  # (its weights still pass MODEL_HEADROOM)
            warnings.warn(f"the model's weights reach {self._peak:.3g} in scaled units, near the kernels' range of "
                          "+-128, past which they wrap, after the label scale was widened "
                          f"{_MAX_BACKOFF} times; check X for nearly collinear features", ConvergenceWarning,
                          stacklevel=3)
            return self
        # (10x the zero model's loss, or an overflow: as partial_fit judges a batch; a margin
        # loss's drift is stopped at MARGIN_DRIFT_RATIO, worse than the mean but not diverged)
        diverged = not worst <= DIVERGED_RATIO and not self._run_drifted
        self._warn("diverged" if diverged else "did not beat predicting the mean")
        return self

    def _widen_label_scale(self) -> None:
        """Multiply every target's label scale by the power of two that brings the run's
        largest |weight| (``_peak``) to at most scaling.LABEL_REACH: least squares' weights
        shrink with it, in original units the same objective."""
        factor = 2.0 ** np.ceil(np.log2(self._peak / LABEL_REACH))
        self._label_scalings = [LabelScaling(ls.center, ls.scale * factor) for ls in self._label_scalings]

    def _partial_fit(self, X, Y, first: bool, weights=None):
        """One epoch over this batch: its rows in the order and with the draws of epoch
        ``n_iter_`` (fresh for every call); ``weights``: its sample weights, or None (its
        heavy rows split into visits as fit's, ``_visits``)."""
        weights = self._gained(weights, first, X.shape[0])
        visits = self._visits(weights)
        table = None  # (later batches are quantized at level tables of their own)
        if first:
            table = self._start(X, Y, weights=weights, visits=visits)
            self._warn_capped_penalty()
        else:
            self._count_clipped(X)
            if self._penalty_split() != getattr(self, "_penalty_limited", None):  # alpha or penalty set anew
                self._limit_shifts_by_penalty()
                self._warn_capped_penalty()
        if self.decay_epochs is None:  # the adaptive schedule, going on from where the last call or fit left it
            if getattr(self, "_schedule", None) is None:
                resumes = hasattr(self, "final_eta_")  # (from a fit of the fixed schedule: its last step)
                start = step_shift_from_eta(self.final_eta_) if resumes else self._step_shift
                # (a model file of a fixed schedule has no extra halvings)
                self._schedule = self._adaptive_schedule(start, 0 if resumes else getattr(self, "_extra_halvings", 0), 0)
            self._schedule.raises = 0  # no doublings: the losses of different batches say nothing about the step
            shift = self._schedule.shift
        else:
            self._schedule = None
            shift = epoch_shift(self._step_shift, int(self.decay_epochs), self.n_iter_)
        # Every call quantizes its batch: with fit()'s draws of epoch n_iter_ where fit()
        # quantizes every epoch, else with a seed of its own (fresh stored roundings too).
        config = self._config(shift, 0, self._seed, self._requantizes(X))
        if not config.resamples:
            config = replace(config, seed=(self._seed + self.n_iter_) % (1 << 32))
        runs = self._runs(Y, config, weights, visits)
        data = engine.EpochData(X, self.scaling_, config, table, visits)
        try:
            stats = engine.run_epoch(data, runs, self.n_iter_, shift, self._models, prefetch=False)
        finally:
            data.close()  # its n_jobs workers
        self._remember(self._models, shift)
        loss = self._record_epoch(stats, X.shape[0], visits)
        if self._schedule is not None:  # (its stopping rule has no say here: every call runs its epoch)
            self._schedule.update_window(max(loss, 0.0), self._loss_error(stats), X.shape[0], PARTIAL_FIT_WINDOW)
        self.final_eta_ = 2.0**-(shift if self._schedule is None else self._schedule.shift)
        self._set_coef()
        if not first:
            self._warn_model_range(Y)
        if not self._worst_ratio(runs, stats) <= DIVERGED_RATIO:
            self._warn("diverged")
        return self

    def _decision(self, X) -> np.ndarray:
        X = self._validate_predict(X)
        with np.errstate(over="ignore", invalid="ignore"):
            scores = X.astype(np.float64) @ self._coef.T + self._intercept
        if not _all_finite(scores):  # float64 overflowed: an error rather than silent infinities
            if not (_all_finite(self._coef) and _all_finite(self._intercept)):
                raise ValueError("coef_ or intercept_ is not finite: the fit diverged (its ConvergenceWarning "
                                 "said so); fit again with a smaller eta0")
            row = int(np.argwhere(~np.isfinite(scores))[0, 0])
            trained = float(np.max(np.abs(np.concatenate([self.scaling_.lo, self.scaling_.hi]))))
            raise ValueError(f"the predictions overflow float64: row {row + 1} of X gives |X @ coef_ + intercept_| "
                             f"> 1.8e308 (its largest |value| is {float(abs(X[row]).max()):.3g}; the training "
                             f"data's was {trained:.3g})")
        return scores


_PARAMS_DOC = r"""
    Parameters
    ----------
    bits : {1, 2, 3, 4, 6, 8, 32}, default=8
        Bits per stored level code; 32 trains the float32 baseline kernel.
    sampling : {'double', 'naive', 'nearest'}, default='double'
        'double': two independent samples per value, drawn afresh every epoch by the
        kernel from one stored copy on a grid 4x finer than the levels (b + 2 bits per
        value): an unbiased gradient for the stored values;
        'naive': one stochastic sample (biased towards a ridge solution);
        'nearest': deterministic nearest rounding.
    levels : {'uniform', 'optimal'}, default='uniform'
        Level placement per feature: 2**bits uniform levels over the training range,
        or variance-optimal levels (exact program up to 4096 rows, grid above; see
        ``zipml_hls.optimal_levels``); they train with ``precondition`` too. Optimal levels
        run the portable kernel, or the AVX2 path where the build has it.
    levels_method : {'exact', 'grid', 'shared'} or None, default=None
        With ``levels='optimal'``, how the tables are placed, as ``quantize``'s
        ``levels_method``: None (per feature: exact up to 4096 rows below 8 bits, else grid), 'exact',
        'grid', or 'shared': one table for every feature, found in a fraction of the time
        and at 2 and 4 bits trained about 1.4x and 2.1x faster on the AVX2 path (looked up in
        registers), at a higher rounding variance than per-feature tables (docs/LEVELS.md,
        docs/BENCH.md). Quantized data given to ``fit`` keep their own tables.
    max_iter : int, default=100
        Most epochs (passes over the data) of ``fit``.
    eta0 : 'auto' or float, default='auto'
        Initial step in scaled units. Kernels step by powers of two: a float becomes
        ``2**-round(-log2(eta0))`` (clipped to [2^-40, 2^-1]); with ``precondition``,
        feature j steps ``2**p_j`` times it (up to 4096 times), so a step that suits
        unconditioned SGD can diverge. 'auto' takes ``2**-ceil(log2(R + 1 + V))`` (with an
        int ``decay_epochs``, at 1 bit, and where stochastic rounding's variance passes 2.2
        times the features' own, ``2**-ceil(log2((R + 1)(1 + V)))``), R = max_i sum_j
        2^p_j |a_ij - m_j| (the multipliers before an L2 penalty lowers them; for 'log_loss'
        with an intercept R = max_i sum_j |a_ij|), V = max_i sum_j Var[Q(a_ij)] (see
        ``zipml_hls.step_size.auto_step_shift``); 'log_loss', whose curvature is at most
        1/4, 4x that where not damped (at most 1/2); the adaptive schedule of 'hinge' and
        'squared_hinge' may double it up to 4 times while the loss falls steadily. It
        halves the step while a run ends worse than predicting the mean (up to 8 times).
    decay_epochs : int or None, default=None
        None: the adaptive schedule - the step halves whenever the training loss has not
        improved by ``tol`` (relative) and by three standard errors (the noise the
        quantization draws give the pass estimate) for ``n_iter_no_change`` epochs, and
        at least every 20 epochs (up to 80 with uneven sample weights); training stops
        when, after 6 halvings (more where 'auto' starts above
        ``2**-ceil(log2((R + 1)(1 + V)))``, by the difference), the loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs (or at ``max_iter``).
        An int k: the kernel's fixed schedule, ``eta_e = eta_0 * 2**-floor(e / k)`` for all
        ``max_iter`` epochs (0 keeps the step constant).
    tol : float or None, default=1e-3
        Adaptive schedule: the relative improvement of the training loss that counts (for
        the margin losses at least ``tol`` times a quarter of the zero model's loss). None,
        as in scikit-learn's SGD: no stopping rule; the step halves as with ``tol=0`` and
        every one of the ``max_iter`` epochs runs (no max_iter ConvergenceWarning).
    n_iter_no_change : int, default=3
        Adaptive schedule: epochs without improvement before the step halves.
    shuffle : bool, default=True
        Visit the rows in a fresh order every epoch (a permutation drawn from the
        counter-based RNG: the same on both backends and every machine); with sample
        weights that spread (docs/API.md) a row of k times the mean positive weight is
        visited ceil(k) times an epoch (``fit``) or a call (``partial_fit``), each visit
        weighing its share. False keeps the order of X, which trains badly on
        sorted data, and every row steps once by its weight.
    precondition : bool, default=True
        Train on centred features with per-feature power-of-two steps (see
        ``zipml_hls.conditioning``): the kernels see ``v_j - m_j``, ``m_j`` the scaled
        feature's mean rounded onto the level grid (the intercept absorbs it), and feature j
        steps ``2**p_j`` times the shared step, ``p_j = clip(round(log2(1 / v_j)), 0, 12)``
        with ``v_j`` the centred feature's mean square. Min/max scaling otherwise leaves a
        stiff mean direction and rare one-hot or heavy-tailed columns whose weights move
        thousands of times slower than the others'. The gradient stays unbiased.
        With ``levels='optimal'`` the centers lie on the tables' grid of 1/1024;
        ``log_loss`` is centred but keeps one shared step (``LOG_LOSS_MULTIPLIERS``).
    fresh_samples : bool, default=True
        Draw fresh samples every epoch: the kernel draws the samples of double data (two,
        or ``poly_degree + 1`` for 'log_loss') afresh from the one stored copy; naive data
        are quantized again, one epoch ahead on a second thread. Double sampling needs this:
        the same two samples every epoch make SGD solve Q2^T Q1 w = Q2^T b for that one
        draw, not least squares (with fresh draws it is unbiased for the stored values,
        whose one-time fine-grid rounding leaves a small bias; docs/FORMATS.md sec. 5).
        False repeats the kernel's draws of epoch e mod ``n_copies`` and cycles
        ``n_copies`` copies quantized once. The kernel keys double data's draws by a row's
        position in the pass, so a row sees the same samples again only with
        ``shuffle=False`` (the paper's single-copy setting).
    n_copies : int, default=1
        With ``fresh_samples=False``: independent quantized copies of the data; epoch e
        reads copy e mod n_copies, with the kernel's draws (double data's samples, model
        and gradient rounding) of epoch e mod n_copies.
    rounding_correction : bool, default=True
        Least squares on double data: cancel the ridge-like pull of the stored copy's
        one-time rounding to the fine grid (every 32 samples the kernel adds
        ``eta 2^p_j V_j w_j`` per sample, ``V_j`` the feature's mean rounding variance from
        about 4096 rows, at the uniform levels or at the feature's level table), so SGD
        converges to the data's least squares rather than the stored values'; the pass loss
        is reported for the data too (docs/FORMATS.md sec. 5). It matters at 1-2 bits on
        skewed or one-hot columns, and with one shared level table over features of
        different shapes.
    requantize : {'auto', True, False}, default='auto'
        Double data with fresh samples: True quantizes X again every epoch (one epoch
        ahead on a second thread), so the fine-grid rounding is drawn afresh as well and
        nothing of one draw stays in every epoch; each epoch then reads X. False stores
        one copy and the kernel draws every epoch's samples from it: epochs read only the
        stored bits, but that copy's one-time rounding is the same in every epoch, which
        on small data leaves a seed-dependent error (diabetes at 1 bit, 20 epochs: 1.079-1.164x
        fp32's loss, against 1.047-1.090x re-quantized; ``scripts/diabetes_low_bits.py``).
        'auto': True when X has at most ``REQUANTIZE_MAX_VALUES`` (2**20) values.
    n_jobs : int or None, default=None
        Worker threads (None: 1; -k: every core but k - 1). Several targets (one-vs-rest
        classes) train in parallel, bit for bit as on one thread; a single target's epoch
        runs in averaged blocks (local SGD, deterministic for a given n_jobs; docs/API.md).
    random_state : int in [0, 2**32), RandomState, Generator or None, default=None
        Seed of the counter-based RNG: quantization, the kernel's draws, the row orders
        (None: a fresh seed each fit).
    backend : {'hls', 'reference'}, default='hls'
        'hls' runs the C++ kernels, 'reference' the NumPy golden model; both give
        bit-identical ``coef_`` for the same seed at every low precision (bits=32: equal up
        to the float32 summation order, about 1e-7).
    verbose : int, default=0
        1 (or True) reports progress on stderr: a progress bar with the training loss on
        a terminal, else one line per epoch (epoch, loss, step, time).
    model_bits : int in [2, 24] or None, default=None
        End-to-end low precision: the model used in each dot product is stochastically
        rounded (unbiased, counter-based RNG) to a signed grid of this many bits whose
        power-of-two step covers max |w|. None: full precision (Q7.24).
    grad_bits : int in [2, 24] or None, default=None
        Each model update is stochastically rounded to this many bits, on a power-of-two
        grid that covers the largest update of the step. None: full precision.
    model_quantization : {'grid', 'qsgd'}, default='grid'
        How ``model_bits`` and ``grad_bits`` round (both of them): 'grid' on the
        power-of-two grids above; 'qsgd' the paper's norm-scaled stochastic quantization
        (QSGD): each entry of the vector (the model, or one sample's update) becomes
        ||v||_2 sign(v_j) xi_j / s with s = 2^(b-1) - 1 and xi_j an unbiased stochastic
        level, in exact integer arithmetic (docs/FORMATS.md, section 7b). Ignored where
        both are None.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified by class for the
        classifier) and drive the adaptive schedule (halving, stopping) by the model's
        full-precision loss on them after every epoch, recorded in
        ``validation_loss_curve_``: an exact signal where the kernels' pass loss is noisy
        (1 or 2 bits on small data), at the cost of one full-precision pass over the held-out
        rows per epoch. The last models are kept (as scikit-learn's SGD does: picking the
        best epoch on a few noisy held-out rows measured worse); a run whose held-out loss
        ends above predicting the mean restarts with half the step (eta0='auto'). Needs
        ``decay_epochs=None``; ``partial_fit`` ignores it.
    validation_fraction : float in (0, 1), default=0.1
        The fraction of rows held out with ``early_stopping``.
    feature_range : None or (lo, hi), default=None
        Known per-feature minima and maxima (two arrays of n_features values; for example
        a quantized data file's ``q.scaling.lo``, ``q.scaling.hi``, or the ranges of a first
        pass over all batches): the feature scaling of ``fit`` and of ``partial_fit``'s
        first call, instead of the data's (the first batch's) min/max, so that later
        batches are scaled alike. Values outside are clipped to the range's ends: every
        call counts them in ``n_clipped_``, and the first call that clips warns (a
        UserWarning); so does ``partial_fit`` without it for values outside the first
        batch's range. The ranges are used as given (with an intercept; without one they are
        widened to hold 0 on a level): sparse and zero-inflated features keep their zeros
        between two levels unless the ranges put 0 on one (a ``q.scaling`` of uniform levels
        does).
        Not for quantized data, which carry their scaling.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The penalty ``alpha`` weighs, with scikit-learn's SGD meanings: the objective is
        (1/n) sum_i u_i L_i + alpha ((1 - r)/2 |coef|^2 + r |coef|_1) on original-unit
        coefficients, r = 0 ('l2'), 1 ('l1') or ``l1_ratio``; u_i the sample weights. In
        the kernels L2 decays every weight each sample before its step and L1 is a proximal
        (soft-thresholding) step after it; the intercept is not penalised (docs/API.md).
    alpha : float >= 0, default=0.0
        Strength of the penalty (scikit-learn's default is 1e-4; 0 trains as the paper).
    l1_ratio : float in [0, 1], default=0.15
        'elasticnet': the L1 share r of the penalty.
    fit_intercept : bool, default=True
        False fits ``f(x) = coef . x`` (``intercept_`` 0), as scikit-learn: the kernels'
        intercept is frozen at 0 and feature j is centred at the position of x_j = 0, each
        range widened to hold 0 on a level ``k/s`` (``FeatureScaling.through_origin``); the
        labels are scaled, not centred. Needs levels='uniform', float dense X, and at
        bits=1 features of one sign (docs/API.md, "Without intercept").
    warm_start : bool, default=False
        ``fit`` starts from the fitted ``coef_`` and ``intercept_`` (same features and
        classes) instead of zeros; ``fit(coef_init=, intercept_init=)`` gives a start too.
    average_epochs : int, default=0
        0: ``coef_`` and ``intercept_`` are the models after the last epoch. k >= 1: the
        mean of the models after each of the last k epochs (fewer if fewer ran) at the final step
        (counting on through later ``partial_fit`` calls at that step; a new step starts
        the mean afresh). Low precision's gradient noise keeps the last model fluctuating
        about the optimum by an amount that grows with the step; the mean of several
        epochs' models at one step cancels much of it. Training itself (schedule,
        ``loss_curve_``, ``partial_fit``) continues from the last models; ``warm_start``
        starts from the averaged ``coef_``. Unlike scikit-learn's ``average`` (after every
        update, from the start), the mean is over epoch ends at one step, so it pays with a
        constant step (``decay_epochs=0``) or a long last phase, and little after the
        adaptive schedule, whose last step runs a few epochs (``scripts/epoch_averaging.py``).
"""


class ZipMLRegressor(RegressorMixin, _ZipMLLinear):
    __doc__ = r"""Least-squares linear regression trained by low-precision SGD (ZipML).

    Each feature is scaled to [0, 1] by its training min/max and the target is centred
    and divided by its standard deviation. The data are stochastically quantized to
    ``bits`` bits and SGD minimises (1/2n) sum_i (a_i^T w + c - b_i)^2 with the gradient
    estimate ``g = Q2(a) (Q1(a)^T w + c - b)`` for ``sampling='double'`` (two
    independent samples, drawn every epoch from the stored copy: unbiased up to that
    copy's one-time rounding to a 4x finer grid) or ``Q(a) (Q(a)^T w + c - b)`` for
    'naive'/'nearest' (one sample: biased towards the ridge solution
    (A^T A + n D)^-1 A^T b, D the mean rounding variance of each feature). Each feature's
    step is scaled by a power of two (``precondition``), so one-hot and heavy-tailed
    columns train as fast as the others.
    The model is fixed point (Q7.24) on the kernel; coefficients are reported in original
    units.
""" + _PARAMS_DOC + r"""
    y may be 2-D (n_samples, n_targets): one model per column on the same quantized data
    (as LinearRegression; scikit-learn's SGDRegressor takes 1-D y only).

    Attributes
    ----------
    coef_ : ndarray (n_features,), or (n_targets, n_features) for 2-D y
    intercept_ : ndarray (1,), or (n_targets,) for 2-D y
        As scikit-learn's SGDRegressor (LinearRegression for 2-D y).
    n_iter_ : int
        Epochs run (cumulative over ``partial_fit`` calls).
    loss_curve_ : list of float
        Per epoch, the training objective 0.5 * mean squared error in original units, from
        the kernel's own pass: the mean of 0.5 (f1 - y)(f2 - y) over the predictions of the
        two samples made before each update (with double sampling unbiased for the loss at
        the stored values; (f1 - y)^2 for one sample). No epoch reads the full-precision
        data to compute it.
    saturations_ : list of int
        Per epoch, samples whose step exceeded the model's fixed-point range (only in a
        diverging run; such a run counts as diverged).
    validation_loss_curve_ : list of float
        With ``early_stopping``: per epoch, the full-precision loss of the model on the
        held-out rows (original units); else empty.
    eta_ : float
        The power-of-two initial step used.
    final_eta_ : float
        The step training ended at: a fixed schedule's last epoch's; the adaptive
        schedule's current step, which a following partial_fit takes (half the last
        epoch's where that epoch's loss halved it).
    scaling_ : FeatureScaling
        Per-feature min/max of the training data (or ``feature_range``), widened where 0
        is put on a level: without intercept, and for sparse and zero-inflated features
        (docs/API.md, "Zeros on a level").
    n_clipped_ : int
        Values clipped to the feature ranges: by ``fit`` with ``feature_range``, and added
        up over ``partial_fit`` calls (0 for quantized data).
    label_scaling_ : LabelScaling, or a list of one per target for 2-D y
    n_features_in_ : int
    """

    _multi_output = True

    def __init__(self, bits=8, sampling="double", levels="uniform", max_iter=100, eta0="auto", decay_epochs=None,
                 tol=1e-3, n_iter_no_change=3, shuffle=True, fresh_samples=True, precondition=True, n_copies=1,
                 random_state=None, backend="hls", verbose=0, model_bits=None, grad_bits=None,
                 model_quantization="grid", early_stopping=False,
                 validation_fraction=0.1, n_jobs=None, rounding_correction=True, requantize="auto",
                 feature_range=None, penalty="l2", alpha=0.0, l1_ratio=0.15, fit_intercept=True, warm_start=False,
                 average_epochs=0, levels_method=None):
        super().__init__(bits=bits, sampling=sampling, levels=levels, max_iter=max_iter, eta0=eta0,
                         decay_epochs=decay_epochs, tol=tol, n_iter_no_change=n_iter_no_change, shuffle=shuffle,
                         fresh_samples=fresh_samples, precondition=precondition, n_copies=n_copies,
                         random_state=random_state, backend=backend, verbose=verbose, model_bits=model_bits,
                         grad_bits=grad_bits, model_quantization=model_quantization,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         n_jobs=n_jobs, rounding_correction=rounding_correction, requantize=requantize,
                         feature_range=feature_range, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, warm_start=warm_start, average_epochs=average_epochs,
                         levels_method=levels_method)

    def fit(self, X, y=None, coef_init=None, intercept_init=None, sample_weight=None):
        """Train on float data X or quantized data (a QuantizedData, e.g.
        ``zipml_hls.load_quantized``; y: its stored labels by default), from a zero model,
        from ``coef_init`` / ``intercept_init`` (original units), or with ``warm_start``
        from the fitted one; ``sample_weight``: one weight >= 0 per row (None: all 1)."""
        self._check_params()
        previous = self._previous()
        if isinstance(X, QuantizedData):
            y = check_labels(self._validate_quantized(X, y), X.n_samples)
        elif issparse(X):
            X, y = self._sparse_data(X, y)
            y = check_labels(y, X.n_samples)
        else:
            X, y = self._validate_fit(X, y, reset=True)
        Y = self._target(y)
        self._multi_target = np.ndim(y) == 2
        return self._fit(X, Y, self._sample_weights(sample_weight, X, y), coef_init, intercept_init, previous)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the model and the step schedule (the adaptive
        schedule reads the calls' losses PARTIAL_FIT_WINDOW rows at a time).

        The first call fixes the feature scaling (``feature_range``, else the min/max of
        that batch; later values outside it are clipped, counted in ``n_clipped_`` and
        warned about) and the label scaling. ``sample_weight``: as fit's.
        """
        self._check_params()
        first = not hasattr(self, "scaling_")
        if not first:
            self._check_unchanged_settings()
        X, y = self._validate_fit(X, y, reset=first)
        Y = self._target(y)
        if first:
            self._multi_target = np.ndim(y) == 2
        elif (np.ndim(y) == 2) != self._multi_target or Y.shape[1] != self._models.shape[0]:
            raise ValueError(f"y has shape {np.shape(y)}; the model was started on "
                             + (f"{self._models.shape[0]} targets, y of shape (n, {self._models.shape[0]})"
                                if self._multi_target else "one target, 1-D y"))
        return self._partial_fit(X, Y, first, self._sample_weights(sample_weight, X, y))

    @staticmethod
    def _target(y):
        """Validated y as a (n, T) target matrix: 1-D y one target, 2-D y (n, T) T targets."""
        y = np.asarray(y, dtype=np.float64)
        return y[:, None] if y.ndim == 1 else y

    @property
    def coef_(self):
        return self._coef.copy() if self._multi_target else self._coef[0]

    @property
    def intercept_(self):
        return self._intercept.copy() if self._multi_target else self._intercept[:1].copy()

    @property
    def label_scaling_(self):
        """The LabelScaling of the target (a list of one per target for 2-D y)."""
        return list(self._label_scalings) if self._multi_target else self._label_scalings[0]

    @property
    def _model(self):
        """The last fitted model (not the ``average_epochs`` mean) in the scaled space
        (features in [0, 1], labels standardised):
        d weights, then the intercept of the uncentred features (the kernels' intercept
        minus the centers' share)."""
        model = self._models[0].copy()
        if self._conditioning is not None:
            model[-1] -= model[:-1] @ self._conditioning.centers
        return model

    def predict(self, X):
        """Predictions in original units: X @ coef_ + intercept_ ((n,), or (n, n_targets)
        for a model fitted on 2-D y)."""
        scores = self._decision(X)
        return scores if self._multi_target else scores[:, 0]

class ZipMLClassifier(ClassifierMixin, _ZipMLLinear):
    __doc__ = r"""Linear classification trained by low-precision SGD (ZipML).

    Labels become +1/-1 (one-vs-rest for more than two classes: one model per class on
    the same quantized data). Losses:

    * ``'squared_error'``: a least-squares SVM, (1/2n) sum_i (f(a_i) - y_i)^2, with the
      kernels of :class:`ZipMLRegressor` (double sampling is unbiased).
    * ``'hinge'``: a linear SVM, (1/n) sum_i max(0, 1 - y_i f(a_i)). The margin is taken
      from the first low-precision sample; where it lies within the rounding error bound
      of 1 (|y f - 1| <= sum_j |w_j| u_j, u_j the widest level interval), the sign of the
      hinge test could be wrong, so the full-precision row is refetched for that step
      (``refetch=True``); otherwise the step uses the second sample. ``refetch_fraction_``
      reports the fraction of refetched samples per epoch.
    * ``'squared_hinge'``: (1/2n) sum_i max(0, 1 - y_i f(a_i))^2, with the linear kernel
      (residual f - y where y f < 1, else 0). Double sampling is unbiased for samples
      whose margin is farther from 1 than the rounding error of the dot product;
      elsewhere the bias is at most that error (the residual is 1-Lipschitz in f).
    * ``'log_loss'``: logistic regression. The loss derivative -y h(y z),
      h(t) = 1/(1+e^t), is replaced by a polynomial P of degree ``poly_degree`` on
      [-poly_range, poly_range], interpolated at Chebyshev points and pinned to 0 at
      poly_range and 1 at -poly_range, so rows past the range stop pulling
      (``zipml_hls.polynomial``); with
      ``sampling='double'`` the kernel draws ``poly_degree + 1`` independent samples of
      every value each epoch from the stored fine grid, which makes the gradient estimate
      unbiased for P at the stored values;
      'naive'/'nearest' reuse one sample (biased baselines). ``predict_proba`` applies the
      logistic function to the decision function.
""" + _PARAMS_DOC + r"""    class_weight : dict, 'balanced' or None, default=None
        Each row's sample weight times the weight of its class (scikit-learn's
        ``compute_class_weight``); every one-vs-rest model takes the same row weights.
        'balanced' is refused by ``partial_fit`` (it needs every label).
    loss : {""" + ", ".join(repr(name) for name in CLASSIFIER_LOSSES) + r"""}, default='squared_hinge'
        A loss of the registry ``zipml_hls.spec.losses.LOSSES``. The default is
        scikit-learn's ``LinearSVC`` default: on the linear kernel, with double sampling,
        from quantized files and sparse input alike, and unlike least squares
        (``'squared_error'``) it does not pull well-classified rows back to the +-1 targets,
        which masks a middle class one-vs-rest and lets a rare class go unpredicted.
    refetch : bool, default=True
        Hinge loss: refetch full-precision rows whose margin is ambiguous.
    poly_degree : {3, 5, 7}, default=5
        Logistic loss: degree of the polynomial (degree + 1 samples per value).
    poly_range : float in [2**-16, 32], default=4.0
        Logistic loss: the interval [-R, R] of the approximation (error 0.021 for the
        defaults; margins outside it are clamped to it, where the polynomial is pinned to
        the derivative's limits: the error is at least 1/(1 + e^R), and at degree 5 larger
        ranges approximate worse, 0.039 at 6; keep the default).

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coef_ : ndarray (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray (1,) or (n_classes,)
    decision_function, predict_proba, predict_log_proba
        ``decision_function`` for every loss; ``predict_proba`` and ``predict_log_proba``
        with 'log_loss' only (the other losses give margins, not probabilities).
    n_iter_, loss_curve_, eta_, scaling_, n_clipped_, n_features_in_ : as ZipMLRegressor
        (the loss, in +1/-1 units, is averaged over the one-vs-rest models).
    refetch_fraction_ : list of float
        Hinge loss with refetching: fraction of samples refetched in each epoch.
    """

    LOSSES = CLASSIFIER_LOSSES

    def __init__(self, bits=8, sampling="double", levels="uniform", max_iter=100, eta0="auto", decay_epochs=None,
                 tol=1e-3, n_iter_no_change=3, shuffle=True, fresh_samples=True, precondition=True, n_copies=1,
                 random_state=None, backend="hls", verbose=0, model_bits=None, grad_bits=None,
                 model_quantization="grid", early_stopping=False,
                 validation_fraction=0.1, n_jobs=None, rounding_correction=True, requantize="auto",
                 feature_range=None, penalty="l2", alpha=0.0, l1_ratio=0.15, fit_intercept=True, warm_start=False,
                 average_epochs=0, class_weight=None, loss="squared_hinge", refetch=True, poly_degree=5, poly_range=4.0,
                 levels_method=None):
        super().__init__(bits=bits, sampling=sampling, levels=levels, max_iter=max_iter, eta0=eta0,
                         decay_epochs=decay_epochs, tol=tol, n_iter_no_change=n_iter_no_change, shuffle=shuffle,
                         fresh_samples=fresh_samples, precondition=precondition, n_copies=n_copies,
                         random_state=random_state, backend=backend, verbose=verbose, model_bits=model_bits,
                         grad_bits=grad_bits, model_quantization=model_quantization,
                         early_stopping=early_stopping, validation_fraction=validation_fraction,
                         n_jobs=n_jobs, rounding_correction=rounding_correction, requantize=requantize,
                         feature_range=feature_range, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, warm_start=warm_start, average_epochs=average_epochs,
                         levels_method=levels_method)
        self.class_weight = class_weight
        self.loss = loss
        self.refetch = refetch
        self.poly_degree = poly_degree
        self.poly_range = poly_range

    @property
    def _loss_name(self):
        return self.loss

    def _check_params(self) -> None:
        check_choice(self.loss, "loss", self.LOSSES)
        super()._check_params()
        if not isinstance(self.refetch, (bool, np.bool_)):
            raise TypeError(f"refetch must be True or False, got {self.refetch!r}")
        if not (self.class_weight is None or isinstance(self.class_weight, dict)
                or (isinstance(self.class_weight, str) and self.class_weight == "balanced")):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict {{class: weight}}, got "
                             f"{self.class_weight!r:.60}")
        if self.loss == "log_loss":
            if isinstance(self.poly_degree, (bool, np.bool_)) or not isinstance(self.poly_degree, (int, np.integer)):
                raise TypeError(f"poly_degree must be an int (3, 5 or 7), got {self.poly_degree!r:.40}")
            logistic_polynomial(int(self.poly_degree), self.poly_range)  # validates both

    def _targets(self, y) -> np.ndarray:
        Y = self._binarizer.transform(y).astype(np.float64) * 2.0 - 1.0
        return Y if len(self.classes_) > 2 else Y[:, :1]

    def _set_classes(self, classes) -> None:
        self._binarizer = LabelBinarizer().fit(classes)
        self.classes_ = self._binarizer.classes_
        if len(self.classes_) < 2:
            only = self.classes_[0]
            raise ValueError(f"need samples of at least 2 classes, got {len(self.classes_)} class "
                             f"({(only.item() if isinstance(only, np.generic) else only)!r})")

    def fit(self, X, y=None, coef_init=None, intercept_init=None, sample_weight=None):
        """Train one +1/-1 model of the loss per class (one for two classes), on float data
        X or quantized data (a QuantizedData; y: its stored labels by default), from zero
        models, from ``coef_init`` (n_models, n_features) / ``intercept_init`` (n_models,),
        or with ``warm_start`` from the fitted ones; ``sample_weight``: one weight >= 0 per
        row (None: all 1), times ``class_weight``."""
        self._check_params()
        previous = self._previous()
        if isinstance(X, QuantizedData):
            y = self._validate_quantized(X, y)
        elif issparse(X):
            X, y = self._sparse_data(X, y)
        else:
            X, y = self._validate_fit(X, y, reset=True)
        check_classification_targets(y)
        self._set_classes(np.unique(y))
        weights = self._sample_weights(sample_weight, X, y)
        self._fit(X, self._targets(y), weights, coef_init, intercept_init, previous)
        if not isinstance(X, QuantizedData):
            self._warn_majority(X, y, weights)
        return self

    def _warn_majority(self, X, y, weights=None) -> None:
        """At 1 and 2 bits, a warning where the fitted model predicts one class for at least
        15% more of the training rows than hold it and than hold its share of the row
        weights ``weights`` (per row, class weights included, or None: weights move the
        shares on purpose, but a fit balanced between the two lies between them), or a class
        of at least MINORITY_SHARE of the rows (and MINORITY_ROWS rows) for at most a
        quarter of its rows (imbalanced classes, where the first test cannot fire): there
        the noisy margin test of the margin losses (and the log-loss polynomial's noisy
        samples) can pull a fit towards the most frequent class, silently (docs/API.md,
        "Losses at 1 and 2 bits"). The data themselves may do it too, at any width: the
        warning says how to tell."""
        if int(self.bits) > 2:
            return
        # in blocks (predict's float64 copy of X would double a large X's memory)
        predicted = np.concatenate([self._class_index(f) for _, f in self._decision_blocks(X)])
        shares = np.bincount(predicted, minlength=self.classes_.size) / predicted.size
        index = np.searchsorted(self.classes_, y)
        held = np.bincount(index, minlength=self.classes_.size)
        truth = held / predicted.size
        expected, weighed = truth, ""
        if weights is not None:
            by_weight = np.bincount(index, weights=weights, minlength=self.classes_.size)
            by_weight = by_weight / max(float(by_weight.sum()), 1e-300)
            expected = np.maximum(truth, by_weight)
        k = int(np.argmax(shares - expected))
        over = shares[k] - expected[k] >= 0.15
        lost = np.flatnonzero((truth >= MINORITY_SHARE) & (held >= MINORITY_ROWS) & (shares <= truth / 4))
        if over or lost.size:
            k = k if over else int(lost[np.argmin(shares[lost] / truth[lost])])
            others = ", ".join(repr(name) for name in CLASSIFIER_LOSSES if name != self.loss)
            if weights is not None:
                weighed = f" and {by_weight[k]:.1%} of their weight"
            warnings.warn(f"at {_width(int(self.bits))} the model predicts {shares[k]:.1%} of the training rows as "
                          f"class {self.classes_[k].tolist()!r}, which holds {truth[k]:.1%} of them{weighed}: "
                          "at this width "
                          f"loss={self.loss!r} can fall towards one class; compare a fit at more bits (where it does "
                          f"the same, the data do it) and the losses {others} (docs/API.md, \"Losses at 1 and 2 "
                          "bits\")", UserWarning, stacklevel=3)

    def _class_weights(self, y, weights):
        """``weights`` (or ones) times the weight of each row's class (class_weight), or
        ``weights`` as they are without class weights. A ValueError when fewer than two
        classes keep a positive weight."""
        y = np.asarray(y)
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            rows = per_class[np.searchsorted(self.classes_, y)]
            weights = rows if weights is None else weights * rows
        if weights is not None:
            kept = np.unique(y[weights > 0])
            if kept.size < 2 and self.classes_.size >= 2:
                raise ValueError(f"sample_weight (with class_weight) leaves rows of {kept.size} class(es) with a "
                                 f"positive weight ({kept.tolist()}); a classifier needs at least 2 classes")
        return weights

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); the first call needs ``classes`` (all labels). The
        adaptive schedule reads the calls' losses PARTIAL_FIT_WINDOW rows at a time.
        ``sample_weight``: as fit's; ``class_weight`` must be a dict or None here (as
        scikit-learn's, 'balanced' needs all the data)."""
        self._check_params()
        if isinstance(self.class_weight, str):
            raise ValueError("class_weight='balanced' needs the class frequencies of all the data: partial_fit "
                             "takes a dict {class: weight} (compute_class_weight('balanced', ...) of all labels)")
        first = not hasattr(self, "scaling_")
        if not first:
            self._check_unchanged_settings()
        X, y = self._validate_fit(X, y, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._set_classes(np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes).tolist()} differ from those of the first call to "
                             f"partial_fit, {self.classes_.tolist()}")  # as scikit-learn's SGDClassifier
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y has labels {unseen.tolist()} that are not in classes {self.classes_.tolist()}")
        return self._partial_fit(X, self._targets(y), first, self._sample_weights(sample_weight, X, y))

    @property
    def coef_(self):
        return self._coef

    @property
    def intercept_(self):
        return self._intercept

    def decision_function(self, X):
        """Scores: (n,) for two classes (positive means classes_[1]), else (n, n_classes)."""
        scores = self._decision(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        index = self._class_index(self._decision(X))  # (checks the fit first, before classes_)
        return self.classes_[index]

    @staticmethod
    def _class_index(scores: np.ndarray) -> np.ndarray:
        """Each row's class (index into classes_) from its (n, 1) or (n, k) scores: the
        positive side of the one model, else the highest-scoring class."""
        return (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else np.argmax(scores, axis=1)

    def _log_loss_only(self, name: str):
        """The method ``_name``, where loss='log_loss' (the other losses give margins, not
        probabilities); else an AttributeError, so that hasattr says False."""
        if self.loss != "log_loss":
            raise AttributeError(f"{name} is available with loss='log_loss'")
        return getattr(self, f"_{name}")

    @property
    def predict_proba(self):
        """Class probabilities (loss='log_loss' only): the logistic function of the
        decision function; one-vs-rest scores are normalised to sum to 1."""
        return self._log_loss_only("predict_proba")

    @property
    def predict_log_proba(self):
        """The logarithm of ``predict_proba`` (loss='log_loss' only), as scikit-learn's
        SGDClassifier gives it."""
        return self._log_loss_only("predict_log_proba")

    def _predict_log_proba(self, X):
        with np.errstate(divide="ignore"):  # a probability that underflowed to 0: -inf
            return np.log(self._predict_proba(X))

    def _predict_proba(self, X):
        scores = self.decision_function(X)
        p = 0.5 * (1.0 + np.tanh(0.5 * scores))
        if scores.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
