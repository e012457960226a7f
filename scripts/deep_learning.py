"""A little bit of deep learning, measured: small networks trained with quantized weights
(zipml_hls.torch) on digits and shifted digits, every scheme at 1-4 bits and fp32, over
several seeds; and how often optimal levels must be recomputed. Needs torch
(pip install "zipml-hls[torch]").

Writes deep_learning.json, deep_learning.md (the report's section 8 and the refresh table)
and deep_learning.png into OUT_DIR, and prints the markdown.

Usage: python scripts/deep_learning.py [OUT_DIR] [--seeds N] [--epochs N] [--networks mlp cnn]
       [--no-refresh-study]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from zipml_hls import deep_learning, plots
from zipml_hls.reproduce import deep_learning_section


def refresh_table(task_name: str, bits_list=(2, 3)) -> list:
    """Markdown rows of the refresh study (MLP, seed 0, 15 epochs, one thread)."""
    torch.set_num_threads(1)
    task = deep_learning.load_task(task_name)
    lines = [f"Optimal levels recomputed every R steps ({task_name}, MLP, seed 0, 15 epochs of 11 steps; "
             "rounding variance of all quantized weights, measured every 10 steps, relative to levels "
             "computed afresh):", "", "| bits | R | stale / fresh | uniform / fresh | train s | accuracy |",
             "|---|---|---|---|---|---|"]
    for bits in bits_list:
        for row in deep_learning.refresh_study(task, "mlp", bits):
            lines.append(f"| {bits} | {row['refresh']} | {row['stale_over_fresh']:.3f} | "
                         f"{row['uniform_over_fresh']:.3f} | {row['train_seconds']:.2f} | {row['accuracy']:.3f} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=".")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--networks", nargs="+", choices=deep_learning.NETWORKS, default=list(deep_learning.NETWORKS))
    parser.add_argument("--no-refresh-study", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dl = deep_learning.experiment(networks=args.networks, seeds=range(args.seeds), epochs=args.epochs,
                                  progress=lambda p: print(p, file=sys.stderr, flush=True))
    lines = deep_learning_section(dl)
    if not args.no_refresh_study:
        lines += refresh_table("digits")
    plots.deep_learning_accuracy(dl["results"], out / "deep_learning.png")
    (out / "deep_learning.json").write_text(json.dumps(dl, indent=2))
    (out / "deep_learning.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
