"""Quantized data files: the format, training from them, streaming ingestion, the CLI."""

import functools
import importlib
from dataclasses import replace
import os
import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes

import zipml_hls
from zipml_hls import ZipMLClassifier, ZipMLRegressor, load_quantized, quantize
from zipml_hls import data
from zipml_hls.cli import main
from zipml_hls.data import DataError, csv_blocks, load_csv
from zipml_hls.ingest import quantize_file
from zipml_hls.quantized_io import FORMAT_VERSION, PRELUDE, QuantizedFileError


@pytest.fixture(scope="module")
def skewed():
    rng = np.random.default_rng(4)
    X = rng.lognormal(size=(600, 11))
    X[:, 3] = (np.arange(600) % 7 == 0)  # a rare one-hot column
    y = X @ rng.standard_normal(11) + 0.1 * rng.standard_normal(600)
    return X, y


def _nameless_bytes(path):
    """A quantized data file's bytes as written without feature names (a CSV, Parquet or
    Arrow file's header names its columns; a .npy table and a NumPy X do not)."""
    out = path.with_suffix(".nameless")
    replace(load_quantized(path), feature_names=None).save(out)
    return out.read_bytes()


def _table_files(tmp_path, X, y):
    """The same table (label first) as CSV with a header and as .npy."""
    table = np.column_stack([y, X])
    csv, npy = tmp_path / "data.csv", tmp_path / "data.npy"
    np.savetxt(csv, table, delimiter=",", fmt="%.17g", header="y," + ",".join(f"x{j}" for j in range(X.shape[1])),
               comments="")
    np.save(npy, table)
    return csv, npy


@pytest.mark.parametrize("bits, sampling, levels, copies", [
    (4, "double", "uniform", 1), (2, "naive", "uniform", 3), (3, "double", "optimal", 2), (8, "nearest", "uniform", 1)])
def test_save_load_round_trip(skewed, tmp_path, bits, sampling, levels, copies):
    X, y = skewed
    q = quantize(X, bits, sampling=sampling, levels=levels, seed=9, n_copies=copies, y=y)
    path = tmp_path / "q.zq"
    q.save(path)
    r = load_quantized(path)
    assert isinstance(r.lines, np.memmap) and not r.lines.flags.writeable
    assert np.array_equal(r.lines, q.lines) and np.array_equal(r.labels, q.labels)
    assert (r.bits, r.sampling, r.levels, r.seed, r.n_copies, r.n_features) == (bits, sampling, levels, 9, copies, 11)
    for name in ("lo", "hi", "inv"):
        assert np.array_equal(getattr(r.scaling, name), getattr(q.scaling, name))
    assert np.array_equal(r.stats.summary.mean, q.stats.summary.mean)
    assert np.array_equal(r.stats.summary.var, q.stats.summary.var)
    assert np.array_equal(r.stats.rounding.mean, q.stats.rounding.mean)
    assert np.array_equal(r.stats.rounding.stored, q.stats.rounding.stored)
    assert (r.stats.rounding.row_max, r.stats.bound, r.stats.bound_conditioned) == (
        q.stats.rounding.row_max, q.stats.bound, q.stats.bound_conditioned)
    assert (r.stats.square_bound, r.stats.square_bound_conditioned) == (
        q.stats.square_bound, q.stats.square_bound_conditioned)
    assert 0 < q.stats.square_bound <= q.stats.bound
    assert (r.level_table is None) == (levels == "uniform")
    if levels == "optimal":
        assert np.array_equal(r.level_table, q.level_table)
    epoch = 2 if sampling == "double" else 0
    assert np.array_equal(r.dequantize(copy=copies - 1, epoch=epoch), q.dequantize(copy=copies - 1, epoch=epoch))
    # 64-byte prelude, lines at byte 64: the file is about the packed bytes plus the labels
    assert os.path.getsize(path) - q.nbytes - 8 * len(y) < 8192


@pytest.mark.parametrize("bits, sampling, levels, copies", [
    (4, "double", "uniform", 1), (2, "naive", "uniform", 8), (3, "double", "optimal", 1), (4, "double", "shared", 1)])
def test_fit_from_file_equals_fit_in_memory(skewed, tmp_path, bits, sampling, levels, copies):
    X, y = skewed
    method = "shared" if levels == "shared" else None  # optimal levels, one table for every feature
    levels = "optimal" if method else levels
    q = quantize(X, bits, sampling=sampling, levels=levels, seed=5, n_copies=copies, y=y, levels_method=method)
    assert method is None or np.array_equal(q.level_table, np.tile(q.level_table[:1], (X.shape[1], 1)))
    q.save(tmp_path / "q.zq")
    params = dict(bits=bits, sampling=sampling, levels=levels, random_state=5, max_iter=8, decay_epochs=4)
    a = ZipMLRegressor(**params).fit(q)
    b = ZipMLRegressor(**params).fit(load_quantized(tmp_path / "q.zq"))
    assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_
    assert a.loss_curve_ == b.loss_curve_ and b.n_features_in_ == 11
    # y given explicitly is the same as the stored labels
    c = ZipMLRegressor(**params).fit(load_quantized(tmp_path / "q.zq"), y)
    assert np.array_equal(a.coef_, c.coef_)
    if sampling != "naive":
        # double and nearest data: the set-up statistics are fit(X)'s and the stored copy is
        # the one fit(X) quantizes with its seed, so the model is fit(X)'s, bit for bit
        d = ZipMLRegressor(requantize=False, levels_method=method, **params).fit(X, y)
        assert np.array_equal(a.coef_, d.coef_) and a.eta_ == d.eta_
        # the stored-rounding correction, at the level tables' own fine grid where they have them
        assert (a._stored_variance is not None) == (sampling == "double")
        assert np.array_equal(a._stored_variance, d._stored_variance)
        assert np.array_equal(a.predict(X), d.predict(X))
    # predict on float data uses the stored scaling (2-bit naive sampling is biased: lower)
    assert a.score(X, y) > (0.4 if sampling == "naive" else 0.9)


@pytest.mark.parametrize("bits", [1, 4, 8])
def test_fit_from_quantized_data_equals_fit_in_memory_for_log_loss_and_a_strong_penalty(skewed, bits):
    # The automatic step from the bound that quantized data keep: log_loss, centred without
    # multipliers, from the uncentred rows; least squares whose L2 penalty lowers a 1% one-hot
    # column's multiplier (2^7 to 2^5), from those before it does. Same step, same model.
    X, y = skewed
    labels = (y > np.median(y)).astype(int)
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(500, 6))
    Xr[:, 0] = rng.uniform(size=500) < 0.01
    yr = Xr @ rng.standard_normal(6)
    for est, features, target in (
            (ZipMLClassifier(loss="log_loss", bits=bits, random_state=5, max_iter=6, decay_epochs=3), X, labels),
            (ZipMLRegressor(bits=bits, penalty="l2", alpha=0.01, random_state=5, max_iter=4, decay_epochs=2), Xr, yr)):
        a = clone(est).fit(quantize(features, bits, seed=5, y=target))
        b = clone(est).set_params(requantize=False).fit(features, target)
        assert a.eta_ == b.eta_ and np.array_equal(a.coef_, b.coef_), type(est).__name__
    plain = ZipMLRegressor(bits=bits, random_state=5, max_iter=4, decay_epochs=2).fit(Xr, yr)
    assert (b._conditioning.shifts < plain._conditioning.shifts).any()  # the penalty lowered a multiplier


