"""Loading data sets: LIBSVM/svmlight, CSV with a label column, NumPy .npz, SciPy sparse.

Every loader returns dense, finite float64 ``X`` (2-D) and ``y`` (1-D, as many rows) or
raises :class:`DataError` naming the file (and the line or row, where there is one).
Nothing is half-loaded: a file is parsed completely before anything is returned. A file's
format and compression come from its name (:func:`data_format`), the one rule of every
loader, ``ingest.quantize_file`` and the command line.
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import glob
import gzip
import hashlib
import io
import itertools
import numbers
import os
import secrets
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ._validation import _all_finite

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: Largest dense matrix (in bytes of float64) a sparse input is expanded to by default.
DEFAULT_MAX_DENSE_BYTES = 4 << 30


class DataError(ValueError):
    """A data file that cannot be read as the format it claims."""


def format_size(n_bytes: float) -> str:
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
            raise ValueError(f"the dense form of this {n} x {d} sparse matrix needs {format_size(need)}, "
                             f"above the limit of {format_size(max_dense_bytes)} (max_dense_bytes; on the "
                             "command line --max-dense-gib); raise it to densify the data")
        return np.asarray(X.toarray(), dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def _checked(path: Path, X, y) -> tuple[np.ndarray, np.ndarray]:
    """X and y as every loader returns them, or a DataError saying what is wrong."""
    X, y = np.asarray(X), np.asarray(y)
    text = y.dtype.kind == "U"  # class names (load_csv's text_labels)
    for name, a, ndim in (("X", X, 2), ("y", y, 1)):
        if a.dtype.kind not in "biuf" and not (name == "y" and text):
            raise DataError(f"{path}: {name} must hold real numbers, got dtype {a.dtype}")
        if a.ndim != ndim:
            raise DataError(f"{path}: {name} must be {ndim}-D, got shape {a.shape}")
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{path}: no data: X has shape {X.shape}; need at least one row and one feature")
    X, y = X.astype(np.float64, copy=False), y if text else y.astype(np.float64, copy=False)
    for name, a in (("X", X),) if text else (("X", X), ("y", y)):
        if _all_finite(a):  # (no temporary as large as X; the mask below only to say where)
            continue
        bad = ~np.isfinite(a)
        where = np.argwhere(bad)[0]
        at = f"row {where[0] + 1}, feature {where[1] + 1}" if a.ndim == 2 else f"row {where[0] + 1}"
        raise DataError(f"{path}: {name} has a NaN or infinite value ({bad.sum()} in all; the first at {at}); "
                        "remove or impute them first")
    return X, y


#: The first bytes of a zip archive (.npz data and model files), empty or not.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: Compressions of CSV and LIBSVM text, by the file name's last suffix (any case).
COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open}
#: Compressions and archives not read: refused by name, never parsed as text.
OTHER_COMPRESSIONS = (".xz", ".lzma", ".zst", ".zstd", ".zip", ".z", ".lz4", ".br", ".7z", ".tar", ".tgz")
#: Formats by the suffix before any compression suffix; any other name is LIBSVM/svmlight.
SUFFIXES = {".csv": "csv", ".tsv": "csv", ".npz": "npz", ".npy": "npy", ".parquet": "parquet", ".pq": "parquet",
            ".arrow": "arrow", ".feather": "arrow"}


def data_format(path, fmt: str = "auto") -> tuple[str, str | None]:
    """(format, compression suffix or None) of the data file ``path``: ``fmt``, or for
    'auto' the format of the suffix before a .gz or .bz2 (``SUFFIXES``; any other name is
    LIBSVM), so data.csv.gz is gzip'd CSV and news20.bz2 bzip2'd LIBSVM. Only CSV and
    LIBSVM text is read compressed; another compressed format, or another compression
    (``OTHER_COMPRESSIONS``), is a DataError."""
    path = Path(path)
    last = path.suffix.lower()
    if last in OTHER_COMPRESSIONS:
        raise DataError(f"{path}: {last} files are not read; decompress it (CSV and LIBSVM files may be compressed "
                        "with gzip, .gz, or bzip2, .bz2)")
    compression = last if last in COMPRESSIONS else None
    if fmt == "auto":
        fmt = SUFFIXES.get((path.with_suffix("") if compression else path).suffix.lower(), "libsvm")
    if compression and fmt not in ("csv", "libsvm"):
        raise DataError(f"{path}: a compressed {fmt} file is not read; decompress it (only CSV and LIBSVM files are "
                        f"read from {' and '.join(COMPRESSIONS)})")
    return fmt, compression


def open_data(path: Path, mode: str = "rb", **kwargs):
    """The data file ``path`` opened, decompressed on the fly when its name ends in .gz or
    .bz2 (``COMPRESSIONS``); ``mode`` and ``kwargs`` as ``open``'s."""
    return COMPRESSIONS.get(path.suffix.lower(), open)(path, mode, **kwargs)


