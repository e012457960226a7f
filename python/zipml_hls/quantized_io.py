"""Quantized data files: a QuantizedData, its set-up statistics and labels in one file whose
packed lines are memory-mapped for training (layout: docs/FORMATS.md, "Quantized data files").

Every byte is covered by a check: the 64-byte prelude by its magic, version and sizes, the
header (JSON and small arrays) by a SHA-256 kept in the prelude, the packed lines and labels
by one SHA-256 per 64 MiB block listed in the header (verified at load unless
``verify=False``). Files are written atomically; whatever is wrong with a file becomes one
:class:`QuantizedFileError` naming it.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .data import atomic_file
from .datastats import DataStats
from .quantize import LEVELS, QuantizedData, valid_names
from .scaling import FeatureScaling, FeatureSummary
from .spec import format as F
from .step_size import RoundingStats

MAGIC = b"ZIPMLQF\n"
FORMAT_VERSION = 1
PRELUDE = struct.Struct("<8sIIQQ32s")  #: magic, version, flags (0), head offset, head length, head SHA-256
ALIGN = 64  #: sections start on 64-byte boundaries (a 512-bit line)
BLOCK_BYTES = 64 << 20  #: the packed lines and labels are checksummed in blocks of this size
READ_BYTES = 4 << 20  #: a block is read and hashed in pieces of this size


class QuantizedFileError(ValueError):
    """A quantized data file that is not one this version can read."""


def _pad(n: int) -> int:
    return -n % ALIGN


def _block_digests(f, end: int) -> list[str]:
    """SHA-256, hex, of every BLOCK_BYTES block of the open file ``f`` (flushed) from byte
    64 to ``end``, on up to 4 threads (hashlib releases the GIL on large buffers), each
    reading its blocks piece by piece into its own READ_BYTES buffer (no mapping, and not
    a whole block: memory stays 4 MiB a thread)."""
    fd, local = f.fileno(), threading.local()

    def digest(start: int) -> str:
        if not hasattr(local, "buffer"):
            local.buffer = bytearray(READ_BYTES)
        h, stop = hashlib.sha256(), min(start + BLOCK_BYTES, end)
        for at in range(start, stop, READ_BYTES):
            view = memoryview(local.buffer)[:min(READ_BYTES, stop - at)]
            if os.preadv(fd, [view], at) != len(view):
                raise QuantizedFileError(f"{f.name}: the file ends inside its lines (truncated)")
            h.update(view)
        return h.hexdigest()

    starts = range(PRELUDE.size, end, BLOCK_BYTES)
    if len(starts) <= 1:
        return [digest(start) for start in starts]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(starts))) as pool:
        return list(pool.map(digest, starts))


class QuantizedFileWriter:
    """Writes a quantized data file of ``n_copies`` x ``n_samples`` rows of ``words_per_row``
    words atomically: packed lines chunk by chunk (:meth:`write_lines`), then everything
    else (:meth:`finish`). Used as a context manager; the file appears only when the block
    ends without an exception and :meth:`finish` has run."""

    def __init__(self, path, n_copies: int, n_samples: int, words_per_row: int):
        self.path, self.shape = Path(path), (n_copies, n_samples, words_per_row)
        self._context = atomic_file(path)
        self._file = None
        self._finished = False

    def __enter__(self):
        self._file = self._context.__enter__()
        self._file.write(bytes(PRELUDE.size))  # the prelude comes last, when the head's place is known
        return self

    def __exit__(self, kind, value, tb):
        if kind is None and not self._finished:
            kind, value = RuntimeError, RuntimeError("a quantized file left unfinished")
        return self._context.__exit__(kind, value, tb)

    def write_lines(self, copy: int, row: int, lines: np.ndarray) -> None:
        """Rows ``row``.. of copy ``copy``: ``lines`` uint64 (rows, words_per_row)."""
        _, n, words = self.shape
        self._file.seek(PRELUDE.size + (copy * n + row) * words * 8)
        self._file.write(np.ascontiguousarray(lines, dtype="<u8").data)

    def finish(self, meta: dict, arrays: dict, labels: np.ndarray | None) -> None:
        """Labels, header and prelude; ``meta``: the header's fields, ``arrays``: the small
        arrays kept in the header."""
        copies, n, words = self.shape
        f = self._file
        lines_end = PRELUDE.size + copies * n * words * 8
        f.seek(lines_end)
        if labels is not None:
            f.write(np.ascontiguousarray(labels, dtype="<f8").data)
            f.write(bytes(_pad(n * 8)))
        head_offset = f.tell()
        f.truncate(head_offset)
        f.flush()
        digests = _block_digests(f, head_offset)
        f.seek(head_offset)
        meta = dict(meta, labels=labels is not None, block_bytes=BLOCK_BYTES, digests=digests, arrays={})
        # the arrays' offsets depend on the JSON's length, which depends on them: fixed point
        blobs = {name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()}
        text = b""
        while True:
            offset = head_offset + len(text) + _pad(head_offset + len(text))
            places = {}
            for name, a in blobs.items():
                places[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset}
                offset += a.nbytes + _pad(a.nbytes)
            new = json.dumps(dict(meta, arrays=places)).encode() + b"\n"  # JSON has no raw newline: it ends there
            if new == text:
                break
            text = new
        head = bytearray(text + b" " * _pad(head_offset + len(text)))
        for name, a in blobs.items():
            head += a.tobytes() + bytes(_pad(a.nbytes))
        f.write(head)
        f.seek(0)
        f.write(PRELUDE.pack(MAGIC, FORMAT_VERSION, 0, head_offset, len(head), hashlib.sha256(head).digest()))
        self._finished = True


def header_fields(stats: DataStats, *, n_samples: int, n_features: int, bits: int, sampling: str, seed: int,
                  n_copies: int, samples_per_value: int, words_per_row: int,
                  level_table: np.ndarray | None = None, feature_names=None) -> tuple[dict, dict]:
    """The header's fields and small arrays of a quantization (whose lines go in separately);
    ``feature_names``: the columns' names, kept where given."""
    meta = {"format": "zipml-hls-quantized", "n_samples": n_samples, "n_features": n_features, "bits": bits,
            "sampling": sampling, "levels": "uniform" if level_table is None else "optimal", "seed": seed,
            "n_copies": n_copies, "samples_per_value": samples_per_value, "words_per_row": words_per_row,
            "bound": stats.bound, "bound_conditioned": stats.bound_conditioned,
            "rounding_row_max": stats.rounding.row_max}
    if level_table is not None and stats.rounding.at_levels:  # (files without it: uniform levels' variances)
        meta["rounding_at_tables"] = True
    if stats.square_bound is not None:  # (fits on files without them do not double towards S)
        meta["square_bound"], meta["square_bound_conditioned"] = stats.square_bound, stats.square_bound_conditioned
    if feature_names is not None:
        if valid_names(feature_names) is None or len(feature_names) != n_features:
            raise ValueError(f"feature_names must be {n_features} distinct non-empty strings")
        meta["feature_names"] = list(feature_names)
    summary = stats.summary
    arrays = {"lo": summary.scaling.lo, "hi": summary.scaling.hi, "inv": summary.scaling.inv,
              "mean": summary.mean, "var": summary.var, "rounding_mean": stats.rounding.mean,
              "stored_variance": stats.rounding.stored}
    if level_table is not None:
        arrays["level_table"] = level_table
    return meta, arrays


