"""C-simulation of the synthesis tops from pytest: the extern "C" functions of
hls/kernels/zipml_tops.cpp (the translation unit Vitis HLS reads, compiled into the module
as it is) run on every golden vector of their configuration and on random cases, and
must equal the golden model bit for bit (the 32-bit fixed-point baseline too)."""

from pathlib import Path

import numpy as np
import pytest

from zipml_hls import _kernels
from zipml_hls import reference as R
from zipml_hls import quantize
from zipml_hls.scaling import LabelScaling
from zipml_hls.spec import format as F

VECTORS = Path(__file__).resolve().parents[1] / "testbench" / "vectors"
TOPS = {top["name"]: top for top in _kernels.tops()}


def read_case(folder: Path) -> dict:
    params = {k: int(v) for k, v in (line.split() for line in (folder / "params.txt").read_text().splitlines())}
    arrays = {p.stem: np.fromfile(p, dtype={"u64": "<u8", "i32": "<i4"}[p.suffix[1:]])
              for p in folder.iterdir() if p.suffix in (".u64", ".i32")}
    return {**params, **arrays}


def top_cases():
    """(top, case folder) for every sgd vector a top's configuration covers: plain least
    squares on uniform levels at the top's bits and sampling."""
    names = {s.kernel_id: name for name, s in F.SAMPLINGS.items()}
    out = []
    for line in (VECTORS / "index.txt").read_text().split("\n"):
        if not line.startswith("sgd "):
            continue
        folder = VECTORS / line.split()[1]
        p = read_case(folder)
        if p["tables"] or p.get("loss", 0) or p.get("model_bits", 0) or p.get("grad_bits", 0) or \
                p.get("feature_shifts", 0) or p.get("stored_variance", 0) or \
                any((folder / f"{k}.i32").exists() for k in ("sample_weights", "decay", "l1")):  # default options
            continue
        for top in TOPS.values():
            if top["bits"] == p["bits"] and top["sampling"] == names[p["sampling"]]:
                out.append(pytest.param(top["name"], folder, id=f"{top['name']}-{folder.name}"))
    return out


def test_every_top_has_golden_vectors():
    covered = {case.values[0] for case in top_cases()}
    assert covered == set(TOPS) and len(TOPS) == 8


@pytest.mark.parametrize("name, folder", top_cases())
def test_top_on_golden_vectors(name, folder):
    p = read_case(folder)
    data = p["data"].reshape(p["n_copies"], p["n"], -1)
    assert p["dot_mult"] == F.dot_mult(TOPS[name]["bits"])  # the top's built-in one
    got = _kernels.run_top(name, data, p["labels"], p["model_in"], p["d"], p["epochs"], p["step_shift"],
                           p["decay_epochs"], p.get("rng_seed", 0))
    assert np.array_equal(got.ravel(), p["expected"])


@pytest.mark.parametrize("name", sorted(TOPS))
def test_top_on_random_cases(name):
    top = TOPS[name]
    rng = np.random.default_rng(top["bits"] * 3 + len(top["sampling"]))
    for n, d, copies in ((25, 1, 1), (40, 77, 2), (9, 300, 3)):
        X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
        y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
        q = quantize(X, top["bits"], sampling=top["sampling"], seed=int(rng.integers(2**32)), n_copies=copies)
        labels = LabelScaling.fit(y).to_fixed(y)
        model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
        args = (q.lines, labels, d, top["bits"], top["sampling"], 3, 4, 2, F.dot_mult(top["bits"]), model_in)
        seed = int(rng.integers(2**32))
        want = R.sgd_linear(*args, seed=seed)[0]
        got = _kernels.run_top(name, q.lines, labels, model_in, d, 3, 4, 2, seed)
        assert np.array_equal(got, want), (n, d, copies)


@pytest.mark.parametrize("name", sorted(TOPS))
def test_top_saturating_steps(name):
    """Steps at the model's range: the engine's clamped per-lane multiply (8 bits) and its
    step table (fewer bits) saturate exactly where the golden model's code_step does."""
    top = TOPS[name]
    rng = np.random.default_rng(11)
    n, d = 30, 70
    q = quantize(rng.uniform(size=(n, d)), top["bits"], sampling=top["sampling"], seed=5)
    labels = rng.integers(-(1 << 31), 1 << 31, size=n).astype(np.int32)
    model_in = rng.integers(-(1 << 31), 1 << 31, size=d + 1).astype(np.int32)
    want, _, saturations, _ = R.sgd_linear(q.lines, labels, d, top["bits"], top["sampling"], 2, 1, 0,
                                           F.dot_mult(top["bits"]), model_in, seed=9)
    assert saturations.sum() > 0  # the case does reach saturation
    assert np.array_equal(_kernels.run_top(name, q.lines, labels, model_in, d, 2, 1, 0, 9), want)


def fixed32_case(rng, n, d):
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    lo, hi = X.min(axis=0), X.max(axis=0)
    positions = np.rint((X - lo) / np.where(hi > lo, hi - lo, 1) * F.POS_ONE).astype(np.uint32)
    labels = LabelScaling.fit(y).to_fixed(y)
    model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
    return positions, labels, model_in


def test_fixed32_top_matches_the_golden_model():
    rng = np.random.default_rng(7)
    for n, d, shift in ((50, 1, 3), (60, 37, 5), (30, 130, 6), (20, 16, 1)):
        positions, labels, model_in = fixed32_case(rng, n, d)
        got = _kernels.run_fixed32_top(positions, labels, model_in, 4, shift, 2)
        assert np.array_equal(got, R.sgd_fixed32(positions, labels, 4, shift, 2, model_in)), (n, d)


def test_fixed32_golden_model_fits_least_squares():
    """The baseline trains: on noiseless data its model approaches the least-squares fit."""
    rng = np.random.default_rng(3)
    n, d = 400, 6
    positions = rng.integers(0, F.POS_ONE + 1, size=(n, d)).astype(np.uint32)
    x = positions / F.POS_ONE
    coef = rng.uniform(-1, 1, size=d)
    labels = F.to_fixed(x @ coef + 0.25, F.LABEL_FRAC)
    history = R.sgd_fixed32(positions, labels, 30, 4, 10, np.zeros(d + 1, np.int32))
    got = history[-1].astype(np.float64) / (1 << F.MODEL_FRAC)
    np.testing.assert_allclose(got, np.append(coef, 0.25), atol=2e-3)


def test_tops_reject_calls_outside_their_design():
    data = np.zeros((1, 2, 8), np.uint64)
    labels, model_in = np.zeros(2, np.int32), np.zeros(9000, np.int32)
    with pytest.raises(ValueError, match="synthesized model size"):
        _kernels.run_top("zipml_sgd_b4_double", data, labels, model_in, 8999, 1, 3, 0)
    with pytest.raises(ValueError, match="no quantized top named"):
        _kernels.run_top("zipml_sgd_b3_double", data, labels, np.zeros(5, np.int32), 4, 1, 3, 0)
    with pytest.raises(ValueError, match="words"):
        _kernels.run_top("zipml_sgd_b4_double", np.zeros((1, 2, 16), np.uint64), labels, np.zeros(5, np.int32), 4, 1,
                         3, 0)
    with pytest.raises(ValueError, match="Q0.24"):
        _kernels.run_fixed32_top(np.full((2, 3), F.POS_ONE + 1, np.uint32), labels, np.zeros(4, np.int32), 1, 3, 0)