#: What a damaged compressed stream raises as it is read (zlib.error for a bad deflate block).
STREAM_ERRORS = (EOFError, OSError, zlib.error)


def _svmlight_error_line(path: Path, zero_based) -> str:
    """Find the first malformed line of a LIBSVM file (for the error message; line numbers
    count the decompressed text of a compressed file)."""
    try:
        return _first_bad_line(path, zero_based)
    except STREAM_ERRORS:  # a damaged compressed stream
        return "unknown position"


def _first_bad_line(path: Path, zero_based) -> str:
    with open_data(path) as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.split(b"#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                float(parts[0])
            except ValueError:
                hint = " (comma-separated: a CSV file? name it .csv, or pass --format csv / fmt='csv')" \
                    if b"," in line else ""
                return f"line {lineno}: label {parts[0].decode(errors='replace')!r:.40} is not a number{hint}"
            last = -1
            for tok in parts[1:]:
                key, sep, val = tok.partition(b":")
                if not sep:
                    return f"line {lineno}: {tok.decode(errors='replace')!r:.40} is not index:value"
                if key == b"qid":
                    continue
                try:
                    idx, _ = int(key), float(val)
                except ValueError:
                    return f"line {lineno}: {tok.decode(errors='replace')!r:.40} is not index:value"
                first = 0 if zero_based is True else 1 if zero_based is False else 0
                if idx >= 2**31:
                    return f"line {lineno}: feature index {idx} is too large (at most 2^31 - 1)"
                if idx < first:
                    hint = (" (0-based files, as scikit-learn's dump_svmlight_file writes them, need "
                            "zero_based=True; on the command line --zero-based)" if idx == 0 and first == 1 else "")
                    return f"line {lineno}: feature index {idx} is below the first index, {first}{hint}"
                if idx <= last:
                    return f"line {lineno}: feature indices must increase ({idx} after {last})"
                last = idx
    return "unknown position"


def load_svmlight(path, n_features: int | None = None, zero_based="auto",
                  max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES, dense: bool = True, detected: dict | None = None,
                  dtype=np.float64):
    """Read a LIBSVM/svmlight file with scikit-learn's loader.

    ``zero_based='auto'`` follows scikit-learn (1-based unless an index 0 appears),
    which reads LIBLINEAR's 1-based files and scikit-learn's own 0-based dumps correctly.
    ``dense=False`` returns X as a CSR matrix, checked the same way, with no limit on its
    dense size (the quantizer takes it block by block): float64 values and 32-bit indices,
    or with ``dtype=np.float32`` the values read straight to float32 (each float64 value
    rounded, as ``astype`` rounds it; one beyond float32's range is an error), what the
    quantizer takes as it is, so that no second copy of the values is ever made: 12 bytes a
    nonzero as scikit-learn reads them (64-bit indices; SciPy makes them 32-bit when a
    1-based file's are shifted, 4 bytes more for a moment), where float64 holds 16 and
    converting it to float32 adds 8. ``detected``: a dict that gets
    ``zero_based``, the index base used (what 'auto' decided), so that data read later
    (predict) can be read alike.
    """
    from sklearn.datasets import load_svmlight_file

    path = _regular_file(path)
    data_format(path, "libsvm")
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32) or (dense and dtype != np.float64):
        raise ValueError(f"dtype must be float64, or float32 with dense=False; got {dtype} with dense={dense}")
    try:
        with open_data(path) as f:  # (decompressed by our rule: scikit-learn's own is by a lower-case name)
            if f.read(4) in ZIP_MAGIC:
                raise DataError(f"{path}: a zip archive (a model file, or .npz data under another name), not LIBSVM "
                                "text; .npz data needs its suffix or --format npz")
            f.seek(0)
            if zero_based == "auto":  # the indices as written, then scikit-learn's rule on them
                X, y = load_svmlight_file(f, zero_based=True, dtype=dtype)
                zero_based = bool(X.nnz) and int(X.indices.min()) == 0
                X = _with_width(path, X if zero_based else _one_based(X), n_features)
            else:
                X, y = load_svmlight_file(f, n_features=n_features, zero_based=zero_based, dtype=dtype)
    except STREAM_ERRORS as exc:
        raise DataError(f"{path}: cannot read it as LIBSVM data ({type(exc).__name__}: {exc})") from None
    except DataError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise DataError(f"{path}: malformed LIBSVM data at {_svmlight_error_line(path, zero_based)} ({exc})") from None
    if detected is not None:
        detected["zero_based"] = bool(zero_based)
    if not dense:  # (scikit-learn's loader gives CSR X of ``dtype`` and float64 y of as many rows)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"{path}: no data: X has shape {X.shape}; need at least one row and one feature")
        if not (_all_finite(X.data) and _all_finite(np.asarray(y))):
            beyond = ", infinite or beyond float32's range" if dtype == np.float32 else " or infinite"
            raise DataError(f"{path}: a NaN{beyond} value; remove or impute them first")
        X = X.tocsr()
        return (_compact(X) if dtype == np.float64 else X), np.asarray(y, dtype=np.float64)
    try:
        X_dense = densify(X, max_dense_bytes)
    except ValueError as exc:  # too large to densify: the file's error
        raise DataError(f"{path}: {exc}") from None
    return _checked(path, X_dense, y)


