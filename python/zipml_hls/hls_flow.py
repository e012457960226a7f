"""Driving Vitis HLS: write a project folder with the kernel sources, testbench and
golden vectors, and run ``scripts/run_hls.tcl`` there when ``vitis_hls`` is installed."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from .spec.format import FULL_PRECISION

DEFAULT_PART = "xcu250-figd2104-2L-e"  # Alveo U250
DEFAULT_CLOCK_NS = 3.33  # 300 MHz
STEPS = ("csim", "csynth", "cosim", "export")


def source_root() -> Path:
    """The tree holding hls/, testbench/ and scripts/run_hls.tcl: the installed copy
    (zipml_hls/hls_src) or, in a source checkout, the repository."""
    here = Path(__file__).resolve().parent
    for root in (here / "hls_src", here.parents[1]):
        if (root / "hls" / "kernels" / "zipml_tops.cpp").is_file() and (root / "scripts" / "run_hls.tcl").is_file():
            return root
    raise FileNotFoundError("the HLS sources are not installed with this copy of zipml-hls")


#: (bits, sampling) of the quantized synthesis tops in hls/kernels/zipml_tops.cpp
TOP_BITS = (1, 2, 4, 8)
TOP_SAMPLINGS = ("double", "naive")


def top_name(bits: int, sampling: str) -> str:
    if bits == FULL_PRECISION:
        return "zipml_sgd_fixed32"
    if bits not in TOP_BITS or sampling not in TOP_SAMPLINGS:
        raise ValueError(f"synthesis tops exist for bits {TOP_BITS} ({' or '.join(TOP_SAMPLINGS)}) and "
                         f"{FULL_PRECISION} (the 32-bit fixed-point baseline); got bits={bits}, sampling={sampling!r}")
    return f"zipml_sgd_b{bits}_{sampling}"


def write_project(out: Path, tops: list[str], part: str, clock_ns: float, steps: dict) -> tuple[dict, Path]:
    """Copy the sources into ``out/src``; return the environment and the Tcl script that
    run the flow in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    src = out / "src"
    root = source_root()
    for sub in ("hls", "testbench"):
        shutil.copytree(root / sub, src / sub, dirs_exist_ok=True)
    (src / "scripts").mkdir(parents=True, exist_ok=True)
    script = src / "scripts" / "run_hls.tcl"
    shutil.copy2(root / "scripts" / "run_hls.tcl", script)
    env = {"TOPS": " ".join(tops), "PART": part, "CLOCK": f"{clock_ns:g}", "ZIPML_ROOT": str(src.resolve()),
           "PROJECT_DIR": str(out.resolve())}
    env.update({k.upper(): "1" if v else "0" for k, v in steps.items()})
    return env, script.resolve()


def synth(bits: int, sampling: str, out: Path, part: str = DEFAULT_PART, clock_ns: float = DEFAULT_CLOCK_NS,
          steps: dict | None = None) -> tuple[int, str]:
    """Run (or prepare) the flow. Returns (exit status, the command line): status 3 when
    vitis_hls is not on PATH, in which case the project folder is written for later."""
    steps = steps or {"csim": True, "csynth": True, "cosim": False, "export": False}
    env, script = write_project(out, [top_name(bits, sampling)], part, clock_ns, steps)
    line = (f"cd {shlex.quote(str(out.resolve()))} && " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
            + f" vitis_hls -f {shlex.quote(str(script))}")
    if shutil.which("vitis_hls") is None:
        return 3, line
    proc = subprocess.run(["vitis_hls", "-f", str(script)], cwd=out, env={**os.environ, **env})
    return proc.returncode, line
