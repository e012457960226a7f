"""fit()'s host work in native code (bindings/host.cpp): the rounding variances of sampled
rows and every epoch's pass loss give the same bits as their NumPy definitions."""

import numpy as np
import pytest

from zipml_hls.backend import get_backend
from zipml_hls.scaling import FeatureScaling, sample_rows
from zipml_hls.spec import format as F
from zipml_hls.spec.losses import LOSSES
from zipml_hls.step_size import RoundingStats


def _numpy_rounding_variance(a: np.ndarray, bits: int, fine: bool = False) -> np.ndarray:
    """The NumPy definition the native pass replaced: per-value variance of stochastic
    rounding of float32 scaled values to the levels (or double data's fine grid)."""
    s = F.max_code(bits) << (F.FRACTION_BITS if fine else 0)
    k = np.minimum(np.floor(a * s), s - 1)
    k /= s
    return (k + 1 / s - a) * (a - k)


@pytest.mark.parametrize("n, d", [(5, 3), (300, 129), (9000, 37), (4097, 513)])
@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_rounding_stats_are_numpys_bits(n, d, bits):
    # Rows sampled (n > 4096) or all of them; a constant column (inv 0) and values outside
    # the fitted range (clipped to [0, 1] as the scaled copy was).
    rng = np.random.default_rng(n + d + bits)
    X = (rng.standard_normal((n, d)) * rng.uniform(0.1, 5.0, d) + rng.uniform(-3, 3, d)).astype(np.float32)
    X[:, d // 2] = 1.5
    scaling = FeatureScaling.fit(X[: max(1, n // 2)])
    stats = RoundingStats.of(X, scaling, bits)
    sample = scaling.transform(X[sample_rows(n, 4096)])
    coarse = _numpy_rounding_variance(sample, bits)
    assert np.array_equal(stats.mean, coarse.mean(axis=0, dtype=np.float64))
    assert stats.row_max == float(coarse.sum(axis=1, dtype=np.float64).max())
    assert np.array_equal(stats.stored, _numpy_rounding_variance(sample, bits, fine=True).mean(axis=0,
                                                                                                  dtype=np.float64))
    assert stats.mean[d // 2] == 0 and stats.row_max > 0


def _numpy_table_variance(a: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The variances of stochastic rounding of scaled values a (n, d) between each feature's
    levels (table: (d, 2^b) Q0.24) and on the fine grid that cuts each interval into
    2^FRACTION_BITS, in float64 and Q0.24 units: (coarse, fine)."""
    p = a.astype(np.float64) * F.POS_ONE
    t = table.astype(np.float64)
    k = np.stack([np.clip(np.searchsorted(t[j], p[:, j], side="right") - 1, 0, t.shape[1] - 2)
                  for j in range(t.shape[0])], axis=1)
    left = np.take_along_axis(t.T, k, axis=0)
    width, off = np.take_along_axis(t.T, k + 1, axis=0) - left, p - left
    step = width / (1 << F.FRACTION_BITS)
    rest = off - np.minimum(np.floor(off / step), (1 << F.FRACTION_BITS) - 1) * step
    unit = float(F.POS_ONE) ** 2
    return (width - off) * off / unit, (step - rest) * rest / unit


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("method", ["grid", "shared"])
def test_rounding_stats_at_level_tables_are_numpys(bits, method):
    # Per-feature and shared optimal tables of skewed columns, values outside the fitted range.
    from zipml_hls.quantize import optimal_level_table

    rng = np.random.default_rng(bits)
    X = np.column_stack([rng.lognormal(size=(5000, 4)), rng.standard_normal((5000, 3))]).astype(np.float32)
    scaling = FeatureScaling.fit(X[:4000])
    table = optimal_level_table(X[:4000], bits, scaling, "hls", method)
    stats = RoundingStats.of(X, scaling, bits, table)
    coarse, fine = _numpy_table_variance(scaling.transform(X[sample_rows(5000, 4096)]), table)
    np.testing.assert_allclose(stats.mean, coarse.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.row_max, coarse.sum(axis=1).max(), rtol=1e-12)
    np.testing.assert_allclose(stats.stored, fine.mean(axis=0), rtol=1e-12)
    # optimal levels round with less variance than uniform ones, overall (1 bit: the same levels)
    uniform = RoundingStats.of(X, scaling, bits)
    if bits > 1:
        assert stats.mean.sum() < 0.9 * uniform.mean.sum() and stats.stored.sum() < 0.9 * uniform.stored.sum()


def test_rounding_stats_at_a_uniform_table_are_uniform_levels():
    # A table of the uniform levels gives uniform levels' variances (theirs in float32).
    rng = np.random.default_rng(7)
    X = rng.lognormal(size=(3000, 5)).astype(np.float32)
    scaling = FeatureScaling.fit(X)
    for bits in (1, 3, 8):
        s = F.max_code(bits)
        uniform_table = np.tile(np.round(np.arange(s + 1) / s * F.POS_ONE).astype(np.uint32), (5, 1))
        at_table, uniform = RoundingStats.of(X, scaling, bits, uniform_table), RoundingStats.of(X, scaling, bits)
        np.testing.assert_allclose(at_table.mean, uniform.mean, rtol=2e-5)
        np.testing.assert_allclose(at_table.stored, uniform.stored, rtol=2e-4)


def test_rounding_stats_refuse_bad_input():
    X = np.zeros((10, 4), np.float32)
    lo, inv = np.zeros(4, np.float32), np.ones(4, np.float32)
    host = get_backend("hls")
    with pytest.raises(ValueError, match="bits must be in"):
        host.rounding_stats(X, None, lo, inv, 9)
    with pytest.raises(ValueError, match=r"rows\[1\] = 10 is not a row"):
        host.rounding_stats(X, np.array([0, 10]), lo, inv, 2)
    with pytest.raises(ValueError, match="inv must have shape"):
        host.rounding_stats(X, None, lo, inv[:3], 2)
    table = np.tile(np.array([0, 1 << 23, 1 << 23, 1 << 24], np.uint32), (4, 1))
    with pytest.raises(ValueError, match="levels of feature 0 must be strictly increasing"):
        host.rounding_stats(X, None, lo, inv, 2, table)
    with pytest.raises(ValueError, match=r"levels must have shape \(4, 8\)"):
        host.rounding_stats(X, None, lo, inv, 3, table)


def _numpy_pass_loss(loss: str, predictions, labels, rows, weights):
    """The NumPy definition the native pass loss replaced (the engine's, before): the mean of
    ``Loss.pass_estimate`` and the standard error from ``Loss.pass_noise``."""
    spec = LOSSES[loss]
    y = labels if rows is None else labels[rows]
    if predictions.dtype == np.int32:
        y, f = y.astype(np.float64) / (1 << F.LABEL_FRAC), predictions.astype(np.float64) / (1 << F.LABEL_FRAC)
    else:
        y, f = y.astype(np.float64), predictions.astype(np.float64)
    per_sample, noise = spec.pass_estimate(y, f), spec.pass_noise(y, f)
    if weights is not None:
        u = weights if rows is None else weights[rows]
        per_sample, noise = per_sample * u, noise * u * u
    return float(np.mean(per_sample)), float(np.sqrt(max(np.sum(noise), 0.0)) / max(1, per_sample.size))


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("fp32", [False, True])
@pytest.mark.parametrize("n", [1, 7, 129, 1000, 65537])
def test_pass_loss_is_numpys_bits(loss, fp32, n):
    # Q16 predictions (the quantized kernels') and float32 ones (fp32), margin labels for
    # the margin losses; every row in order, a permutation of them, or a part of them in
    # another order (a sharded block); with and without sample weights.
    rng = np.random.default_rng(n)
    rows_total = n + 5
    if LOSSES[loss].margin:
        y = rng.choice([-1.0, 1.0], rows_total)
    else:
        y = rng.standard_normal(rows_total) * 2
    f = y[:n, None] * rng.uniform(-1.5, 2.5, (n, 1)) + rng.standard_normal((n, 2)) * 0.7
    if fp32:
        labels, predictions = y.astype(np.float32), f.astype(np.float32)
    else:
        labels, predictions = F.to_fixed(y, F.LABEL_FRAC), F.to_fixed(f, F.LABEL_FRAC)
    weights = rng.uniform(0.0, 3.0, rows_total)
    host = get_backend("hls")
    for rows in (None, rng.permutation(rows_total)[:n]):
        if rows is None:
            labels_in, weights_in = labels[:n], weights[:n]
        else:
            labels_in, weights_in = labels, weights
        for u in (None, weights_in):
            native = host.pass_loss(predictions, labels_in, loss, rows, u)
            assert native == _numpy_pass_loss(loss, predictions, labels_in, rows, u)
    error = host.pass_loss(predictions, labels[:n], loss)[1]
    assert error == 0 if not LOSSES[loss].second_sample else (n < 100 or error > 0)  # a noise term only for these


def test_pass_loss_refuses_bad_input():
    host = get_backend("hls")
    p, y = np.zeros((4, 2), np.int32), np.zeros(4, np.int32)
    with pytest.raises(ValueError, match="predictions must have shape"):
        host.pass_loss(np.zeros((4, 3), np.int32), y, "squared_error")
    with pytest.raises(ValueError, match="predictions must be int32"):
        host.pass_loss(p.astype(np.float64), y, "squared_error")
    with pytest.raises(ValueError, match="the pass visits 3 rows"):
        host.pass_loss(p, y, "squared_error", np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="weights must have one value per label"):
        host.pass_loss(p, y, "hinge", None, np.ones(3))
    with pytest.raises(ValueError, match="loss must be a loss id"):
        get_backend("hls")._k.pass_loss(p, y, 7)