def _one_based(X):
    """CSR X read with 0-based indices from a 1-based file (its column 0 empty) without that
    column: the indices shifted in place (X[:, 1:] would copy the whole matrix)."""
    import scipy.sparse as sp

    X.indices -= 1
    return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], X.shape[1] - 1), copy=False)


def _compact(X):
    """CSR X with 32-bit indices where they fit: scikit-learn's loader gives 64-bit ones,
    a third of the matrix at float64 values."""
    if X.indices.dtype != np.int32 and X.nnz < 2**31 and X.shape[1] < 2**31:
        X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def dense_rows(X, block_bytes: int = 64 << 20):
    """Dense float64 blocks of consecutive rows of the SciPy sparse matrix ``X`` (CSR), each
    of about ``block_bytes`` bytes: a row-wise computation over them gives what it gives on
    ``X.toarray()``, never holding more than a block of the dense form."""
    rows = max(1, block_bytes // (8 * max(1, X.shape[1])))
    for start in range(0, X.shape[0], rows):
        yield X[start:start + rows].toarray()


def _with_width(path: Path, X, n_features: int | None):
    """Sparse X with ``n_features`` columns (padded with empty ones), or as it is for None."""
    if n_features is None or X.shape[1] == n_features:
        return X
    if X.shape[1] > n_features:
        raise DataError(f"{path}: feature index {X.shape[1]} is beyond the {n_features} features expected")
    import scipy.sparse as sp

    X = sp.csr_matrix(X)
    return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))


