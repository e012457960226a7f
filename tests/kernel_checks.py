"""Shared by the kernel tests: a small regression problem with Q16 labels, and the check
that a fast path's SgdResult equals other kernels' (portable, golden) field by field."""

import numpy as np

from zipml_hls.scaling import LabelScaling


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