def test_naive_data_with_fewer_copies_than_epochs_warn(skewed):
    # naive samples are the stored ones: with fresh_samples=True (the default) each epoch
    # should read its own copy; fewer copies than epochs repeat them, and fit says so
    X, y = skewed
    q = quantize(X, 2, sampling="naive", seed=1, n_copies=3, y=y)
    with pytest.warns(UserWarning, match=r"hold 3 quantized copies .* n_copies=4, as many as max_iter"):
        ZipMLRegressor(bits=2, sampling="naive", max_iter=4, decay_epochs=2, random_state=0).fit(q)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ZipMLRegressor(bits=2, sampling="naive", max_iter=3, decay_epochs=2, random_state=0).fit(q)  # a copy an epoch
        ZipMLRegressor(bits=2, sampling="naive", max_iter=4, fresh_samples=False, decay_epochs=2, random_state=0).fit(q)  # cycled
        ZipMLRegressor(bits=2, max_iter=4, decay_epochs=2, random_state=0).fit(quantize(X, 2, seed=1, y=y))  # double: drawn anew
    from scipy.sparse import csr_matrix

    with pytest.warns(UserWarning, match="hold 1 quantized copy "):  # sparse X is quantized once
        ZipMLRegressor(bits=2, sampling="naive", max_iter=2, decay_epochs=2, random_state=0).fit(csr_matrix(X), y)


def test_classifier_from_file(skewed, tmp_path):
    X, y = skewed
    labels = (y > np.median(y)).astype(int)
    q = quantize(X, 4, seed=2, y=labels)
    q.save(tmp_path / "c.zq")
    r = load_quantized(tmp_path / "c.zq")
    for params in ({"loss": "squared_error"}, {"loss": "squared_hinge"}, {"loss": "hinge", "refetch": False},
                   {"loss": "log_loss"}):
        a = ZipMLClassifier(bits=4, random_state=1, max_iter=6, decay_epochs=3, **params).fit(q)
        b = ZipMLClassifier(bits=4, random_state=1, max_iter=6, decay_epochs=3, **params).fit(r)
        assert np.array_equal(a.coef_, b.coef_) and a.classes_.tolist() == [0.0, 1.0]
        assert a.score(X, labels) > 0.8


def test_fit_from_quantized_data_refuses(skewed):
    X, y = skewed
    q = quantize(X, 4, seed=0, y=y)
    cases = [
        (dict(bits=2), "4-bit double"), (dict(bits=4, sampling="naive"), "set them to the data's"),
        (dict(bits=4, levels="optimal"), "uniform levels"), (dict(bits=4, requantize=True), "requantize=True"),
        (dict(bits=4, early_stopping=True), "early_stopping"), (dict(bits=4, n_copies=2, fresh_samples=False),
                                                                "hold 1 copies"),
    ]
    for params, words in cases:
        with pytest.raises(ValueError, match=words):
            ZipMLRegressor(**params).fit(q)
    with pytest.raises(ValueError, match="refetch"):
        ZipMLClassifier(bits=4, loss="hinge").fit(q, (y > 0).astype(int))
    with pytest.raises(ValueError, match="no labels"):
        ZipMLRegressor(bits=4).fit(quantize(X, 4))
    with pytest.raises(ValueError, match="one label per row"):
        ZipMLRegressor(bits=4).fit(q, y[:-1])
    with pytest.raises(TypeError, match="partial_fit takes float data"):
        ZipMLRegressor(bits=4).partial_fit(q, y)
    with pytest.raises(ValueError, match="requires y"):
        ZipMLRegressor(bits=4).fit(X)


def _file(tmp_path, X, y):
    path = tmp_path / "q.zq"
    quantize(X[:40], 3, levels="optimal", seed=1, y=y[:40]).save(path)
    return path, path.read_bytes()