def load_csv(path, label_column: int | str | None = 0, has_header: bool | None = None, delimiter: str | None = None,
             report=None, text_labels: bool = False):
    """Read a CSV file of numbers; ``label_column`` (an index, negative counts from the
    end, or a header's column name) is y; None: no label column (y is None).
    ``text_labels=True`` lets the label column hold text (class names): when any label is
    not a number, y holds every label as its text, stripped (a str array).

    The first line is a header (a UTF-8 byte-order mark is dropped first) when its cells
    are names (at least half of them not numbers), or column numbers (each numeric cell
    equal to its 0-based position: what DataFrame.to_csv writes for a frame of numbered
    columns; ``report`` is called with a message saying so). A first line of
    numbers with a few other cells is neither: a DataError asks for ``has_header``.
    ``has_header=True`` skips the first line always, ``False`` never. Empty cells
    elsewhere are errors. Errors name the line.
    """
    path = _regular_file(path)
    data_format(path, "csv")
    if label_column is not None and not isinstance(label_column, str):
        _check_label_column(label_column)
    try:
        with open_data(path, "rt", newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc})") from None
    except STREAM_ERRORS as exc:
        raise DataError(f"{path}: cannot read it as compressed CSV ({type(exc).__name__}: {exc})") from None
    delimiter = _sniff_delimiter(text[:4096]) if delimiter is None else delimiter
    if isinstance(label_column, str):
        label_column = csv_label_index(path, label_column, delimiter, text)
    texts = [] if text_labels and label_column is not None else None
    rows = _csv_rows(path, text, delimiter, has_header, report=report, label_texts=texts, label_column=label_column)
    if not rows:
        raise DataError(f"{path}: no data rows")
    table = np.asarray(rows, dtype=np.float64)
    if label_column is None:
        return _checked(path, table, np.zeros(table.shape[0]))[0], None
    X, y = _split_label(path, table, label_column)
    if texts is not None and not all(map(_is_number, texts)):  # (text labels were read as NaN)
        y = np.asarray(texts)
    return _checked(path, X, y)


def _first_row(path: Path, delimiter: str | None = None, text: str | None = None) -> list:
    """The cells of a CSV file's line 1, stripped (``text``: the file's text, if read)."""
    if text is None:
        try:
            with open_data(path, "rt", newline="", encoding="utf-8-sig") as f:
                text = f.readline()
        except (UnicodeDecodeError, *STREAM_ERRORS) as exc:
            raise DataError(f"{path}: cannot read line 1 ({type(exc).__name__}: {exc})") from None
    delimiter = _sniff_delimiter(text[:4096]) if delimiter is None else delimiter
    return [c.strip() for c in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]


def csv_header(path, has_header: bool | None = None, label_column: int | None = None) -> list | None:
    """The column names of a CSV file's header, or None where line 1 is data, a header of
    column numbers, or neither clearly (load_csv says what is wrong then); ``has_header``
    as load_csv's: None decides by line 1, where a class name in ``label_column`` (an
    index) is not a name."""
    path = Path(path)
    cells = _first_row(path)
    if has_header is False or not cells:
        return None
    try:
        return cells if has_header or _header_kind(path, _label_as_number(cells, label_column)) == "names" else None
    except DataError:
        return None


def _label_as_number(row: list, label_column: int | None) -> list:
    """``row`` with a text cell in ``label_column`` (a class name) replaced by a number, its
    position: for ``_header_kind``, line 1 of a file of class names is data unless its other
    cells are names."""
    if label_column is None or not -len(row) <= label_column < len(row) or _is_number(row[label_column].strip()):
        return row
    row = [*row]
    row[label_column] = str(label_column % len(row))
    return row


def csv_label_index(path, name: str, delimiter: str | None = None, text: str | None = None) -> int:
    """The index of the column called ``name`` in a CSV file's header (line 1)."""
    path = Path(path)
    cells = _first_row(path, delimiter, text)
    if name in cells:
        return cells.index(name)
    shown = ", ".join(repr(c) for c in cells[:12]) + (", ..." if len(cells) > 12 else "")
    raise DataError(f"{path}: no column {name!r} in the header (line 1: {shown}); give the label column by name "
                    "from the header or by number")


def _check_label_column(label_column) -> None:
    if isinstance(label_column, bool) or not isinstance(label_column, numbers.Integral):
        raise TypeError(f"label_column must be an integer, got {label_column!r}")


def _sniff_delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t ").delimiter
    except csv.Error:
        return ","


def _header_kind(path: Path, row: list) -> str | None:
    """What line 1 is: 'names' (at least half of its non-empty cells are not numbers),
    'numbers' (column numbers: every numeric cell equals its 0-based position, as pandas
    numbers columns, at least 3 cells; '1,2,3' stays data), or None (data). A row of numbers with a few other cells is neither: a
    DataError asks for --header / --no-header."""
    cells = [c.strip() for c in row]
    numeric = [_is_number(c) for c in cells]
    names = sum(1 for c, n in zip(cells, numeric) if c and not n)
    if len(cells) >= 3 and all(cells) and all(float(c) == k for k, (c, n) in enumerate(zip(cells, numeric)) if n):
        return "names" if names else "numbers"
    if names == 0:  # numbers (and empty cells, which the row's parsing reports)
        return None
    if 2 * names >= sum(1 for c in cells if c):
        return "names"
    column = next(k for k, (c, n) in enumerate(zip(cells, numeric), start=1) if c and not n)
    raise DataError(f"{path}: line 1: non-numeric value {cells[column - 1]!r:.40} in column {column} among numbers: "
                    "a typo in the first row, or a header? Pass --header to skip line 1 (has_header=True) or fix "
                    "the value")


