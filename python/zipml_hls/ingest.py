"""Streaming ingestion: a CSV, NumPy .npy, Parquet or Arrow IPC data set, larger than
memory as float, to a quantized data file, in passes over chunks of rows with memory
bounded by a chunk.

CSV is parsed once (``data.csv_blocks``: load_csv's rows, values and line-numbered errors)
into a float32 scratch file next to the output, removed afterwards, pass 1 taken as it is
parsed, so that pass 2 is the scratch file's only read; a .npy table is read in place,
Parquet and Arrow files by pyarrow in record batches. Pass 1 merges each chunk's native
feature summary and keeps 4096 rows spread over the data (``scaling.sample_rows``), which
give the rounding variances; pass 2 quantizes chunk by chunk into the file and takes the
step bounds. The statistics are those
``zipml_hls.quantize`` computes from the whole array, with the ranges exact and the moments
merged (equal to rounding); chunk c is quantized with seed ``chunk_seed(seed, c)``, so a data
set of one chunk gives the very file ``quantize(X, ..., y=y).save`` writes. The same two
passes quantize a SciPy sparse matrix in memory, one block of rows densified at a time
(:func:`quantize_sparse`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ._validation import _all_finite, check_allocation, check_bits, check_choice, check_int, check_seed
from .backend import get_backend
from .conditioning import Conditioning
from .data import CSV_PARSERS, DataError, _regular_file, check_writable, csv_blocks, csv_header, data_format
from .datastats import DataStats
from .quantize import QuantizedData, valid_names
from .quantized_io import QuantizedFileWriter, header_fields
from .scaling import FeatureSummary, sample_rows
from .spec import format as F
from .spec.rng import STREAM_CHUNK, stream_key
from .step_size import SAMPLED_ROWS, RoundingStats, row_bounds_both

CHUNK_BYTES = 64 << 20  #: default chunk: rows of this many bytes of float32 features
FORMATS = ("auto", "csv", "npy", "parquet", "arrow")
TABLES = ("npy", "parquet", "arrow")  #: binary tables: read in place, quantized by ``quantize_file`` only


def chunk_seed(seed: int, chunk: int) -> int:
    """The quantization seed of chunk ``chunk``: ``seed`` itself for the first, so one
    chunk is ``quantize``'s file, else the key of stream (STREAM_CHUNK, chunk, 0)."""
    return seed if chunk == 0 else int(stream_key(seed, STREAM_CHUNK, chunk, 0)[0])


class _Table:
    """A row-major table of numbers in a file (a .npy array, or the float32 scratch of a
    parsed CSV): chunks of rows as (float32 X, float64 y or None). ``label_column``: the
    column of the labels (None: no labels in it)."""

    def __init__(self, path: Path, offset: int, dtype, n: int, width: int, label_column: int | None):
        self.path, self.offset, self.dtype = path, offset, np.dtype(dtype)
        self.n, self.width, self.label_column = n, width, label_column
        self.n_features = width - (label_column is not None)

    def _read(self, f, start: int, rows: int, buffer: np.ndarray) -> np.ndarray:
        """Rows [start, start + rows) read into the front of ``buffer``."""
        f.seek(self.offset + start * self.width * self.dtype.itemsize)
        table = buffer[:rows * self.width]
        got = f.readinto(memoryview(table).cast("B")) // self.dtype.itemsize
        if got != table.size:
            raise DataError(f"{self.path}: the file ends inside row {start + got // self.width}")
        return table.reshape(rows, self.width)

    def _split(self, table: np.ndarray):
        if self.label_column is None:
            return np.ascontiguousarray(table, dtype=np.float32), None
        X = np.delete(table, self.label_column, axis=1)
        return np.ascontiguousarray(X, dtype=np.float32), table[:, self.label_column].astype(np.float64)

    def rows_at(self, index: np.ndarray) -> np.ndarray:
        """The rows ``index`` (sorted), each read by itself (a mapping of the file would
        bring the pages around every row into memory too)."""
        rows = np.empty((len(index), self.width), dtype=self.dtype)
        with open(self.path, "rb") as f:
            for row, i in zip(rows, index.tolist()):
                self._read(f, i, 1, row)
        return rows

    def chunks(self, chunk_rows: int):
        """(first row, float32 X, y) of every chunk of ``chunk_rows`` rows, in order. Every
        chunk is read into one buffer (a new array per chunk would hold two chunks while the
        next is read), so a chunk's X is valid until the next one is asked for."""
        buffer = np.empty(min(chunk_rows, self.n) * self.width, dtype=self.dtype)
        with open(self.path, "rb") as f:
            for start in range(0, self.n, chunk_rows):
                yield (start, *self._split(self._read(f, start, min(chunk_rows, self.n - start), buffer)))


