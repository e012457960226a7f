"""The ``zipml-hls`` command line (also ``python -m zipml_hls``).

Bad input (a missing file, a bad option value, malformed data) ends with exit status 2
and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import issparse

from . import __version__
from ._validation import show_warning_line
from .backend import BACKENDS, get_backend
from .hls_flow import TOP_BITS, TOP_SAMPLINGS
from .data import check_writable, data_format, format_size
from .ingest import TABLES
from .levels import TABLE_METHODS, is_shared
from .quantize import LEVELS, REQUANTIZE_MAX_VALUES
from .spec import format as F
from .spec.losses import CLASSIFIER_LOSSES, LOSSES


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


def _eta0(text: str):
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a positive number, got {text!r}")
    return value


def _gib(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number of GiB, got {text!r}") from None
    if not 0 < value < 2**33:  # NaN, inf and sizes past any machine's memory are refused
        raise argparse.ArgumentTypeError(f"must be a positive number of GiB below 2^33, got {text!r}")
    return value


def _clock(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a clock period in ns, got {text!r}") from None
    if not 0.1 <= value <= 1000:  # NaN and inf fail too
        raise argparse.ArgumentTypeError(f"must be a clock period in [0.1, 1000] ns, got {text!r}")
    return value


def _part(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text):
        raise argparse.ArgumentTypeError(f"must be an FPGA part name (letters, digits, '_', '.', '-'), got {text!r}")
    return text


def _label_column(text: str):
    """A CSV label column: a number (negative counts from the end) or a header's name."""
    try:
        return int(text)
    except ValueError:
        if not text.strip():
            raise argparse.ArgumentTypeError("must be a column number or a header's column name") from None
        return text


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows every option's default: '(default: X)' where the text does not say it."""

    def _get_help_string(self, action):
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if "default" in text or unset or not action.option_strings:
            return text
        return f"{text} (default: {action.default})".strip()


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="auto",
                   choices=("auto", "libsvm", "csv", "npz", "npy", "parquet", "arrow", "quantized"),
                   help="data format (auto: a quantized data file by its first bytes, else by extension; .csv/.tsv "
                        "CSV, .npz NumPy (X, y), .npy NumPy table, .parquet/.pq Parquet and .arrow/.feather Arrow "
                        "IPC tables (these three quantize only), else LIBSVM; CSV and LIBSVM may be compressed, "
                        "by the suffix before .gz or .bz2: data.csv.gz is CSV)")
    p.add_argument("--label-column", type=_label_column, default=None,
                   help="CSV column holding the label: a number from 0 (negative from the end) or the header's "
                        "name (default: 0; predict: the column the model was trained with)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="CSV: line 1 is a header (--header) or data (--no-header) (default: decided by line 1: "
                        "names, or column numbers as DataFrame.to_csv writes them, are a header)")
    base = p.add_mutually_exclusive_group()
    base.add_argument("--zero-based", dest="zero_based", action="store_const", const=True, default="auto",
                      help="LIBSVM feature indices start at 0 (default: detected as scikit-learn's "
                           "zero_based='auto': 0-based when an index 0 appears; predict reads its data as the "
                           "model's training file was read)")
    base.add_argument("--one-based", dest="zero_based", action="store_const", const=False,
                      help="LIBSVM feature indices start at 1 (LIBLINEAR's files)")
    p.add_argument("--max-dense-gib", type=_gib, default=4.0,
                   help="largest dense matrix a sparse LIBSVM file may expand to, GiB (default 4); train expands "
                        "one only for options that train on float rows (--bits 32, --requantize, ...)")


def _is_csv(path: str, fmt: str) -> bool:
    return data_format(path, fmt)[0] == "csv"


def _is_libsvm(path: str, fmt: str) -> bool:
    return data_format(path, fmt)[0] == "libsvm"


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


#: The estimators' and quantize()'s parameter names as the commands' options spell them.
_OPTIONS = {"max_iter": "--epochs", "random_state": "--seed", "n_jobs": "--jobs", "n_copies": "--copies",
            "decay_epochs": "--decay-epochs", "average_epochs": "--average-epochs", "l1_ratio": "--l1-ratio",
            "grad_bits": "--grad-bits", "model_bits": "--model-bits", "validation_fraction": "--validation-fraction",
            "levels_method": "--levels-method", "early_stopping": "--early-stopping", "fit_intercept": "--no-intercept",
            "requantize": "--requantize", "eta0": "--eta0", "tol": "--tol", "alpha": "--alpha", "loss": "--loss",
            "bits": "--bits", "levels": "--levels", "sampling": "--sampling", "penalty": "--penalty", "seed": "--seed"}
#: names that are also English words: only as name=value
_WORDS = {"tol", "alpha", "loss", "bits", "levels", "sampling", "penalty", "seed"}
#: a quoted text (a column's or a file's name: left as it is), or a parameter (outside paths)
_PARAMETER = re.compile(r"(?P<quoted>(?<!\w)'[^']*'(?!\w))"
                        r"|(?<![\w/.-])(?P<name>" + "|".join(sorted(_OPTIONS, key=len, reverse=True)) + r")"
                        r"(?![\w-])(=(?P<value>'[^'\s]*'|[\w.+-]+))?(?![\w/])")


def cli_words(text: str) -> str:
    """A library message in the commands' words: ``max_iter`` as --epochs, ``bits=32`` as
    --bits 32, ``fit_intercept=False`` as --no-intercept, ``requantize=True`` as
    --requantize (English words such as 'loss' only where they are name=value; quoted
    names and paths as they are)."""
    def option(m):
        name, value = m.group("name"), m.group("value")
        if name is None or (value is None and name in _WORDS):
            return m.group(0)
        if name == "fit_intercept":
            return "--no-intercept" if value in (None, "False") else "the intercept (no --no-intercept)"
        if value is None:
            return _OPTIONS[name]
        value = value.strip("'")
        if value == "None":
            return f"no {_OPTIONS[name]}"
        if value in ("True", "False"):
            return ("--no-" if value == "False" else "--") + _OPTIONS[name][2:]
        return f"{_OPTIONS[name]} {value}"

    return _PARAMETER.sub(option, text)


def _load(path: str, args, n_features=None, detected=None, label_column=0, text_labels=False):
    """(X, y) of a data file by the command's options; ``detected``: a dict that gets a
    LIBSVM file's index base; ``label_column=None`` reads a CSV file without one, else
    the command's --label-column; ``text_labels``: a CSV label column may hold class names."""
    from . import data

    kwargs = {}
    fmt = data_format(path, args.format)[0]
    if fmt in TABLES:
        raise UsageError(f"{path}: .npy, Parquet and Arrow tables are read by 'zipml-hls quantize'; train on the file "
                         "it writes")
    if fmt == "csv":
        kwargs.update(label_column=None if label_column is None else _csv_label(args), has_header=args.header,
                      report=_note, text_labels=text_labels)
    elif fmt == "libsvm":
        kwargs["zero_based"] = args.zero_based
        kwargs["max_dense_bytes"] = int(args.max_dense_gib * 2**30)
        kwargs["detected"] = detected
        if n_features is not None:
            kwargs["n_features"] = n_features
    return data.load(path, fmt, **kwargs)


def _csv_columns(args, n_features: int):
    """(feature names, label name, label index) of a CSV training file of ``n_features``
    features whose line 1 is a header of as many distinct names and the label's: the header
    less the label column; else (None, None, None). A name the header repeats is a usage error (predict finds
    columns by name); an unnamed column (a DataFrame's index, written by to_csv) gets a
    note, and the model then keeps no names."""
    from .data import csv_header
    from .quantize import valid_names

    label = _csv_label(args)
    header = csv_header(args.data, args.header, None if isinstance(label, str) else label)
    if header is None or len(header) != n_features + 1:
        return None, None, None
    if valid_names(header) is None:
        counts = Counter(header)  # (a header may name 65,536 columns: no count per name)
        repeated = next((h for h in header if h and counts[h] > 1), None)
        if repeated is not None:
            where = " and ".join(str(k) for k, h in enumerate(header) if h == repeated)
            raise UsageError(f"{args.data}: the header names columns {where} (counted from 0) both {repeated!r}; "
                             "rename one: predict finds the features by their names")
        unnamed = ", ".join(str(k) for k, h in enumerate(header) if not h)
        _note(f"column(s) {unnamed} of the header have no name (a DataFrame's index, written by to_csv?) and are "
              "features like the others; the model keeps no column names, so predict reads columns by position")
        return None, None, None
    index = header.index(label) if isinstance(label, str) else label % len(header)
    return [h for k, h in enumerate(header) if k != index], header[index], index


#: Header names that usually mean the label (a note when column 0, the default, is not one).
_LABEL_NAMES = {"target", "label", "labels", "y", "class", "outcome", "response", "price"}


def _csv_label(args):
    """The CSV label column the command was given (0 when none was)."""
    return 0 if args.label_column is None else args.label_column


def _integer_labels(y: np.ndarray) -> bool:
    return y.dtype.kind != "U" and bool(np.all(y == np.round(y)))


def _looks_like_classes(y: np.ndarray) -> bool:
    """Text labels (class names), and integer labels with at most 20 distinct values, are
    taken as classes."""
    return y.dtype.kind == "U" or (_integer_labels(y) and len(np.unique(y)) <= 20)


def _task_reason(args, task: str, y: np.ndarray) -> str:
    """What --task auto went by, for the training line, and how to choose the other task
    for integer labels ('' where the task was given)."""
    if args.task != "auto":
        return ""
    distinct = len(np.unique(y))
    if y.dtype.kind == "U":
        return f": the labels are text, {distinct} classes"
    if task == "classification":
        return f": the labels are integers with {distinct} values; --task regression fits them as numbers"
    if _integer_labels(y) and distinct <= 1000:
        return f": the labels are integers with {distinct} values; --task classification fits them as classes"
    return ""


def _check_task(args, y, task: str) -> None:
    """Text labels are classes: a usage error for ``--task regression``, and for ``--task
    auto`` where every label is a number written with thousands separators ('147,621':
    hundreds of classes otherwise)."""
    if task == "regression" and y.dtype.kind == "U":
        classes = [repr(str(c)) for c in np.unique(y)]
        raise UsageError(f"{args.data}: the labels are text ({', '.join(classes[:3])}{', ...' if len(classes) > 3 else ''}"
                         "); --task regression needs numbers")
    if args.task == "auto" and y.dtype.kind == "U" and all(map(_separated_number, np.unique(y))):
        from .data import _is_number

        example = next((str(c) for c in y if not _is_number(str(c))), str(y[0]))
        raise UsageError(f"{args.data}: the labels are numbers written with thousands separators ({example!r}), "
                         "read as text; write them without separators (pandas: read_csv(..., thousands=',')), or "
                         "--task classification to take them as class names")


_SEPARATED = re.compile(r"[+-]?\d{1,3}([,_ ]\d{3})+(\.\d*)?")


def _separated_number(text) -> bool:
    """A number, perhaps with thousands separators (',', '_' or ' ' every 3 digits)."""
    from .data import _is_number

    text = str(text).strip()
    return _is_number(text) or _SEPARATED.fullmatch(text) is not None


def _is_quantized_file(path: str, fmt: str) -> bool:
    """A quantized data file: ``--format quantized``, or with ``auto`` one that starts with
    the format's magic (whatever its name)."""
    from .quantized_io import MAGIC

    if fmt != "auto":
        return fmt == "quantized"
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:  # the loader reports it
        return False


def _libsvm_form(args, est, X):
    """A LIBSVM file's CSR matrix X as ``est`` trains on it: as it is (quantized once, block
    by block, as fit does with sparse X), or dense (within --max-dense-gib) where a setting
    needs float rows or fit on float rows quantizes anew every epoch, which one quantization
    cannot give."""
    from ._validation import check_sparse
    from .data import DataError, densify

    reason = est._needs_float_rows(sparse=True)
    if reason is not None:
        reason += " needs float rows"
    elif est.fresh_samples and est.sampling == "naive":
        reason = "naive sampling with fresh samples quantizes anew every epoch (--no-fresh-samples does not)"
    elif est.fresh_samples and est.sampling == "double" and est._requantizes(X):
        reason = (f"re-quantization every epoch (--requantize; the default on data of at most {REQUANTIZE_MAX_VALUES:,} "
                  "values; --no-requantize is not) reads float rows")
    try:
        if reason is None:
            return check_sparse(X)  # float32 now, the float64 matrix freed: fit takes it as it is
        return densify(X, int(args.max_dense_gib * 2**30))
    except ValueError as exc:
        raise DataError(f"{args.data}: {exc}" if reason is None else f"{args.data}: {reason}, and {exc}") from None


def _training_data(args):
    """(X, y, n_samples, n_features) of ``train``'s data: a quantized file's QuantizedData
    and labels (its precision fills in --bits, --sampling and --levels), a LIBSVM file as
    CSR (``_libsvm_form`` decides what training reads), or float data."""
    if not _is_quantized_file(args.data, args.format):
        args.bits = 8 if args.bits is None else args.bits
        args.sampling = args.sampling or "double"
        args.levels = args.levels or "uniform"
        if args.levels_method is not None and args.levels != "optimal":
            raise UsageError("--levels-method is for --levels optimal")
        if _is_libsvm(args.data, args.format):
            from .data import load_svmlight

            # float32 values as read: every form training takes is float32, so no float64 copy is held
            X, y = load_svmlight(args.data, zero_based=args.zero_based, dense=False, detected=args.data_format,
                                 dtype=np.float32)
        else:
            X, y = _load(args.data, args, detected=args.data_format, text_labels=True)
        return X, y, X.shape[0], X.shape[1]
    from .quantized_io import load_quantized

    q = load_quantized(args.data)
    for name, theirs in (("bits", q.bits), ("sampling", q.sampling), ("levels", q.levels)):
        ours = getattr(args, name)
        if ours is not None and ours != theirs:
            raise UsageError(f"--{name} {ours}, but {args.data} holds {q.bits}-bit {q.sampling} data with {q.levels} "
                             f"levels; leave --{name} out")
        setattr(args, name, theirs)
    if args.levels_method is not None:
        raise UsageError(f"--levels-method places levels when data are quantized; {args.data} holds its own "
                         f"{q.levels} levels: leave --levels-method out")
    if q.labels is None:
        raise UsageError(f"{args.data} holds no labels; quantize data that have labels")
    return q, np.asarray(q.labels), q.n_samples, q.n_features


def cmd_train(args) -> int:
    from .linear_model import ZipMLClassifier, ZipMLRegressor
    from .model_io import save_model

    if args.validation_fraction != 0.1 and not args.early_stopping:
        raise UsageError("--validation-fraction applies with --early-stopping")
    if args.model_out is not None:
        if not args.model_out:
            raise UsageError("--model-out needs a file name")
        check_writable(args.model_out)  # before training, not after
    args.data_format = {}  # a LIBSVM file's index base or a CSV file's label column, remembered in the model file
    X, y, n_samples, n_features = _training_data(args)
    quantized = not (isinstance(X, np.ndarray) or issparse(X))
    names, label_name, label_index = ((None, None, None) if quantized or not _is_csv(args.data, args.format)
                                      else _csv_columns(args, n_features))
    if label_name is not None:  # predict finds the label, and the features, by name (by place without a header)
        args.data_format.update(label_column=label_name, label_index=label_index, feature_names=names)
        likely = [n for n in names if n.strip().lower() in _LABEL_NAMES]
        if args.label_column is None and likely:
            _note(f"the label is column 0, {label_name!r} (the default); the header also names {likely[0]!r}: "
                  f"--label-column {likely[0]} trains on that one")
    elif not quantized and _is_csv(args.data, args.format) and _csv_label(args) != 0:
        args.data_format["label_column"] = _csv_label(args)  # (0, the default, is not stored: older readers)
    task = args.task
    if task == "auto":
        task = "classification" if _looks_like_classes(y) else "regression"
    _check_task(args, y, task)
    cls = ZipMLClassifier if task == "classification" else ZipMLRegressor
    if args.loss is not None and args.loss != "squared_error" and task != "classification":
        raise UsageError(f"--loss {args.loss} needs a classification task (labels that are classes)")
    args.loss = args.loss or "squared_hinge"  # the classifier's default (a regressor trains least squares)
    extra = {"loss": args.loss, "class_weight": args.class_weight} if task == "classification" else {}
    if args.class_weight is not None and task != "classification":
        raise UsageError("--class-weight needs a classification task (labels that are classes)")
    if quantized and task == "classification" and LOSSES[args.loss].refetch:
        extra["refetch"] = False  # a quantized file has no full-precision rows to refetch
    if args.levels == "optimal" and LOSSES[args.loss].kernel != "linear":
        raise UsageError(f"--levels optimal is not available with --loss {args.loss} (its kernel reads uniform "
                         "levels): leave --levels out")
    if args.copies != 1 and args.fresh_samples:
        raise UsageError("--copies applies with --no-fresh-samples (copies cycled over epochs); with fresh samples "
                         "every epoch draws its own")
    est = cls(bits=args.bits, sampling=args.sampling, levels=args.levels, levels_method=args.levels_method,
              max_iter=args.epochs, eta0=args.eta0,
              decay_epochs=args.decay_epochs, tol=args.tol, n_copies=args.copies, shuffle=args.shuffle,
              fresh_samples=args.fresh_samples, precondition=args.precondition, early_stopping=args.early_stopping,
              validation_fraction=args.validation_fraction, n_jobs=args.jobs,
              rounding_correction=args.rounding_correction,
              requantize="auto" if args.requantize is None else args.requantize,
              random_state=args.seed, backend=args.backend,
              verbose=0 if args.quiet else 1, model_bits=args.model_bits, grad_bits=args.grad_bits, alpha=args.alpha,
              model_quantization=args.model_quantization, average_epochs=args.average_epochs,
              penalty=None if args.penalty == "none" else args.penalty, l1_ratio=args.l1_ratio,
              fit_intercept=args.fit_intercept, **extra)
    if issparse(X):
        X = _libsvm_form(args, est, X)
    precision = F.precision_label(args.bits, args.sampling)
    if args.levels == "optimal" and args.bits != F.FULL_PRECISION:
        shared = _one_table(args.bits, args.levels_method, X.level_table if quantized else None)
        precision += ", optimal levels" + (" (one table for every feature)" if shared else "")
    if not args.quiet:
        why = _task_reason(args, task, y)
        label = "" if label_name is None else f" (label {label_name!r}; --label-column sets another)"
        print(f"training {cls.__name__} ({task}{why}) on {n_samples} samples x {n_features} features{label}, "
              f"{precision}, at most {args.epochs} epochs", flush=True)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    seconds = time.perf_counter() - start
    for w in caught:  # in the estimators' words; on the command line max_iter is --epochs
        print(f"warning: {cli_words(str(w.message))}", file=sys.stderr)
    metric = "accuracy" if task == "classification" else "R^2"
    score = "" if quantized else f"training {metric} {est.score(X, y):.4f} | "  # no float rows to score on
    print(f"{est.n_iter_} epochs | eta0 {est.eta_:g} | final training loss {est.loss_curve_[-1]:.6g} | "
          f"{score}{seconds:.2f} s")
    if est.loss_curve_[-1] < 0:
        _note("the training loss is estimated from the quantized samples the pass drew (unbiased, not exact): "
              "below 0 it is that estimate's noise, as at 1 or 2 bits")
    if args.model_out:
        if names is not None:  # as a DataFrame fit: predict(DataFrame) in Python checks the columns by name
            est.feature_names_in_ = np.asarray(names, dtype=object)
        save_model(est, args.model_out, data_format=args.data_format or None)
        print(f"model written to {args.model_out}")
    else:
        _note("the model is not kept: --model-out FILE saves it for 'zipml-hls predict'")
    return 0


def _label_hint(args, exc: Exception) -> Exception:
    """``exc`` with a hint where it reports text in a CSV file's label column (a quantized
    data file holds numeric labels)."""
    found = re.search(r"non-numeric value .* in column (\d+) \(counting from 1\)", str(exc))
    label = _csv_label(args)
    if found is None or not _is_csv(args.data, args.format):
        return exc
    if isinstance(label, str):
        from .data import csv_label_index

        label = csv_label_index(args.data, label)
    if label != int(found.group(1)) - 1:
        return exc
    return type(exc)(f"{exc}, the label column: a quantized data file holds numeric labels; write the classes as "
                     "numbers (0, 1, ...) first, or train on the CSV file itself")


def cmd_quantize(args) -> int:
    """CSV and .npy data with uniform levels stream through ``ingest.quantize_file`` in
    bounded memory; LIBSVM data with uniform levels are loaded sparse and quantized block by
    block; other formats, and optimal levels, are loaded and quantized in memory."""
    from .data import DataError
    from .ingest import quantize_file
    from .quantized_io import load_quantized

    if not args.output:
        raise UsageError("--output needs a file name")
    check_writable(args.output)
    if _is_quantized_file(args.data, args.format):
        raise UsageError(f"{args.data} is already a quantized data file")
    fmt = data_format(args.data, args.format)[0]
    if args.levels_method is not None and args.levels != "optimal":
        raise UsageError("--levels-method is for --levels optimal")
    start = time.perf_counter()
    try:
        if fmt in ("csv", *TABLES) and args.levels == "uniform":
            label_column = _csv_label(args)
            if isinstance(label_column, str):
                from .data import csv_label_index

                if fmt != "csv":
                    raise UsageError(f"--label-column {label_column!r}: a column name needs a CSV file with a header")
                label_column = csv_label_index(args.data, label_column)
            if args.header is not None:
                raise UsageError("--header / --no-header: 'quantize' streams CSV files and decides by line 1 itself")
            quantize_file(args.data, args.output, args.bits, sampling=args.sampling, seed=args.seed,
                          n_copies=args.copies, fmt=fmt, label_column=label_column, chunk_rows=args.chunk_rows,
                          progress=not args.quiet)
        elif fmt in TABLES:
            raise UsageError("--levels optimal needs the data in memory: give it as CSV, LIBSVM or .npz")
        elif fmt == "libsvm" and args.levels == "uniform":
            from .data import load_svmlight
            from .quantize import quantize

            # float32 values as read: the one copy of the matrix the quantizer takes (float64 would be converted)
            X, y = load_svmlight(args.data, zero_based=args.zero_based, dense=False, dtype=np.float32)
            quantize(X, args.bits, sampling=args.sampling, seed=args.seed, n_copies=args.copies, y=y).save(args.output)
        else:
            from dataclasses import replace

            from .quantize import quantize

            X, y = _load(args.data, args)
            q = quantize(X, args.bits, sampling=args.sampling, levels=args.levels, seed=args.seed, n_copies=args.copies,
                         levels_method=args.levels_method, y=y)
            if _is_csv(args.data, args.format):  # the header's names, as the streamed path keeps them
                q = replace(q, feature_names=_csv_columns(args, X.shape[1])[0])
            q.save(args.output)
    except DataError as exc:
        raise _label_hint(args, exc) from None
    q = load_quantized(args.output, verify=False)
    shared = q.level_table is not None and q.n_features > 1 and _one_table(q.bits, args.levels_method, q.level_table)
    print(f"{q.n_samples} rows x {q.n_features} features -> {args.output}: {q.bits}-bit {q.sampling}, {q.levels} "
          f"levels{' (one table for every feature)' if shared else ''}, "
          f"{q.n_copies} cop{'y' if q.n_copies == 1 else 'ies'}, {q.bits_per_value} bits per value, "
          f"{format_size(os.path.getsize(args.output))} | {time.perf_counter() - start:.2f} s")
    return 0


def _label_text(value) -> str:
    """A label as it was read: 2.0 read from '2' prints as '2'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one_table(bits: int, levels_method, table) -> bool:
    """Whether optimal levels of ``bits`` bits put one table in every feature, for the
    commands' summaries: asked for (``levels_method='shared'``) or found in quantized data's
    ``table`` (None: float data); never said at 1 bit, whose tables are all [0, 1]."""
    return bits > 1 and (levels_method == "shared" or (table is not None and is_shared(table)))


def _predict_data(args, est, training_format):
    """(X, y or None) of predict's data: LIBSVM with the index base the model's training
    file had (unless given), CSV with or without the label column (by its width)."""
    from .data import DataError

    d = est.n_features_in_
    training_format = training_format or {}
    if _is_libsvm(args.data, args.format) and args.zero_based == "auto" and "zero_based" in training_format:
        args.zero_based = training_format["zero_based"]
    if _is_libsvm(args.data, args.format):  # sparse: predicted in dense blocks of rows (_by_rows)
        from .data import load_svmlight

        X, y = load_svmlight(args.data, zero_based=args.zero_based, dense=False)
        if X.shape[1] > d:  # features the training file never had: the model's weight for them is 0
            _note(f"{X[:, d:].nnz} value(s) in features beyond the model's {d}: it has no weight for them "
                  "(left out)")
            X = X[:, :d]
        X.resize(X.shape[0], d)  # (fewer: the features the file never names are 0)
        return X, y
    if not _is_csv(args.data, args.format):
        return _load(args.data, args, n_features=d)
    names = getattr(est, "feature_names_in_", training_format.get("feature_names"))
    if names is not None:
        from .data import csv_header

        header = csv_header(args.data, args.header)
        if header is not None:
            return _predict_by_names(args, [str(n) for n in names], header, training_format)
        _note(f"{args.data} has no header: its columns are taken as the model's features in training order "
              f"({', '.join(map(str, list(names)[:3]))}{', ...' if len(names) > 3 else ''}), unchecked")
    try:
        table, _ = _load(args.data, args, label_column=None)
    except DataError:
        if getattr(est, "classes_", np.zeros(0)).dtype.kind != "U":
            raise
        # a model of class names: the file's label column may hold them
        if args.label_column is None:
            args.label_column = _training_label(training_format, names is not None)[0]
        return _load(args.data, args, text_labels=True)
    if table.shape[1] == d:
        return table, None  # no label column
    if table.shape[1] != d + 1:
        raise DataError(f"{args.data}: {table.shape[1]} columns; the model takes {d} features ({d + 1} with a "
                        "label column)")
    column = args.label_column
    if column is None:
        column, by_place = _training_label(training_format, names is not None)
        if column != 0 and not by_place:
            _note(f"label column {column!r}, as in the model's training file (--label-column sets another)")
        elif "label_column" not in training_format:
            from .data import csv_header

            header = csv_header(args.data, args.header)
            if header is not None:  # (a model from a LIBSVM or quantized file, or from Python without names)
                _note(f"label column 0 ({header[0]!r}): the model does not record its training file's label column "
                      "(--label-column sets another)")
    if isinstance(column, str):
        from .data import csv_label_index

        try:
            column = csv_label_index(args.data, column)
        except DataError as exc:
            if args.label_column is not None:
                raise
            raise DataError(f"{exc} (the model was trained with --label-column {column!r}; give this file's label "
                            "column with --label-column)") from None
    if not -(d + 1) <= column <= d:
        raise DataError(f"{args.data}: --label-column {column} is outside the {d + 1} columns")
    return np.delete(table, column % (d + 1), axis=1), table[:, column]


def _training_label(training_format: dict, headerless: bool):
    """(column, by place) of the model's training file's label, for a CSV file to predict
    on: its name or number, or for a file without the training file's header
    (``headerless``: the model knows its features' names) the place the label had there (a
    note says so; ``by place`` True)."""
    if headerless and "label_index" in training_format:
        column = training_format["label_index"]
        _note(f"label column {column} (counted from 0), the place of {training_format['label_column']!r} in the "
              "model's training file (--label-column sets another)")
        return column, True
    return training_format.get("label_column", 0), False


def _predict_by_names(args, names: list, header: list, training_format: dict):
    """(X, y or None) of a CSV file with a header, for a model that knows its features'
    ``names`` (fitted on a DataFrame, or trained here on a CSV file with a header): each
    feature from the column of its name, in any order; the label from --label-column, else
    the model's training label column, else the one column left."""
    from .data import DataError, load_csv

    in_header, features = set(header), set(names)  # (wide headers: no list search per name)
    missing = [n for n in names if n not in in_header]
    if missing:
        raise DataError(f"{args.data}: the model's feature(s) {', '.join(map(repr, missing[:5]))} are not in the "
                        f"header (line 1: {', '.join(map(repr, header[:8]))}{', ...' if len(header) > 8 else ''})")
    others = [h for h in header if h not in features]
    label = args.label_column if args.label_column is not None else training_format.get("label_column")
    if isinstance(label, str) and label not in others and args.label_column is None:
        label = None  # the training file's label column is not in this file
    if label is None and len(others) > 1:
        raise DataError(f"{args.data}: columns {', '.join(map(repr, others[:5]))} are not the model's features; "
                        "--label-column says which is the label")
    if label is None and others:
        label = others[0]
        trained = training_format.get("label_column")
        if isinstance(trained, str):
            _note(f"label column {label!r}, the one column that is not a feature (the model was trained with "
                  f"{trained!r}; --label-column sets another)")
    elif label is not None and not isinstance(label, str):
        if not -len(header) <= label < len(header):
            raise DataError(f"{args.data}: --label-column {label} is outside the {len(header)} columns")
        label = header[label]
    if label is not None and label not in others:
        raise DataError(f"{args.data}: the label column {label!r} is " + (
            "one of the model's features" if label in features else "not in the header"))
    X, y = load_csv(args.data, None if label is None else header.index(label), has_header=True, text_labels=True)
    position = {h: k for k, h in enumerate(h for h in header if h != label)}
    if len(others) > (label is not None):
        _note(f"column(s) {', '.join(repr(h) for h in others if h != label)} are not the model's features: left out")
    return X[:, [position[n] for n in names]], y


def _by_rows(method, X) -> np.ndarray:
    """``method`` (predict, predict_proba, ...) of X; sparse X in dense blocks of rows
    (``data.dense_rows``), so the values are those of X.toarray() without its dense form."""
    if not issparse(X):
        return method(X)
    from .data import dense_rows

    return np.concatenate([method(block) for block in dense_rows(X)])


def cmd_predict(args) -> int:
    from .data import is_stream
    from .model_io import load_model_and_format

    if args.output and not is_stream(args.output):
        check_writable(args.output)  # before reading the data, not after
    est, training_format = load_model_and_format(args.model)
    if _is_quantized_file(args.data, args.format):
        raise UsageError(f"{args.data} is a quantized data file; predict takes float data")
    if args.proba and not hasattr(est, "predict_proba"):
        raise UsageError("--proba needs a classifier trained with --loss log_loss (the other losses give margins, "
                         "not probabilities); --decision-function prints the margins")
    if args.decision_function and not hasattr(est, "decision_function"):
        raise UsageError("--decision-function is for classifiers; a regressor's predictions are its decision values")
    X, y = _predict_data(args, est, training_format)
    with warnings.catch_warnings():  # columns found by name already (or a file without names: by position)
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        lines, pred, score = _predictions(args, est, X, y)
    if args.output:
        from .data import write_output

        write_output(args.output, lines.encode())
    else:
        sys.stdout.write(lines)
    print(f"{len(pred)} predictions; {score}", file=sys.stderr)
    return 0


def _predictions(args, est, X, y) -> tuple:
    """(the lines predict writes, the predictions, what it says of the score)."""
    if args.proba or args.decision_function:
        values = _by_rows(est.predict_proba if args.proba else est.decision_function, X)
        values = values.reshape(X.shape[0], -1)
        header = ",".join(_label_text(c) for c in est.classes_.tolist()) if values.shape[1] > 1 else None
        lines = "\n".join(([header] if header else []) + [",".join(repr(float(v)) for v in row) for row in values])
        lines += "\n"
        pred = values
    else:
        pred = _by_rows(est.predict, X)
        lines = "\n".join(_label_text(v) for v in pred.tolist()) + "\n"
    metric = "accuracy" if hasattr(est, "classes_") else "R^2"
    if y is None:
        score = f"no {metric}: the file has no label column"
    else:
        try:
            score = f"{metric} against the file's labels: {est.score(X, y):.4f}"
        except (ValueError, TypeError):  # labels the model's classes cannot be compared with: no score
            score = f"no {metric}: the file's labels do not match the model's"
        else:
            if hasattr(est, "classes_") and not np.isin(np.asarray(y), est.classes_).any():
                known = ", ".join(_label_text(c) for c in est.classes_[:5].tolist())
                _note(f"none of the file's labels is a class of the model ({known}"
                      f"{', ...' if len(est.classes_) > 5 else ''}): the accuracy counts every row as wrong")
    return lines, pred, score


def cmd_info(args) -> int:
    info = get_backend("hls").info()
    print(f"zipml-hls {__version__}")
    print(f"compiler      g++ {info['compiler']}")
    print(f"flags         {info['cxx_flags']}")
    print(f"instruction set {info['isa']} (native build: {info['native']}); CPU fast path: {info['fast_path']}")
    print(f"max features  {info['max_features']} (compile-time size of the on-chip model)")
    print(f"bit widths    {', '.join(str(b) for b in info['bits'])} x samplings {', '.join(info['samplings'])}; "
          "fp32 baseline")
    print("values per 512-bit line:")
    for bits in F.SUPPORTED_BITS:
        cells = ", ".join(f"{s} {F.values_per_line(bits, s)} ({F.stored_bits(bits, s)} bits)"
                          for s in F.TRAINING_SAMPLINGS)
        print(f"  {bits}-bit: {cells}")
    return 0


def cmd_reproduce(args) -> int:
    from .reproduce import reproduce

    data = None
    if args.data is not None:
        X, y = _load(args.data, args, text_labels=True)
        task = args.task if args.task != "auto" else ("classification" if _looks_like_classes(y) else "regression")
        _check_task(args, y, task)
        if task == "classification" and np.unique(y).size < 2:
            raise UsageError(f"{args.data} has one class; --task classification needs two or more")
        data = (Path(args.data).name, X, y, task)
    elif args.task != "auto":
        raise UsageError("--task applies with --data")
    reproduce(Path(args.out), full=args.full, quiet=args.quiet, data=data)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def cmd_bench(args) -> int:
    from dataclasses import replace

    from .bench import BenchConfig, run

    cfg = BenchConfig.quick() if args.quick else BenchConfig()
    overrides = {k: getattr(args, k) for k in ("rows", "features", "small_rows", "small_features", "repeats")
                 if getattr(args, k) is not None}
    if args.no_sklearn:
        overrides["sklearn"] = False
    for key, value in overrides.items():
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise UsageError(f"--{key.replace('_', '-')} must be >= 1, got {value}")
    if overrides.get("repeats", 1) > 1000:
        raise UsageError(f"--repeats must be at most 1000, got {overrides['repeats']}")
    cfg = replace(cfg, **overrides)
    run(cfg, Path(args.out), hls_report=args.hls_report, quiet=args.quiet)
    print((Path(args.out) / "bench.md").read_text())
    return 0


def cmd_hls_synth(args) -> int:
    from .hls_flow import synth

    steps = {"csim": not args.no_csim, "csynth": True, "cosim": args.cosim, "export": args.export}
    status, command = synth(args.bits, args.sampling, Path(args.out), args.part, args.clock, steps)
    if status == 3:
        print(f"zipml-hls hls synth: vitis_hls is not on PATH; project written to {args.out}; run there: {command}",
              file=sys.stderr)
    return status


def cmd_hls_report(args) -> int:
    from .hls_report import find_reports, format_table, parse_csynth_xml

    print(format_table([parse_csynth_xml(p) for p in find_reports(args.path)]))
    return 0


def cmd_hls_rtl(args) -> int:
    from .rtl import report
    from .rtl.simulate import ToolMissing
    from .rtl.verilog import EngineConfig

    configs = [EngineConfig(b, "fixed32" if b == F.FULL_PRECISION else args.sampling) for b in args.bits]
    out = Path(args.out)
    try:
        r = report.run(configs, out, synth=not args.no_synth,
                       say=(lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr)))
    except ToolMissing as exc:
        print(f"zipml-hls hls rtl: {exc}", file=sys.stderr)
        return 3
    print((out / "rtl.md").read_text())
    if not report.all_equal(r):
        print("zipml-hls hls rtl: the RTL engine differs from the golden model", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zipml-hls", description="ZipML low-precision training of linear models")
    parser.add_argument("--version", action="version", version=f"zipml-hls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model on a data file", formatter_class=_HelpFormatter)
    p.add_argument("data", help="LIBSVM/svmlight, CSV (label column) or .npz (X, y) file, or a quantized file "
                                "('zipml-hls quantize' writes one from these and from .npy, Parquet and Arrow tables)")
    _add_data_options(p)
    p.add_argument("--task", default="auto", choices=("auto", "regression", "classification"),
                   help="auto: classification when labels are integers with at most 20 values")
    p.add_argument("--bits", type=int, choices=F.SUPPORTED_BITS + (F.FULL_PRECISION,),
                   help="bits per value (32: fp32; default 8, a quantized file's own)")
    p.add_argument("--sampling", choices=F.TRAINING_SAMPLINGS, help="default double, a quantized file's own")
    p.add_argument("--levels", choices=LEVELS, help="default uniform, a quantized file's own")
    p.add_argument("--levels-method", choices=TABLE_METHODS,
                   help="optimal levels: exact or grid program per feature (default: exact up to 4096 rows below 8 "
                        "bits, else grid), or shared: one table for every feature, trained faster by the AVX2 "
                        "kernel at 2 to 8 bits (2.1x at 4 bits), but at 2 bits worse on features of different "
                        "shapes (docs/LEVELS.md)")
    p.add_argument("--loss", choices=CLASSIFIER_LOSSES,
                   help="classification loss (default: squared_hinge): "
                        + "; ".join(f"{n}: {LOSSES[n].formula}" for n in CLASSIFIER_LOSSES))
    p.add_argument("--alpha", type=float, default=0.0,
                   help="strength of the penalty, as scikit-learn's SGD (on original-unit coefficients)")
    p.add_argument("--penalty", default="l2", choices=("l2", "l1", "elasticnet", "none"),
                   help="the penalty --alpha weighs (none: no penalty)")
    p.add_argument("--l1-ratio", type=float, default=0.15, help="elasticnet: the L1 share of the penalty")
    p.add_argument("--class-weight", choices=("balanced",),
                   help="classification: weigh each class inversely to its frequency (default: equal weights)")
    p.add_argument("--model-bits", type=int, help="round the model to this many bits in every dot product")
    p.add_argument("--grad-bits", type=int, help="round every update to this many bits")
    p.add_argument("--model-quantization", default="grid", choices=F.MODEL_QUANTIZATIONS,
                   help="how --model-bits and --grad-bits round: a power-of-two grid (default) or qsgd "
                        "(norm-scaled stochastic levels)")
    p.add_argument("--epochs", type=int, default=100, help="most epochs (default 100)")
    p.add_argument("--eta0", type=_eta0, default="auto", help="initial step (power of two) or 'auto'")
    p.add_argument("--decay-epochs", type=int, default=None,
                   help="fixed schedule: halve the step every N epochs (0: constant); default: adaptive (halve "
                        "when the loss stalls, stop after 6 halvings or more: docs/API.md)")
    p.add_argument("--tol", type=float, default=1e-3,
                   help="adaptive schedule: relative improvement that counts (it must also exceed three "
                        "standard errors of the loss estimate)")
    p.add_argument("--average-epochs", type=int, default=0, metavar="K",
                   help="output the mean of the models of the last K epochs at the final step instead of the "
                        "last one (default 0: the last)")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                   help="visit the rows in file order every epoch (default: a fresh order each epoch)")
    p.add_argument("--no-fresh-samples", dest="fresh_samples", action="store_false",
                   help="epoch e repeats the draws of epoch e mod --copies (double: the kernel's draws, keyed by "
                        "a row's position in the pass, so rows see the same samples again only with --no-shuffle; "
                        "naive: copies quantized once) (default: fresh samples every epoch, which double sampling "
                        "needs)")
    p.add_argument("--requantize", action=argparse.BooleanOptionalAction, default=None,
                   help="double data with fresh samples: quantize the data again every epoch (a fresh fine-grid "
                        "rounding too; every epoch reads the full-precision data), or store one copy that the "
                        f"kernel draws every epoch's samples from (default: again every epoch up to "
                        f"{REQUANTIZE_MAX_VALUES:,} values)")
    p.add_argument("--no-precondition", dest="precondition", action="store_false",
                   help="uncentred features and one step for every feature (default: features centred at their "
                        "means and, but for log_loss, per-feature power-of-two step multipliers from each scaled "
                        "feature's mean square, for one-hot and heavy-tailed columns)")
    p.add_argument("--no-intercept", dest="fit_intercept", action="store_false",
                   help="a model through the origin, f(x) = w.x (scikit-learn's fit_intercept=False; float data, "
                        "uniform levels)")
    p.add_argument("--no-rounding-correction", dest="rounding_correction", action="store_false",
                   help="least squares on double data: keep the ridge-like pull of the stored copy's fine-grid "
                        "rounding (default: cancel it in the kernel, so SGD converges to the data's least squares)")
    p.add_argument("--early-stopping", action="store_true",
                   help="hold out --validation-fraction of the rows and let their full-precision loss drive the "
                        "adaptive schedule (default: the kernels' pass loss)")
    p.add_argument("--validation-fraction", type=float, default=0.1,
                   help="with --early-stopping: the fraction of rows held out (default 0.1)")
    p.add_argument("--copies", type=int, default=1,
                   help="with --no-fresh-samples: independent quantized copies (and the kernel's draws) cycled "
                        "over epochs (default 1)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker threads (-1: every core): one-vs-rest classes in parallel (the same model as one "
                        "thread), or one model's epoch in blocks of rows whose models are averaged (default: 1)")
    p.add_argument("--seed", type=int, default=0,
                   help="random_state: the seed of quantization, the kernels' draws and the row orders")
    p.add_argument("--backend", default="hls", choices=BACKENDS,
                   help="hls: the C++ kernels; reference: the NumPy golden model (the same bits, slower)")
    p.add_argument("--model-out", help="write the trained model here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("quantize", help="quantize a data file into a quantized data file (memory-mapped by train)",
                       formatter_class=_HelpFormatter)
    p.add_argument("data", help="CSV, .npy, Parquet or Arrow table (label column; streamed in bounded memory), "
                                "LIBSVM or .npz")
    _add_data_options(p)
    p.add_argument("--bits", type=int, required=True, choices=F.SUPPORTED_BITS, help="bits per level code")
    p.add_argument("--sampling", default="double", choices=F.TRAINING_SAMPLINGS,
                   help="double: index and fine-grid fraction, two samples drawn every epoch; naive: one "
                        "stochastic sample; nearest: deterministic rounding")
    p.add_argument("--levels", default="uniform", choices=LEVELS,
                   help="optimal: loaded and quantized in memory (levels need every value of a feature)")
    p.add_argument("--levels-method", choices=TABLE_METHODS,
                   help="optimal levels: exact or grid program per feature (default: exact up to 4096 rows below 8 "
                        "bits, else grid), or shared: one table for every feature, read faster by the AVX2 SGD "
                        "kernel at 2-8 bits, but at 2 bits worse on features of different shapes (docs/LEVELS.md)")
    p.add_argument("--copies", type=int, default=1,
                   help="independent quantized copies; training reads copy e mod K in epoch e (naive data: fresh "
                        "samples for K epochs; double data draw fresh samples from any copy) (default 1)")
    p.add_argument("--seed", type=int, default=0, help="the seed of the quantization draws")
    p.add_argument("--chunk-rows", type=int,
                   help="rows per chunk when streaming (default: 64 MiB of float32 features; the chunks decide the "
                        "seeds, so the file too)")
    p.add_argument("-o", "--output", required=True, help="the quantized data file to write")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("predict", help="predict with a saved model", formatter_class=_HelpFormatter)
    p.add_argument("model", help="a model file written by 'train --model-out'")
    p.add_argument("data", help="LIBSVM/svmlight, CSV (with or without the label column) or .npz file")
    _add_data_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--proba", action="store_true",
                     help="print class probabilities (one column per class, a header of the classes; --loss "
                          "log_loss models)")
    out.add_argument("--decision-function", action="store_true",
                     help="print decision values (classifiers: the margin, one column per class for more than two)")
    p.add_argument("-o", "--output", help="write predictions here (default: stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("bench", help="epoch throughput against the 32-bit baselines and the memory roofline", formatter_class=_HelpFormatter)
    p.add_argument("--out", default="zipml-bench", help="output folder (default: zipml-bench)")
    p.add_argument("--quick", action="store_true", help="a seconds-long smoke run on small data")
    p.add_argument("--rows", type=int, help="memory-bound configuration: rows (default 131072)")
    p.add_argument("--features", type=int, help="memory-bound configuration: features (default 2048)")
    p.add_argument("--small-rows", type=int, help="cache-resident configuration: rows (default 65536)")
    p.add_argument("--small-features", type=int, help="cache-resident configuration: features (default 32)")
    p.add_argument("--repeats", type=int, help="epochs timed per kernel (median reported; default 5)")
    p.add_argument("--no-sklearn", action="store_true", help="leave out scikit-learn's SGDRegressor")
    p.add_argument("--hls-report", help="a Vitis *_csynth.xml (or a folder holding one): the FPGA projection "
                   "uses its clock and II")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("hls", help="Vitis HLS: synthesize the kernels, read synthesis reports; the open RTL check")
    hls = p.add_subparsers(dest="hls_command", required=True)
    q = hls.add_parser("synth", help="run Vitis HLS (or write the project and print the command)")
    q.add_argument("--bits", type=int, default=4, choices=TOP_BITS + (F.FULL_PRECISION,))
    q.add_argument("--sampling", default="double", choices=TOP_SAMPLINGS)
    q.add_argument("--part", type=_part, default="xcu250-figd2104-2L-e", help="FPGA part (default: Alveo U250)")
    q.add_argument("--clock", type=_clock, default=3.33, help="clock period in ns (default 3.33)")
    q.add_argument("--out", default="zipml-hls-project", help="project folder")
    q.add_argument("--no-csim", action="store_true", help="skip C simulation")
    q.add_argument("--cosim", action="store_true", help="also run RTL co-simulation")
    q.add_argument("--export", action="store_true", help="also export a .xo kernel")
    q.set_defaults(func=cmd_hls_synth)
    q = hls.add_parser("rtl", help="the open RTL engine: Verilator co-simulation against the golden model, "
                       "cycles against the cycle model, Yosys synthesis for UltraScale+ (with the 32-bit engine)")
    q.add_argument("--bits", type=int, nargs="+", default=[4], choices=TOP_BITS + (F.FULL_PRECISION,),
                   help="bits per value, one or more (32: the 32-bit fixed-point engine alone; default 4)")
    q.add_argument("--sampling", default="double", choices=TOP_SAMPLINGS)
    q.add_argument("--out", default="zipml-rtl", help="report folder (default: zipml-rtl)")
    q.add_argument("--no-synth", action="store_true", help="co-simulation only, no Yosys synthesis")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(func=cmd_hls_rtl)
    q = hls.add_parser("report", help="print the *_csynth.xml reports under a folder")
    q.add_argument("path", help="a *_csynth.xml file or a folder to search")
    q.set_defaults(func=cmd_hls_report)

    p = sub.add_parser("info", help="version, compiler flags, instruction set, kernels compiled in", formatter_class=_HelpFormatter)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("reproduce", help="reproduce the paper's core results into a report folder", formatter_class=_HelpFormatter)
    p.add_argument("--out", default="zipml-report", help="output folder (default: zipml-report)")
    p.add_argument("--full", action="store_true", help="the long version: more data, epochs and seeds")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--data", help="run the convergence, bias, levels and end-to-end sections (and for classes the "
                                  "classification section) on this LIBSVM/svmlight, CSV or .npz file")
    p.add_argument("--task", default="auto", choices=("auto", "regression", "classification"),
                   help="with --data: what y is (auto: integer labels with at most 20 values are classes)")
    _add_data_options(p)
    p.set_defaults(func=cmd_reproduce)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # no command at all: show them
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
    if sys.stdout is None:  # started with stdout closed (>&-)
        if args.command == "predict" and not args.output:
            print(f"zipml-hls {args.command}: error: stdout is closed; write the predictions with --output FILE",
                  file=sys.stderr)
            return 2
        sys.stdout = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, _StdoutOrNothing(sys.stdout)
    shown, warnings.showwarning = warnings.showwarning, show_warning_line  # a library's warning: one line
    try:
        return args.func(args)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        # one line whatever a library put in the message (the reason comes first), in the options' words
        line = str(exc).split(chr(10), 1)[0]
        print(f"zipml-hls {args.command}: error: {line if isinstance(exc, OSError) else cli_words(line)}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zipml-hls {args.command}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"zipml-hls {args.command}: terminated", file=sys.stderr)
        return 143
    finally:
        warnings.showwarning = shown
        try:
            sys.stdout.flush()  # through the wrapper: a reader gone by now is no error either
        finally:
            sys.stdout = stdout


class _StdoutOrNothing:
    """stdout that goes to /dev/null once its reader has gone (``zipml-hls train ... | head
    -1``): the command finishes as it would have (a model file still written) instead of
    stopping at its next line with a broken pipe."""

    def __init__(self, stream):
        self._stream = stream

    def _call(self, name, *args):
        try:
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())  # (what is buffered goes there too)
            return getattr(self._stream, name)(*args)

    def write(self, text):
        return self._call("write", text)

    def flush(self):
        return self._call("flush")

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Terminated(Exception):
    """SIGTERM as an exception: the cleanup of `finally` blocks runs (a half-written
    model's temporary file is removed) before the command exits with 143."""


def _raise_terminated(signum, frame):
    raise _Terminated


if __name__ == "__main__":
    sys.exit(main())