def _csv_rows(path: Path, text: str, delimiter: str, has_header: bool | None, first_line: int = 1,
              width: int | None = None, report=None, label_texts: list | None = None, label_column: int | None = None
              ) -> list:
    """The rows of numbers of CSV ``text`` whose first line is line ``first_line`` of the
    file (a header is looked for on line 1 only: ``_header_kind``), each of ``width``
    cells when given: a DataError names the line of anything else. ``report``: called
    with a message when line 1 is taken as a header of column numbers. ``label_texts``: a
    list that gets each row's cell in ``label_column``, stripped; a cell there that is text
    is read as NaN instead of being an error."""
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)  # lines end at \n, \r\n or \r only
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path}: line {first_line - 1 + reader.line_num}: {exc}") from None
        lineno = first_line - 1 + reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):  # a blank line; empty cells are errors
            continue
        if lineno == 1 and has_header:
            continue
        if lineno == 1 and has_header is None:
            kind = _header_kind(path, row if label_texts is None else _label_as_number(row, label_column))
            if kind == "numbers" and report is not None:
                report(f"{path}: line 1 ({', '.join(c.strip() for c in row[:4])}{', ...' if len(row) > 4 else ''}) "
                       "is read as a header of column numbers, as DataFrame.to_csv writes one; --no-header reads "
                       "it as data")
            if kind is not None:
                continue
        if label_texts is not None and -len(row) <= label_column < len(row):
            label = row[label_column].strip()
            label_texts.append(label)
            if label and not _is_number(label):
                row = [*row]
                row[label_column] = "nan"
        try:
            values = [float(c) for c in row]
        except ValueError:
            column = next(k for k, c in enumerate(row, start=1) if not _is_number(c))
            what = "an empty value" if not row[column - 1].strip() else f"non-numeric value {row[column - 1]!r:.40}"
            raise DataError(f"{path}: line {lineno}: {what} in column {column} (counting from 1)") from None
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise DataError(f"{path}: line {lineno}: {len(values)} columns, expected {width}")
        rows.append(values)
    return rows


def _split_label(path: Path, table: np.ndarray, label_column: int):
    """(X, y) of a table of numbers whose column ``label_column`` is the label."""
    width = table.shape[1]
    if width < 2:
        raise DataError(f"{path}: need a label column and at least one feature column, got {width} column")
    if not -width <= label_column < width:
        raise DataError(f"{path}: label_column={label_column} is outside the {width} columns")
    return np.delete(table, label_column % width, axis=1), table[:, label_column].copy()  # not a view: frees table


CSV_PARSERS = ("auto", "pyarrow", "pandas", "numpy")


