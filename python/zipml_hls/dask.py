"""``zipml_hls.dask`` (extra ``[dask]``): quantize a Dask array or DataFrame on the workers
of a dask.distributed cluster and train on it there with the sharded scheme.

Quantization runs the two passes of the streaming ingestion (``ingest``) on the workers:
the data are cut into chunks of ``engine.SgdConfig.block_rows`` rows; pass 1 computes each
chunk's feature summary where the chunk is and sends it, the chunk's share of the 4096 rows
that give the rounding variances and its labels to the client, which merges the summaries in
row order; pass 2 quantizes chunk c with seed ``ingest.chunk_seed(seed, c)`` on its worker,
where its packed lines stay. (A DataFrame is read once before, to count its partitions'
rows.) The statistics and the lines are those ``ingest.quantize_file`` writes for the same
rows with ``chunk_rows=block_rows``.

Training is the estimators' own ``fit`` on the result (:func:`fit`) with ``n_jobs`` =
the data's shards and ``shuffle=False``: every epoch is ``engine.sharded_pass`` (rounds of
``n_jobs`` blocks of ``block_rows`` rows run from the round's model and averaged), each
block's kernel call one call from the client to the actor (``_Shard``, one per worker,
kept with the data) on the worker holding its rows, the model averaged on the client. So
the result equals, bit for bit, a single-machine fit of the same quantized data with the
same ``n_jobs``. Rows stay on their workers: a shuffled order would move them every epoch,
so the data are visited in stored order.
"""

from __future__ import annotations

import itertools
import operator
import pickle
import threading
import weakref
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import engine
from ._validation import check_bits, check_choice, check_int, check_seed
from .backend import get_backend
from .datastats import DataStats
from .ingest import SAMPLED_ROWS, chunk_seed, chunk_setup, chunk_summary, merge_summaries, quantize_chunk
from .quantize import QuantizedData, check_labels, feature_names_of
from .scaling import sample_rows
from .spec import format as F

try:
    import cloudpickle
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from distributed import Client, get_client, wait
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("zipml_hls.dask needs dask.distributed: pip install 'zipml-hls[dask]'") from exc

BLOCK_ROWS = engine.SgdConfig.block_rows  #: rows per chunk: the sharded pass's block
WORKER_WAIT_S = 30  #: how long a cluster that lists no workers (starting, or restarting them) is given to show one


def _workers(client) -> list:
    """The addresses of the cluster's workers, sorted; where it lists none yet, the first
    to join within WORKER_WAIT_S seconds, else a ValueError."""
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            raise ValueError(f"the Dask cluster has no workers (none joined within {WORKER_WAIT_S} s)") from None
        workers = sorted(client.scheduler_info()["workers"])
    return workers


def _float_rows(X) -> np.ndarray:
    """A chunk as float32 C rows, as the streaming ingestion reads them."""
    return np.ascontiguousarray(X, dtype=np.float32)


def _summary_task(X, y, picked):
    """Pass 1 on a chunk: its summary (None if a value is not finite in float32), its rows
    ``picked`` (those of ``sample_rows`` in it) and its labels as float64 (or None)."""
    with np.errstate(over="ignore"):  # beyond float32's range: infinity, which the summary refuses
        X = _float_rows(X)
    return chunk_summary(X), X[picked], None if y is None else np.asarray(y, dtype=np.float64)


def _quantize_task(X, scaling, conditioning, bits, sampling, seed, n_copies):
    return quantize_chunk(_float_rows(X), scaling, conditioning, bits, sampling, seed, n_copies)


