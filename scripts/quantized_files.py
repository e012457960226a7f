"""Measurements of quantized data files (docs/FORMATS.md, "Quantized data files"): streaming
ingestion speed and peak memory, the cost of verifying a file at load, and epoch time from a
memory-mapped file against the same data in memory. Run each step in its own process (peak
RSS is per process); the commands and the figures they gave are in docs/FORMATS.md.

  python scripts/quantized_files.py make-npy OUT.npy ROWS FEATURES   # label, then features; float32
  python scripts/quantized_files.py make-csv OUT.csv ROWS FEATURES   # the same kind of table as CSV
  python scripts/quantized_files.py make-libsvm OUT ROWS FEATURES DENSITY  # sparse rows as LIBSVM (1-based)
  python scripts/quantized_files.py ingest SOURCE OUT.zq BITS [--sampling S] [--copies K] [--chunk-rows R] [--phases]
      [--parser P]                                                   # P: csv_blocks' fast parser (auto)
  python scripts/quantized_files.py parse-csv FILE.csv [--parser P]  # csv_blocks alone (no output)
  python scripts/quantized_files.py pandas FILE.csv                  # pandas.read_csv (a venv with pandas)
  python scripts/quantized_files.py versus-pandas FILE.csv [--rounds 5] [--parsers auto,pandas]
      # pandas.read_csv and ingestion with each fast parser, alternated; wall and CPU seconds
  python scripts/quantized_files.py verify FILE.zq                   # load with and without verification
  python scripts/quantized_files.py epochs FILE.zq [--epochs 5]      # epoch time: file vs memory
  python scripts/quantized_files.py sparse ROWS FEATURES DENSITY      # fit on a random CSR matrix
"""

from __future__ import annotations

import argparse
import resource
import threading
import time

import numpy as np


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


def _table_chunks(rows: int, features: int, chunk: int = 65536):
    """Label (a noisy linear function of the features), then the features, float32."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal(features).astype(np.float32)
    for start in range(0, rows, chunk):
        X = rng.random((min(chunk, rows - start), features), dtype=np.float32)
        y = X @ w + 0.1 * rng.standard_normal(X.shape[0]).astype(np.float32)
        yield np.column_stack([y, X])


def make_npy(out: str, rows: int, features: int) -> None:
    table = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(rows, features + 1))
    start = 0
    for chunk in _table_chunks(rows, features):
        table[start:start + len(chunk)] = chunk
        start += len(chunk)
    table.flush()


def make_csv(out: str, rows: int, features: int) -> None:
    with open(out, "w") as f:
        f.write(",".join(["y"] + [f"x{j}" for j in range(features)]) + "\n")
        for chunk in _table_chunks(rows, features):
            np.savetxt(f, chunk, delimiter=",", fmt="%.7g")


def make_libsvm(out: str, rows: int, features: int, density: float) -> None:
    """Rows of about ``density * features`` nonzero values in [0, 1), the label a noisy linear
    function of them, written by scikit-learn's dump_svmlight_file in blocks of rows."""
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(0)
    w = rng.standard_normal(features)
    with open(out, "wb") as f:
        for start in range(0, rows, 65536):
            X = sp.random(min(65536, rows - start), features, density=density, format="csr", random_state=rng)
            y = X @ w + 0.1 * rng.standard_normal(X.shape[0])
            dump_svmlight_file(X, y, f, zero_based=False)


