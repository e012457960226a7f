"""The loss registry: the Python mirror of the loss ids in hls/include/zipml/losses.hpp.

One entry per loss, like scikit-learn's loss table: the estimators, the engine, the
command line and the golden model all read it. A loss that fits the linear kernel
(a residual r(f, y) that multiplies the sample) needs a policy struct in losses.hpp,
an entry here, its golden residual in ``reference/losses.py`` and a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Loss:
    """One loss of a linear model f(a) = a^T w + c.

    name: scikit-learn's name; kernel_id: ``LossId`` in losses.hpp; kernel: 'linear'
    (``sgd_linear``, residual times the sample) or 'polynomial' (``sgd_logistic``,
    polynomial approximation of the derivative with several samples); margin: labels are
    +1/-1 (classification) rather than centred and scaled targets; refetch: full-precision
    rows can be refetched where the low-precision margin is ambiguous; objective(y, f):
    the per-sample loss whose mean is the training objective; factor(y, f): for the squared
    losses (objective = factor^2 / 2), the factor whose product over two independent
    samples estimates the loss without bias (kSecondSample in losses.hpp), else None;
    flatter: the powers of two by which the loss's second derivative in f stays below least
    squares' 1 (log_loss's is at most 1/4: 2; its polynomial's slope is 0.246 at the
    default degree 5 and range 4, more at ranges below 4), which the automatic step takes larger;
    doublings: how often the adaptive schedule may double an automatic start while the loss
    falls steadily (``AdaptiveSchedule``'s raises, persistent falls counted), at least.
    """

    name: str
    kernel_id: int
    kernel: str
    margin: bool
    refetch: bool
    objective: Callable[[np.ndarray, np.ndarray], np.ndarray]
    formula: str
    factor: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    flatter: int = 0
    doublings: int = 0

    @property
    def second_sample(self) -> bool:
        """The kernels report the second sample's prediction for this loss."""
        return self.factor is not None

    def pass_estimate(self, y: np.ndarray, predictions: np.ndarray) -> np.ndarray:
        """Per-sample loss of an epoch from the predictions its kernel pass made ((n, 2):
        first sample, second sample): 0.5 factor(y, f1) factor(y, f2) for the squared
        losses (unbiased for the loss with double sampling: E[f1] = E[f2] = a.w + c, the
        samples independent), else objective(y, f1). The definition: the engine's native
        pass loss (``pass_loss`` in bindings/host.cpp) gives its mean bit for bit."""
        first = predictions[:, 0]
        if self.factor is None:
            return self.objective(y, first)
        return 0.5 * self.factor(y, first) * self.factor(y, predictions[:, 1])

    def pass_noise(self, y: np.ndarray, predictions: np.ndarray) -> np.ndarray:
        """Per-sample estimate of the variance that the quantization draws give
        ``pass_estimate``'s term, given the row and the model: with factors u1 = u + e1 and
        u2 = u + e2 of two independent samples (e symmetric, variance s^2),
        Var[u1 u2 / 2] = (2 u^2 s^2 + s^4) / 4, and with D = (u1 - u2)^2 / 2,
        E[(2 u1 u2 D + D^2) / 4] is that (the fourth moment taken as a normal's). Single
        terms can be negative; their sum over a pass estimates the variance of the pass's
        total. Zero where a single prediction is read (fp32, naive, nearest, losses without
        a second sample): the spread of the rows' own losses is not noise between epochs,
        which visit the same rows."""
        if self.factor is None:
            return np.zeros(len(y))
        u1, u2 = self.factor(y, predictions[:, 0]), self.factor(y, predictions[:, 1])
        spread = 0.5 * (u1 - u2) ** 2
        return 0.25 * (2 * u1 * u2 * spread + spread**2)


def _residual(y, f):
    return f - y


def _squared_error(y, f):
    return 0.5 * _residual(y, f) ** 2


def _hinge(y, f):
    return np.maximum(0.0, 1.0 - y * f)


def _log_loss(y, f):
    return np.logaddexp(0.0, -y * f)


def _squared_hinge(y, f):
    return 0.5 * _hinge(y, f) ** 2


#: The doublings of the hinge and squared hinge's automatic start. Their start, R's rule, is
#: set by the heaviest row, where rare features carry large step multipliers (digits: the
#: largest row's R 14x the median row's), while only rows inside the margin step; doubling
#: while the loss falls took digits' squared hinge at 8 bits from 0.954 to 0.963-0.965 held-out
#: accuracy, and its training objective from 0.0224 to 0.0101 (``python
#: scripts/classifier_losses.py``; docs/API.md). log_loss starts larger instead (flatter).
MARGIN_DOUBLINGS = 4

LOSSES = {loss.name: loss for loss in (
    Loss("squared_error", kernel_id=0, kernel="linear", margin=False, refetch=False, objective=_squared_error,
         formula="(1/2)(f - y)^2", factor=_residual),
    Loss("hinge", kernel_id=1, kernel="linear", margin=True, refetch=True, objective=_hinge,
         formula="max(0, 1 - y f)", doublings=MARGIN_DOUBLINGS),
    Loss("log_loss", kernel_id=2, kernel="polynomial", margin=True, refetch=False, objective=_log_loss,
         formula="log(1 + exp(-y f))", flatter=2),
    Loss("squared_hinge", kernel_id=3, kernel="linear", margin=True, refetch=False, objective=_squared_hinge,
         formula="(1/2) max(0, 1 - y f)^2", factor=_hinge, doublings=MARGIN_DOUBLINGS),
)}

#: Losses of ZipMLClassifier: every loss (squared_error on +1/-1 labels is the least-squares
#: SVM). ZipMLRegressor trains squared_error; a loss for regression targets with a parameter
#: of its own (epsilon-insensitive, Huber) would need a field for it here and in the policy.
CLASSIFIER_LOSSES = tuple(LOSSES)