def save_quantized(q: QuantizedData, path) -> None:
    """Write ``q`` to ``path`` atomically (its ``stats`` are needed: ``zipml_hls.quantize``
    sets them)."""
    if not isinstance(q, QuantizedData):
        raise TypeError(f"expected a QuantizedData, got {type(q).__name__}")
    if q.stats is None:
        raise ValueError("this QuantizedData has no set-up statistics (.stats); quantize the data with "
                         "zipml_hls.quantize to save it")
    meta, arrays = header_fields(q.stats, n_samples=q.n_samples, n_features=q.n_features, bits=q.bits,
                                 sampling=q.sampling, seed=q.seed, n_copies=q.n_copies,
                                 samples_per_value=q.samples_per_value, words_per_row=q.lines.shape[2],
                                 level_table=q.level_table, feature_names=q.feature_names)
    with QuantizedFileWriter(path, *q.lines.shape) as out:
        for c in range(q.n_copies):
            out.write_lines(c, 0, q.lines[c])
        out.finish(meta, arrays, q.labels)


def _integer(low: int, high: int):
    return numbers.Integral, lambda v: low <= v <= high, f"an integer in [{low}, {high}]"


_FINITE = (numbers.Real, lambda v: 0 <= v < float("inf"), "a finite number >= 0")


