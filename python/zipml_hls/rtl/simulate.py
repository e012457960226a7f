"""Verilator co-simulation of a generated engine against the golden model.

``build(cfg)`` writes the engine's Verilog and compiles it with the harness (harness.cpp)
into a simulator, cached by a hash of both texts; ``run(...)`` feeds it a problem and
returns the model history and the cycle at which each epoch ended."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import verilog
from .verilog import EngineConfig

HARNESS = Path(__file__).with_name("harness.cpp")


class ToolMissing(RuntimeError):
    """A tool the RTL flow needs (verilator, yosys) is not on PATH."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"'{name}' is not on PATH (Debian/Ubuntu: apt-get install {name})")
    return path


def cache_dir() -> Path:
    root = os.environ.get("ZIPML_RTL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zipml-hls", "rtl")
    return Path(root)


def build(cfg: EngineConfig, jobs: int = 2) -> Path:
    """The simulator of ``cfg`` (built with Verilator on first use, then cached)."""
    require_tool("verilator")
    text = verilog.generate(cfg)
    digest = hashlib.sha256((text + HARNESS.read_text()).encode()).hexdigest()[:16]
    folder = cache_dir() / f"{cfg.name}-{digest}"
    sim = folder / "sim"
    if sim.exists():
        return sim
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{cfg.name}.v").write_text(text)
    work = Path(tempfile.mkdtemp(dir=folder))
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", str(jobs), "-Wno-fatal", "-Wno-lint", "-Wno-style",
           "--top-module", cfg.name, "--prefix", "Vengine", "-Mdir", str(work), "-CFLAGS", "-O1",
           "-o", "sim", str(folder / f"{cfg.name}.v"), str(HARNESS)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"verilator failed for {cfg.name}:\n{done.stderr[-4000:]}")
    os.replace(work / "sim", sim)
    shutil.rmtree(work, ignore_errors=True)
    return sim


def run(sim: Path, cfg: EngineConfig, lines: np.ndarray, labels, model_in, d: int, epochs: int, step_shift: int,
        decay_epochs: int, seed: int = 0):
    """Run the simulator on ``lines`` (copies, n, words) uint64: returns the (epochs, d + 1)
    int32 history and the int64 cycle of each epoch's end, counted from start."""
    lines = np.ascontiguousarray(lines, dtype=np.uint64)
    copies, n, words = lines.shape
    nl = words // 8
    header = np.array([copies * n * nl, nl, n, d, copies, epochs, step_shift, decay_epochs, seed, cfg.lanes],
                      dtype=np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.bin"), Path(tmp, "out.bin")
        with open(src, "wb") as f:
            for part in (header, lines.ravel(), np.asarray(labels, np.int32), np.asarray(model_in, np.int32)):
                f.write(np.ascontiguousarray(part).tobytes())
        done = subprocess.run([str(sim), str(src), str(dst)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{sim} failed: {done.stderr.strip()}")
        raw = dst.read_bytes()
    size = epochs * (d + 1) * 4
    history = np.frombuffer(raw[:size], dtype=np.int32).reshape(epochs, d + 1)
    ends = np.frombuffer(raw[size:], dtype=np.int64)
    return history, ends


def fixed32_lines(positions: np.ndarray) -> np.ndarray:
    """Q0.24 positions (n, d) as the baseline engine reads them: (1, n, words) uint64,
    sixteen 32-bit positions per line, zeros after d."""
    p = np.asarray(positions, dtype=np.uint64)
    n, d = p.shape
    nl = -(-d // 16)
    padded = np.zeros((n, nl * 16), np.uint64)
    padded[:, :d] = p
    return (padded[:, 0::2] | (padded[:, 1::2] << np.uint64(32))).reshape(1, n, nl * 8)
