"""Write the golden vectors that the C++ testbenches (ctest, and C-simulation in Vitis)
check the kernels against. Every expected output comes from zipml_hls.reference.

Usage: python scripts/make_golden_vectors.py [OUT_DIR]   (default: testbench/vectors)

Layout: OUT_DIR/index.txt lists "<kind> <case>" lines; each case folder holds
params.txt ("key value" lines) and raw little-endian arrays (*.f32, *.u32, *.i32, *.u64).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from zipml_hls import reference as R
from zipml_hls.polynomial import logistic_polynomial
from zipml_hls.scaling import FeatureScaling, LabelScaling
from zipml_hls.spec import format as F
from zipml_hls.spec.losses import LOSSES


def random_tables(rng, d, bits):
    """Strictly increasing per-feature level tables from 0 to 2^24 (non-uniform)."""
    s = F.max_code(bits)
    inner = np.sort(rng.choice(np.arange(1, F.POS_ONE), size=(d, s - 1), replace=True), axis=1)
    inner = inner + np.arange(s - 1)  # make strictly increasing ...
    inner = np.minimum(inner, F.POS_ONE - s + np.arange(s - 1))  # ... and below 2^24
    return np.concatenate([np.zeros((d, 1)), inner, np.full((d, 1), F.POS_ONE)], axis=1).astype(np.uint32)


def write_case(root: Path, kind: str, name: str, params: dict, arrays: dict) -> str:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.txt").write_text("".join(f"{k} {v}\n" for k, v in params.items()))
    for fname, arr in arrays.items():
        (folder / fname).write_bytes(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes())
    return f"{kind} {name}"


def quantize_case(root, rng, name, n, d, bits, sampling, n_copies, tables=False, samples=2):
    X = (rng.standard_normal((n, d)) * rng.uniform(0.1, 10, size=d)).astype(np.float32)
    if d > 1:
        X[:, 0] = 1.5  # a constant feature
    sc = FeatureScaling.fit(X)
    levels = random_tables(rng, d, bits) if tables else None
    seed = int(rng.integers(0, 2**32))
    out = R.quantize_matrix(X, sc.lo, sc.inv, levels, bits, sampling, seed, n_copies, samples)
    arrays = {"x.f32": X, "lo.f32": sc.lo, "inv.f32": sc.inv, "expected.u64": out}
    if tables:
        arrays["levels.u32"] = levels
    params = dict(n=n, d=d, bits=bits, sampling=F.sampling_id(sampling), seed=seed, n_copies=n_copies,
                  tables=int(tables), samples=samples)
    return write_case(root, "quantize", name, params, arrays)


def sgd_case(root, rng, name, n, d, bits, sampling, n_copies, epochs, tables=False, loss="squared_error",
             model_bits=0, grad_bits=0, model_range=1 << 20, step_shift=5, label_gain=1, shifted=False,
             corrected=False, weighted=False, penalties=(), frozen=False, quantization="grid"):
    X = rng.uniform(-1, 1, size=(n, d)).astype(np.float32)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    sc = FeatureScaling.fit(X)
    # tables: True per-feature tables at random, "shared" one random table for every feature
    levels = (np.tile(random_tables(rng, 1, bits), (d, 1)) if tables == "shared"
              else random_tables(rng, d, bits) if tables else None)
    values = None if levels is None else F.level_values(levels)
    dot_mult = F.TABLE_DOT_MULT if tables else F.dot_mult(bits)
    data = R.quantize_matrix(X, sc.lo, sc.inv, levels, bits, sampling, 11, n_copies)
    labels = LabelScaling.fit(y).to_fixed(y * label_gain)
    full = None
    if LOSSES[loss].margin:
        labels = np.where(y > np.median(y), 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    if LOSSES[loss].refetch:
        full = R.scaled_position(X, sc.lo, sc.inv)
    model_in = rng.integers(-model_range, model_range, size=d + 1).astype(np.int32)
    decay, seed = 2, 77
    shifts = rng.integers(0, F.MAX_FEATURE_SHIFT + 1, size=d).astype(np.uint8) if shifted else None
    vmax = 1 << F.LEVEL_VALUE_FRAC if tables else F.max_code(bits)
    centers = rng.integers(0, vmax + 1, size=d).astype(np.int32) if shifted else None
    # the stored-rounding correction, at random variances up to the largest (2^26, Q32)
    variance = rng.integers(0, (1 << 26) + 1, size=d).astype(np.int32) if corrected else None
    reg = regularization(rng, n, d, weighted, penalties)
    hist, predictions, saturations, refetches = R.sgd_linear(
        data, labels, d, bits, sampling, epochs, step_shift, decay, dot_mult, model_in, values=values, loss=loss,
        model_bits=model_bits, grad_bits=grad_bits, seed=seed, full=full, feature_shifts=shifts, centers=centers,
        stored_variance=variance, fit_intercept=not frozen, model_quantization=quantization, **reg)
    params = dict(n=n, d=d, bits=bits, sampling=F.sampling_id(sampling), n_copies=n_copies, epochs=epochs,
                  step_shift=step_shift, decay_epochs=decay, dot_mult=dot_mult, tables=int(bool(tables)),
                  loss=LOSSES[loss].kernel_id, model_bits=model_bits, grad_bits=grad_bits, rng_seed=seed,
                  feature_shifts=int(shifted), centers=int(shifted), stored_variance=int(corrected))
    if quantization != "grid":  # the grid's cases keep their files as they were
        params["model_quantization"] = F.quantization_id(quantization)
    arrays = {"data.u64": data, "labels.i32": labels, "model_in.i32": model_in, "expected.i32": hist,
              "predictions.i32": predictions, "saturations.i32": saturations}
    if tables:
        arrays["values.i32"] = values
    if shifted:
        arrays["feature_shifts.u8"] = shifts
        arrays["centers.i32"] = centers
    if corrected:
        arrays["variances.i32"] = variance
    if frozen:  # written only when set: the other cases' files stay as they were
        params["fit_intercept"] = 0
    add_regularization(params, arrays, reg)
    if full is not None:
        arrays["full.u32"] = full
        arrays["refetches.i32"] = refetches
    return write_case(root, "sgd", name, params, arrays)


def regularization(rng, n, d, weighted, penalties) -> dict:
    """Sample weights (Q16, from 0 to 4 with some exactly 0 and 1) and the penalties named
    in ``penalties`` ('decay', 'l1'; Q32 coefficients up to the largest, 2^31 - 1), at random."""
    reg = {}
    if weighted:
        w = rng.integers(0, 4 << F.WEIGHT_FRAC, size=n)
        w[::5] = 0
        w[1::5] = 1 << F.WEIGHT_FRAC
        reg["sample_weights"] = w.astype(np.int32)
    for name in penalties:
        reg[name] = rng.integers(0, 1 << 31, size=d).astype(np.int32)
    return reg


def add_regularization(params: dict, arrays: dict, reg: dict) -> None:
    """The case's sample weights and penalties as arrays and flags (only where set, so the
    cases without them keep their files)."""
    for name, values in reg.items():
        params[name] = 1
        arrays[f"{name}.i32"] = values


def logistic_case(root, rng, name, n, d, bits, sampling, degree, epochs, seed=0, weighted=False, penalties=(),
                  step_shift=4, shifted=False, frozen=False):
    X = rng.uniform(-1, 1, size=(n, d)).astype(np.float32)
    labels = np.where(X @ rng.standard_normal(d) > 0, 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    sc = FeatureScaling.fit(X)
    samples = degree + 1
    data = R.quantize_matrix(X, sc.lo, sc.inv, None, bits, sampling, 13, 2, samples)
    poly = logistic_polynomial(degree, 4.0)
    model_in = rng.integers(-(1 << 20), 1 << 20, size=d + 1).astype(np.int32)
    reg = regularization(rng, n, d, weighted, penalties)
    shifts = rng.integers(0, F.MAX_FEATURE_SHIFT + 1, size=d).astype(np.uint8) if shifted else None
    centers = rng.integers(0, F.max_code(bits) + 1, size=d).astype(np.int32) if shifted else None
    hist, predictions, saturations = R.sgd_logistic(data, labels, d, bits, sampling, samples, epochs, step_shift, 1,
                                                    F.dot_mult(bits), poly.fixed_coef(), poly.range_q16(), model_in,
                                                    seed=seed, feature_shifts=shifts, centers=centers,
                                                    fit_intercept=not frozen, **reg)
    params = dict(n=n, d=d, bits=bits, sampling=F.sampling_id(sampling), samples=samples, n_copies=2, epochs=epochs,
                  step_shift=step_shift, decay_epochs=1, dot_mult=F.dot_mult(bits), range_q16=poly.range_q16(),
                  rng_seed=seed)
    arrays = {"data.u64": data, "labels.i32": labels, "model_in.i32": model_in, "coef.i64": poly.fixed_coef(),
              "expected.i32": hist, "predictions.i32": predictions, "saturations.i32": saturations}
    if shifted:  # written only when set: the other cases' files stay as they were
        params.update(feature_shifts=1, centers=1)
        arrays["feature_shifts.u8"] = shifts
        arrays["centers.i32"] = centers
    if frozen:
        params["fit_intercept"] = 0
    add_regularization(params, arrays, reg)
    return write_case(root, "logistic", name, params, arrays)


def main(out: Path) -> None:
    rng = np.random.default_rng(20170611)
    index = []
    for bits in F.SUPPORTED_BITS:
        for sampling in F.TRAINING_SAMPLINGS:
            k = F.values_per_line(bits, sampling)
            tag = f"b{bits}_{sampling}"
            index.append(quantize_case(out, rng, f"q_{tag}", 3, k + 3, bits, sampling, 2))
            index.append(quantize_case(out, rng, f"q_{tag}_tables", 2, 19, bits, sampling, 1, tables=True))
            index.append(sgd_case(out, rng, f"sgd_{tag}", 17, 37, bits, sampling, 2, 3))
            index.append(sgd_case(out, rng, f"sgd_{tag}_tables", 9, 21, bits, sampling, 1, 2, tables=True))
        index.append(quantize_case(out, rng, f"q_b{bits}_n1_d1", 1, 1, bits, "double", 1))
    index.append(quantize_case(out, rng, "q_b4_d5000", 2, 5000, 4, "double", 1))
    for bits in (1, 4, 6):
        for samples in F.MULTI_SAMPLES:
            k = F.values_per_line(bits, "multi", samples)
            index.append(quantize_case(out, rng, f"q_b{bits}_multi{samples}", 2, k + 5, bits, "multi", 2,
                                       samples=samples))
    for bits in (2, 8):
        for sampling in ("double", "naive"):
            tag = f"b{bits}_{sampling}"
            index.append(sgd_case(out, rng, f"sgd_{tag}_hinge", 15, 29, bits, sampling, 2, 3, loss="hinge"))
            index.append(sgd_case(out, rng, f"sgd_{tag}_lowprec", 15, 29, bits, sampling, 2, 3, model_bits=6,
                                  grad_bits=5))
    for bits in (2, 4):
        for sampling in ("multi", "nearest"):
            for degree in (3, 5):
                index.append(logistic_case(out, rng, f"logistic_b{bits}_{sampling}_deg{degree}", 12, 23, bits,
                                           sampling, degree, 2))
    # Every other loss of the linear kernel (appended, so earlier cases keep their random draws),
    # from models of up to +-1 per weight, so that margins fall on both sides of 1.
    for loss in (name for name, spec in LOSSES.items() if spec.kernel == "linear" and name not in
                 ("squared_error", "hinge")):
        for bits in (2, 8):
            for sampling in ("double", "naive"):
                index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_{loss}", 15, 29, bits, sampling, 2, 3,
                                      loss=loss, model_range=1 << 24))
    # Steps beyond the model's range (labels of 2^14 standard deviations, step 2^-1): they
    # saturate, and the kernels count them.
    for bits in (1, 8):
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_saturating", 9, 19, bits, "double", 1, 2, step_shift=1,
                              label_gain=1 << 14))
    # Per-feature centers and step multipliers 2^p_j (at random: centers in [0, v_max], p_j in
    # [0, 15]): every width, level tables, hinge refetching, model and gradient rounding, and
    # steps that saturate once shifted.
    for bits in F.SUPPORTED_BITS:
        for sampling in ("double", "naive"):
            index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_shifted", 13, 41, bits, sampling, 2, 3,
                                  step_shift=16, shifted=True))
    index.append(sgd_case(out, rng, "sgd_b4_double_tables_shifted", 9, 21, 4, "double", 1, 2, tables=True,
                          step_shift=16, shifted=True))
    index.append(sgd_case(out, rng, "sgd_b2_double_hinge_shifted", 15, 29, 2, "double", 2, 3, loss="hinge",
                          step_shift=16, shifted=True))
    index.append(sgd_case(out, rng, "sgd_b8_double_lowprec_shifted", 15, 29, 8, "double", 2, 3, model_bits=6,
                          grad_bits=5, step_shift=16, shifted=True))
    for bits in (1, 4, 8):
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_shifted_saturating", 9, 19, bits, "double", 1, 2,
                              step_shift=1, label_gain=1 << 6, shifted=True))
    # Logistic regression on double data: degree + 1 samples drawn in the kernel every epoch.
    for bits in (1, 2, 4):
        for degree in (3, 5):
            index.append(logistic_case(out, rng, f"logistic_b{bits}_double_deg{degree}", 12, 23, bits, "double",
                                       degree, 2, seed=31))
    # Double data's stored-rounding correction after every 32 samples (70 rows: two blocks
    # and a remainder), plain and with centers and step multipliers.
    for bits in (1, 2, 4, 8):
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_corrected", 70, 23, bits, "double", 1, 2,
                              step_shift=6, corrected=True))
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_corrected_shifted", 70, 23, bits, "double", 1, 2,
                              step_shift=16, shifted=True, corrected=True))
    # Sample weights (some 0, some 1, up to 4) and the L2 decay and L1 step at random
    # coefficients up to the largest: alone and together, on the AVX-512 widths (weights run
    # there; penalties on the AVX2 path), level tables, centers and step multipliers,
    # hinge refetching, model and gradient rounding, the stored-rounding correction, steps
    # that saturate once weighted, and the logistic kernel.
    for bits in (1, 2, 4, 8):
        for sampling in ("double", "naive"):
            tag = f"b{bits}_{sampling}"
            index.append(sgd_case(out, rng, f"sgd_{tag}_weighted", 17, 37, bits, sampling, 2, 3, weighted=True))
            index.append(sgd_case(out, rng, f"sgd_{tag}_weighted_shifted", 13, 41, bits, sampling, 2, 3,
                                  step_shift=16, shifted=True, weighted=True))
            index.append(sgd_case(out, rng, f"sgd_{tag}_l2", 17, 37, bits, sampling, 2, 3, penalties=("decay",)))
            index.append(sgd_case(out, rng, f"sgd_{tag}_elasticnet_weighted", 17, 37, bits, sampling, 2, 3,
                                  step_shift=3, weighted=True, penalties=("decay", "l1")))
    index.append(sgd_case(out, rng, "sgd_b3_nearest_l1", 17, 37, 3, "nearest", 2, 3, step_shift=3,
                          penalties=("l1",)))
    index.append(sgd_case(out, rng, "sgd_b4_double_tables_elasticnet_weighted", 9, 21, 4, "double", 1, 2,
                          tables=True, weighted=True, penalties=("decay", "l1")))
    index.append(sgd_case(out, rng, "sgd_b2_double_hinge_elasticnet_weighted", 15, 29, 2, "double", 2, 3,
                          loss="hinge", weighted=True, penalties=("decay", "l1")))
    index.append(sgd_case(out, rng, "sgd_b2_double_hinge_shifted_weighted", 15, 29, 2, "double", 2, 3,
                          loss="hinge", step_shift=16, shifted=True, weighted=True))
    index.append(sgd_case(out, rng, "sgd_b8_double_lowprec_elasticnet_weighted", 15, 29, 8, "double", 2, 3,
                          model_bits=6, grad_bits=5, weighted=True, penalties=("decay", "l1")))
    index.append(sgd_case(out, rng, "sgd_b4_double_corrected_shifted_weighted_l2", 70, 23, 4, "double", 1, 2,
                          step_shift=16, shifted=True, corrected=True, weighted=True, penalties=("decay",)))
    for bits in (1, 8):
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_weighted_saturating", 9, 19, bits, "double", 1, 2,
                              step_shift=1, label_gain=1 << 13, weighted=True))
    for sampling in ("double", "multi"):
        index.append(logistic_case(out, rng, f"logistic_b2_{sampling}_deg3_elasticnet_weighted", 12, 23, 2,
                                   sampling, 3, 2, seed=31, weighted=True, penalties=("decay", "l1")))
    # A frozen intercept (fit_intercept=False; centers at random, as the estimators put them at
    # the level of x = 0): the model's last entry stays model_in's, on the AVX-512 widths (which
    # decline it), with weights and penalties, hinge refetching and the stored-rounding correction.
    for bits in (1, 4, 8):
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_shifted_frozen", 13, 41, bits, "double", 2, 3,
                              step_shift=16, shifted=True, frozen=True))
    index.append(sgd_case(out, rng, "sgd_b2_naive_shifted_frozen_elasticnet_weighted", 17, 37, 2, "naive", 2, 3,
                          step_shift=16, shifted=True, frozen=True, weighted=True, penalties=("decay", "l1")))
    index.append(sgd_case(out, rng, "sgd_b2_double_hinge_shifted_frozen", 15, 29, 2, "double", 2, 3, loss="hinge",
                          step_shift=16, shifted=True, frozen=True))
    index.append(sgd_case(out, rng, "sgd_b4_double_corrected_shifted_frozen", 70, 23, 4, "double", 1, 2,
                          step_shift=16, shifted=True, corrected=True, frozen=True))
    # QSGD model and gradient rounding (model_quantization 1): both samplings of the linear kernel
    # at 2 and 8 bits, 2-bit levels (s = 1), level tables with centers and step multipliers,
    # hinge refetching, the other losses, weights and penalties, and a model whose norm passes
    # 2^31 (its rounded weights saturate).
    for bits in (2, 8):
        for sampling in ("double", "naive", "nearest"):
            index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_qsgd", 15, 29, bits, sampling, 2, 3,
                                  model_bits=6, grad_bits=5, quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b4_double_qsgd_2bit", 15, 29, 4, "double", 2, 3, model_bits=2,
                          grad_bits=2, quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b4_double_tables_shifted_qsgd", 9, 21, 4, "double", 1, 2, tables=True,
                          step_shift=16, shifted=True, model_bits=4, grad_bits=8, quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b2_double_hinge_qsgd", 15, 29, 2, "double", 2, 3, loss="hinge",
                          model_bits=8, grad_bits=3, model_range=1 << 24, quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b8_naive_squared_hinge_qsgd", 15, 29, 8, "naive", 2, 3,
                          loss="squared_hinge", model_bits=3, grad_bits=6, model_range=1 << 24, quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b8_double_qsgd_elasticnet_weighted", 15, 29, 8, "double", 2, 3,
                          model_bits=6, grad_bits=5, weighted=True, penalties=("decay", "l1"), quantization="qsgd"))
    index.append(sgd_case(out, rng, "sgd_b4_double_qsgd_saturating", 9, 19, 4, "double", 1, 2, model_bits=2,
                          model_range=1 << 30, quantization="qsgd"))
    # 3 and 6 bits, which the AVX2 fast paths also run (natural-order fields that straddle
    # bytes and words; naive and nearest lines of 170 and 85 values end inside a group of 8
    # lanes): rows of two lines and part of a third with sample weights, step multipliers
    # and centers; level tables over several lines; the stored-rounding correction; and the
    # logistic kernel on each sampling it reads.
    for bits in (3, 6):
        for sampling in ("double", "naive", "nearest"):
            k = F.values_per_line(bits, sampling)
            index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_lines_weighted_shifted", 13, 2 * k + 7, bits,
                                  sampling, 2, 3, step_shift=16, shifted=True, weighted=True))
            index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_lines_tables", 9, k + 3, bits, sampling, 1, 2,
                                  tables=True))
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_corrected", 70, 23, bits, "double", 1, 2,
                              step_shift=6, corrected=True))
        for sampling in ("double", "naive", "multi"):
            index.append(logistic_case(out, rng, f"logistic_b{bits}_{sampling}_deg3", 12,
                                       F.values_per_line(bits, sampling, 4) + 5, bits, sampling, 3, 2, seed=31,
                                       weighted=True))
    # The logistic kernel with centers and step multipliers 2^p_j at random (as sgd_linear's
    # shifted cases): every width on double data, the stored samplings, steps that saturate
    # once shifted (step 2^-5: some samples, not all), a frozen intercept, and weights with penalties.
    for bits in F.SUPPORTED_BITS:
        index.append(logistic_case(out, rng, f"logistic_b{bits}_double_deg5_shifted", 12,
                                   F.values_per_line(bits, "double", 6) + 5, bits, "double", 5, 2, seed=31,
                                   step_shift=16, shifted=True))
    for sampling in ("multi", "naive", "nearest"):
        index.append(logistic_case(out, rng, f"logistic_b4_{sampling}_deg3_shifted", 12, 23, 4, sampling, 3, 2,
                                   step_shift=16, shifted=True))
    for bits in (1, 8):
        index.append(logistic_case(out, rng, f"logistic_b{bits}_double_deg3_shifted_saturating", 9, 19, bits,
                                   "double", 3, 2, seed=31, step_shift=5, shifted=True))
    index.append(logistic_case(out, rng, "logistic_b2_double_deg3_shifted_frozen", 12, 23, 2, "double", 3, 2,
                               seed=31, step_shift=16, shifted=True, frozen=True))
    index.append(logistic_case(out, rng, "logistic_b2_double_deg3_shifted_elasticnet_weighted", 12, 23, 2, "double",
                               3, 2, seed=31, step_shift=16, shifted=True, weighted=True, penalties=("decay", "l1")))
    # One level table shared by every feature (quantize's levels_method='shared'), which the
    # AVX2 path looks up in registers (up to 16 levels) or gathers from the one table: rows of
    # several lines, with centers and step multipliers, and a step that saturates.
    for bits in (2, 3, 4, 6, 8):
        for sampling in ("double", "naive"):
            k = F.values_per_line(bits, sampling)
            index.append(sgd_case(out, rng, f"sgd_b{bits}_{sampling}_shared_tables_shifted", 11, k + 13, bits,
                                  sampling, 2, 2, tables="shared", step_shift=16, shifted=True))
        index.append(sgd_case(out, rng, f"sgd_b{bits}_double_shared_tables_saturating", 9, 37, bits, "double", 1, 2,
                              tables="shared", step_shift=1))
    (out / "index.txt").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "testbench" / "vectors")
