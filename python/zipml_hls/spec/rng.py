"""Counter-based random numbers: the Python mirror of hls/include/zipml/rng.hpp.

A draw is a pure function of (seed, stream, index): uint32 arithmetic with wrap-around,
vectorized over any array arguments.
"""

from __future__ import annotations

import numpy as np

_U32 = np.uint32

MIX_MUL1 = 0x7FEB352D
MIX_MUL2 = 0x846CA68B
INDEX_MUL = 0x85EBCA77
KEY_SEED_XOR = 0x9E3779B9

STREAM_DATA = 1 << 16  #: | sample number: data rounding, stream (STREAM_DATA | m, copy, row)
STREAM_MODEL = 2 << 16  #: model rounding: stream (STREAM_MODEL, epoch, row), index j
STREAM_GRAD = 3 << 16  #: gradient rounding: stream (STREAM_GRAD, epoch, row), index j
STREAM_SAMPLE = 6 << 16  #: double data's two samples, drawn in the kernel: stream (STREAM_SAMPLE, epoch, row)
# Host-side streams of the training loop (no kernel draws them):
STREAM_EPOCH = 4 << 16  #: quantization seed of each epoch: the key of stream (STREAM_EPOCH, epoch, 0)
STREAM_ORDER = 5 << 16  #: row order of each epoch: stream (STREAM_ORDER, epoch, 0), index = row
STREAM_BLOCK = 7 << 16  #: n_jobs > 1: kernel seed of block b of a pass, the key of (STREAM_BLOCK, b, 0) under the epoch's
STREAM_WEIGHT = 8 << 16  #: zipml_hls.torch: quantizer seed of layer l at step t, the key of (STREAM_WEIGHT, l, t)
STREAM_CHUNK = 9 << 16  #: streaming ingestion: quantization seed of chunk c > 0 of a file, the key of (STREAM_CHUNK, c, 0)


def mix32(x) -> np.ndarray:
    """Bijective 32-bit mixer (xor-shift / odd-multiply), elementwise, uint32."""
    x = np.array(x, dtype=_U32, ndmin=1)
    x ^= x >> _U32(16)
    x *= _U32(MIX_MUL1)
    x ^= x >> _U32(15)
    x *= _U32(MIX_MUL2)
    x ^= x >> _U32(16)
    return x


def stream_key(seed, a, b, c) -> np.ndarray:
    """Key of stream (a, b, c) under ``seed``; broadcasts over array arguments."""
    k = mix32(np.array(seed, dtype=_U32) ^ _U32(KEY_SEED_XOR))
    k = mix32(k ^ np.array(a, dtype=_U32))
    k = mix32(k ^ np.array(b, dtype=_U32))
    return mix32(k ^ np.array(c, dtype=_U32))


def draw(key, index) -> np.ndarray:
    """Draw number ``index`` of the stream with ``key`` (broadcasting)."""
    index = np.array(index, dtype=_U32, ndmin=1)
    return mix32(np.array(key, dtype=_U32) ^ (index * _U32(INDEX_MUL)))


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The rows of epoch ``epoch`` in the order they are visited: the permutation that
    sorts the counter-based draws of stream (STREAM_ORDER, epoch, 0), ties by row, so it is
    the same on every machine, backend and library version."""
    keys = draw(stream_key(seed, STREAM_ORDER, epoch, 0), np.arange(n)).astype(np.uint64)
    # a stable argsort of the draws, as one sort of (draw, row) pairs: 30% faster
    return (np.sort((keys << np.uint64(32)) | np.arange(n, dtype=np.uint64)) & np.uint64(0xFFFFFFFF)).astype(np.int64)


def sample_key(seed, sample, copy, rows) -> np.ndarray:
    """Key of the stream that rounds sample ``sample`` of ``rows`` in quantized copy ``copy``."""
    return stream_key(seed, STREAM_DATA | sample, copy, rows)
