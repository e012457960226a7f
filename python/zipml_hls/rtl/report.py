"""The RTL cross-check as a report: co-simulation against the golden model, measured cycles
against the cycle model, Yosys resources and logic delay, and the speedup over the 32-bit
engine from measured cycles (``zipml-hls hls rtl``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import fpga
from ..hls_flow import source_root
from ..data import atomic_write_bytes
from ..spec import format as F
from . import simulate
from .synthesize import synthesize
from .verilog import EngineConfig

#: the problem whose epoch cycles the report measures (the benchmark's feature count)
CYCLE_ROWS, CYCLE_FEATURES, CYCLE_EPOCHS = 64, 2048, 2


def read_case(folder: Path) -> dict:
    """A golden-vector case (scripts/make_golden_vectors.py): its parameters and arrays."""
    params = {k: int(v) for k, v in (line.split() for line in (folder / "params.txt").read_text().splitlines())}
    arrays = {p.stem: np.fromfile(p, dtype={"u64": "<u8", "i32": "<i4"}[p.suffix[1:]])
              for p in folder.iterdir() if p.suffix in (".u64", ".i32")}
    return {**params, **arrays}


def golden_cases(cfg: EngineConfig, vectors: Path | None = None) -> list[Path]:
    """The sgd golden vectors the engine covers: plain least squares on uniform levels at
    its bits and sampling, default options (the fixed32 engine has none)."""
    vectors = vectors or source_root() / "testbench" / "vectors"
    if cfg.fixed32 or not (vectors / "index.txt").is_file():
        return []
    kernel_id = F.SAMPLINGS[cfg.sampling].kernel_id
    out = []
    for line in (vectors / "index.txt").read_text().split("\n"):
        if not line.startswith("sgd "):
            continue
        folder = vectors / line.split()[1]
        p = read_case(folder)
        options = ("loss", "model_bits", "grad_bits", "feature_shifts", "stored_variance")
        row_options = ("sample_weights", "decay", "l1")  # arrays of the case when set
        if p["tables"] or any(p.get(k, 0) for k in options) or any(k in p for k in row_options):
            continue
        if p["bits"] == cfg.bits and p["sampling"] == kernel_id:
            out.append(folder)
    return out


def run_golden_case(sim: Path, cfg: EngineConfig, folder: Path) -> dict:
    """One golden vector on the RTL: equal or not, and the measured against the modelled
    cycles of each epoch after the first."""
    p = read_case(folder)
    data = p["data"].reshape(p["n_copies"], p["n"], -1)
    history, ends = simulate.run(sim, cfg, data, p["labels"], p["model_in"], p["d"], p["epochs"], p["step_shift"],
                                 p["decay_epochs"], p.get("rng_seed", 0))
    want = p["expected"].reshape(history.shape)
    return {"case": folder.name, "n": p["n"], "d": p["d"], "equal": bool(np.array_equal(history, want)),
            "values_differing": int((history != want).sum()), **_cycles(cfg, ends, p["n"], data.shape[2] // 8)}


def _cycles(cfg: EngineConfig, ends: np.ndarray, n: int, lines: int) -> dict:
    per_epoch = np.diff(np.r_[0, ends]).tolist()
    per_epoch[0] -= cfg.run_setup  # the first epoch also computes the run's key
    model = cfg.epoch_cycles(n, lines)
    return {"lines_per_row": lines, "measured_epoch_cycles": per_epoch, "model_epoch_cycles": model,
            "max_model_error": max(abs(c - model) / model for c in per_epoch)}


def cycle_problem(cfg: EngineConfig, n: int = CYCLE_ROWS, d: int = CYCLE_FEATURES, seed: int = 0):
    """A random least-squares problem in the engine's format: (lines, labels, model_in,
    the golden model's history after CYCLE_EPOCHS epochs at step 2^-6, halved every epoch,
    or None for the 32-bit engine, whose golden twin reference.sgd_fixed32 only the tests
    call: the golden model is reached through the kernel boundary, which has no fixed32)."""
    from .. import quantize
    from ..backend import get_backend

    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    labels = F.to_fixed(X @ rng.uniform(-1, 1, size=d) / d, F.LABEL_FRAC)
    model_in = np.zeros(d + 1, np.int32)
    if cfg.fixed32:
        return simulate.fixed32_lines(np.rint(X * F.POS_ONE).astype(np.uint32)), labels, model_in, None
    lines = quantize(X, cfg.bits, sampling=cfg.sampling, seed=seed).lines
    want = get_backend("reference").sgd_linear(lines, labels, d, cfg.bits, cfg.sampling, CYCLE_EPOCHS, 6, 1,
                                               F.dot_mult(cfg.bits), model_in, seed=seed).history
    return lines, labels, model_in, want


def check_engine(cfg: EngineConfig, synth: bool = True) -> dict:
    """Co-simulate ``cfg`` on its golden vectors and the cycle problem, and synthesize it."""
    sim = simulate.build(cfg)
    result = {"engine": cfg.name, "bits": cfg.bits, "sampling": cfg.sampling, "lanes": cfg.lanes,
              "row_latency": cfg.row_latency, "golden": [run_golden_case(sim, cfg, f) for f in golden_cases(cfg)]}
    lines, labels, model_in, want = cycle_problem(cfg)
    history, ends = simulate.run(sim, cfg, lines, labels, model_in, CYCLE_FEATURES, CYCLE_EPOCHS, 6, 1)
    equal = None if want is None else bool(np.array_equal(history, want))
    result["cycle_problem"] = {"n": CYCLE_ROWS, "d": CYCLE_FEATURES, "equal": equal,
                               **_cycles(cfg, ends, CYCLE_ROWS, lines.shape[2] // 8)}
    result["synthesis"] = synthesize(cfg) if synth else None
    return result


def run(configs: list[EngineConfig], out: Path, synth: bool = True, say=print) -> dict:
    """Check every engine and the 32-bit baseline; write rtl.json and rtl.md to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    baseline = EngineConfig(*fpga.BASELINE)
    engines = [c for c in configs if c != baseline] + [baseline]
    results = []
    for cfg in engines:
        say(f"{cfg.name}: Verilator co-simulation" + (" and Yosys synthesis" if synth else ""))
        results.append(check_engine(cfg, synth))
    base = results[-1]
    base_cycles = base["cycle_problem"]["measured_epoch_cycles"][-1]
    delays = [r["synthesis"]["logic_delay_ns"] for r in results if r["synthesis"]]
    clock_ns = max(delays) if delays else None
    for r in results:
        cycles = r["cycle_problem"]["measured_epoch_cycles"][-1]
        r["speedup_vs_32bit"] = base_cycles / cycles
    report = {"engines": results, "common_clock_ns": clock_ns,
              "cycle_problem": {"n": CYCLE_ROWS, "d": CYCLE_FEATURES, "epochs": CYCLE_EPOCHS},
              "paper_best_speedup": fpga.PAPER_BEST_SPEEDUP}
    atomic_write_bytes(out / "rtl.json", json.dumps(report, indent=2).encode())
    atomic_write_bytes(out / "rtl.md", render(report).encode())
    return report