def csv_blocks(path, label_column: int = 0, has_header: bool | None = None, delimiter: str | None = None,
               block_bytes: int = 1 << 20, parser: str = "auto"):
    """:func:`load_csv` in blocks of about ``block_bytes`` bytes of whole lines, for data
    larger than memory: yields (X, y, first line, last line) of each block, float64. The
    same rows, values and errors as load_csv: line 1 and any block the fast parser refuses
    (quotes, empty cells, other widths, non-finite values, anything it cannot read) are
    parsed line by line as load_csv does, which names the line. The fast parser
    (``parser``): pyarrow's CSV reader ('pyarrow'; the optional extra ``parquet``), pandas'
    C parser ('pandas'; the extra ``csv``), NumPy's loadtxt ('numpy'), or for 'auto' the
    first of these installed. Each block is read and parsed on a thread of its own while
    the one before it is used (pyarrow's parser releases the GIL; pandas' holds it). Blocks
    end at \n: in a file whose lines end at \r alone, line numbers count \n."""
    path = _regular_file(path)
    data_format(path, "csv")
    _check_label_column(label_column)
    if parser not in CSV_PARSERS:
        raise ValueError(f"parser must be one of {CSV_PARSERS}, got {parser!r}")
    numbers_of = _numbers_parser(parser)
    with open_data(path) as f, ThreadPoolExecutor(1) as reader:
        blocks = _line_blocks(path, f, block_bytes)
        block = next(blocks, b"")
        if not block:
            raise DataError(f"{path}: no data rows")
        text = _utf8(path, block, 1)
        delimiter = _sniff_delimiter(text[:4096]) if delimiter is None else delimiter
        head, newline, text = text.partition("\n")  # the header, if any, by load_csv's rule
        rows = _csv_rows(path, head + newline, delimiter, has_header)
        width = len(rows[0]) if rows else None
        if rows:
            yield (*_split_label(path, np.asarray(rows, dtype=np.float64), label_column), 1, 1)

        blocks = itertools.chain([text.encode()], blocks)

        def parse(first_line: int, width: int | None):
            """The next block of lines, from ``first_line``: its table and number of lines
            (None after the last). Runs on the reader's thread while the block before it is
            used: pyarrow's parser, the reads and NumPy's loops release the GIL."""
            block = next(blocks, None)
            if block is None:
                return None
            lines = _line_ends(block) + (bool(block) and not block.endswith(b"\n"))
            table = _fast_table(block, delimiter, width, numbers_of) if block.isascii() else None
            if table is None:  # (the fast parsers read ASCII; other UTF-8 text, and errors, line by line)
                rows = _csv_rows(path, _utf8(path, block, first_line), delimiter, has_header, first_line, width)
                table = np.asarray(rows, dtype=np.float64)
            return table, lines

        first_line, parsed = 2, reader.submit(parse, 2, width).result()
        while parsed is not None:
            table, lines = parsed
            width = table.shape[1] if table.size else width
            pending = reader.submit(parse, first_line + lines, width)
            if table.size:
                yield (*_split_label(path, table, label_column), first_line, first_line + lines - 1)
            first_line, parsed = first_line + lines, pending.result()
    if width is None:
        raise DataError(f"{path}: no data rows")


def _line_blocks(path: Path, f, block_bytes: int):
    """Blocks of about ``block_bytes`` bytes of whole lines of the open binary file ``f``,
    each ending at \n (the last perhaps not)."""
    carry = b""
    while True:
        try:
            chunk = f.read(block_bytes)
        except STREAM_ERRORS as exc:
            raise DataError(f"{path}: cannot read it as compressed CSV ({type(exc).__name__}: {exc})") from None
        cut = chunk.rfind(b"\n") + 1 if chunk else len(chunk)
        if chunk and cut == 0:  # no line end in a whole block: read on
            carry += chunk
            continue
        block, carry = b"".join((carry, memoryview(chunk)[:cut])), chunk[cut:]  # (one copy of the block)
        if not block:
            return
        yield block


def _utf8(path: Path, block: bytes, first_line: int) -> str:
    """The text of a block of a CSV file (line 1's: without a UTF-8 byte-order mark)."""
    try:
        return block.decode("utf-8-sig" if first_line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc})") from None