class _Shard:
    """The actor on one worker that runs the blocks of a sharded pass placed there
    (:class:`RemoteLines`): it holds their lines, views of the chunks on its worker (a
    block that spans two chunks joined once), and the KernelRun of every fit under way. A
    block is then one call from the client to the actor (relayed by the scheduler unless
    the client has ``direct_to_workers``): no task waiting in the scheduler's queue, no
    packed data moved."""

    def __init__(self, blocks, chunks, chunk_rows, n_features, sampling):
        self.n_features, self.sampling = n_features, sampling
        self.lines = {}  # (first, end) -> (n_copies, end - first, words)
        for first, end in blocks:
            c0, c1 = first // chunk_rows, (end - 1) // chunk_rows
            parts = [chunks[c] for c in range(c0, c1 + 1)]
            joined = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
            offset = first - c0 * chunk_rows
            self.lines[first, end] = joined[:, offset:offset + end - first]
        self.runs = {}  # token -> the KernelRun of a fit

    def hold(self, token, run: bytes):
        self.runs[token] = pickle.loads(run)

    def drop(self, token):
        self.runs.pop(token, None)

    def block(self, token, first, end, copy, step_shift, decay, model, seed):
        """The kernel call of fit ``token`` on stored rows [first, end) of copy ``copy``
        (their labels): its SgdResult, the model and predictions ``engine.sharded_pass`` reads."""
        data = engine.Prepared(self.n_features, lines=self.lines[first, end][copy:copy + 1], sampling=self.sampling)
        return self.runs[token](data, 1, step_shift, decay, model, np.arange(first, end), seed)


def _drop(actors, token):
    """A fit's KernelRun is gone: its actors forget it (one whose worker or client is gone
    already has nothing left to forget)."""
    for actor in actors:
        try:
            actor.drop(token)
        except (RuntimeError, OSError):
            pass