#: The header's fields: name -> (types, check, what it must be).
_FIELDS = {
    "format": (str, lambda v: v == "zipml-hls-quantized", "'zipml-hls-quantized'"),
    "n_samples": _integer(1, 2**40),
    "n_features": _integer(1, 2**31 - 1),
    "bits": (numbers.Integral, lambda v: v in F.SUPPORTED_BITS, f"one of {F.SUPPORTED_BITS}"),
    "sampling": (str, lambda v: v in F.SAMPLINGS, f"one of {sorted(F.SAMPLINGS)}"),
    "levels": (str, lambda v: v in LEVELS, f"one of {LEVELS}"),
    "seed": _integer(0, 2**32 - 1),
    "n_copies": _integer(1, 2**31 - 1),
    "samples_per_value": _integer(1, 64),
    "words_per_row": _integer(F.LINE_WORDS, 2**40),
    "labels": (bool, lambda v: True, "true or false"),
    "bound": _FINITE,
    "bound_conditioned": _FINITE,
    "rounding_row_max": _FINITE,
    "block_bytes": (numbers.Integral, lambda v: v == BLOCK_BYTES, str(BLOCK_BYTES)),
    "digests": (list, lambda v: all(isinstance(x, str) and len(x) == 64 for x in v), "a list of SHA-256 digests"),
    "arrays": (dict, lambda v: all(isinstance(x, dict) for x in v.values()), "an object of array places"),
}
#: The step bounds S of ``step_size.row_bounds``: both or neither (files written before they were kept).
_SQUARE_BOUNDS = {"square_bound": _FINITE, "square_bound_conditioned": _FINITE}


def _check_fields(path: Path, meta: dict, fields: dict) -> None:
    """A QuantizedFileError naming the first of ``fields`` (name -> (types, check, what))
    whose value in ``meta`` is missing or not what it must be."""
    for name, (types, check, what) in fields.items():
        value = meta.get(name)
        if (isinstance(value, bool) and types is not bool) or not isinstance(value, types) or not check(value):
            raise QuantizedFileError(f"{path}: header field {name!r} must be {what}, got {value!r:.80}")