def _line_ends(block: bytes) -> int:
    """The number of \n in ``block`` (NumPy's comparison: bytes.count tests byte by byte)."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _numbers_parser(parser: str):
    """A function (UTF-8 bytes, delimiter, width or None) -> float64 table of the fast
    ``parser`` ('auto': pyarrow, else pandas, else NumPy, the first installed)."""
    if parser in ("auto", "pyarrow"):
        try:
            import pyarrow.csv
        except ImportError:
            if parser == "pyarrow":
                raise ImportError("parser='pyarrow' needs pyarrow: pip install 'zipml-hls[parquet]'") from None
        else:
            return lambda data, delimiter, width: _arrow_numbers(pyarrow, data, delimiter, width)
    if parser in ("auto", "pandas"):
        try:
            import pandas
        except ImportError:
            if parser == "pandas":
                raise ImportError("parser='pandas' needs pandas: pip install 'zipml-hls[csv]'") from None
        else:  # (bytes: a str would be encoded back to UTF-8 by pandas, a copy of every block; low_memory
            # splits a block into pieces whose columns it joins again, which a 1 MiB block does not need)
            return lambda data, delimiter, width: pandas.read_csv(
                io.BytesIO(data), header=None, sep=delimiter, dtype=np.float64, na_filter=False, engine="c",
                quoting=csv.QUOTE_NONE, skip_blank_lines=True, low_memory=False).to_numpy(dtype=np.float64)
    return lambda data, delimiter, width: np.loadtxt(io.StringIO(data.decode()), delimiter=delimiter,
                                                     dtype=np.float64, comments=None, ndmin=2)


def _arrow_numbers(pa, data: bytes, delimiter: str, width: int | None) -> np.ndarray:
    """pyarrow's CSV reader on a block of lines of ``width`` cells (None: as many as the
    block's first line has), every column float64: an empty cell is an error, not a null;
    quotes are plain characters (blocks with quotes never reach a fast parser); blank lines
    hold no rows, as in the line parser. The block is parsed on pyarrow's threads, without
    the GIL. ``pa``: the pyarrow module, with pyarrow.csv imported."""
    pc = pa.csv
    if width is None:
        width = data[:data.find(b"\n")].count(delimiter.encode()) + 1
    names = [str(j) for j in range(width)]
    try:
        table = pc.read_csv(pa.py_buffer(data), read_options=pc.ReadOptions(column_names=names),
                            parse_options=pc.ParseOptions(delimiter=delimiter, quote_char=False),
                            convert_options=pc.ConvertOptions(column_types=dict.fromkeys(names, pa.float64()),
                                                              null_values=[], strings_can_be_null=False))
    except pa.ArrowException as exc:  # (ArrowInvalid is a ValueError; the others are refusals too)
        raise ValueError(str(exc)) from None
    out = np.empty((table.num_rows, width))
    for j, column in enumerate(table.columns):
        out[:, j] = column
    return out


def _fast_table(data: bytes, delimiter: str, width: int | None, numbers_of) -> np.ndarray | None:
    """The numbers of CSV lines (UTF-8 bytes) by the fast parser ``numbers_of``, or None
    where the line-by-line parser must decide: quotes, anything the fast parser refuses, a
    width other than ``width``, and any value that is not finite (pandas fills short rows
    with NaN)."""
    if b'"' in data:
        return None
    if not data.strip():
        return np.empty((0, width or 0))
    try:
        table = numbers_of(data, delimiter, width)
    except ValueError:  # (pandas' parser errors are ValueErrors too)
        return None
    if not _all_finite(table):
        return None
    return table if width is None or table.shape[1] == width or not table.size else None


def _regular_file(path) -> Path:
    """``path``, an existing regular file (a FIFO would block the read; a folder fails late)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    return path


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_npz(path: Path, names=None, error=None, what: str = "a readable .npz file") -> dict:
    """The arrays ``names`` (None: every array) of the .npz archive at ``path``. A
    truncated or damaged archive fails in the zip, zlib or NumPy layer with many exception
    types, all meaning the same: ``error`` (default DataError) saying the file is not
    ``what``. The file handle is ours: np.load leaves its own open when the archive is bad."""
    error = error or DataError
    with open(path, "rb") as handle:
        if handle.read(4) not in ZIP_MAGIC:  # (NumPy's own message would suggest unpickling the file)
            raise error(f"{path}: not {what} (not a zip archive)")
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as f:
                missing = [] if names is None else [n for n in names if n not in f.files]
                if not missing:
                    return {k: f[k] for k in (f.files if names is None else names)}
        except Exception as exc:  # noqa: BLE001 - see the docstring
            raise error(f"{path}: not {what} ({type(exc).__name__}: {exc})") from None
    raise error(f"{path}: .npz file needs arrays {' and '.join(repr(n) for n in names)}")


def load_npz(path):
    """Read arrays ``X`` and ``y`` from a NumPy .npz file."""
    path = _regular_file(path)
    data_format(path, "npz")
    arrays = read_npz(path, ("X", "y"))
    return _checked(path, arrays["X"], arrays["y"])


FORMATS = ("auto", "libsvm", "csv", "npz")