def _npy_table(path: Path, label_column: int) -> _Table:
    """A 2-D C-order .npy array of real numbers whose column ``label_column`` holds the labels."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    if len(shape) != 2 or fortran or dtype.kind not in "biuf" or dtype.hasobject:
        raise DataError(f"{path}: need a 2-D C-order array of real numbers, got {dtype} {shape}"
                        f"{' in Fortran order' if fortran else ''}")
    n, width = shape
    if width < 2 or n < 1:
        raise DataError(f"{path}: need rows with a label column and at least one feature column, got shape {shape}")
    if not -width <= label_column < width:
        raise DataError(f"{path}: label_column={label_column} is outside the {width} columns")
    if os.path.getsize(path) < offset + n * width * dtype.itemsize:
        raise DataError(f"{path}: truncated: {n} x {width} values of {dtype} do not fit in the file")
    return _Table(path, offset, dtype, n, width, label_column % width)


class _ArrowTable:
    """A Parquet or Arrow IPC (Feather v2) file of numeric columns, read with pyarrow in
    record batches regrouped into chunks of exactly ``chunk_rows`` rows (the chunks decide
    the seeds). ``label_column``: the position
    of the labels' column."""

    def __init__(self, path: Path, fmt: str, label_column: int):
        try:
            import pyarrow as pa
            import pyarrow.dataset as ds
        except ImportError:
            raise DataError(f"{path}: reading {fmt} files needs pyarrow: pip install 'zipml-hls[parquet]'") from None
        self.pa, self.path = pa, path
        try:
            self.dataset = ds.dataset(path, format="parquet" if fmt == "parquet" else "ipc")
            schema, self.n = self.dataset.schema, self.dataset.count_rows()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}: not a readable {fmt} file ({str(exc).splitlines()[0]})") from None
        width = len(schema.names)
        if width < 2 or self.n < 1:
            raise DataError(f"{path}: need rows with a label column and at least one feature column, got {self.n} "
                            f"rows of {width} columns")
        if not -width <= label_column < width:
            raise DataError(f"{path}: label_column={label_column} is outside the {width} columns")
        for field in schema:
            if not (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)):
                raise DataError(f"{path}: column {field.name!r} holds {field.type}, not numbers")
        self.label = schema.names[label_column % width]
        self.features = [name for name in schema.names if name != self.label]
        self.n_features = len(self.features)

    def _arrays(self, table, start: int):
        for name in (*self.features, self.label):
            if table.column(name).null_count:
                raise DataError(f"{self.path}: rows {start}-{start + table.num_rows - 1}: missing values in column "
                                f"{name!r}")
        X = np.empty((table.num_rows, self.n_features), dtype=np.float32)
        with np.errstate(over="ignore"):  # beyond float32's range: infinity, refused as such by pass 1
            for j, name in enumerate(self.features):
                X[:, j] = table.column(name).to_numpy()
        return X, table.column(self.label).to_numpy().astype(np.float64)

    def chunks(self, chunk_rows: int):
        """(first row, float32 X, float64 y) of every chunk of ``chunk_rows`` rows, in order."""
        pending, held, start = [], 0, 0
        batches = self.dataset.to_batches(columns=[*self.features, self.label], batch_size=min(chunk_rows, 1 << 16))
        for batch in (*batches, None):
            if batch is not None:
                pending.append(batch)
                held += batch.num_rows
            while held >= chunk_rows or (batch is None and held):
                table = self.pa.Table.from_batches(pending)
                rows = min(chunk_rows, held)
                yield (start, *self._arrays(table.slice(0, rows), start))
                rest = table.slice(rows)
                pending, held, start = rest.to_batches(), held - rows, start + rows


