"""zipml_hls.dask on this machine: an epoch on 2 workers against 1 worker.

A 4-bit double-sampled data set of 1 GiB as float32 (262144 x 1024 uniform values, labels
a linear function plus noise), generated on the workers of two LocalClusters of processes
with one thread each (1 worker and 2 workers, both up at once), quantized there
(zipml_hls.dask.quantize, 2 shards) and trained with the sharded scheme (n_jobs=2,
shuffle=False, a fixed schedule). Per cluster: the quantization time and fit() for EPOCHS
epochs divided by the epochs, the fits of the 1-worker cluster, the 2-worker cluster and
one machine (the gathered data, n_jobs=2 threads) interleaved, REPEATS of each (medians,
and the median of the per-repeat ratios); the round trip of an empty task, of an empty
actor call (the least latency a round of blocks pays: a task before, an actor call now)
through the scheduler (Dask's default) and of one from a client with
direct_to_workers=True (--direct: the fits' clients too).
Then one more fit on each cluster, with every block's kernel call timed on its worker,
splits an epoch into the time some worker runs a block and the time none does (the
overheads). Checks that the models of 1 worker, 2 workers and one machine are equal bit
for bit.

Usage: python scripts/dask_speed.py [--gib 1.0] [--features 1024] [--epochs 4] [--repeats 5] [--direct]
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import zipml_hls.dask as zd
from zipml_hls import ZipMLRegressor


def make_data(n: int, d: int):
    """Uniform float32 features and noisy linear labels as Dask arrays, drawn on the workers."""
    rng = da.random.RandomState(0)
    X = rng.random_sample((n, d), chunks=(zd.BLOCK_ROWS, d)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal(d)
    y = X @ w + rng.standard_normal(n, chunks=zd.BLOCK_ROWS)
    return X, y


def estimator(epochs: int) -> ZipMLRegressor:
    return ZipMLRegressor(bits=4, n_jobs=2, shuffle=False, max_iter=epochs, decay_epochs=2, random_state=0)


class Echo:
    """An actor that does nothing: the round trip of a call."""

    def ping(self):
        return None


def _time_blocks(dask_worker):
    """On a worker: record the (start, stop) wall times of every block's kernel call."""
    log = []
    block = zd._Shard.block

    def timed(self, *args):
        start = time.time()
        result = block(self, *args)
        log.append((start, time.time()))
        return result

    timed.original, timed.log = block, log
    zd._Shard.block = timed


def _block_times(dask_worker):
    """On a worker: the recorded block times, and the untimed kernel call back in place."""
    timed = zd._Shard.block
    zd._Shard.block = timed.original
    return timed.log


def epoch_breakdown(client, data, epochs: int) -> dict:
    """One more fit with every block's kernel call timed on its worker: per epoch, the
    client's wall time; the time some worker runs a block (the union of the blocks'
    intervals); the summed block time over the union (how many ran at once, on average);
    the rest, when no block runs anywhere (the calls' round trips, the client's averaging
    and the fit's set-up, spread over the epochs)."""
    client.run(_time_blocks)
    start = time.time()
    zd.fit(estimator(epochs), data)
    wall = time.time() - start
    intervals = sorted(t for log in client.run(_block_times).values() for t in log)
    union, reach = 0.0, -np.inf
    for a, b in intervals:  # the length of the union of the intervals
        union += max(0.0, b - max(a, reach))
        reach = max(reach, b)
    total = sum(b - a for a, b in intervals)
    return dict(wall=wall / epochs, busy=union / epochs, idle=(wall - union) / epochs, overlap=total / union,
                blocks=len(intervals) / epochs, block=total / len(intervals))