def load_quantized(path, verify: bool = True) -> QuantizedData:
    """Map a file written by ``QuantizedData.save`` (or ``zipml-hls quantize``): a
    QuantizedData whose ``lines`` are a read-only ``np.memmap`` (an epoch reads only the
    packed bytes), with the file's set-up statistics and labels.

    The prelude, the header and its arrays are always checked. ``verify`` (default True)
    also checks the SHA-256 of every 64 MiB block of packed lines and labels, one read of
    the file (docs/FORMATS.md gives the cost); False skips that read. A damaged, truncated
    or foreign file raises :class:`QuantizedFileError` (a ValueError) naming it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise QuantizedFileError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size < PRELUDE.size:
            raise QuantizedFileError(f"{path}: {size} bytes, too short for a zipml-hls quantized data file")
        f.seek(0)
        magic, version, flags, head_offset, head_length, head_digest = PRELUDE.unpack(f.read(PRELUDE.size))
        if magic != MAGIC:
            raise QuantizedFileError(f"{path}: not a zipml-hls quantized data file")
        if version != FORMAT_VERSION:
            raise QuantizedFileError(f"{path}: quantized file format version {version}; this zipml-hls reads "
                                     f"version {FORMAT_VERSION}")
        if flags != 0 or head_offset < PRELUDE.size or head_offset % ALIGN:
            raise QuantizedFileError(f"{path}: damaged prelude")
        if head_offset + head_length != size:
            raise QuantizedFileError(f"{path}: truncated or damaged: its prelude gives {head_offset + head_length} "
                                     f"bytes, the file has {size}")
        f.seek(head_offset)
        head = f.read(head_length)
    if hashlib.sha256(head).digest() != head_digest:
        raise QuantizedFileError(f"{path}: header checksum mismatch: the file is damaged")
    try:
        meta = json.loads(head[:head.index(b"\n")])
    except ValueError:  # no newline, not UTF-8 or not JSON
        raise QuantizedFileError(f"{path}: unreadable header") from None
    return _build(path, meta, head, head_offset, verify)


def _build(path: Path, meta, head: bytes, head_offset: int, verify: bool) -> QuantizedData:
    if not isinstance(meta, dict):
        raise QuantizedFileError(f"{path}: unreadable header")
    _check_fields(path, meta, _FIELDS)
    n, d, bits, sampling = meta["n_samples"], meta["n_features"], meta["bits"], meta["sampling"]
    copies, words, spv = meta["n_copies"], meta["words_per_row"], meta["samples_per_value"]
    names = meta.get("feature_names")  # optional: files without names, and older ones, have none
    if names is not None and (not isinstance(names, list) or len(names) != d or valid_names(names) is None):
        raise QuantizedFileError(f"{path}: header field 'feature_names' must be a list of {d} distinct non-empty "
                                 "strings")
    if meta.keys() & _SQUARE_BOUNDS.keys():  # optional, both or neither: older files have neither
        _check_fields(path, meta, _SQUARE_BOUNDS)
    if spv != F.samples_of(sampling, spv) or (sampling == "multi" and spv not in F.MULTI_SAMPLES):
        raise QuantizedFileError(f"{path}: {spv} samples per value do not fit {sampling!r} data")
    if words != F.lines_per_row(d, bits, sampling, spv) * F.LINE_WORDS:
        raise QuantizedFileError(f"{path}: {words} words per row do not fit {d} features of {bits}-bit "
                                 f"{sampling} data")
    lines_bytes = copies * n * words * 8
    labels_bytes = n * 8 + _pad(n * 8) if meta["labels"] else 0
    if PRELUDE.size + lines_bytes + labels_bytes != head_offset:
        raise QuantizedFileError(f"{path}: its sections do not add up to its size (truncated or damaged)")
    if len(meta["digests"]) != -(-(head_offset - PRELUDE.size) // BLOCK_BYTES):
        raise QuantizedFileError(f"{path}: {len(meta['digests'])} block checksums for {head_offset - PRELUDE.size} "
                                 "bytes of lines and labels")
    arrays = _arrays(path, meta["arrays"], head, head_offset, d, bits, meta["levels"])
    if verify:
        with open(path, "rb") as f:
            digests = _block_digests(f, head_offset)
        for k, (got, want) in enumerate(zip(digests, meta["digests"])):
            if got != want:
                start = PRELUDE.size + k * BLOCK_BYTES
                raise QuantizedFileError(f"{path}: checksum mismatch in bytes {start}-"
                                         f"{min(start + BLOCK_BYTES, head_offset)} (lines or labels): the file is "
                                         "damaged")
    lines = np.memmap(path, dtype="<u8", mode="r", offset=PRELUDE.size, shape=(copies, n, words))
    labels = None
    if meta["labels"]:
        labels = np.memmap(path, dtype="<f8", mode="r", offset=PRELUDE.size + lines_bytes, shape=(n,))
        if not np.isfinite(labels).all():
            raise QuantizedFileError(f"{path}: its labels contain NaN or infinity")
    scaling = FeatureScaling(lo=arrays["lo"], hi=arrays["hi"], inv=arrays["inv"])
    summary = FeatureSummary(scaling=scaling, mean=arrays["mean"], var=arrays["var"])
    # older files of optimal levels hold uniform levels' variances: no stored-rounding correction
    rounding = RoundingStats(mean=arrays["rounding_mean"], row_max=float(meta["rounding_row_max"]),
                             stored=arrays["stored_variance"],
                             at_levels=meta["levels"] == "uniform" or meta.get("rounding_at_tables") is True)
    squares = {name: float(meta[name]) for name in _SQUARE_BOUNDS if name in meta}
    stats = DataStats(summary=summary, rounding=rounding, bound=float(meta["bound"]),
                      bound_conditioned=float(meta["bound_conditioned"]), **squares)
    return QuantizedData(lines=lines, bits=bits, sampling=sampling, seed=meta["seed"], n_features=d,
                         scaling=scaling, level_table=arrays.get("level_table"), samples_per_value=spv,
                         stats=stats, labels=labels, feature_names=None if names is None else tuple(names))


def _arrays(path: Path, places: dict, head: bytes, head_offset: int, d: int, bits: int, levels: str) -> dict:
    """The header's small arrays, copied out of it and checked."""
    expect = {"lo": ("<f4", (d,)), "hi": ("<f4", (d,)), "inv": ("<f4", (d,)), "mean": ("<f8", (d,)),
              "var": ("<f8", (d,)), "rounding_mean": ("<f8", (d,)), "stored_variance": ("<f8", (d,))}
    if levels == "optimal":
        expect["level_table"] = ("<u4", (d, 1 << bits))
    if set(places) != set(expect):
        raise QuantizedFileError(f"{path}: header arrays {sorted(places)}, expected {sorted(expect)}")
    arrays = {}
    for name, (dtype, shape) in expect.items():
        place = places[name]
        offset = place.get("offset")
        if place.get("dtype") != dtype or place.get("shape") != list(shape) or not isinstance(offset, int):
            raise QuantizedFileError(f"{path}: header array {name!r} is not {dtype} of shape {shape}")
        start, nbytes = offset - head_offset, int(np.prod(shape)) * np.dtype(dtype).itemsize
        if start < 0 or start + nbytes > len(head):
            raise QuantizedFileError(f"{path}: header array {name!r} lies outside the header")
        a = np.frombuffer(head, dtype=dtype, count=nbytes // np.dtype(dtype).itemsize, offset=start)
        arrays[name] = a.reshape(shape).astype(dtype[1:] if dtype[0] == "<" else dtype)
        if arrays[name].dtype.kind == "f" and not np.isfinite(arrays[name]).all():
            raise QuantizedFileError(f"{path}: header array {name!r} contains NaN or infinity")
    try:
        FeatureScaling(lo=arrays["lo"], hi=arrays["hi"], inv=arrays["inv"]).check(d)
    except ValueError as exc:
        raise QuantizedFileError(f"{path}: {exc}") from None
    for name in ("var", "rounding_mean", "stored_variance"):
        if np.any(arrays[name] < 0):
            raise QuantizedFileError(f"{path}: header array {name!r} has negative variances")
    table = arrays.get("level_table")
    if table is not None and (np.any(np.diff(table.astype(np.int64), axis=1) < 0) or table.max() > F.POS_ONE):
        raise QuantizedFileError(f"{path}: header array 'level_table' is not sorted levels in [0, 1]")
    return arrays