def _csv_to_scratch(path: Path, scratch, label_column: int, chunk_rows: int | None, bar,
                    parser: str = "auto") -> tuple[_Table, np.ndarray, tuple[FeatureSummary, np.ndarray]]:
    """Parse the CSV once into float32 rows of features gathered in chunks of
    ``chunk_rows`` rows (``_chunk_rows``), each chunk's summary taken as pass 1 takes it
    and the chunk written to ``scratch`` (an open binary file), so that pass 2 is the
    scratch file's only read. Returns its table, the labels, and the summary and sampled
    rows of pass 1 (the sampled rows read back by position: they depend on the number of
    rows). Values that are not finite in float32 are refused with their lines. ``parser``:
    ``csv_blocks``' fast parser (the values are the same whichever parses them)."""
    labels, parts, buffer, held, n = [], [], None, 0, 0

    def flush():
        nonlocal held, n
        parts.append(chunk_summary(buffer[:held]))  # (finite: checked block by block)
        buffer[:held].tofile(scratch)
        n, held = n + held, 0

    for X, y, first, last in csv_blocks(path, label_column, parser=parser):
        if buffer is None:
            buffer = np.empty((_chunk_rows(path, X.shape[1], chunk_rows), X.shape[1]), dtype=np.float32)
        if not _all_finite(y):
            raise DataError(f"{path}: lines {first}-{last}: NaN or infinity among the labels")
        done = 0
        while done < len(X):  # (the block's rows into the chunk, rounded as astype rounds them)
            take = min(len(buffer) - held, len(X) - done)
            rows = buffer[held:held + take]
            with np.errstate(over="ignore"):  # beyond float32's range: infinity, refused next
                rows[...] = X[done:done + take]
            if not _all_finite(rows):
                raise DataError(f"{path}: lines {first}-{last}: NaN, infinity or a value beyond float32's range")
            held, done = held + take, done + take
            if held == len(buffer):
                flush()
        labels.append(y)
        bar.update(X.shape[0])
    if held:
        flush()
    scratch.flush()
    table = _Table(Path(scratch.name), 0, np.float32, n, buffer.shape[1], None)
    return table, np.concatenate(labels), (merge_summaries(parts), table.rows_at(sample_rows(n, SAMPLED_ROWS)))


def _summary(table: _Table, chunk_rows: int, bar) -> tuple[FeatureSummary, np.ndarray]:
    """Pass 1: every chunk's native summary (ranges, means, variances), merged in order
    (:func:`merge_summaries`; for one chunk exactly ``FeatureSummary.of``), and the rows
    ``sample_rows`` picks (float32), taken from the chunks as they pass."""
    picked, sampled = sample_rows(table.n, SAMPLED_ROWS), []

    def parts():
        for start, X, y in table.chunks(chunk_rows):
            part = chunk_summary(X)
            if part is None or (y is not None and not np.isfinite(y).all()):
                raise DataError(f"{table.path}: rows {start}-{start + X.shape[0] - 1}: NaN or infinity among the "
                                "values")
            sampled.append(X[picked[(picked >= start) & (picked < start + X.shape[0])] - start])
            bar.update(X.shape[0])
            yield part

    return merge_summaries(parts()), np.concatenate(sampled)


def chunk_summary(X: np.ndarray):
    """(rows, lo, hi, mean, var) of a chunk of float32 rows from the native pass, or None
    when a value is not finite."""
    lo, hi, mean, var, finite = get_backend("hls").feature_summary(X)
    return (X.shape[0], lo, hi, mean, var) if finite else None


