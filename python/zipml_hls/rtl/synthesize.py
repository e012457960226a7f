"""Yosys synthesis of a generated engine for an AMD UltraScale+ part.

``synth_xilinx -family xcup -abc9`` maps the engine onto UltraScale+ primitives (LUTs,
flip-flops, DSP48E2, block and distributed RAM); ``stat`` counts them and ``sta`` reports
the latest arrival time over the mapped netlist. What ``sta`` sees: the LUT and flip-flop
timing arcs of Yosys' cell library. What it does not: carry chains, MUXF7/F8, DSP48E2 and
block RAM (no arcs in Yosys 0.23's library), routing, and placement. Its figure is a lower
bound on the clock period; only a place and route (Vivado) gives the real one."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path

from . import verilog
from .simulate import cache_dir, require_tool
from .verilog import EngineConfig

LUTS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")
FFS = ("FDRE", "FDSE", "FDCE", "FDPE")
LUTRAMS = ("RAM32M", "RAM32M16", "RAM64M", "RAM64M8", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM256X1D", "RAM512X1S")


def parse_stat(log: str) -> dict:
    """Cell counts of the last ``stat`` in a Yosys log."""
    block = log[log.rindex("Number of cells"):]
    block = block[:block.index("\n\n")] if "\n\n" in block else block
    cells = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(\d+)\s*$", block, re.M)}
    return {
        "lut": sum(cells.get(c, 0) for c in LUTS),
        "ff": sum(cells.get(c, 0) for c in FFS),
        "dsp": cells.get("DSP48E2", 0),
        "bram36": cells.get("RAMB36E2", 0) + cells.get("RAMB18E2", 0) / 2,
        "lutram": sum(cells.get(c, 0) for c in LUTRAMS),
        "carry": cells.get("CARRY8", 0) + cells.get("CARRY4", 0),
        "cells": cells,
    }


def parse_sta(log: str) -> dict:
    """The latest arrival time (ns) of ``sta`` and the cells on that path, first to last:
    the indented lines after "Latest arrival time", up to the first other line."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"Latest arrival time in '[^']*' is (\d+):", line)
        if m:
            break
    else:
        raise ValueError("the Yosys log has no sta result")
    path = []
    for line in lines[i + 1:]:
        if line.startswith("Warning: Critical-path"):  # it ends at a cell without timing arcs
            continue
        if not line[:1].isspace():
            break
        cell = re.search(r"\(([A-Z0-9_]+\.[A-Z0-9]+(?:->[A-Z0-9]+)?)\)\s*$", line)
        if cell:
            path.append(cell.group(1))
    return {"logic_delay_ns": int(m.group(1)) / 1000.0, "path_cells": path[::-1]}


def script(cfg: EngineConfig, src: Path) -> str:
    """The Yosys script that synthesizes the engine in ``src``."""
    return f"read_verilog {src}; synth_xilinx -family xcup -top {cfg.name} -flatten -abc9; stat; sta"


def summarize(cfg: EngineConfig, log: str) -> dict:
    """Resources, logic delay and Yosys' CPU time from the log of ``script``."""
    cpu = re.search(r"CPU: user ([0-9.]+)s system ([0-9.]+)s", log)
    return {"engine": cfg.name, "bits": cfg.bits, "sampling": cfg.sampling, "lanes": cfg.lanes,
            "max_features": verilog.MAX_FEATURES, **parse_stat(log), **parse_sta(log),
            "yosys_cpu_s": round(float(cpu.group(1)) + float(cpu.group(2)), 1) if cpu else None,
            "command": f"yosys -p '{script(cfg, Path(cfg.name + '.v'))}'"}


def cache_path(cfg: EngineConfig) -> Path:
    """Where the synthesis result of ``cfg`` is cached: keyed by its Verilog and Yosys' version."""
    version = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256((verilog.generate(cfg) + version).encode()).hexdigest()[:16]
    return cache_dir() / f"{cfg.name}-{digest}.synth.json"


def start(cfg: EngineConfig, folder: Path) -> subprocess.Popen:
    """Starts Yosys on ``cfg``: its Verilog and the Yosys log are written into ``folder``.
    ``finish`` waits for it and reads the log."""
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{cfg.name}.v"
    src.write_text(verilog.generate(cfg))
    with open(folder / f"{cfg.name}.yosys.err", "w") as err:  # (the child keeps its own handle)
        return subprocess.Popen(["yosys", "-q", "-l", str(folder / f"{cfg.name}.yosys.log"), "-p", script(cfg, src)],
                                stdout=subprocess.DEVNULL, stderr=err)


def finish(cfg: EngineConfig, process: subprocess.Popen, folder: Path) -> dict:
    """The result of ``start(cfg, folder)``: resources, the logic delay and Yosys' CPU time."""
    if process.wait() != 0:
        err = (folder / f"{cfg.name}.yosys.err").read_text().strip()
        raise RuntimeError(f"yosys failed for {cfg.name}: {err[-2000:]}")
    return summarize(cfg, (folder / f"{cfg.name}.yosys.log").read_text())


def synthesize(cfg: EngineConfig, out: Path | None = None) -> dict:
    """Synthesize ``cfg`` with Yosys; returns resources, the logic delay and Yosys' CPU
    time. With ``out``, the Verilog and the Yosys log are kept there. Results are cached
    by the Verilog text and the Yosys version (a synthesis takes minutes)."""
    require_tool("yosys")
    cached = cache_path(cfg)
    if cached.is_file() and out is None:
        return json.loads(cached.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        result = finish(cfg, start(cfg, folder), folder)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    return result