def test_truncated_and_flipped_files_are_refused(skewed, tmp_path):
    X, y = skewed
    path, good = _file(tmp_path, X, y)
    bad = tmp_path / "bad.zq"
    for size in sorted({0, 1, 7, 8, 63, 64, 65, 128, 1000, len(good) // 2, len(good) - 64, len(good) - 1}):
        bad.write_bytes(good[:size])
        with pytest.raises(QuantizedFileError, match="bad.zq"):
            load_quantized(bad)
    bad.write_bytes(good + b"\0")
    with pytest.raises(QuantizedFileError, match="truncated or damaged"):
        load_quantized(bad)
    # every byte is covered: the prelude by its fields, the header by its SHA-256, the
    # lines and labels (padding too) by their block digests: every prelude byte, every 7th after
    for pos in [*range(PRELUDE.size), *range(PRELUDE.size, len(good), 7)]:
        damaged = bytearray(good)
        damaged[pos] ^= 1 << (pos % 8)
        bad.write_bytes(bytes(damaged))
        with pytest.raises(QuantizedFileError, match="bad.zq"):
            load_quantized(bad)


def test_blocks_are_hashed_piece_by_piece(skewed, tmp_path, monkeypatch):
    # a block is read and hashed in READ_BYTES pieces: 100-byte pieces verify the file
    # written with whole ones, and a flip in any piece is caught
    import zipml_hls.quantized_io as qio

    X, y = skewed
    path, good = _file(tmp_path, X, y)
    monkeypatch.setattr(qio, "READ_BYTES", 100)
    load_quantized(path)
    for pos in (PRELUDE.size + 1, PRELUDE.size + 250, PRELUDE.size + 40 * 8 * 8 + 3):  # pieces 1, 3 and the labels'
        damaged = bytearray(good)
        damaged[pos] ^= 4
        path.write_bytes(bytes(damaged))
        with pytest.raises(QuantizedFileError, match="checksum mismatch"):
            load_quantized(path)
    path.write_bytes(good)
    quantize(X[:40], 3, levels="optimal", seed=1, y=y[:40]).save(path)  # written in 100-byte pieces: the same file
    assert path.read_bytes() == good


def test_verify_false_skips_only_the_lines(skewed, tmp_path):
    X, y = skewed
    path, good = _file(tmp_path, X, y)
    damaged = bytearray(good)
    damaged[PRELUDE.size + 3] ^= 0x10  # in the packed lines
    path.write_bytes(bytes(damaged))
    with pytest.raises(QuantizedFileError, match="checksum mismatch in bytes 64-"):
        load_quantized(path)
    assert not np.array_equal(load_quantized(path, verify=False).lines, quantize(X[:40], 3, levels="optimal",
                                                                               seed=1).lines)
    damaged = bytearray(good)
    damaged[-5] ^= 1  # in the header
    path.write_bytes(bytes(damaged))
    with pytest.raises(QuantizedFileError, match="header checksum"):
        load_quantized(path, verify=False)


def test_foreign_and_future_files(skewed, tmp_path):
    X, y = skewed
    path, good = _file(tmp_path, X, y)
    future = bytearray(good)
    future[8:12] = (FORMAT_VERSION + 1).to_bytes(4, "little")
    path.write_bytes(bytes(future))
    with pytest.raises(QuantizedFileError, match=f"version {FORMAT_VERSION + 1}; this zipml-hls reads version 1"):
        load_quantized(path)
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(QuantizedFileError, match="not a zipml-hls quantized data file"):
        load_quantized(tmp_path / "x.npy")
    with pytest.raises(QuantizedFileError, match="not a regular file"):
        load_quantized(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_quantized(tmp_path / "missing.zq")
    with pytest.raises(ValueError, match="no set-up statistics"):
        zipml_hls.QuantizedData(lines=np.zeros((1, 1, 8), np.uint64), bits=4, sampling="double", seed=0,
                                n_features=1, scaling=quantize(X[:, :1], 4).scaling).save(tmp_path / "s.zq")


def test_older_files_of_optimal_levels_train_without_the_stored_rounding_correction(skewed, tmp_path, monkeypatch):
    # Files of optimal levels written before the header's rounding_at_tables hold uniform
    # levels' rounding variances, which do not describe their tables' fine grid: fit on them
    # trains without the correction rather than with one at the wrong size.
    quantized_io = importlib.import_module("zipml_hls.quantized_io")
    X, y = skewed
    q = quantize(X, 2, levels="optimal", seed=1, y=y)
    fields = quantized_io.header_fields

    def older(*args, **kw):
        meta, arrays = fields(*args, **kw)
        assert meta.pop("rounding_at_tables") is True
        return meta, arrays

    monkeypatch.setattr(quantized_io, "header_fields", older)
    q.save(tmp_path / "old.zq")
    monkeypatch.undo()
    q.save(tmp_path / "new.zq")
    old, new = load_quantized(tmp_path / "old.zq"), load_quantized(tmp_path / "new.zq")
    assert not old.stats.rounding.at_levels and new.stats.rounding.at_levels
    params = dict(bits=2, levels="optimal", random_state=1, max_iter=4, decay_epochs=0)
    assert ZipMLRegressor(**params).fit(old)._stored_variance is None
    assert ZipMLRegressor(**params).fit(new)._stored_variance is not None
    old.save(tmp_path / "again.zq")  # saved again, it stays an older file's statistics
    assert not load_quantized(tmp_path / "again.zq").stats.rounding.at_levels


def test_older_files_without_the_square_bounds_train_without_doublings(tmp_path, monkeypatch):
    # Files written before the header kept S (step_size.row_bounds) start fit from R as new
    # ones do, but may not double towards S; a header with one of the two, or with a
    # negative one, is refused. (Sparse rows, which double: test_training.py.)
    import scipy.sparse as sp

    quantized_io = importlib.import_module("zipml_hls.quantized_io")
    rng = np.random.default_rng(0)
    X = np.abs(sp.random(1500, 800, density=0.02, random_state=0, data_rvs=rng.standard_normal).toarray())
    y = X @ rng.standard_normal(800)
    q = quantize(X, 8, seed=1, y=y)
    fields = quantized_io.header_fields

    def changed(change):
        def write(*args, **kw):
            meta, arrays = fields(*args, **kw)
            change(meta)
            return meta, arrays
        return write

    monkeypatch.setattr(quantized_io, "header_fields", changed(lambda m: [m.pop(k) for k in
                                                                           ("square_bound", "square_bound_conditioned")]))
    q.save(tmp_path / "old.zq")
    monkeypatch.setattr(quantized_io, "header_fields", changed(lambda m: m.pop("square_bound")))
    q.save(tmp_path / "half.zq")
    monkeypatch.setattr(quantized_io, "header_fields", changed(lambda m: m.update(square_bound_conditioned=-1.0)))
    q.save(tmp_path / "negative.zq")
    monkeypatch.undo()
    old = load_quantized(tmp_path / "old.zq")
    assert old.stats.square_bound is None and old.stats.step_bounds(True) == (q.stats.bound_conditioned,) * 2
    params = dict(bits=8, random_state=1, max_iter=3, tol=None)
    from_old, from_new, from_float = (ZipMLRegressor(**params).fit(*d) for d in ((old,), (q,), (X, y)))
    assert from_old.eta_ == from_new.eta_ == from_float.eta_
    assert from_old._raises == 0 and from_new._raises == from_float._raises > 0
    for name, field in (("half", "square_bound"), ("negative", "square_bound_conditioned")):
        with pytest.raises(QuantizedFileError, match=f"header field '{field}' must be a finite number >= 0"):
            load_quantized(tmp_path / f"{name}.zq")


def test_streaming_equals_in_memory(skewed, tmp_path):
    X, y = skewed
    csv, npy = _table_files(tmp_path, X, y)
    X_csv, y_csv = load_csv(csv)
    for bits, sampling, copies in ((4, "double", 1), (1, "naive", 2)):
        memory = tmp_path / "memory.zq"
        quantize(X_csv, bits, sampling=sampling, seed=3, n_copies=copies, y=y_csv).save(memory)
        for source in (csv, npy):  # one chunk: the very file quantize() saves (the CSV's with its names)
            out = quantize_file(source, tmp_path / "one.zq", bits, sampling=sampling, seed=3, n_copies=copies)
            assert _nameless_bytes(out) == memory.read_bytes()
            assert load_quantized(out).feature_names == (None if source == npy else tuple(f"x{j}" for j in range(11)))
        # chunks of 128 rows: the CSV and the .npy give the same file; ranges, step bounds and
        # the first chunk's draws are the in-memory ones, the merged moments equal to rounding
        a = quantize_file(csv, tmp_path / "a.zq", bits, sampling=sampling, seed=3, n_copies=copies, chunk_rows=128)
        b = quantize_file(npy, tmp_path / "b.zq", bits, sampling=sampling, seed=3, n_copies=copies, chunk_rows=128)
        assert _nameless_bytes(a) == b.read_bytes()
        qa, qm = load_quantized(a), load_quantized(memory)
        assert np.array_equal(qa.scaling.lo, qm.scaling.lo) and np.array_equal(qa.scaling.hi, qm.scaling.hi)
        np.testing.assert_allclose(qa.stats.summary.mean, qm.stats.summary.mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(qa.stats.summary.var, qm.stats.summary.var, rtol=1e-12, atol=1e-15)
        assert (qa.stats.bound, qa.stats.bound_conditioned) == (qm.stats.bound, qm.stats.bound_conditioned)
        assert qa.stats.step_bounds(True) == qm.stats.step_bounds(True)
        assert qa.stats.step_bounds(False) == qm.stats.step_bounds(False)
        assert np.array_equal(qa.stats.rounding.mean, qm.stats.rounding.mean)
        assert np.array_equal(qa.lines[:, :128], qm.lines[:, :128]) and not np.array_equal(qa.lines, qm.lines)
        assert np.array_equal(qa.labels, y_csv)
    chunked = quantize_file(npy, tmp_path / "c.zq", 4, seed=3, chunk_rows=128)
    model = ZipMLRegressor(bits=4, random_state=0, max_iter=12, decay_epochs=4).fit(load_quantized(chunked))
    assert model.score(X, y) > 0.9


def _parsers():
    """The fast CSV parsers installed here: NumPy's always, pandas' with the 'csv' extra,
    pyarrow's with the 'parquet' extra (pytest --without pyarrow hides it)."""
    found = ["numpy"]
    for name in ("pandas", "pyarrow"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


@pytest.mark.parametrize("parser", _parsers())
def test_csv_blocks_match_load_csv(tmp_path, parser):
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=";", fmt="%.12g", header="a;b;c;d;e;f;g;h;i;j;y",
               comments="")
    text = path.read_text()
    path.write_text(text.replace("\n", "\n\n", 5))  # blank lines count as lines, hold no rows
    X_ref, y_ref = load_csv(path, label_column=-1)
    for block_bytes in (1, 100, 4096, 1 << 20):
        blocks = list(csv_blocks(path, label_column=-1, block_bytes=block_bytes, parser=parser))
        assert np.array_equal(np.concatenate([b[0] for b in blocks]), X_ref)
        assert np.array_equal(np.concatenate([b[1] for b in blocks]), y_ref)
    bad = tmp_path / "bad.csv"
    lines = ["1,2,3"] * 30
    for number, line, message in ((17, "1,2", "line 17: 2 columns, expected 3"),
                                  (23, "1,x,3", "line 23: non-numeric value 'x' in column 2"),
                                  (9, "1,,3", "line 9: an empty value in column 2"),
                                  (30, '1,"2",3,4', "line 30: 4 columns, expected 3")):
        bad.write_text("\n".join(lines[:number - 1] + [line] + lines[number:]) + "\n")
        with pytest.raises(DataError, match=message):
            load_csv(bad)
        for block_bytes in (1, 13, 50, 1 << 20):
            with pytest.raises(DataError, match=message):
                list(csv_blocks(bad, block_bytes=block_bytes, parser=parser))


#: Cells every fast parser must read as Python's float does (correctly rounded): spaces,
#: signs, exponents, a subnormal, the largest double, more digits than a double holds, halfway cases.
AWKWARD_CELLS = (" 1.5", "+2 ", ".5", "5.", "1E+05", "-0", "1e-320", "4.9406564584124654e-324", "1.7976931348623157e308",
                 "0.1000000000000000055511151231257827", "123456789012345678901234567890", "9007199254740993",
                 "1.00000000000000011102230246251565404236316680908203125",
                 "1.00000000000000011102230246251565404236316680908203124", "1_0", "3.14159265358979323846264338327950288")


@pytest.mark.parametrize("parser", _parsers())
def test_csv_parsers_read_the_same_values(tmp_path, monkeypatch, parser):
    csv_rows = data._csv_rows
    # awkward but valid cells, CRLF and bare line ends, blank lines, no line end at the end: the values of
    # load_csv (Python's float) from every fast parser, or from the line parser where a fast one refuses
    # a block ('1_0': Python reads 10, pandas and pyarrow refuse it)
    rows = [",".join(np.roll(AWKWARD_CELLS, k)) for k in range(len(AWKWARD_CELLS))]
    text = "a,b," + ",".join(f"c{j}" for j in range(len(AWKWARD_CELLS) - 2)) + "\r\n"
    text += "\r\n".join(rows[:5]) + "\n\n" + "\n".join(rows[5:]) + "\n" + "\n".join(rows[:7])
    path = tmp_path / "awkward.csv"
    path.write_bytes(text.encode())
    X_ref, y_ref = load_csv(path)
    assert X_ref.shape == (len(AWKWARD_CELLS) + 7, len(AWKWARD_CELLS) - 1) and X_ref[0, 13] == 10
    for block_bytes in (1, 700, 1 << 20):
        blocks = list(csv_blocks(path, block_bytes=block_bytes, parser=parser))
        assert np.array_equal(np.concatenate([b[0] for b in blocks]), X_ref)
        assert np.array_equal(np.concatenate([b[1] for b in blocks]), y_ref)
    clean = tmp_path / "clean.csv"  # without '1_0': the fast parser reads every line but line 1
    clean.write_bytes(text.replace("1_0", "10").encode())
    by_lines = []
    monkeypatch.setattr(data, "_csv_rows", lambda *args, **kw: by_lines.append(args[4] if len(args) > 4 else 1) or csv_rows(*args, **kw))
    assert np.array_equal(np.concatenate([b[0] for b in csv_blocks(clean, parser=parser)]), X_ref)
    assert by_lines == [1]


def test_csv_parsers_write_the_same_file(skewed, tmp_path, monkeypatch):
    # the quantized file is the same byte for byte whichever fast parser reads the CSV (and the
    # .npy table's): many blocks, many chunks, and 'auto' with pyarrow not installed
    import zipml_hls.ingest as ingest

    X, y = skewed
    csv, npy = _table_files(tmp_path, X, y)
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n", 40).replace(b"\r\n", b"\n\n", 3))
    monkeypatch.setattr(ingest, "csv_blocks", functools.partial(ingest.csv_blocks, block_bytes=5000))
    want = quantize_file(npy, tmp_path / "want.zq", 4, seed=5, n_copies=2, chunk_rows=128).read_bytes()
    files = {}
    for parser in _parsers():
        out = quantize_file(csv, tmp_path / f"{parser}.zq", 4, seed=5, n_copies=2, chunk_rows=128, csv_parser=parser)
        files[parser] = _nameless_bytes(out)  # (the CSV's header names its columns, the .npy table's do not)
    with monkeypatch.context() as hidden:
        hidden.setitem(sys.modules, "pyarrow", None)  # as if not installed: 'auto' falls back to pandas or NumPy
        files["auto without pyarrow"] = _nameless_bytes(quantize_file(csv, tmp_path / "auto.zq", 4, seed=5,
                                                                      n_copies=2, chunk_rows=128))
        with pytest.raises(ImportError, match=r"parser='pyarrow' needs pyarrow: pip install 'zipml-hls\[parquet\]'"):
            quantize_file(csv, tmp_path / "none.zq", 4, csv_parser="pyarrow")
    assert all(got == want for got in files.values()), [name for name, got in files.items() if got != want]
    q, ref = load_quantized(tmp_path / "numpy.zq"), load_quantized(tmp_path / "want.zq")
    assert np.array_equal(q.lines, ref.lines) and np.array_equal(q.labels, y)
    assert np.array_equal(q.scaling.lo, ref.scaling.lo) and np.array_equal(q.scaling.inv, ref.scaling.inv)
    with pytest.raises(ValueError, match="csv_parser must be one of"):
        quantize_file(csv, tmp_path / "x.zq", 4, csv_parser="polars")


@pytest.mark.parametrize("parser", _parsers())
def test_csv_ingestion_errors_name_the_line_whatever_the_parser(tmp_path, parser):
    lines = ["y,a,b"] + [f"{k},{k / 7},{k * 1e3}" for k in range(40)]
    for number, line, message in ((17, "1,2", "line 17: 2 columns, expected 3"),
                                  (23, "1,x,3", "line 23: non-numeric value 'x' in column 2"),
                                  (9, "1,,3", "line 9: an empty value in column 2"),
                                  (31, "1,2,3,", "line 31: an empty value in column 4"),
                                  (12, '1,"2",3,4', "line 12: 4 columns, expected 3"),
                                  (30, "1,2,nan", "lines 2-41: NaN, infinity or a value beyond float32's range"),
                                  (5, "1,-inf,3", "lines 2-41: NaN, infinity or a value beyond float32's range"),
                                  (40, "1,1e39,3", "lines 2-41: NaN, infinity or a value beyond float32's range"),
                                  (6, "inf,2,3", "lines 2-41: NaN or infinity among the labels")):
        bad = tmp_path / "bad.csv"
        bad.write_text("\n".join(lines[:number - 1] + [line] + lines[number:]) + "\n")
        with pytest.raises(DataError, match=f"bad.csv: {message}"):
            quantize_file(bad, tmp_path / "out.zq", 4, csv_parser=parser)
        assert not (tmp_path / "out.zq").exists()


def test_ingestion_errors_leave_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,5,6\n7,nan,9\n")
    with pytest.raises(DataError, match="bad.csv: lines 2-3: NaN"):
        quantize_file(bad, tmp_path / "out.zq", 4)
    bad.write_text("1,2,3\n4,5\n")
    with pytest.raises(DataError, match="line 2: 2 columns"):
        quantize_file(bad, tmp_path / "out.zq", 4)
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    with pytest.raises(DataError, match="2-D C-order array"):
        quantize_file(tmp_path / "cube.npy", tmp_path / "out.zq", 4)
    np.save(tmp_path / "f.npy", np.asfortranarray(np.zeros((3, 4))))
    with pytest.raises(DataError, match="Fortran order"):
        quantize_file(tmp_path / "f.npy", tmp_path / "out.zq", 4)
    np.save(tmp_path / "t.npy", np.ones((100, 4)))
    (tmp_path / "t.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:-9])
    with pytest.raises(DataError, match="truncated"):
        quantize_file(tmp_path / "t.npy", tmp_path / "out.zq", 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "cube.npy", "f.npy", "t.npy"]


def test_cli_quantize_and_train(skewed, tmp_path, capsys):
    X, y = skewed
    csv, npy = _table_files(tmp_path, X, y)
    out = tmp_path / "q.data"  # found by its first bytes, whatever its name
    assert main(["quantize", str(csv), "--bits", "2", "--sampling", "naive", "--copies", "2", "--seed", "4",
                 "-o", str(out), "--quiet"]) == 0
    assert "600 rows x 11 features" in capsys.readouterr().out
    assert load_quantized(out).n_copies == 2
    model = tmp_path / "m.zipml"
    assert main(["train", str(out), "--seed", "1", "--epochs", "3", "--decay-epochs", "1", "--model-out", str(model),
                 "--quiet"]) == 0
    captured = capsys.readouterr()  # 2 naive copies for 3 epochs: the third repeats the first's samples
    assert "final training loss" in captured.out
    assert "warning: the naive data hold 2 quantized copies" in captured.err
    assert "--copies 3, as many as --epochs" in captured.err
    with pytest.warns(UserWarning, match="epochs after the first 2 reuse samples"):
        direct = ZipMLRegressor(bits=2, sampling="naive", random_state=1, max_iter=3,
                                decay_epochs=1).fit(load_quantized(out))
    assert np.array_equal(zipml_hls.model_io.load_model(model).coef_, direct.coef_)
    shared = tmp_path / "shared.zq"
    assert main(["quantize", str(csv), "--bits", "3", "--levels", "optimal", "--levels-method", "shared", "-o",
                 str(shared), "--quiet"]) == 0
    assert "optimal levels (one table for every feature)" in capsys.readouterr().out
    table = load_quantized(shared).level_table
    assert np.all(table == table[0]) and table.shape == (11, 8)  # one table for every feature
    capsys.readouterr()
    assert main(["train", str(shared), "--epochs", "2"]) == 0
    assert "3-bit double, optimal levels (one table for every feature), at most 2" in capsys.readouterr().out
    shared_model = tmp_path / "shared.zipml"  # train places one shared table itself
    capsys.readouterr()
    assert main(["train", str(csv), "--bits", "3", "--levels", "optimal", "--levels-method", "shared", "--epochs", "2",
                 "--model-out", str(shared_model)]) == 0
    assert "3-bit double, optimal levels (one table for every feature), at most 2 epochs" in capsys.readouterr().out
    assert zipml_hls.model_io.load_model(shared_model).get_params()["levels_method"] == "shared"
    assert main(["quantize", str(csv), "--bits", "3", "--levels", "optimal", "-o", str(out), "--quiet"]) == 0
    assert load_quantized(out).levels == "optimal"
    assert not np.all(load_quantized(out).level_table == load_quantized(out).level_table[0])
    capsys.readouterr()
    for argv, words in ((["train", str(out), "--bits", "4"], "holds 3-bit double data"),
                        (["quantize", str(csv), "--bits", "3", "--levels-method", "shared", "-o", str(shared)],
                         "--levels-method is for --levels optimal"),
                        (["train", str(csv), "--levels-method", "shared"], "--levels-method is for --levels optimal"),
                        (["train", str(csv), "--levels", "optimal", "--loss", "log_loss", "--task", "classification"],
                         "--levels optimal is not available with --loss log_loss"),
                        (["train", str(shared), "--levels-method", "shared"], "holds its own optimal levels"),
                        (["train", str(out), "--requantize"], "--requantize needs dense float X"),
                        (["predict", str(model), str(out)], "is a quantized data file"),
                        (["train", str(npy)], "read by 'zipml-hls quantize'"),
                        (["quantize", str(out), "--bits", "4", "-o", str(tmp_path / "x.zq")], "already a quantized")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1
    out.write_bytes(out.read_bytes()[:-100])
    assert main(["train", str(out)]) == 2
    assert "truncated or damaged" in capsys.readouterr().err


def test_sparse_input_is_quantized_block_by_block(skewed):
    import scipy.sparse as sp

    X, y = skewed
    rng = np.random.default_rng(0)
    S = sp.random(600, 11, density=0.1, format="csr", random_state=1, data_rvs=rng.standard_normal)
    dense = S.toarray()
    target = dense @ rng.standard_normal(11) + y * 0.01
    # one block: the very quantization of the dense matrix
    q, qd = quantize(S, 4, seed=6, y=target), quantize(dense, 4, seed=6, y=target)
    assert np.array_equal(q.lines, qd.lines) and np.array_equal(q.labels, qd.labels)
    assert q.stats.bound == qd.stats.bound and np.array_equal(q.stats.rounding.mean, qd.stats.rounding.mean)
    # blocks of 128 rows: block c drawn with chunk_seed(seed, c), as streaming ingestion does
    from zipml_hls.ingest import chunk_seed, quantize_sparse

    blocks = quantize_sparse(S.astype(np.float32), 2, "naive", 6, 2, chunk_rows=128)
    first = quantize(dense[128:256], 2, sampling="naive", seed=chunk_seed(6, 1), n_copies=2,
                     scaling=blocks.scaling)
    assert np.array_equal(blocks.lines[:, 128:256], first.lines)
    # fit on sparse X is fit on its quantization (and, for double data, fit on dense X
    # without re-quantization), bit for bit; predict takes sparse X
    params = dict(bits=4, random_state=6, max_iter=6, decay_epochs=3)
    a = ZipMLRegressor(**params).fit(S, target)
    assert np.array_equal(a.coef_, ZipMLRegressor(**params).fit(q).coef_)
    assert np.array_equal(a.coef_, ZipMLRegressor(requantize=False, **params).fit(dense, target).coef_)
    # (a sparse product adds only the nonzero terms: equal up to the order of the sum)
    np.testing.assert_allclose(a.predict(S), a.predict(dense), rtol=1e-12, atol=1e-12)
    assert a.score(S, target) > 0.9
    for fmt in ("csc", "coo"):
        assert np.array_equal(ZipMLRegressor(**params).fit(S.asformat(fmt), target).coef_, a.coef_)
    labels = (target > 0).astype(int)
    c = ZipMLClassifier(bits=4, random_state=6, max_iter=6, decay_epochs=3).fit(S, labels)
    assert c.score(S, labels) > 0.8
    for params, setting in ((dict(bits=32), "bits=32"), (dict(levels="optimal"), "levels='optimal'"),
                            (dict(early_stopping=True), "early_stopping=True"), (dict(requantize=True), "requantize=True")):
        with pytest.raises(ValueError, match=f"^{re.escape(setting)} needs dense float X"):
            ZipMLRegressor(**params).fit(S, target)
        assert not ZipMLRegressor(**params).__sklearn_tags__().input_tags.sparse
    assert ZipMLRegressor().__sklearn_tags__().input_tags.sparse
    assert not ZipMLClassifier(loss="hinge").__sklearn_tags__().input_tags.sparse  # refetches float rows
    assert ZipMLClassifier(loss="hinge", refetch=False).__sklearn_tags__().input_tags.sparse
    with pytest.raises(ValueError, match="uniform levels"):
        quantize(S, 4, levels="optimal")
    bad = S.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        ZipMLRegressor(bits=4).fit(bad, target)


def test_cli_quantizes_libsvm_without_densifying(tmp_path, capsys):
    from sklearn.datasets import dump_svmlight_file

    X, y = load_diabetes(return_X_y=True)
    X[:, 2] = 0.0  # a column of zeros, absent from the file
    path = tmp_path / "d.libsvm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    out = tmp_path / "d.zq"
    # --max-dense-gib does not apply: the matrix stays sparse
    assert main(["quantize", str(path), "--bits", "4", "--seed", "2", "--max-dense-gib", "1e-9", "-o", str(out),
                 "--quiet"]) == 0
    q, dense = load_quantized(out), quantize(X, 4, seed=2, y=y)
    assert np.array_equal(q.lines, dense.lines) and np.array_equal(q.labels, dense.labels)
    # train's default re-quantizes these 4420 values every epoch: that reads float rows
    assert main(["train", str(path), "--max-dense-gib", "1e-9"]) == 2
    err = capsys.readouterr().err
    assert "above the limit" in err and "re-quantization every epoch" in err


def test_cli_trains_and_predicts_on_libsvm_without_densifying(tmp_path, capsys):
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file, load_svmlight_file

    from zipml_hls.data import dense_rows
    from zipml_hls.model_io import load_model

    rng = np.random.default_rng(3)
    S = sp.random(700, 13, density=0.3, format="csr", random_state=2, data_rvs=rng.standard_normal)
    X = S.toarray()
    X[:, 5] = 0.0  # an empty column inside, and the last one absent from the file
    X[:, 12] = 0.0
    y = X @ rng.standard_normal(13) + 0.1 * rng.standard_normal(700)
    path, model, preds = tmp_path / "s.libsvm", tmp_path / "m.zipml", tmp_path / "p.txt"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    S, y = load_svmlight_file(str(path))  # the file's values (16 digits) and width (its largest index, 12)
    X = S.toarray()
    # a 1e-9 GiB limit refuses any dense form: trained on the CSR matrix, quantized block by block
    argv = ["train", str(path), "--bits", "4", "--seed", "5", "--epochs", "4", "--decay-epochs", "2", "--max-dense-gib",
            "1e-9", "--model-out", str(model), "--quiet"]
    for extra in (["--no-requantize"], ["--sampling", "naive", "--no-fresh-samples", "--copies", "2"]):
        assert main(argv + extra) == 0, capsys.readouterr().err
        est = load_model(model)
        params = est.get_params()
        assert est.n_features_in_ == 12
        # the model fit gives on the dense array (and on CSR): equal bit for bit
        assert np.array_equal(est.coef_, type(est)(**params).fit(X, y).coef_)
        assert np.array_equal(est.coef_, type(est)(**params).fit(S, y).coef_)
        assert est.intercept_ == type(est)(**params).fit(X, y).intercept_
    # predict reads it sparse and predicts dense blocks of rows: the dense array's values
    assert main(["predict", str(model), str(path), "--output", str(preds), "--max-dense-gib", "1e-9"]) == 0
    assert np.array_equal(np.loadtxt(preds), est.predict(X))
    capsys.readouterr()
    assert np.array_equal(np.vstack(list(dense_rows(S, block_bytes=200))), X)
    # options that train on float rows densify, within --max-dense-gib, and say why
    for extra, why in ((["--sampling", "naive"], "naive sampling with fresh samples quantizes anew every epoch"),
                       (["--bits", "32"], "--bits 32 needs float rows"),
                       (["--requantize"], "--requantize needs float rows"),
                       (["--levels", "optimal"], "--levels optimal needs float rows"),
                       (["--early-stopping"], "--early-stopping needs float rows"),
                       (["--no-intercept"], "--no-intercept needs float rows")):
        assert main(argv + extra) == 2  # (the last --bits counts)
        err = capsys.readouterr().err
        assert "above the limit" in err and why in err and err.count("\n") == 1, err
    labels = np.where(y > np.median(y), 1, -1)
    dump_svmlight_file(S, labels, str(path), zero_based=False)
    assert main(argv + ["--no-requantize", "--loss", "hinge"]) == 2
    assert "refetch=True (--loss hinge) needs float rows" in capsys.readouterr().err
    assert main(argv + ["--no-requantize", "--loss", "squared_hinge"]) == 0
    est = load_model(model)
    assert np.array_equal(est.coef_, type(est)(**est.get_params()).fit(X, labels).coef_)


def test_parquet_and_arrow_equal_the_npy_table(skewed, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet and Arrow input need the [parquet] extra (pyarrow)")
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    X, y = skewed
    _, npy = _table_files(tmp_path, X, y)
    table = pa.table({"y": y, **{f"x{j}": X[:, j] for j in range(X.shape[1])}})
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=100)  # row groups cut across the chunks
    feather.write_feather(table, tmp_path / "data.arrow", chunksize=70)
    for chunk_rows in (None, 128):  # one chunk, then 5 (the last short)
        want = quantize_file(npy, tmp_path / "want.zq", 4, seed=3, n_copies=2, chunk_rows=chunk_rows).read_bytes()
        for name in ("data.parquet", "data.arrow"):
            got = quantize_file(tmp_path / name, tmp_path / "got.zq", 4, seed=3, n_copies=2, chunk_rows=chunk_rows)
            assert _nameless_bytes(got) == want
            assert load_quantized(got).feature_names == tuple(f"x{j}" for j in range(X.shape[1]))
    assert main(["quantize", str(tmp_path / "data.parquet"), "--bits", "4", "--seed", "3", "--copies", "2",
                 "--chunk-rows", "128", "--quiet", "-o", str(tmp_path / "cli.zq")]) == 0
    assert _nameless_bytes(tmp_path / "cli.zq") == want
    # the label column by position from the end: the same data with the label last
    pq.write_table(table.select([*table.column_names[1:], "y"]), tmp_path / "last.parquet")
    got = quantize_file(tmp_path / "last.parquet", tmp_path / "got.zq", 4, seed=3, n_copies=2, label_column=-1)
    assert _nameless_bytes(got) == quantize_file(npy, tmp_path / "want.zq", 4, seed=3, n_copies=2).read_bytes()


def test_parquet_errors(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet and Arrow input need the [parquet] extra (pyarrow)")
    import pyarrow.parquet as pq

    out = tmp_path / "out.zq"
    cases = {"text.parquet": (pa.table({"y": [1.0, 2.0], "name": ["a", "b"]}), "column 'name' holds string"),
             "nulls.parquet": (pa.table({"y": [1.0, 2.0, 3.0], "x": [1.0, None, 2.0]}),
                               "rows 0-2: missing values in column 'x'"),
             "nan.parquet": (pa.table({"y": [1.0, 2.0], "x": [1.0, float("nan")]}), "rows 0-1: NaN or infinity"),
             "narrow.parquet": (pa.table({"y": [1.0, 2.0]}), "at least one feature column")}
    for name, (table, message) in cases.items():
        pq.write_table(table, tmp_path / name)
        with pytest.raises(DataError, match=message):
            quantize_file(tmp_path / name, out, 4)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="junk.parquet: not a readable parquet file"):
        quantize_file(tmp_path / "junk.parquet", out, 4)
    with pytest.raises(DataError, match="label_column=5 is outside the 2 columns"):
        quantize_file(tmp_path / "nan.parquet", out, 4, label_column=5)
    assert not out.exists() and not list(tmp_path.glob(".zipml-*"))


def test_compressed_csv_streams_as_csv(skewed, tmp_path, capsys):
    import gzip

    X, y = skewed
    csv, npy = _table_files(tmp_path, X, y)
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(csv.read_bytes()))
    want = quantize_file(csv, tmp_path / "want.zq", 4, seed=3, chunk_rows=128).read_bytes()
    assert quantize_file(gz, tmp_path / "got.zq", 4, seed=3, chunk_rows=128).read_bytes() == want
    assert main(["quantize", str(gz), "--bits", "4", "--seed", "3", "--chunk-rows", "128", "--label-column", "y",
                 "-o", str(tmp_path / "cli.zq"), "--quiet"]) == 0
    assert (tmp_path / "cli.zq").read_bytes() == want
    libsvm = tmp_path / "data.libsvm"
    libsvm.write_text("1 1:0.5\n")
    with pytest.raises(DataError, match="data.libsvm: LIBSVM data by its name; quantize_file reads CSV"):
        quantize_file(libsvm, tmp_path / "x.zq", 4)
    (tmp_path / "t.npy.gz").write_bytes(gzip.compress(npy.read_bytes()))
    capsys.readouterr()
    assert main(["quantize", str(tmp_path / "t.npy.gz"), "--bits", "4", "-o", str(tmp_path / "x.zq")]) == 2
    err = capsys.readouterr().err
    assert "t.npy.gz: a compressed npy file is not read" in err and err.count("\n") == 1


def test_cli_quantizes_libsvm_holding_one_copy_of_the_matrix(tmp_path, capsys):
    import tracemalloc

    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    from zipml_hls.data import load_svmlight

    rng = np.random.default_rng(8)
    S = sp.random(40000, 30, density=0.5, format="csr", random_state=3, data_rvs=rng.standard_normal)
    S.data[:3] = [1e-300, 3e38, -2.5e-45]  # float32's limits: rounded as astype rounds them
    path, out = tmp_path / "s.libsvm", tmp_path / "s.zq"
    dump_svmlight_file(S, rng.standard_normal(40000), str(path), zero_based=False)
    X64, y = load_svmlight(path, dense=False)
    X32, y32 = load_svmlight(path, dense=False, dtype=np.float32)
    assert X32.dtype == np.float32 and np.array_equal(X32.data, X64.data.astype(np.float32))
    assert np.array_equal(X32.indices, X64.indices) and np.array_equal(X32.indptr, X64.indptr)
    assert np.array_equal(y32, y)
    want = quantize(X64, 4, seed=1, y=y)
    # traced allocations (NumPy's and the loader's): the float32 matrix with 64-bit indices
    # as read (12 bytes a nonzero) and their 32-bit form (4), then the chunk's dense rows and
    # the lines; a float64 matrix and its float32 copy held 20 bytes a nonzero at once
    tracemalloc.start()
    try:
        assert main(["quantize", str(path), "--bits", "4", "--seed", "1", "-o", str(out), "--quiet"]) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    got = load_quantized(out)
    assert np.array_equal(got.lines, want.lines) and np.array_equal(got.labels, y)
    assert peak < 17 * X64.nnz + 4 * S.shape[0] * S.shape[1] + want.lines.nbytes, peak / X64.nnz
    path.write_text("1 1:0.5\n0 2:1e39\n")
    with pytest.raises(DataError, match="beyond float32's range"):
        load_svmlight(path, dense=False, dtype=np.float32)
    with pytest.raises(ValueError, match="float32 with dense=False"):
        load_svmlight(path, dtype=np.float32)


@pytest.mark.parametrize("block_bytes", [300, 4096, 1 << 20])
def test_csv_chunks_gathered_from_blocks_of_any_size(skewed, tmp_path, monkeypatch, block_bytes):
    # pass 1 is taken as the CSV is parsed: chunks of exactly chunk_rows rows gathered from
    # blocks smaller or larger than a chunk give the .npy table's file, byte for byte (but
    # for the CSV header's names)
    import functools

    import zipml_hls.ingest as ingest

    X, y = skewed
    csv, npy = _table_files(tmp_path, X, y)
    monkeypatch.setattr(ingest, "csv_blocks", functools.partial(ingest.csv_blocks, block_bytes=block_bytes))
    for chunk_rows in (None, 7, 128, 600):
        want = quantize_file(npy, tmp_path / "want.zq", 4, seed=5, n_copies=2, chunk_rows=chunk_rows).read_bytes()
        got = _nameless_bytes(quantize_file(csv, tmp_path / "got.zq", 4, seed=5, n_copies=2, chunk_rows=chunk_rows))
        assert got == want, chunk_rows


def test_feature_names_travel_from_the_columns_to_the_model(skewed, tmp_path, capsys):
    # A DataFrame's column names (all strings), or a CSV file's header less the label, are
    # kept in the quantized data and its file; fit on them sets feature_names_in_, and
    # predict on a CSV file finds the features by name, in any order.
    pd = pytest.importorskip("pandas")
    X, y = skewed
    names = [f"f{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    q = quantize(frame, 4, y=y, seed=1)
    assert q.feature_names == tuple(names) and quantize(X, 4).feature_names is None
    assert quantize(pd.DataFrame(X), 4).feature_names is None  # integer column names: none, as scikit-learn
    q.save(tmp_path / "q.zq")
    back = load_quantized(tmp_path / "q.zq")
    assert back.feature_names == tuple(names)
    model = ZipMLRegressor(bits=4, random_state=0).fit(back)
    assert list(model.feature_names_in_) == names
    assert model.score(frame, y) == ZipMLRegressor(bits=4, random_state=0).fit(q).score(frame, y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[names[::-1]])
    # the command line: a CSV file with a header, quantized, trained on, predicted on shuffled columns
    csv = tmp_path / "d.csv"
    pd.concat([frame, pd.Series(y, name="target")], axis=1).to_csv(csv, index=False)
    assert main(["quantize", str(csv), "--bits", "4", "--label-column", "target", "-o", str(tmp_path / "c.zq"),
                 "--quiet"]) == 0
    assert load_quantized(tmp_path / "c.zq").feature_names == tuple(names)
    assert main(["train", str(tmp_path / "c.zq"), "--model-out", str(tmp_path / "m.zipml"), "--quiet"]) == 0
    shuffled = tmp_path / "s.csv"
    pd.concat([pd.Series(y, name="target"), frame[names[::-1]]], axis=1).to_csv(shuffled, index=False)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "m.zipml"), str(shuffled)]) == 0
    err = capsys.readouterr().err
    assert "R^2 against the file's labels: 0.9" in err and "note:" not in err


def test_damaged_feature_names_are_refused(skewed, tmp_path, monkeypatch):
    # Names that are not distinct non-empty strings, one per feature: saving refuses them,
    # and a file holding them anyway (written with the check off) is refused at load.
    from zipml_hls import quantized_io

    X, y = skewed
    for bad in (["a"] * 11, [f"x{j}" for j in range(10)], [1] * 11, [""] + [f"x{j}" for j in range(10)]):
        q = replace(quantize(X, 4, y=y), feature_names=tuple(bad))
        with pytest.raises(ValueError, match="feature_names must be 11 distinct non-empty strings"):
            q.save(tmp_path / "bad.zq")
        if len(bad) != 11:
            continue
        with monkeypatch.context() as unchecked:
            unchecked.setattr(quantized_io, "valid_names", lambda names: names)
            q.save(tmp_path / "bad.zq")
        with pytest.raises(QuantizedFileError, match="'feature_names' must be a list of 11 distinct non-empty"):
            load_quantized(tmp_path / "bad.zq")
    pd = pytest.importorskip("pandas")
    assert quantize(pd.DataFrame(X[:, :3], columns=["a", "a", "b"]), 4).feature_names is None  # repeated: none


@pytest.mark.parametrize("levels", [["--levels", "optimal"], ["--levels", "optimal", "--levels-method", "shared"], []])
def test_cli_quantized_file_keeps_the_header_names_and_predict_finds_the_label(skewed, tmp_path, capsys, levels):
    # Optimal levels quantize in memory: the file still keeps the CSV header's names, so a
    # model trained on it finds its features, and the label, by name in a test file whose
    # label column is not the first (it once read column 0, an id, as the label: R^2 -1e5).
    X, y = skewed
    header = "id," + ",".join(f"x{j}" for j in range(X.shape[1])) + ",price"
    path = tmp_path / "train.csv"
    np.savetxt(path, np.column_stack([np.arange(len(y)) * 1000.0, X, y]), delimiter=",", fmt="%.17g",
               header=header, comments="")
    out, model = tmp_path / "q.zq", tmp_path / "m.zipml"
    assert main(["quantize", str(path), "--label-column", "price", "--bits", "8", *levels, "-o", str(out),
                 "--quiet"]) == 0
    assert load_quantized(out).feature_names == ("id", *(f"x{j}" for j in range(X.shape[1])))
    assert main(["train", str(out), "--model-out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(path)]) == 0
    captured = capsys.readouterr()
    assert "does not record" not in captured.err
    assert float(captured.err.split("labels: ")[1].split()[0]) > 0.9  # R^2