def merge_summaries(parts) -> FeatureSummary:
    """The summary of consecutive chunks from theirs (``chunk_summary``, in row order),
    merged pairwise as Chan, Golub and LeVeque's streaming update does (count, mean, sum of
    squared deviations)."""
    n = lo = hi = mean = var = None
    for rows, c_lo, c_hi, c_mean, c_var in parts:
        if n is None:
            n, lo, hi, mean, var = rows, c_lo, c_hi, c_mean, c_var
        else:
            total = n + rows
            delta = c_mean - mean
            mean = mean + delta * (rows / total)
            var = (var * n + c_var * rows + delta * delta * (n * rows / total)) / total
            lo, hi, n = np.minimum(lo, c_lo), np.maximum(hi, c_hi), total
    return FeatureSummary.of_moments(lo, hi, mean, var)


def chunk_setup(summary: FeatureSummary, sampled: np.ndarray,
                bits: int) -> tuple[FeatureSummary, RoundingStats, Conditioning]:
    """What pass 2 needs, as fit() derives it from the rows ``sampled`` (float32, those of
    ``sample_rows``): the summary with 0 on a level where that helps
    (``FeatureSummary.zeros_on_levels``), the rounding variances and the conditioning."""
    summary = summary.zeros_on_levels(sampled, bits)
    rounding = RoundingStats.of(sampled, summary.scaling, bits)
    return summary, rounding, Conditioning.fit(summary, bits, rounding)


def quantize_chunk(X: np.ndarray, scaling, conditioning: Conditioning, bits: int, sampling: str, seed: int,
                   n_copies: int) -> tuple[np.ndarray, np.ndarray]:
    """Pass 2 on one chunk of float32 rows: its lines (n_copies, rows, words), quantized
    with uniform levels and ``seed`` (``chunk_seed``), and its step bounds (R, S) without
    and with ``conditioning`` (``DataStats.of_bounds``' order)."""
    lines = get_backend("hls").quantize(X, scaling.lo, scaling.inv, None, bits, sampling, seed, n_copies)
    return lines, row_bounds_both(X, scaling, conditioning)


def _bar(progress: bool, desc: str, total: int | None):
    """A progress bar on stderr when ``progress`` and stderr is a terminal."""
    return tqdm(total=total, desc=desc, unit="rows", disable=not (progress and sys.stderr.isatty()), file=sys.stderr,
                leave=False)