class _Fits:
    """What a RemoteLines and its copies share: the places of blocks in their rounds and,
    for each number of jobs, the actors that run the blocks (made at the first fit, by
    place) with the fits they hold (a token for each fit's KernelRun, dropped with it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.places = {}  # jobs -> {(first, end): place of the block in its round}
        self.teams = {}  # jobs -> ([(actor future, actor)] by place, {KernelRun: token})
        self.tokens = itertools.count()


class RemoteLines:
    """Packed lines (n_copies, n_samples, words_per_row) held by the workers of a cluster
    as chunks of ``chunk_rows`` rows: the ``lines`` of a :class:`DaskQuantizedData`.

    The training engine runs a kernel call on them through :meth:`run` (a block of the
    sharded pass, by the actor of the block's place in the round); ``[c:c + 1]`` selects
    copy c; :meth:`gather` brings them to the client.
    """

    def __init__(self, client, chunks: list, chunk_rows: int, n_samples: int, words: int,
                 n_copies: int, n_features: int, sampling: str, copy: int | None = None, fits: _Fits | None = None):
        self.client, self.chunks = client, chunks
        self.chunk_rows, self.n_features, self.sampling = chunk_rows, n_features, sampling
        self.shape = (n_copies if copy is None else 1, n_samples, words)
        self._n_copies, self._copy = n_copies, copy
        self._fits = _Fits() if fits is None else fits

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * 8

    def __getitem__(self, key):
        if not (isinstance(key, slice) and key.step is None and isinstance(key.start, int)
                and key.stop == key.start + 1 and 0 <= key.start < self.shape[0]):
            raise TypeError("these lines are held by the workers of a Dask cluster; gather() them to index them")
        if self._copy is not None:
            return self
        return RemoteLines(self.client, self.chunks, self.chunk_rows, self.shape[1], self.shape[2],
                           self._n_copies, self.n_features, self.sampling, copy=key.start, fits=self._fits)

    def gather(self) -> np.ndarray:
        """The lines as an array on the client (every copy, or the one selected)."""
        parts = self.client.gather(self.chunks)
        lines = np.concatenate(parts, axis=1)
        return lines if self._copy is None else lines[self._copy:self._copy + 1]

    def _place(self, jobs: int, first: int, end: int) -> int:
        with self._fits.lock:
            if jobs not in self._fits.places:
                self._fits.places[jobs] = {(a, b): k for blocks in engine.pass_rounds(self.shape[1], jobs,
                                                                                        self.chunk_rows)
                                           for k, (_, a, b) in enumerate(blocks)}
            place = self._fits.places[jobs].get((first, end))
        if place is None:
            raise ValueError(f"rows {first}-{end - 1} are not a block of a sharded pass of {jobs} workers over "
                             f"{self.shape[1]} rows")
        return place

    def _team(self, jobs: int) -> list:
        """New actors for a pass of ``jobs``, one per worker, as [(future, actor)] by place:
        place k's blocks run on the worker that holds most of place k's chunks (c = k,
        k + jobs, ..., where ``quantize`` put them), or on worker k mod workers if it has
        none. Chunks lost with a worker are first computed again (on any worker)."""
        client, rows = self.client, self.chunk_rows
        wait(self.chunks)
        for c, chunk in enumerate(self.chunks):
            if chunk.status != "finished":
                raise RuntimeError(f"chunk {c} of the data on the Dask cluster is {chunk.status} and could not be "
                                   "computed again: quantize the data again")
        holders = client.who_has(self.chunks)
        alive = _workers(client)
        workers = []
        for k in range(jobs):
            held = Counter(w for chunk in self.chunks[k::jobs] for w in holders[chunk.key])
            workers.append(held.most_common(1)[0][0] if held else alive[k % len(alive)])
        blocks = {w: [] for w in workers}
        for round_blocks in engine.pass_rounds(self.shape[1], jobs, rows):
            for k, (_, first, end) in enumerate(round_blocks):
                blocks[workers[k]].append((first, end))
        futures = {w: client.submit(_Shard, held,
                                    {c: self.chunks[c] for a, b in held for c in range(a // rows, (b - 1) // rows + 1)},
                                    rows, self.n_features, self.sampling, actor=True, workers=[w], pure=False)
                   for w, held in blocks.items()}
        with client.as_current():  # the actors' calls go through this client (not the default one)
            actors = {w: (future, future.result()) for w, future in futures.items()}
        return [actors[w] for w in workers]

    def _actor(self, run, place: int):
        """(token of ``run``'s fit, actor future, actor) of ``place``: the actors of the pass
        made at the first fit (again if a worker was lost), the fit's KernelRun sent to each
        at its first block (and dropped there when it is gone)."""
        jobs = run.config.n_jobs
        with self._fits.lock:
            team = self._fits.teams.get(jobs)
            if team is None or any(future.status != "finished" for future, _ in team[0]):
                team = self._fits.teams[jobs] = (self._team(jobs), weakref.WeakKeyDictionary())
            by_place, tokens = team
            if run not in tokens:
                token = next(self._fits.tokens)
                actors = list({id(actor): actor for _, actor in by_place}.values())
                # as bytes: Dask keeps an actor call's arguments until the garbage collector
                # runs (its call closure refers to itself), and the run must go with its fit
                pickled = cloudpickle.dumps(run)  # as Dask would (the backend refers to its module)
                for call in [actor.hold(token, pickled) for actor in actors]:
                    call.result()
                weakref.finalize(run, _drop, actors, token).atexit = False
                tokens[run] = token
            return (tokens[run], *by_place[place])

    def run(self, run, data, epochs: int, step_shift: int, decay: int, model, order, seed):
        """``run(data, ...)`` (an ``engine.KernelRun`` call of one block of a sharded pass) by
        the actor that holds the block's lines; returns its SgdResult."""
        rows = data.rows
        if rows is None or epochs != 1 or self._copy is None:
            raise ValueError("data on a Dask cluster train only in a sharded pass: fit with n_jobs set to their shards "
                             "(2 or more) and one target (a regressor or a binary classifier)")
        first, end = int(rows[0]), int(rows[0]) + rows.size
        stored = np.arange(first, end)
        if not (np.array_equal(rows, stored) and order is not None and np.array_equal(order, stored)):
            raise ValueError("data on a Dask cluster are visited in stored order (rows stay on their workers): fit "
                             "with shuffle=False")
        token, future, actor = self._actor(run, self._place(run.config.n_jobs, first, end))
        try:
            return actor.block(token, first, end, self._copy, step_shift, decay, model, seed).result()
        except Exception as exc:
            if future.status == "finished" and not isinstance(exc, OSError):  # the block's own error
                raise
            raise RuntimeError(f"the Dask worker running blocks of this fit is gone ({future.status}): fit again, "
                               "which computes its chunks again elsewhere") from exc


@dataclass(frozen=True)
class DaskQuantizedData(QuantizedData):
    """A :class:`~zipml_hls.quantize.QuantizedData` whose packed lines stay on the workers
    (``lines`` is a :class:`RemoteLines`); labels, scaling and statistics are on the client.
    Train on it with :func:`fit`; :meth:`gather` makes it an ordinary QuantizedData."""

    shards: int = 2

    def gather(self) -> QuantizedData:
        """The same data with its lines on the client (e.g. to ``.save`` them or to fit on
        one machine)."""
        return QuantizedData(lines=self.lines.gather(), bits=self.bits, sampling=self.sampling, seed=self.seed,
                             n_features=self.n_features, scaling=self.scaling, samples_per_value=self.samples_per_value,
                             stats=self.stats, labels=self.labels, feature_names=self.feature_names)

    def save(self, path) -> None:
        """Gather the lines and write the quantized data file (``QuantizedData.save``)."""
        self.gather().save(path)


def _as_client(client):
    if client is None:
        try:
            return get_client()
        except ValueError:
            raise ValueError("no dask.distributed Client: create one (Client(address)) or pass client=") from None
    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client or None, got {type(client).__name__}")
    return client


def _features_and_labels(X, y):
    """X as a 2-D Dask array of real numbers with known chunk sizes, the labels (a 1-D Dask
    array of them, read with X's chunks in pass 1, labels in memory checked, or None) and a
    DataFrame's feature column names (``quantize.feature_names_of``; else None). ``y``: a
    column of a DataFrame X by name, a Dask array or Series, an array-like, or None."""
    names = None
    if isinstance(X, dd.DataFrame):
        if isinstance(y, str):
            if y not in X.columns:
                raise ValueError(f"y={y!r} is not a column of the DataFrame (columns: {list(X.columns)[:10]})")
            X, y = X.drop(columns=[y]), X[y]
        bad = [c for c, t in X.dtypes.items() if t.kind not in "biuf"]
        if bad:
            raise TypeError(f"the DataFrame's feature columns must be numbers; {bad[:5]} are not")
        names = feature_names_of(X)
        lengths = tuple(int(k) for k in X.map_partitions(len).compute())  # one pass, for X and its label column
        X = X.to_dask_array(lengths=lengths)
        if isinstance(y, dd.Series) and y.npartitions == len(lengths):
            y = y.to_dask_array(lengths=lengths)
    elif isinstance(y, str):
        raise TypeError("y names a column only when X is a DataFrame")
    if X.ndim != 2 or any(np.isnan(s) for s in X.shape) or 0 in X.shape:
        raise ValueError(f"X must be 2-D with known, non-zero numbers of rows and columns, got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if isinstance(y, dd.Series):
        y = y.to_dask_array(lengths=True)
    if isinstance(y, da.Array):
        if y.shape != X.shape[:1]:
            raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}), got shape {y.shape}")
        return X, y, names
    return X, None if y is None else check_labels(y, X.shape[0]), names


def quantize(X, bits, *, y=None, sampling="double", seed=0, n_copies=1, shards=None, client=None
             ) -> DaskQuantizedData:
    """Quantize ``X`` on the workers of ``client`` with uniform levels; the packed lines
    stay there (``DaskQuantizedData``).

    Parameters
    ----------
    X : dask.array.Array (n_samples, n_features) or dask.dataframe.DataFrame of real
        numbers, finite (and within float32's range).
    bits, sampling, seed, n_copies : as ``zipml_hls.quantize`` (sampling 'double', 'naive'
        or 'nearest'). The chunks of ``BLOCK_ROWS`` rows decide the draws (chunk c with
        ``ingest.chunk_seed(seed, c)``), as ``ingest.quantize_file(..., chunk_rows=BLOCK_ROWS)``.
    y : labels kept with the data: a Dask array or Series, an array in memory, or (X a
        DataFrame) the name of its label column.
    shards : the ``n_jobs`` that will train on the data, 2 or more (default: the number of
        workers, at least 2): chunk c goes to worker (c mod shards) mod workers, where block
        c of the sharded pass runs.
    client : a distributed.Client (default: the current one).
    """
    if not isinstance(X, (da.Array, dd.DataFrame)):  # (before the cluster is asked anything)
        raise TypeError(f"X must be a Dask array or DataFrame, got {type(X).__name__}; use zipml_hls.quantize for "
                        "data in memory")
    client = _as_client(client)
    bits = check_bits(bits)
    sampling = check_choice(sampling, "sampling", F.TRAINING_SAMPLINGS)
    seed, n_copies = check_seed(seed), check_int(n_copies, "n_copies", 1, 2**31 - 1)
    workers = _workers(client)
    shards = max(2, len(workers)) if shards is None else check_int(shards, "shards", 2, 2**31 - 1)
    X, labels, names = _features_and_labels(X, y)
    n, d = (int(s) for s in X.shape)
    limit = get_backend("hls").constants()["max_features"]
    if d > limit:
        raise ValueError(f"X has {d} features; the kernels' on-chip model holds at most {limit}")
    bounds = [(a, min(a + BLOCK_ROWS, n)) for a in range(0, n, BLOCK_ROWS)]
    place = [workers[(c % shards) % len(workers)] for c in range(len(bounds))]

    def on_workers(task, args):
        return [client.compute(dask.delayed(task)(X[a:b], *args(c)), workers=[place[c]], allow_other_workers=True)
                for c, (a, b) in enumerate(bounds)]

    picked = sample_rows(n, SAMPLED_ROWS)
    remote_labels = isinstance(labels, da.Array)
    passed = client.gather(on_workers(_summary_task, lambda c: (
        labels[bounds[c][0]:bounds[c][1]] if remote_labels else None,
        picked[(picked >= bounds[c][0]) & (picked < bounds[c][1])] - bounds[c][0])))
    for (a, b), (part, _, _) in zip(bounds, passed):
        if part is None:
            raise ValueError(f"X rows {a}-{b - 1}: NaN, infinity or a value beyond float32's range")
    summary = merge_summaries(part for part, _, _ in passed)
    if remote_labels:
        labels = check_labels(np.concatenate([y for _, _, y in passed]), n)
    summary, rounding, conditioning = chunk_setup(summary, np.concatenate([rows for _, rows, _ in passed]), bits)
    del passed
    results = on_workers(_quantize_task, lambda c: (summary.scaling, conditioning, bits, sampling,
                                                    chunk_seed(seed, c), n_copies))
    # a chunk lost with its worker is computed again on another one (preferred, not required, placement)
    chunks = [client.submit(operator.getitem, r, 0, workers=[place[c]], allow_other_workers=True)
              for c, r in enumerate(results)]
    chunk_bounds = client.gather([client.submit(operator.getitem, r, 1, workers=[place[c]], allow_other_workers=True)
                                  for c, r in enumerate(results)])
    del results  # the lines stay in ``chunks``
    bound = np.max(chunk_bounds, axis=0)
    stats = DataStats.of_bounds(summary, rounding, bound)
    words = F.lines_per_row(d, bits, sampling) * F.LINE_WORDS
    lines = RemoteLines(client, chunks, BLOCK_ROWS, n, words, n_copies, d, sampling)
    return DaskQuantizedData(lines=lines, bits=bits, sampling=sampling, seed=seed, n_features=d,
                             scaling=summary.scaling, samples_per_value=F.samples_of(sampling), stats=stats,
                             labels=labels, feature_names=names, shards=shards)


def fit(estimator, data: DaskQuantizedData, y=None):
    """``estimator.fit(data, y)`` on data quantized on a cluster (:func:`quantize`), after
    checking that the estimator trains in their sharded pass: ``n_jobs`` equal to their
    shards and ``shuffle=False``. The result equals ``estimator.fit(data.gather(), y)`` on one
    machine bit for bit. Returns the estimator."""
    if not isinstance(data, DaskQuantizedData):
        raise TypeError(f"data must come from zipml_hls.dask.quantize, got {type(data).__name__}")
    if estimator.n_jobs != data.shards:
        raise ValueError(f"the data were placed for {data.shards} shards; set the estimator's n_jobs={data.shards} "
                         f"(got {estimator.n_jobs!r})")
    if estimator.shuffle:
        raise ValueError("data on a Dask cluster are visited in stored order (rows stay on their workers): set the "
                         "estimator's shuffle=False")
    return estimator.fit(data, y)
