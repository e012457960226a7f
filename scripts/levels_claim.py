"""The variance-optimal levels claim, measured (the paper: up to 1.7x fewer bits).

For data with skewed features (heavy-tailed synthetic data and scikit-learn's breast
cancer set), finds the fewest bits at which uniform and at which optimal levels reach the
fp32 final training loss within 1%, with double and with naive sampling, and prints the
ratio of stored bits per value. Writes levels_vs_bits.png and levels_claim.json.

Usage: python scripts/levels_claim.py [OUT_DIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zipml_hls import experiments, plots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=".")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    claims = {name: experiments.levels_claim(X, y, epochs=args.epochs)
              for name, (X, y) in experiments.skewed_datasets().items()}
    plots.levels_loss_vs_bits(claims, out / "levels_vs_bits.png")
    (out / "levels_claim.json").write_text(json.dumps(claims, indent=2))
    for name, c in claims.items():
        for sampling in ("double", "naive"):
            r = c[sampling]
            print(f"{name:24s} {sampling:6s} fewest bits within 1% of fp32: uniform {r['uniform']['fewest_bits']} "
                  f"({r['uniform']['stored_bits']} stored), optimal {r['optimal']['fewest_bits']} "
                  f"({r['optimal']['stored_bits']} stored): {r['stored_bits_ratio']:.2f}x fewer stored bits")


if __name__ == "__main__":
    main()