def _chunk_rows(path, n_features: int, chunk_rows: int | None) -> int:
    """``chunk_rows``, by default CHUNK_BYTES of float32 features, for data of
    ``n_features`` features, which the kernels' model must hold."""
    limit = get_backend("hls").constants()["max_features"]
    if n_features > limit:
        raise DataError(f"{path}: {n_features} features; the kernels' on-chip model holds at most {limit}")
    return chunk_rows or max(1, CHUNK_BYTES // (4 * n_features))


def _two_passes(table, bits: int, sampling: str, seed: int, n_copies: int, chunk_rows: int | None, progress: bool,
                write, first_pass=None) -> tuple[DataStats, np.ndarray | None]:
    """Pass 1 (the feature summary), the rounding variances of 4096 rows read by position,
    pass 2 (each chunk quantized and handed to ``write(copy, first row, lines)``, the step
    bounds). Returns the DataStats and the table's labels (None if it has none).
    ``first_pass``: pass 1's (summary, sampled rows) where they were taken already (a CSV
    file's, as it was parsed)."""
    chunk_rows = _chunk_rows(table.path, table.n_features, chunk_rows)
    if first_pass is None:
        with _bar(progress, "pass 1: feature summary", table.n) as bar:
            first_pass = _summary(table, chunk_rows, bar)
    summary, rounding, conditioning = chunk_setup(*first_pass, bits)
    scaling = summary.scaling
    words = F.lines_per_row(table.n_features, bits, sampling) * F.LINE_WORDS
    check_allocation(8.0 * n_copies * min(chunk_rows, table.n) * words, f"{n_copies} quantized copies of a chunk")
    bounds, labels = np.zeros(4), []
    with _bar(progress, "pass 2: quantize", table.n) as bar:
        for c, (start, X, y) in enumerate(table.chunks(chunk_rows)):
            lines, chunk_bounds = quantize_chunk(X, scaling, conditioning, bits, sampling, chunk_seed(seed, c),
                                                 n_copies)
            for copy in range(n_copies):
                write(copy, start, lines[copy])
            bounds = np.maximum(bounds, chunk_bounds)
            if y is not None:
                labels.append(y)
            bar.update(X.shape[0])
    return DataStats.of_bounds(summary, rounding, bounds), np.concatenate(labels) if labels else None


SLICE_ROWS = 4096  #: rows of a sparse matrix densified at a time


class _SparseRows:
    """A SciPy sparse matrix as a table: each chunk of rows densified on its own."""

    path = "X"

    def __init__(self, X):
        self.X = X.tocsr()
        self.n, self.n_features = X.shape

    def chunks(self, chunk_rows: int):
        """(first row, float32 X, None) of every chunk of ``chunk_rows`` rows, each
        densified into one buffer (as ``_Table.chunks``: valid until the next is asked for),
        SLICE_ROWS rows at a time: a slice of X copies its values and indices (so would a
        matrix of views of them, which SciPy prunes), a small copy so."""
        buffer = np.empty((min(chunk_rows, self.n), self.n_features), dtype=np.float32)
        for start in range(0, self.n, chunk_rows):
            dense = buffer[:min(chunk_rows, self.n - start)]
            dense.fill(0)  # (toarray adds into ``out``)
            for first in range(0, len(dense), SLICE_ROWS):
                piece = self.X[start + first:start + min(first + SLICE_ROWS, len(dense))]
                piece.astype(np.float32, copy=False).toarray(out=dense[first:first + piece.shape[0]])
            yield start, dense, None


def quantize_sparse(X, bits: int, sampling: str, seed: int, n_copies: int, y: np.ndarray | None = None,
                    chunk_rows: int | None = None) -> QuantizedData:
    """A SciPy sparse matrix X (finite, checked) quantized with uniform levels in memory
    without its dense form: the two passes of :func:`quantize_file` over blocks of rows
    densified one at a time (``chunk_rows``, default 64 MiB of float32), chunk c with seed
    ``chunk_seed(seed, c)``. ``y``: labels kept with it."""
    table = _SparseRows(X)
    words = F.lines_per_row(table.n_features, bits, sampling) * F.LINE_WORDS
    check_allocation(8.0 * n_copies * table.n * words, f"{n_copies} quantized copies of {table.n} x {table.n_features}"
                     " values")
    lines = np.empty((n_copies, table.n, words), dtype=np.uint64)

    def write(copy, start, part):
        lines[copy, start:start + len(part)] = part

    stats, _ = _two_passes(table, bits, sampling, seed, n_copies, chunk_rows, False, write)
    return QuantizedData(lines=lines, bits=bits, sampling=sampling, seed=seed, n_features=table.n_features,
                         scaling=stats.summary.scaling, samples_per_value=F.samples_of(sampling), stats=stats,
                         labels=y)


def quantize_file(source, out, bits, *, sampling="double", seed=0, n_copies=1, fmt="auto", label_column=0,
                  chunk_rows=None, progress=False, csv_parser="auto") -> Path:
    """Quantize the data file ``source`` into the quantized data file ``out`` (written
    atomically) in bounded memory; returns ``out``.

    Parameters
    ----------
    source : path of a CSV file (numbers, column ``label_column`` the label; as
        ``data.load_csv``), a .npy file holding a 2-D C-order table of real numbers
        (column ``label_column`` the label), or a Parquet or Arrow IPC file of numeric
        columns (the ``label_column``-th the label).
    out : path of the quantized data file (``zipml_hls.load_quantized`` maps it).
    bits, sampling, seed, n_copies : as ``zipml_hls.quantize``, with uniform levels
        (optimal levels need every value of a feature at once: quantize in memory for them).
    fmt : {'auto', 'csv', 'npy', 'parquet', 'arrow'}; auto: by name as every loader
        (``data.data_format``: .csv/.tsv, .npy, .parquet/.pq, .arrow/.feather; a CSV file
        may be compressed, .csv.gz or .csv.bz2; other names are LIBSVM or .npz data, which
        are quantized in memory: a DataError). Parquet and Arrow IPC files (extra
        ``[parquet]``: pyarrow) are read in record batches; every column must be numeric
        without missing values.
    label_column : int, the column of the labels (negative counts from the end).
    chunk_rows : rows per chunk (default: CHUNK_BYTES, 64 MiB, of float32 features; the
        chunks decide the seeds, so the file too); memory holds one chunk of features (a
        .npy table with labels: the chunk as stored and its features), its quantization,
        the labels (8 bytes a row) and 4096 sampled rows.
    progress : a progress bar per pass on stderr.
    csv_parser : {'auto', 'pyarrow', 'pandas', 'numpy'}, the fast parser of a CSV file's
        blocks (``data.csv_blocks``; auto: pyarrow, extra ``[parquet]``, else pandas, extra
        ``[csv]``, else NumPy). The file is the same byte for byte whichever parses it.
    """
    bits = check_bits(bits)
    sampling = check_choice(sampling, "sampling", F.TRAINING_SAMPLINGS)
    seed, n_copies = check_seed(seed), check_int(n_copies, "n_copies", 1, 2**31 - 1)
    if chunk_rows is not None:
        chunk_rows = check_int(chunk_rows, "chunk_rows", 1, 2**31 - 1)
    fmt = check_choice(fmt, "fmt", FORMATS)
    csv_parser = check_choice(csv_parser, "csv_parser", CSV_PARSERS)
    source, out = _regular_file(source), check_writable(out)
    fmt = data_format(source, fmt)[0]
    if fmt not in FORMATS:
        raise DataError(f"{source}: {'LIBSVM' if fmt == 'libsvm' else 'NumPy .npz'} data by its name; quantize_file "
                        "reads CSV (fmt='csv' whatever its name), .npy, Parquet and Arrow files; quantize it in memory "
                        "(zipml_hls.quantize)")
    scratch = (tempfile.NamedTemporaryFile(dir=out.parent, prefix=".zipml-scratch-", suffix=".f32")
               if fmt == "csv" else contextlib.nullcontext())
    with scratch:
        first_pass = None
        if fmt == "csv":
            with _bar(progress, f"parsing {source.name} (pass 1)", None) as bar:
                table, labels, first_pass = _csv_to_scratch(source, scratch, label_column, chunk_rows, bar,
                                                            csv_parser)
        elif fmt == "npy":
            table, labels = _npy_table(source, label_column), None
        else:
            table, labels = _ArrowTable(source, fmt, label_column), None
        words = F.lines_per_row(table.n_features, bits, sampling) * F.LINE_WORDS
        with QuantizedFileWriter(out, n_copies, table.n, words) as writer:
            stats, y = _two_passes(table, bits, sampling, seed, n_copies, chunk_rows, progress, writer.write_lines,
                                   first_pass)
            writer.finish(*header_fields(stats, n_samples=table.n, n_features=table.n_features, bits=bits,
                                         sampling=sampling, seed=seed, n_copies=n_copies,
                                         samples_per_value=F.samples_of(sampling), words_per_row=words,
                                         feature_names=_feature_names(source, fmt, table, label_column)),
                          y if labels is None else labels)
    return out


def _feature_names(source: Path, fmt: str, table, label_column: int) -> tuple | None:
    """The feature columns' names: a Parquet or Arrow file's, a CSV file's header of
    distinct names less the label column; None for .npy tables and headerless CSV."""
    if fmt in ("parquet", "arrow"):
        return valid_names(table.features)
    header = csv_header(source) if fmt == "csv" else None
    if header is None or len(header) != table.n_features + 1:
        return None
    return valid_names(h for k, h in enumerate(header) if k != label_column % len(header))
