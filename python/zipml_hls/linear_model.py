"""scikit-learn estimators trained by the ZipML low-precision SGD kernels."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from . import engine
from . import formats as F
from . import reference
from ._validation import check_bits, check_choice, check_int, check_matrix, check_seed
from .quantize import BACKENDS
from .scaling import FeatureScaling, LabelScaling


def _resolve_seed(random_state) -> int:
    """An RNG seed in [0, 2^32): ints are used as they are; None draws a fresh one."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**32))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32))
    return check_seed(random_state)


class ZipMLRegressor(RegressorMixin, BaseEstimator):
    r"""Least-squares linear regression trained by low-precision SGD (ZipML).

    Each feature is scaled to [0, 1] by its training min/max and the target is
    centred and divided by its standard deviation. The data are stochastically
    quantized to ``bits`` bits and SGD minimises

    .. math:: \frac{1}{2n} \sum_i (a_i^\top w + c - b_i)^2

    with the gradient estimate ``g = Q2(a) (Q1(a)^T w + c - b)`` for
    ``sampling='double'`` (two independent samples: unbiased) or
    ``Q(a) (Q(a)^T w + c - b)`` for ``'naive'``/``'nearest'`` (one sample: biased
    towards the ridge solution :math:`(A^\top A + n D)^{-1} A^\top b`, D the mean
    rounding variance of each feature). The model is fixed point (Q7.24) on the
    kernel; coefficients are reported in original units.

    Parameters
    ----------
    bits : {1, 2, 4, 8, 32}, default=8
        Bits per stored level code; 32 trains the float32 baseline kernel.
    sampling : {'double', 'naive', 'nearest'}, default='double'
    levels : {'uniform'}, default='uniform'
        Level placement: 2**bits uniform levels over each feature's range.
    max_iter : int, default=20
        Epochs (passes over the data) of ``fit``.
    eta0 : 'auto' or float, default='auto'
        Initial step in scaled units. Kernels step by powers of two: a float becomes
        ``2**-round(-log2(eta0))`` (clipped to [2^-40, 2^-1]); 'auto' takes
        ``2**-ceil(log2(max_i sum_j a_ij + 1))``, stable for every precision.
    decay_epochs : int, default=3
        The step halves every ``decay_epochs`` epochs (0 keeps it constant):
        ``eta_e = eta_0 * 2**-floor(e / decay_epochs)``.
    n_copies : int, default=1
        Independent quantized copies of the data; epoch e reads copy e mod n_copies.
    random_state : int in [0, 2**32), RandomState, Generator or None, default=None
        Seed of the counter-based quantization RNG (None: a fresh seed each fit).
    backend : {'hls', 'reference'}, default='hls'
        'hls' runs the C++ kernels, 'reference' the NumPy golden model; both give
        bit-identical ``coef_`` for the same seed.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
    intercept_ : float
    n_iter_ : int
        Epochs run (cumulative over ``partial_fit`` calls).
    loss_curve_ : list of float
        Training objective 0.5 * mean squared error, in original units, after each epoch.
    eta_ : float
        The power-of-two initial step used.
    scaling_ : FeatureScaling
    label_scaling_ : LabelScaling
    n_features_in_ : int
    """

    def __init__(self, bits=8, sampling="double", levels="uniform", max_iter=20, eta0="auto", decay_epochs=3,
                 n_copies=1, random_state=None, backend="hls"):
        self.bits = bits
        self.sampling = sampling
        self.levels = levels
        self.max_iter = max_iter
        self.eta0 = eta0
        self.decay_epochs = decay_epochs
        self.n_copies = n_copies
        self.random_state = random_state
        self.backend = backend

    # ------------------------------------------------------------ checks
    def _check_params(self) -> None:
        check_bits(self.bits, allow_full=True)
        check_choice(self.sampling, "sampling", F.ENCODINGS)
        check_choice(self.levels, "levels", ("uniform",))
        check_int(self.max_iter, "max_iter", 1)
        check_int(self.decay_epochs, "decay_epochs", 0)
        check_int(self.n_copies, "n_copies", 1)
        check_choice(self.backend, "backend", BACKENDS)
        if not (isinstance(self.eta0, str) and self.eta0 == "auto"):
            if isinstance(self.eta0, bool) or not isinstance(self.eta0, (int, float, np.floating, np.integer)):
                raise TypeError(f"eta0 must be 'auto' or a positive float, got {self.eta0!r}")
            if not (np.isfinite(self.eta0) and self.eta0 > 0):
                raise ValueError(f"eta0 must be 'auto' or a positive finite float, got {self.eta0!r}")

    def _validate(self, X, y=None, reset=True):
        if y is None:  # prediction: keep the caller's precision
            return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32], y_numeric=True)
        return check_matrix(X), np.asarray(y, dtype=np.float64)

    # ---------------------------------------------------------- training
    def _start(self, X, y) -> None:
        """Fit the scalings and the schedule on the first data seen."""
        self.scaling_ = FeatureScaling.fit(X)
        self.label_scaling_ = LabelScaling.fit(y)
        self._step_shift = (engine.auto_step_shift(self.scaling_.transform(X), int(self.bits)) if self.eta0 == "auto"
                            else engine.step_shift_from_eta(float(self.eta0)))
        self.eta_ = 2.0 ** -self._step_shift
        self._seed = _resolve_seed(self.random_state)
        self._model = np.zeros(X.shape[1] + 1)
        self.n_iter_ = 0
        self.loss_curve_ = []

    def _config(self, step_shift: int, decay_epochs: int, seed: int) -> engine.SgdConfig:
        return engine.SgdConfig(bits=int(self.bits), sampling=self.sampling, step_shift=step_shift,
                                decay_epochs=decay_epochs, n_copies=int(self.n_copies), seed=seed,
                                backend=self.backend)

    def _run(self, X, y, config: engine.SgdConfig, epochs: int) -> bool:
        """Train ``epochs`` epochs; False when the run ends worse than predicting the mean."""
        history = engine.train(X, self.label_scaling_.transform(y), self.scaling_, config, epochs, self._model)
        coefs, intercepts = self._unscale(history)
        pred = self._predict_many(X, coefs, intercepts)
        losses = 0.5 * np.mean((pred - y[:, None]) ** 2, axis=0)
        self._model = history[-1].copy()
        self.coef_, self.intercept_ = coefs[-1], float(intercepts[-1])
        self.n_iter_ += epochs
        self.loss_curve_.extend(float(v) for v in losses)
        mean_loss = 0.5 * np.var(y)
        return bool(np.isfinite(losses[-1]) and losses[-1] <= mean_loss + 1e-9 * np.mean(y**2) + 1e-300)

    def _warn_diverged(self) -> None:
        warnings.warn(f"SGD diverged (training loss {self.loss_curve_[-1]:.3g} is above the loss of predicting "
                      f"the mean); lower eta0 (now {self.eta_:g})", ConvergenceWarning, stacklevel=3)

    def _unscale(self, history: np.ndarray):
        """Scaled-space models (m, d+1) -> original-unit coefficients (m, d) and intercepts (m,)."""
        sc, ls = self.scaling_, self.label_scaling_
        inv = sc.inv.astype(np.float64)
        w = history[:, :-1] * inv
        coefs = ls.scale * w
        intercepts = ls.center + ls.scale * (history[:, -1] - w @ sc.lo.astype(np.float64))
        return coefs, intercepts

    @staticmethod
    def _predict_many(X, coefs, intercepts):
        return (X.astype(np.float64) @ coefs.T) + intercepts

    def fit(self, X, y):
        """Train for ``max_iter`` epochs from a zero model.

        With ``eta0='auto'``, a run that ends worse than predicting the mean is
        restarted with half the step (up to 8 times); ``eta_`` is the step that was kept.
        """
        self._check_params()
        X, y = self._validate(X, y)
        self._start(X, y)
        for attempt in range(9):
            config = self._config(self._step_shift, int(self.decay_epochs), self._seed)
            if self._run(X, y, config, int(self.max_iter)):
                return self
            if self.eta0 != "auto" or attempt == 8 or self._step_shift >= F.MAX_SHIFT:
                break
            self._step_shift += 1
            self.eta_ = 2.0 ** -self._step_shift
            self._model[:] = 0.0
            self.n_iter_, self.loss_curve_ = 0, []
        self._warn_diverged()
        return self

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing the model and the step schedule.

        The first call fixes the feature scaling (min/max of that batch; later values
        outside it are clipped) and the label scaling.
        """
        self._check_params()
        first = not hasattr(self, "scaling_")
        X, y = self._validate(X, y, reset=first)
        if first:
            self._start(X, y)
        shift = reference.epoch_shift(self._step_shift, int(self.decay_epochs), self.n_iter_)
        seed = (self._seed + self.n_iter_) % (1 << 32)  # fresh rounding for every call
        if not self._run(X, y, self._config(shift, 0, seed), 1):
            self._warn_diverged()
        return self

    def predict(self, X):
        """Predictions in original units: X @ coef_ + intercept_."""
        check_is_fitted(self, "coef_")
        X = self._validate(X, reset=False)
        return X.astype(np.float64) @ self.coef_ + self.intercept_