def all_equal(report: dict) -> bool:
    return all(g["equal"] for r in report["engines"] for g in r["golden"]) and \
        all(r["cycle_problem"]["equal"] is not False for r in report["engines"])


def render(report: dict) -> str:
    p = report["cycle_problem"]
    lines = ["# RTL cross-check of the SGD engine", "",
             "Generated Verilog (zipml_hls.rtl.verilog) co-simulated under Verilator against the golden model, "
             "bit for bit; epoch cycles measured in the simulation against the cycle model (zipml_hls.fpga); "
             "Yosys `synth_xilinx -family xcup -abc9` for resources and `sta` for the logic delay.", "",
             "| engine | golden vectors equal | cycle problem equal | measured cycles/epoch | model | error |",
             "|---|---|---|---|---|---|"]
    for r in report["engines"]:
        c = r["cycle_problem"]
        golden = f"{sum(g['equal'] for g in r['golden'])}/{len(r['golden'])}" if r["golden"] else "- (none)"
        equal = {True: "yes", False: "NO", None: "- (tests/test_rtl.py)"}[c["equal"]]
        lines.append(f"| {r['engine']} | {golden} | {equal} | "
                     f"{c['measured_epoch_cycles'][-1]} | {c['model_epoch_cycles']} | {c['max_model_error']:.1%} |")
    lines += ["", f"Cycle problem: {p['n']} rows x {p['d']} features, {p['epochs']} epochs; the memory model "
              "answers one 512-bit line per cycle, one cycle after the request.", ""]
    synth = [r for r in report["engines"] if r["synthesis"]]
    if synth:
        lines += ["## Yosys synthesis for UltraScale+ (model of 8192 features on chip)", "",
                  "| engine | lanes | LUT | FF | DSP48E2 | BRAM36 | LUTRAM | logic delay ns | Yosys CPU s |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in synth:
            s = r["synthesis"]
            lines.append(f"| {r['engine']} | {r['lanes']} | {s['lut']} | {s['ff']} | {s['dsp']} | {s['bram36']:g} | "
                         f"{s['lutram']} | {s['logic_delay_ns']:.2f} | {s['yosys_cpu_s']} |")
        lines += ["", "Logic delay: Yosys `sta` over LUT and flip-flop arcs; carry chains, MUXF7/F8, DSP48E2 and "
                  "block RAM have no timing arcs in Yosys 0.23's cell library and routing is not modelled, so it is "
                  "a lower bound on the clock period that only place and route can replace.", ""]
    clock = report["common_clock_ns"]
    lines += ["## Speedup over the 32-bit engine, from measured cycles", "",
              "| engine | stored bits | cycles/epoch | speedup |", "|---|---|---|---|"]
    for r in report["engines"]:
        lines.append(f"| {r['engine']} | {fpga.stored_bits(r['bits'], r['sampling'])} | "
                     f"{r['cycle_problem']['measured_epoch_cycles'][-1]} | {r['speedup_vs_32bit']:.2f}x |")
    slowest = f", the slowest logic delay above ({clock:.2f} ns)" if clock else ""
    lines += ["", ("At one clock for all engines" + slowest
                   + ", the speedup in time equals the ratio of cycles. "
                   f"The paper measured up to {report['paper_best_speedup']}x on its FPGA."), ""]
    return "\n".join(lines)
