"""The "cans and cannots" of non-linear models, measured (the paper's non-linear models).

Logistic regression (polynomial approximation with multiple sampling) and linear SVM
(double sampling with and without refetching) at 2, 4, 6, 8 bits, against deterministic
nearest rounding and fp32, on breast cancer and digits (one-vs-rest) from scikit-learn.
Writes nonlinear.png and nonlinear.json and prints the table.

Usage: python scripts/nonlinear_bits.py [OUT_DIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zipml_hls import experiments, plots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=".")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {name: experiments.nonlinear(split, epochs=args.epochs)
               for name, split in experiments.classification_datasets().items()}
    plots.nonlinear_accuracy(results, out / "nonlinear.png")
    (out / "nonlinear.json").write_text(json.dumps(results, indent=2))
    for name, by_loss in results.items():
        for loss, rows in by_loss.items():
            print(f"{name} / {loss}")
            for r in rows:
                extra = "" if r["refetched"] is None else f"  refetched {r['refetched']:.0%}"
                print(f"  {r['mode']:34s} {r['bits']:2d} bits: accuracy {r['accuracy']:.3f}  "
                      f"training loss {r['train_loss']:.4f}{extra}")


if __name__ == "__main__":
    main()
