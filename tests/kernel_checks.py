"""Shared by the kernel tests: a small regression problem with Q16 labels, the check that a
fast path's SgdResult equals other kernels' (portable, golden) field by field, and which
fast path this build has."""

import numpy as np

from zipml_hls import _kernels
from zipml_hls.scaling import LabelScaling

#: The linear kernel's SIMD path is the AVX2 one, which also takes the penalties, a frozen
#: intercept and the model's and steps' grid rounding (the AVX-512 one does not): the
#: tests of those pass require_fast=True on such builds, so that a call which quietly ran
#: the portable kernel fails them.
AVX2_LINEAR = _kernels.info()["fast_sgd"] == "avx2"
#: The log_loss kernel's AVX2 path is built (also where AVX-512 is).
AVX2_LOGISTIC = _kernels.info()["fast_logistic"] == "avx2"


def problem(rng, n, d):
    X = rng.uniform(-3, 3, size=(n, d))
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    return X, LabelScaling.fit(y).to_fixed(y)


def assert_same(fast, others, where):
    """Every field of ``fast`` (an SgdResult) equals that of each of ``others``, bit for
    bit (None where both are None); ``where`` names the case in a failure."""
    for other in others:
        for name in fast._fields:
            a, b = getattr(fast, name), getattr(other, name)
            assert (a is None and b is None) or np.array_equal(a, b), (name, where)
