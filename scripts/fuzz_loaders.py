"""Coverage-guided fuzzing of the file loaders with atheris (``pip install atheris``):
every input must load or raise the loader's own error (ModelFileError, DataError,
QuantizedFileError); any
other exception, a crash or a hang is a finding, written to ``--artifacts``.

Usage: python scripts/fuzz_loaders.py {model,npz,csv,libsvm,quantized} [--seconds 60] [--artifacts DIR]
The seed inputs are in tests/fuzz_corpus/<target>/ (``python scripts/fuzz_loaders.py
write-corpus`` makes them anew).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fuzz_corpus"
TARGETS = ("model", "npz", "csv", "libsvm", "quantized")


def write_corpus() -> None:
    """Small valid files of each kind (a 2-epoch diabetes model, 12-row data sets, their
    3-bit quantization with optimal levels)."""
    import io
    import warnings

    import numpy as np
    from sklearn.datasets import dump_svmlight_file, load_diabetes

    from zipml_hls import ZipMLRegressor, quantize
    from zipml_hls.model_io import save_model

    X, y = load_diabetes(return_X_y=True)
    X, y = X[:12, :4], y[:12]
    for target in TARGETS:
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        save_model(ZipMLRegressor(bits=4, max_iter=2, decay_epochs=0, random_state=0).fit(X, y),
                   CORPUS / "model" / "regressor.zipml")
    buf = io.BytesIO()
    np.savez(buf, X=X, y=y)
    (CORPUS / "npz" / "diabetes.npz").write_bytes(buf.getvalue())
    text = io.StringIO()
    np.savetxt(text, np.column_stack([y, X]), delimiter=",", header="y,a,b,c,d", comments="", fmt="%.6g")
    (CORPUS / "csv" / "diabetes.csv").write_text(text.getvalue())
    dump_svmlight_file(X, y, str(CORPUS / "libsvm" / "diabetes.libsvm"))
    quantize(X, 3, levels="optimal", y=y).save(CORPUS / "quantized" / "diabetes.zq")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS + ("write-corpus",))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--artifacts", default=tempfile.gettempdir(), help="folder for crashing inputs")
    parser.add_argument("--work", help=argparse.SUPPRESS)  # the fuzzing process's scratch folder
    args = parser.parse_args()
    if args.target == "write-corpus":
        write_corpus()
    elif args.work is None:
        # libFuzzer ends the process with C's exit(), past Python's cleanup: the scratch
        # folder (the inputs it finds, the file each input is written to) is this
        # process's, around a child that fuzzes
        with tempfile.TemporaryDirectory(prefix=f"zipml-fuzz-{args.target}-") as work:
            sys.exit(subprocess.call([sys.executable, __file__, args.target, "--seconds", str(args.seconds),
                                      "--artifacts", args.artifacts, "--work", work]))
    else:
        fuzz(args.target, args.seconds, args.artifacts, Path(args.work))


def fuzz(target: str, seconds: int, artifacts: str, work: Path) -> None:
    import atheris

    with atheris.instrument_imports(include=["zipml_hls"]):
        from zipml_hls import data
        from zipml_hls.model_io import ModelFileError, load_model
        from zipml_hls.quantized_io import QuantizedFileError, load_quantized
    load, expected = {"model": (load_model, ModelFileError), "npz": (data.load_npz, data.DataError),
                      "quantized": (load_quantized, QuantizedFileError),
                      "csv": (data.load_csv, data.DataError),
                      "libsvm": (data.load_svmlight, data.DataError)}[target]
    path = work / f"input.{target}"

    def one_input(payload: bytes) -> None:
        path.write_bytes(payload)
        try:
            load(path)
        except expected:
            pass

    # libFuzzer adds the inputs it finds to its first corpus folder: the scratch one, so
    # the seeds in the repository stay as they are
    grown = work / "corpus"
    grown.mkdir()
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/", "-timeout=20",
                   "-rss_limit_mb=4096", str(grown), str(CORPUS / target)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
