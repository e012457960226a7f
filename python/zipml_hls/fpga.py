"""Analytic model of the FPGA SGD engine: projected epoch time and speedup per precision.

The engine reads one 512-bit line per cycle at initiation interval II (1 by design)
and clock f, unless memory cannot deliver lines that fast. One epoch over n rows takes

    lines = n * ceil(d / K)                 K = values per line of the sampling
    t     = max(lines * II / f, lines * 64 B / bandwidth)

The fp32 design reads 16 float32 values per line. The projection ignores the per-row
pipeline fill and drain (a few cycles per row) and the model write-back per epoch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .spec import format as F

#: Defaults: a 200 MHz kernel clock (the paper's design ran at this order) and one
#: DDR4-2400 channel (19.2 GB/s); both are parameters.
DEFAULT_CLOCK_MHZ = 200.0
DEFAULT_BANDWIDTH_GBPS = 19.2
PAPER_BEST_SPEEDUP = 6.5


@dataclass(frozen=True)
class FpgaAssumptions:
    clock_mhz: float = DEFAULT_CLOCK_MHZ
    bandwidth_gbps: float = DEFAULT_BANDWIDTH_GBPS
    ii: float = 1.0
    source: str = "assumed (no synthesis report)"


def values_per_line(bits: int, sampling: str) -> int:
    return 16 if bits == 32 else F.values_per_line(bits, sampling)


def epoch_seconds(n: int, d: int, bits: int, sampling: str, a: FpgaAssumptions) -> float:
    k = values_per_line(bits, sampling)
    lines = n * -(-d // k)
    return max(lines * a.ii / (a.clock_mhz * 1e6), lines * 64 / (a.bandwidth_gbps * 1e9))


def project(n: int, d: int, precisions, a: FpgaAssumptions | None = None) -> dict:
    """Projected epoch time and speedup over fp32 for each (bits, sampling)."""
    a = a or FpgaAssumptions()
    base = epoch_seconds(n, d, 32, "fp32", a)
    rows = []
    for bits, sampling in precisions:
        t = epoch_seconds(n, d, bits, sampling, a)
        rows.append({"bits": bits, "sampling": sampling, "values_per_line": values_per_line(bits, sampling),
                     "epoch_s": t, "speedup_vs_fp32": base / t})
    return {"assumptions": asdict(a), "n_samples": n, "n_features": d, "fp32_epoch_s": base, "rows": rows,
            "paper_best_speedup": PAPER_BEST_SPEEDUP}


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
