"""zipml_hls.dask on this machine: an epoch on 2 workers against 1 worker.

A 4-bit double-sampled data set of 1 GiB as float32 (262144 x 1024 uniform values, labels
a linear function plus noise), generated on the workers of a LocalCluster of processes
with one thread each, quantized there (zipml_hls.dask.quantize, 2 shards) and trained with
the sharded scheme (n_jobs=2, shuffle=False, a fixed schedule). On each cluster: the
quantization time, fit() for EPOCHS epochs (median of REPEATS) divided by the epochs, and
the round trip of an empty task (the least latency each round of blocks pays).
Then one more fit on each, recorded by the scheduler's task stream, splits an epoch into the
time a block runs somewhere and the time none does (the overheads). Checks that the models of 1 worker, 2 workers and a single-machine fit of the gathered data
(n_jobs=2 threads) are equal bit for bit.

Usage: python scripts/dask_speed.py [--gib 1.0] [--features 1024] [--epochs 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, get_task_stream

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


def epoch_breakdown(client, data, epochs: int) -> dict:
    """One more fit, recorded by the scheduler's task stream: per epoch, the client's wall
    time; the time some worker runs a block (the union of the blocks' compute intervals);
    the summed compute of the blocks (over the union: how many ran at once, on average);
    the rest, when no block runs anywhere (the scheduler's round trips, transfers, the
    client's averaging and the fit's set-up, spread over the epochs); and the transfers
    between workers and the deserialization the stream records."""
    with get_task_stream(client) as stream:
        start = time.time()
        zd.fit(estimator(epochs), data)
        wall = time.time() - start
    parts = [part for record in stream.data if "_block_task" in str(record["key"]) for part in record["startstops"]]
    compute = sorted((p["start"], p["stop"]) for p in parts if p["action"] == "compute")
    union, reach = 0.0, -np.inf
    for a, b in compute:  # the length of the union of the intervals
        union += max(0.0, b - max(a, reach))
        reach = max(reach, b)
    total = sum(b - a for a, b in compute)
    moved = {action: sum(p["stop"] - p["start"] for p in parts if p["action"] == action) / epochs
             for action in ("transfer", "deserialize")}
    return dict(wall=wall / epochs, busy=union / epochs, idle=(wall - union) / epochs, overlap=total / union,
                blocks=len(compute) / epochs, **moved)


def on_cluster(workers: int, n: int, d: int, epochs: int, repeats: int) -> dict:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        X, y = make_data(n, d)
        start = time.perf_counter()
        data = zd.quantize(X, 4, y=y, shards=2, client=client)
        quantize_s = time.perf_counter() - start
        times, fitted = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            fitted = zd.fit(estimator(epochs), data)
            times.append((time.perf_counter() - start) / epochs)
        breakdown = epoch_breakdown(client, data, epochs)
        local = data.gather() if workers == 1 else None
        trips = []
        for i in range(50):  # the latency a round pays at least once: an empty task there and back
            start = time.perf_counter()
            client.submit(int, i, pure=False).result()
            trips.append(time.perf_counter() - start)
        return dict(quantize_s=quantize_s, epoch_s=float(np.median(times)), epochs=times, coef=fitted.coef_,
                    intercept=fitted.intercept_, local=local, nbytes=data.nbytes, trip_s=float(np.median(trips)),
                    breakdown=breakdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="size of the data as float32 (GiB)")
    parser.add_argument("--features", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    d = args.features
    n = int(args.gib * 2**30) // (4 * d)
    print(f"{n} x {d} float32 ({n * d * 4 / 2**30:.2f} GiB), 4-bit double sampling, 2 shards of blocks of "
          f"{zd.BLOCK_ROWS} rows, fit() for {args.epochs} epochs, median of {args.repeats}")
    one = on_cluster(1, n, d, args.epochs, args.repeats)
    two = on_cluster(2, n, d, args.epochs, args.repeats)
    local_data = one.pop("local")
    start = time.perf_counter()
    local = estimator(args.epochs).fit(local_data)
    local_s = (time.perf_counter() - start) / args.epochs
    print(f"packed data {one['nbytes'] / 2**20:.0f} MiB")
    print("| | quantize (s) | epoch (s), median | epochs (s) | empty task round trip (ms), median of 50 |")
    print("|---|---|---|---|---|")
    for name, r in (("1 worker", one), ("2 workers", two)):
        print(f"| {name} | {r['quantize_s']:.2f} | {r['epoch_s']:.3f} | {', '.join(f'{t:.3f}' for t in r['epochs'])} "
              f"| {r['trip_s'] * 1e3:.1f} |")
    print(f"| one machine, n_jobs=2 threads, data in memory | | {local_s:.3f} | | |")
    print("\nper epoch, one more fit recorded by the task stream (seconds):\n")
    print("| | wall | a block running | no block running | blocks at once | blocks | transfer | deserialize |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in (("1 worker", one), ("2 workers", two)):
        b = r["breakdown"]
        print(f"| {name} | {b['wall']:.3f} | {b['busy']:.3f} | {b['idle']:.3f} | {b['overlap']:.2f} | "
              f"{b['blocks']:.0f} | {b['transfer']:.4f} | {b['deserialize']:.4f} |")
    print(f"epoch speedup, 2 workers over 1: {one['epoch_s'] / two['epoch_s']:.2f}x; "
          f"quantization: {one['quantize_s'] / two['quantize_s']:.2f}x")
    equal = all(np.array_equal(r["coef"], local.coef_) and r["intercept"] == local.intercept_ for r in (one, two))
    print(f"models of 1 worker, 2 workers and one machine equal bit for bit: {equal}")
    if not equal:
        raise SystemExit("the distributed models differ from the single-machine scheme")


if __name__ == "__main__":
    main()
