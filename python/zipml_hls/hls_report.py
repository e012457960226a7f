"""Reading Vitis HLS C-synthesis reports (``<top>_csynth.xml``).

The fields read are those of the report's documented XML layout: ``UserAssignments``
(Part, TopModelName, TargetClockPeriod), ``PerformanceEstimates`` (EstimatedClockPeriod;
Best-/Worst-caseLatency, Interval-min/-max; one element per loop under
SummaryOfLoopLatency with TripCount, Latency, PipelineII, PipelineDepth) and
``AreaEstimates`` (Resources and AvailableResources: BRAM_18K, DSP, FF, LUT, URAM).
Values Vitis reports as "undef" become None.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

RESOURCES = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")


class ReportError(ValueError):
    """A file that is not a readable csynth XML report."""


def _number(text):
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None  # "undef", ranges like "30 ~ 541"


def _find(root, path):
    node = root.find(path)
    return None if node is None else node.text


def parse_csynth_xml(path) -> dict:
    """Parse one report into a dict: top, part, target/estimated clock (ns), latency,
    interval (II of the top), loops (name, trip_count, latency, pipeline_ii,
    pipeline_depth) and resources used / available."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ReportError(f"{path}: not a readable csynth XML report ({exc})") from None
    perf = root.find("PerformanceEstimates")
    if perf is None:
        raise ReportError(f"{path}: no PerformanceEstimates element; not a csynth report")
    loops = []
    summary = perf.find("SummaryOfLoopLatency")
    for loop in [] if summary is None else list(summary):
        loops.append({"name": _find(loop, "Name") or loop.tag, "trip_count": _number(_find(loop, "TripCount")),
                      "latency": _number(_find(loop, "Latency")), "pipeline_ii": _number(_find(loop, "PipelineII")),
                      "pipeline_depth": _number(_find(loop, "PipelineDepth"))})
    area = root.find("AreaEstimates")

    def resources(kind):
        node = None if area is None else area.find(kind)
        return {r: None if node is None else _number(_find(node, r)) for r in RESOURCES}

    return {"file": str(path), "top": _find(root, "UserAssignments/TopModelName"),
            "part": _find(root, "UserAssignments/Part"),
            "target_clock_ns": _number(_find(root, "UserAssignments/TargetClockPeriod")),
            "estimated_clock_ns": _number(_find(perf, "SummaryOfTimingAnalysis/EstimatedClockPeriod")),
            "latency_best": _number(_find(perf, "SummaryOfOverallLatency/Best-caseLatency")),
            "latency_worst": _number(_find(perf, "SummaryOfOverallLatency/Worst-caseLatency")),
            "interval_min": _number(_find(perf, "SummaryOfOverallLatency/Interval-min")),
            "interval_max": _number(_find(perf, "SummaryOfOverallLatency/Interval-max")),
            "loops": loops, "resources": resources("Resources"), "available": resources("AvailableResources")}


def find_reports(path) -> list[Path]:
    """``path`` itself if it is a file, else every ``*_csynth.xml`` below it, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    found = sorted(path.rglob("*_csynth.xml"))
    if not found:
        raise ReportError(f"{path}: no *_csynth.xml report found (run C synthesis first)")
    return found


#: the label of the engine's per-line loop (hls/include/zipml/engine.hpp), in Vitis' loop names
LINE_LOOP_LABEL = "fused_line_loop"


def line_loop_ii(report: dict):
    """The pipeline II of the engine's per-line loop (the loop whose name holds its label,
    LINE_LOOP_LABEL); for a report without it, the largest II of any loop; None when no
    loop reports one."""
    timed = [loop for loop in report["loops"] if isinstance(loop["pipeline_ii"], (int, float))]
    labelled = [loop for loop in timed if LINE_LOOP_LABEL in loop["name"]]
    iis = [loop["pipeline_ii"] for loop in (labelled or timed)]
    return max(iis) if iis else None


def format_table(reports: list[dict]) -> str:
    """A plain-text table of the reports (one block each)."""
    lines = []
    for r in reports:
        clock = r["estimated_clock_ns"]
        mhz = f"{1000 / clock:.0f} MHz" if clock else "?"
        lines.append(f"{r['top'] or '?'} ({r['part'] or '?'}): estimated clock {clock} ns ({mhz}), target "
                     f"{r['target_clock_ns']} ns; latency {r['latency_best']}-{r['latency_worst']} cycles; "
                     f"interval {r['interval_min']}-{r['interval_max']}")
        for loop in r["loops"]:
            lines.append(f"  loop {loop['name']}: II {loop['pipeline_ii']}, depth {loop['pipeline_depth']}, "
                         f"trip count {loop['trip_count']}, latency {loop['latency']}")
        used = ", ".join(f"{k} {r['resources'][k]}/{r['available'][k]}" for k in RESOURCES)
        lines.append(f"  resources (used/available): {used}")
    return "\n".join(lines)