class _AnonPeak:
    """Peak anonymous (not file-backed) resident memory, polled every 20 ms: mapped file
    pages are page cache the kernel can drop, anonymous pages are the process's own."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        self.peak = max(self.peak, int(line.split()[1]))
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _rss_gib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 2**20  # KiB -> GiB


class _PhasePeaks:
    """Peak resident memory (MiB) in each phase of a quantize_file call, polled every 5 ms;
    a phase starts when its function of ``zipml_hls.ingest`` is first called."""

    def __init__(self):
        import zipml_hls.ingest as ingest
        import zipml_hls.quantized_io as qio

        self.phase, self.peaks, self._stop = "imports", {}, threading.Event()
        for owner, name, phase in ((ingest, "_csv_to_scratch", "parse and pass 1"), (ingest, "_summary", "pass 1"),
                                   (ingest, "quantize_chunk", "pass 2"), (qio.QuantizedFileWriter, "finish",
                                                                          "checksums and header")):
            setattr(owner, name, self._marking(getattr(owner, name), phase))
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _marking(self, fn, phase):
        def marked(*args, **kwargs):
            self.phase = phase
            return fn(*args, **kwargs)
        return marked

    def _poll(self):
        while not self._stop.is_set():
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), _rss_gib() * 1024)
            self._stop.wait(0.005)

    def report(self) -> str:
        self._stop.set()
        self._thread.join()
        base = self.peaks["imports"]
        return "peak RSS by phase, MiB above the imports: " + ", ".join(
            f"{phase} {peak - base:+.0f}" for phase, peak in self.peaks.items() if phase != "imports")


def ingest(source: str, out: str, bits: int, sampling: str, copies: int, chunk_rows: int | None,
           phases: bool = False, parser: str = "auto") -> None:
    import os

    from zipml_hls.ingest import quantize_file

    imported = _rss_gib()  # the interpreter with zipml_hls (NumPy, SciPy, scikit-learn, pandas) imported
    by_phase = _PhasePeaks() if phases else None
    start = time.perf_counter()
    with _AnonPeak() as anon:
        quantize_file(source, out, bits, sampling=sampling, n_copies=copies, chunk_rows=chunk_rows, csv_parser=parser)
    seconds = time.perf_counter() - start
    if by_phase:
        print(by_phase.report())
    size, result = os.path.getsize(source), os.path.getsize(out)
    print(f"ingest {source} ({size / 2**20:.0f} MiB) -> {out} ({result / 2**20:.0f} MiB): {seconds:.1f} s, "
          f"{size / 2**20 / seconds:.0f} MiB/s; peak RSS {_peak_rss_gib():.2f} GiB ({_peak_rss_gib() - imported:.2f} "
          f"GiB above the {imported:.2f} GiB after the imports), peak anonymous RSS {anon.peak / 2**20:.2f} GiB")


def parse_csv(path: str, parser: str) -> None:
    import os

    from zipml_hls.data import csv_blocks

    start = time.perf_counter()
    rows = sum(len(y) for _, y, _, _ in csv_blocks(path, parser=parser))
    seconds = time.perf_counter() - start
    print(f"csv_blocks {path} (parser {parser}): {rows} rows, {seconds:.1f} s, "
          f"{os.path.getsize(path) / 2**20 / seconds:.0f} MiB/s; peak RSS {_peak_rss_gib():.2f} GiB")


def pandas_csv(path: str) -> None:
    import os

    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=np.float64)
    seconds = time.perf_counter() - start
    print(f"pandas.read_csv {path}: {len(frame)} rows, {seconds:.1f} s, "
          f"{os.path.getsize(path) / 2**20 / seconds:.0f} MiB/s; peak RSS {_peak_rss_gib():.2f} GiB")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process (pyarrow's too)
    return usage.ru_utime + usage.ru_stime


def versus_pandas(path: str, rounds: int, parsers: list[str]) -> None:
    """Ingestion (4-bit double, default chunks) with each of ``parsers`` (csv_blocks' fast
    parser) and pandas.read_csv of the whole file, alternated in one process (the machine's
    speed moves: each ratio compares neighbours); wall-clock and CPU seconds (user + system,
    every thread), the CPU time being the less moved by other processes' load."""
    import os
    import tempfile

    import pandas as pd

    from zipml_hls.ingest import quantize_file

    names = ["pandas.read_csv", *(f"ingest, parser {p}" for p in parsers)]
    wall, cpu = {n: [] for n in names}, {n: [] for n in names}
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as folder:
        for _ in range(rounds):
            for name in names:
                start, start_cpu = time.perf_counter(), _cpu_seconds()
                if name == "pandas.read_csv":
                    pd.read_csv(path, dtype=np.float64)
                else:
                    quantize_file(path, os.path.join(folder, "out.zq"), 4, csv_parser=name.rsplit(" ", 1)[1])
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(_cpu_seconds() - start_cpu)
    for name in names:
        print(f"{name}: median {np.median(wall[name]):.2f} s ({', '.join(f'{s:.2f}' for s in wall[name])}); CPU "
              f"median {np.median(cpu[name]):.2f} s ({', '.join(f'{s:.2f}' for s in cpu[name])})")
    for name in names[1:]:
        ratios = np.array(wall["pandas.read_csv"]) / np.array(wall[name])
        of_medians = np.median(wall["pandas.read_csv"]) / np.median(wall[name])
        print(f"{name}: speed / pandas.read_csv's, round by round {', '.join(f'{r:.2f}' for r in ratios)}; median "
              f"{np.median(ratios):.2f}, ratio of the medians {of_medians:.2f}; of the CPU medians "
              f"{np.median(cpu['pandas.read_csv']) / np.median(cpu[name]):.2f}")


def verify(path: str) -> None:
    import os

    from zipml_hls import load_quantized

    with open(path, "rb") as f:  # into the page cache first: the figure is the hashing, not the disk
        while f.read(64 << 20):
            pass
    size = os.path.getsize(path)
    for check in (False, True, False, True):
        start = time.perf_counter()
        load_quantized(path, verify=check)
        seconds = time.perf_counter() - start
        print(f"load_quantized({path}, verify={check}): {size / 2**30:.2f} GiB, {seconds:.3f} s")


