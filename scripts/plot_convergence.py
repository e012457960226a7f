"""Training loss per epoch for fp32 and for 1, 2, 4, 8 bits under each sampling mode.

Usage: python scripts/plot_convergence.py [OUT.png] [--epochs N]
Writes the PNG (default convergence.png) and prints the final losses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zipml_hls import experiments, plots
from zipml_hls.spec.format import precision_label

PRECISIONS = [(32, "fp32")] + [(b, s) for b in (8, 4, 2, 1) for s in ("double", "naive", "nearest")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="convergence.png")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    results = {name: experiments.convergence(X, y, epochs=args.epochs, precisions=PRECISIONS)
               for name, (X, y) in experiments.regression_datasets(20_000, 200).items()}
    plots.convergence(results, Path(args.out))
    for name, rows in results.items():
        print(name)
        for r in rows:
            label = precision_label(r["bits"], r["sampling"])
            print(f"  {label:18s} final loss {r['final_loss']:.6g}")


if __name__ == "__main__":
    main()