def load(path, fmt: str = "auto", **kwargs):
    """Load (X, y) from ``path``. ``fmt='auto'`` picks by name (:func:`data_format`):
    .csv/.tsv -> CSV, .npz -> NumPy, anything else -> LIBSVM/svmlight, CSV and LIBSVM also
    compressed (data.csv.gz, data.libsvm.bz2); .npy, Parquet and Arrow tables are read by
    ``ingest.quantize_file`` only."""
    path = _regular_file(path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    fmt = data_format(path, fmt)[0]
    if fmt not in FORMATS:
        raise DataError(f"{path}: a {fmt} table by its name; zipml_hls.ingest.quantize_file (zipml-hls quantize) "
                        "reads it")
    if fmt == "csv":
        return load_csv(path, **kwargs)
    if fmt == "npz":
        return load_npz(path)
    return load_svmlight(path, **kwargs)


def check_writable(path) -> Path:
    """``path`` as a place a file can be written: its folder exists, and it is not
    something other than a regular file (a device, a folder), which a rename over it
    would replace. Checked before long work, so that it does not fail at the end."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: the folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} exists and is not a regular file; refusing to replace it")
    probe = path.with_name(f".zipml-probe-{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}.tmp")
    try:  # the folder takes a new file (the write goes to a temporary name first): not /proc, not read-only
        probe.open("xb").close()
    except OSError as exc:
        raise PermissionError(f"{path}: cannot write a file in {path.parent} ({exc.strerror or exc})") from None
    probe.unlink()
    return path


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_file`)."""
    with atomic_file(path) as f:
        f.write(data)


def is_stream(path) -> bool:
    """Whether ``path`` is an existing device or pipe (/dev/null, /dev/stdout, a FIFO):
    somewhere output is written into, not a file to replace."""
    path = Path(path)
    return path.exists() and not path.is_file() and not path.is_dir()


def write_output(path, data: bytes) -> None:
    """Write ``data`` into a device or pipe (:func:`is_stream`) as it is, else to the
    file ``path`` atomically."""
    if is_stream(path):
        with open(path, "wb") as f:
            f.write(data)
    else:
        atomic_write_bytes(path, data)


@contextlib.contextmanager
def atomic_file(path):
    """A binary file opened for reading and writing at a temporary name in ``path``'s
    folder, renamed to ``path`` (after an fsync) when the block ends without an exception
    and removed otherwise, so a crash never leaves a partial file where a good one was. The
    temporary name is unique to the process, the thread and the call, so concurrent writes
    to one path never share one (the last rename wins, and every reader sees a whole file).
    A writer killed by SIGKILL (which no cleanup can catch) leaves its temporary file; the
    next write to the same path removes it (:func:`_remove_stale_temporaries`)."""
    path = check_writable(path)
    prefix = _temporary_prefix(path)
    _remove_stale_temporaries(path.parent, prefix)
    tmp = path.with_name(f"{prefix}{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w+b") as f:
            _try_lock(f)  # held until the rename: the mark of a live writer
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


#: A temporary file this old and unlocked is stale even where its writer's pid says nothing
#: (another machine on a shared folder).
STALE_SECONDS = 10.0


def _temporary_prefix(path: Path) -> str:
    """The start of the temporary names of writes to ``path``: a digest of its name (the
    name itself, near the 255-byte limit, would make them too long)."""
    return f".zipml-{hashlib.sha256(path.name.encode(errors='surrogateescape')).hexdigest()[:12]}-"


def _try_lock(f) -> bool:
    """An exclusive lock on open file ``f`` without waiting: False when another process
    holds it (it is released when its holder closes the file or dies, even by SIGKILL)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _remove_stale_temporaries(folder: Path, prefix: str) -> None:
    """Remove the temporary files of earlier writes to one path whose writer is gone: no
    process holds its lock, and its pid (in the name) runs no process here or the file is
    older than STALE_SECONDS. A file that cannot be examined or removed is left alone.
    (Not on Windows: no flock there.)"""
    if fcntl is None:
        return
    for tmp in folder.glob(f"{glob.escape(prefix)}*.tmp"):
        try:
            pid = int(tmp.name[len(prefix):].split("-", 1)[0])
            with open(tmp, "rb") as f:
                if _try_lock(f) and (not _process_exists(pid) or
                                     time.time() - os.fstat(f.fileno()).st_mtime > STALE_SECONDS):
                    tmp.unlink()
        except (ValueError, OSError):
            continue


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: no signal, only the check
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True