def epochs(path: str, n_epochs: int) -> None:
    from dataclasses import replace

    from zipml_hls import ZipMLRegressor, load_quantized

    q = load_quantized(path)
    params = dict(bits=q.bits, sampling=q.sampling, levels=q.levels, max_iter=n_epochs, decay_epochs=0,
                  random_state=0)
    with _AnonPeak() as anon:
        ZipMLRegressor(**params).fit(q)  # warms the page cache; the figure is the next fit
        start = time.perf_counter()
        from_file = ZipMLRegressor(**params).fit(q)
        file_seconds = time.perf_counter() - start
    file_anon = anon.peak
    memory = replace(q, lines=np.array(q.lines), labels=np.array(q.labels))
    start = time.perf_counter()
    in_memory = ZipMLRegressor(**params).fit(memory)
    memory_seconds = time.perf_counter() - start
    float_gib = 4 * q.n_samples * q.n_features / 2**30
    print(f"{path}: {q.n_samples} x {q.n_features}, {q.bits}-bit {q.sampling} ({q.nbytes / 2**30:.2f} GiB packed; "
          f"float32 form {float_gib:.2f} GiB); {n_epochs} epochs: from the file {file_seconds:.2f} s "
          f"({file_seconds / n_epochs:.3f} s/epoch, peak anonymous RSS {file_anon / 2**20:.2f} GiB), in memory "
          f"{memory_seconds:.2f} s ({memory_seconds / n_epochs:.3f} s/epoch): ratio {file_seconds / memory_seconds:.2f}; "
          f"same model: {np.array_equal(from_file.coef_, in_memory.coef_)}")


def sparse(rows: int, features: int, density: float) -> None:
    import scipy.sparse as sp

    from zipml_hls import ZipMLRegressor

    rng = np.random.default_rng(0)
    X = sp.random(rows, features, density=density, format="csr", random_state=0, data_rvs=rng.standard_normal)
    y = X @ rng.standard_normal(features) + 0.1 * rng.standard_normal(rows)
    csr = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**30
    with _AnonPeak() as anon:
        start = time.perf_counter()
        model = ZipMLRegressor(bits=4, max_iter=5, decay_epochs=0, random_state=0).fit(X, y)
        seconds = time.perf_counter() - start
    print(f"fit on a {rows} x {features} CSR matrix at density {density} ({csr:.3f} GiB; dense float32 "
          f"{4 * rows * features / 2**30:.2f} GiB, float64 {8 * rows * features / 2**30:.2f} GiB): {seconds:.1f} s for "
          f"5 epochs, R^2 {model.score(X, y):.4f}; peak anonymous RSS {anon.peak / 2**20:.2f} GiB, peak RSS "
          f"{_peak_rss_gib():.2f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("make-npy", "make-csv"):
        p = sub.add_parser(name)
        p.add_argument("out")
        p.add_argument("rows", type=int)
        p.add_argument("features", type=int)
    p = sub.add_parser("make-libsvm")
    p.add_argument("out")
    p.add_argument("rows", type=int)
    p.add_argument("features", type=int)
    p.add_argument("density", type=float)
    p = sub.add_parser("ingest")
    p.add_argument("source")
    p.add_argument("out")
    p.add_argument("bits", type=int)
    p.add_argument("--sampling", default="double")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--chunk-rows", type=int)
    p.add_argument("--phases", action="store_true", help="the peak RSS of each phase (polled every 5 ms)")
    p.add_argument("--parser", default="auto", help="csv_blocks' fast parser: auto, pyarrow, pandas or numpy")
    for name in ("pandas", "verify"):
        sub.add_parser(name).add_argument("path")
    p = sub.add_parser("parse-csv")
    p.add_argument("path")
    p.add_argument("--parser", default="auto")
    p = sub.add_parser("versus-pandas")
    p.add_argument("path")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--parsers", default="auto", help="comma-separated fast parsers of csv_blocks to time")
    p = sub.add_parser("sparse")
    p.add_argument("rows", type=int)
    p.add_argument("features", type=int)
    p.add_argument("density", type=float)
    p = sub.add_parser("epochs")
    p.add_argument("path")
    p.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    if args.command == "make-npy":
        make_npy(args.out, args.rows, args.features)
    elif args.command == "make-csv":
        make_csv(args.out, args.rows, args.features)
    elif args.command == "make-libsvm":
        make_libsvm(args.out, args.rows, args.features, args.density)
    elif args.command == "ingest":
        ingest(args.source, args.out, args.bits, args.sampling, args.copies, args.chunk_rows, args.phases, args.parser)
    elif args.command == "parse-csv":
        parse_csv(args.path, args.parser)
    elif args.command == "pandas":
        pandas_csv(args.path)
    elif args.command == "versus-pandas":
        versus_pandas(args.path, args.rounds, args.parsers.split(","))
    elif args.command == "verify":
        verify(args.path)
    elif args.command == "sparse":
        sparse(args.rows, args.features, args.density)
    else:
        epochs(args.path, args.epochs)


if __name__ == "__main__":
    main()
