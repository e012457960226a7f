"""Cycle model of the FPGA SGD engine: epoch cycles, time and speedup per precision.

The engine (hls/include/zipml/engine.hpp; its RTL twin is zipml_hls.rtl) makes one fused
pass per row: line l applies the previous row's update to weights l, then multiplies them
into this row's dot product. The next row's pass needs every weight after this row's
update, so each row waits for its own step before the next starts (the row dependency):

    lines    = ceil(d / K)                        K = values per line of the precision
    row      = lines * II + L                     L = the engine's row latency (below)
    epoch    = n * row + lines + E                the flush of the last update with the
                                                  model's write-out, E the epoch overhead
    t        = max(epoch / f, n * lines * 64 B / bandwidth)

L and E are the stage counts of the RTL engine (zipml_hls.rtl.verilog.EngineConfig:
S1-S4, the adder tree of K lanes, the accumulator, the residual/step tail and the commit);
the RTL's measured cycles equal this count (tests/test_rtl.py). The 32-bit baseline is
the same engine over sixteen 32-bit fixed-point values per line. Assumptions: memory
delivers a line per cycle with its latency hidden (rows are prefetched: they do not
depend on the model), the clock f is the same for every precision unless given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .rtl.verilog import EngineConfig
from .spec import format as F

#: Defaults: a 200 MHz kernel clock (the paper's design ran at this order) and one
#: DDR4-2400 channel (19.2 GB/s); both are parameters.
DEFAULT_CLOCK_MHZ = 200.0
DEFAULT_BANDWIDTH_GBPS = 19.2
PAPER_BEST_SPEEDUP = 6.5
BASELINE = (32, "fixed32")  #: the 32-bit engine every speedup is relative to


@dataclass(frozen=True)
class FpgaAssumptions:
    clock_mhz: float = DEFAULT_CLOCK_MHZ
    bandwidth_gbps: float = DEFAULT_BANDWIDTH_GBPS
    ii: float = 1.0
    source: str = "assumed clock (no synthesis report); cycles from the RTL engine's stage counts"


def engine(bits: int, sampling: str) -> EngineConfig:
    """The engine of a precision: (32, any sampling) is the 32-bit baseline."""
    return EngineConfig(*BASELINE) if bits == 32 else EngineConfig(bits, sampling)


def stored_bits(bits: int, sampling: str) -> int:
    """Bits stored per value: b + 2 for double sampling (index and two fraction bits)."""
    return 32 if bits == 32 else F.stored_bits(bits, sampling)


def epoch_cycles(n: int, d: int, bits: int, sampling: str, ii: float = 1.0) -> float:
    """Cycles of one epoch (not the first, which adds the run's setup: a few cycles)."""
    cfg = engine(bits, sampling)
    lines = -(-d // cfg.lanes)
    return n * (lines * ii + cfg.row_latency) + lines * ii + cfg.epoch_overhead


def epoch_seconds(n: int, d: int, bits: int, sampling: str, a: FpgaAssumptions) -> float:
    lines = -(-d // engine(bits, sampling).lanes)
    return max(epoch_cycles(n, d, bits, sampling, a.ii) / (a.clock_mhz * 1e6),
               n * lines * 64 / (a.bandwidth_gbps * 1e9))


def project(n: int, d: int, precisions, a: FpgaAssumptions | None = None) -> dict:
    """Epoch cycles, time and speedup over the 32-bit engine for each (bits, sampling)."""
    a = a or FpgaAssumptions()
    base = epoch_seconds(n, d, *BASELINE, a)
    rows = []
    for bits, sampling in precisions:
        cfg = engine(bits, sampling)
        lines = -(-d // cfg.lanes)
        t = epoch_seconds(n, d, bits, sampling, a)
        rows.append({"bits": bits, "sampling": sampling, "stored_bits": stored_bits(bits, sampling),
                     "values_per_line": cfg.lanes, "lines_per_row": lines, "row_latency": cfg.row_latency,
                     "cycles_per_row": lines * a.ii + cfg.row_latency,
                     "epoch_cycles": epoch_cycles(n, d, bits, sampling, a.ii), "epoch_s": t,
                     "speedup_vs_32bit": base / t})
    b = engine(*BASELINE)
    return {"assumptions": asdict(a), "model": "cycles/row = lines x II + row latency; "
            "epoch = n x row + lines + overhead (zipml_hls.fpga)", "n_samples": n, "n_features": d,
            "baseline": {"bits": 32, "sampling": "fixed32", "values_per_line": b.lanes,
                         "lines_per_row": -(-d // b.lanes), "row_latency": b.row_latency,
                         "epoch_cycles": epoch_cycles(n, d, *BASELINE, a.ii), "epoch_s": base},
            "rows": rows, "paper_best_speedup": PAPER_BEST_SPEEDUP}


def assumptions_from_report(path, bandwidth_gbps: float = DEFAULT_BANDWIDTH_GBPS) -> FpgaAssumptions:
    """Clock and II from a Vitis csynth report (a file, or the first ``*_csynth.xml``
    under a folder) instead of the defaults."""
    from .hls_report import find_reports, line_loop_ii, parse_csynth_xml

    report = parse_csynth_xml(find_reports(path)[0])
    clock = report["estimated_clock_ns"] or report["target_clock_ns"]
    if not clock:
        raise ValueError(f"{report['file']}: the report gives no clock period")
    ii = line_loop_ii(report) or 1
    return FpgaAssumptions(clock_mhz=1000.0 / clock, bandwidth_gbps=bandwidth_gbps, ii=float(ii),
                           source=f"synthesis report {report['file']}")
