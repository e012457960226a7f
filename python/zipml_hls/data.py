"""Loading data sets: LIBSVM/svmlight, CSV with a label column, NumPy .npz, SciPy sparse.

Every loader returns dense float64 ``X`` and 1-D ``y`` or raises :class:`DataError`
naming the file (and the line, where there is one). Nothing is half-loaded: a file is
parsed completely before anything is returned.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

#: Largest dense matrix (in bytes of float64) a sparse input is expanded to by default.
DEFAULT_MAX_DENSE_BYTES = 4 << 30


class DataError(ValueError):
    """A data file that cannot be read as the format it claims."""


def _size(n_bytes: float) -> str:
    """A byte count for messages in GiB, MiB or bytes (a 1 MiB limit is not '0.0 GiB')."""
    if n_bytes >= 2**29:
        return f"{n_bytes / 2**30:.1f} GiB"
    return f"{n_bytes / 2**20:.1f} MiB" if n_bytes >= 2**19 else f"{int(n_bytes)} bytes"


def densify(X, max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES) -> np.ndarray:
    """Dense float64 array of a SciPy sparse matrix (or array-like), refusing to build one
    larger than ``max_dense_bytes`` (raise it to allow bigger data)."""
    if hasattr(X, "toarray"):
        n, d = X.shape
        need = n * d * 8
        if need > max_dense_bytes:
            raise ValueError(f"the dense form of this {n} x {d} sparse matrix needs {_size(need)}, "
                             f"above the limit of {_size(max_dense_bytes)} (max_dense_bytes; on the "
                             "command line --max-dense-gib); raise it to densify the data")
        return np.asarray(X.toarray(), dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def _svmlight_error_line(path: Path, zero_based) -> str:
    """Find the first malformed line of a LIBSVM file (for the error message)."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.split(b"#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                float(parts[0])
            except ValueError:
                return f"line {lineno}: label {parts[0].decode(errors='replace')!r} is not a number"
            last = -1
            for tok in parts[1:]:
                key, sep, val = tok.partition(b":")
                if not sep:
                    return f"line {lineno}: {tok.decode(errors='replace')!r} is not index:value"
                if key == b"qid":
                    continue
                try:
                    idx, _ = int(key), float(val)
                except ValueError:
                    return f"line {lineno}: {tok.decode(errors='replace')!r} is not index:value"
                first = 0 if zero_based is True else 1 if zero_based is False else 0
                if idx < first:
                    hint = (" (0-based files, as scikit-learn's dump_svmlight_file writes them, need "
                            "zero_based=True; on the command line --zero-based)" if idx == 0 and first == 1 else "")
                    return f"line {lineno}: feature index {idx} is below the first index, {first}{hint}"
                if idx <= last:
                    return f"line {lineno}: feature indices must increase ({idx} after {last})"
                last = idx
    return "unknown position"


def load_svmlight(path, n_features: int | None = None, zero_based="auto",
                  max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES):
    """Read a LIBSVM/svmlight file with scikit-learn's loader.

    ``zero_based='auto'`` follows scikit-learn (1-based unless an index 0 appears),
    which reads LIBLINEAR's 1-based files correctly.
    """
    from sklearn.datasets import load_svmlight_file

    path = Path(path)
    try:
        X, y = load_svmlight_file(str(path), n_features=n_features, zero_based=zero_based)
    except (ValueError, TypeError, IndexError) as exc:
        raise DataError(f"{path}: malformed LIBSVM data at {_svmlight_error_line(path, zero_based)} ({exc})") from None
    return densify(X, max_dense_bytes), np.asarray(y, dtype=np.float64)


def load_csv(path, label_column: int = 0, has_header: bool | None = None, delimiter: str | None = None):
    """Read a CSV file of numbers; ``label_column`` (negative counts from the end) is y.

    A first line that is not numeric is taken as a header. Errors name the line.
    """
    path = Path(path)
    with open(path, newline="") as f:
        text = f.read()
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ").delimiter
        except csv.Error:
            delimiter = ","
    rows = []
    width = None
    for lineno, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            values = [float(c) for c in row]
        except ValueError:
            if lineno == 1 and has_header is not False:
                continue  # header
            raise DataError(f"{path}: line {lineno}: non-numeric value in {row!r}") from None
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise DataError(f"{path}: line {lineno}: {len(values)} columns, expected {width}")
        rows.append(values)
    if not rows:
        raise DataError(f"{path}: no data rows")
    table = np.asarray(rows, dtype=np.float64)
    if width < 2:
        raise DataError(f"{path}: need a label column and at least one feature column, got {width} column")
    if not -width <= label_column < width:
        raise DataError(f"{path}: label_column={label_column} is outside the {width} columns")
    y = table[:, label_column]
    X = np.delete(table, label_column % width, axis=1)
    return X, y


def load_npz(path):
    """Read arrays ``X`` and ``y`` from a NumPy .npz file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            return np.asarray(f["X"], dtype=np.float64), np.asarray(f["y"], dtype=np.float64)
    except KeyError as exc:
        raise DataError(f"{path}: .npz file needs arrays 'X' and 'y' ({exc})") from None
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None


FORMATS = ("auto", "libsvm", "csv", "npz")


def load(path, fmt: str = "auto", **kwargs):
    """Load (X, y) from ``path``. ``fmt='auto'`` picks by extension: .csv/.tsv -> CSV,
    .npz -> NumPy, anything else -> LIBSVM/svmlight."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if fmt == "auto":
        ext = path.suffix.lower()
        fmt = "csv" if ext in (".csv", ".tsv") else "npz" if ext == ".npz" else "libsvm"
    if fmt == "csv":
        return load_csv(path, **kwargs)
    if fmt == "npz":
        return load_npz(path)
    return load_svmlight(path, **kwargs)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename,
    so a crash never leaves a partial file where a good one was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