def round_trips(client, count: int = 50) -> tuple[float, float, float]:
    """Medians of ``count`` round trips (s) of an empty task, of an empty actor call (this
    client: through the scheduler) and of one from a client with ``direct_to_workers=True``."""
    with Client(client.scheduler.address, direct_to_workers=True) as direct:
        echoes = []
        for c in (client, direct):
            with c.as_current():  # the actor's calls through this client
                echoes.append(c.submit(Echo, actor=True).result())
        calls = (lambda i: client.submit(int, i, pure=False).result(), lambda i: echoes[0].ping().result(),
                 lambda i: echoes[1].ping().result())
        trips = [[] for _ in calls]
        for i in range(count):
            for trip, call in zip(trips, calls):
                start = time.perf_counter()
                call(i)
                trip.append(time.perf_counter() - start)
        echoes.clear()  # the actors go before their client
    return tuple(float(np.median(trip)) for trip in trips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="size of the data as float32 (GiB)")
    parser.add_argument("--features", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--direct", action="store_true", help="clients with direct_to_workers=True")
    args = parser.parse_args()
    d = args.features
    n = int(args.gib * 2**30) // (4 * d)
    print(f"{n} x {d} float32 ({n * d * 4 / 2**30:.2f} GiB), 4-bit double sampling, 2 shards of blocks of "
          f"{zd.BLOCK_ROWS} rows, fit() for {args.epochs} epochs, {args.repeats} interleaved repeats, "
          f"{'direct calls to the workers' if args.direct else 'calls through the scheduler'}")
    names = ("1 worker", "2 workers")
    with ExitStack() as stack:
        clients, data, quantize_s = {}, {}, {}
        for name, workers in zip(names, (1, 2)):
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0"))
            clients[name] = stack.enter_context(Client(cluster, direct_to_workers=args.direct or None))
            X, y = make_data(n, d)
            start = time.perf_counter()
            data[name] = zd.quantize(X, 4, y=y, shards=2, client=clients[name])
            quantize_s[name] = time.perf_counter() - start
        local_data = data[names[0]].gather()
        contenders = {name: (lambda data=data[name]: zd.fit(estimator(args.epochs), data)) for name in names}
        contenders["one machine"] = lambda: estimator(args.epochs).fit(local_data)
        times, models = {name: [] for name in contenders}, {}
        for _ in range(args.repeats):
            for name, fit in contenders.items():
                start = time.perf_counter()
                fitted = fit()
                times[name].append((time.perf_counter() - start) / args.epochs)
                models[name] = (fitted.coef_, fitted.intercept_)
        breakdown = {name: epoch_breakdown(clients[name], data[name], args.epochs) for name in names}
        trips = {name: round_trips(clients[name]) for name in names}
    epoch = {name: float(np.median(t)) for name, t in times.items()}
    print(f"packed data {data[names[0]].nbytes / 2**20:.0f} MiB")
    print("| | quantize (s) | epoch (s), median | epochs (s) | round trip (ms): empty task / actor call / direct |")
    print("|---|---|---|---|---|")
    for name in names:
        task, call, direct = trips[name]
        print(f"| {name} | {quantize_s[name]:.2f} | {epoch[name]:.3f} | {', '.join(f'{t:.3f}' for t in times[name])} "
              f"| {task * 1e3:.1f} / {call * 1e3:.1f} / {direct * 1e3:.1f} |")
    print(f"| one machine, n_jobs=2 threads, data in memory | | {epoch['one machine']:.3f} | "
          f"{', '.join(f'{t:.3f}' for t in times['one machine'])} | |")
    print("\nper epoch, one more fit with its blocks timed on the workers (seconds):\n")
    print("| | wall | a block running | no block running | blocks at once | blocks | a block (mean) |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        b = breakdown[name]
        print(f"| {name} | {b['wall']:.3f} | {b['busy']:.3f} | {b['idle']:.3f} | {b['overlap']:.2f} | "
              f"{b['blocks']:.0f} | {b['block']:.4f} |")
    ratios = np.array(times[names[0]]) / np.array(times[names[1]])
    print(f"epoch speedup, 2 workers over 1: {epoch[names[0]] / epoch[names[1]]:.2f}x (ratio of medians), "
          f"{np.median(ratios):.2f}x (median of the {args.repeats} interleaved ratios); "
          f"quantization: {quantize_s[names[0]] / quantize_s[names[1]]:.2f}x")
    coef, intercept = models["one machine"]
    equal = all(np.array_equal(models[name][0], coef) and models[name][1] == intercept for name in names)
    print(f"models of 1 worker, 2 workers and one machine equal bit for bit: {equal}")
    if not equal:
        raise SystemExit("the distributed models differ from the single-machine scheme")


if __name__ == "__main__":
    main()
