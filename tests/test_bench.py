"""The benchmark's quick run and its output schema; the FPGA model; report parsing."""

import json
from pathlib import Path

import pytest

from zipml_hls import bench, fpga
from zipml_hls.backend import get_backend
from zipml_hls.cli import main
from zipml_hls.hls_report import ReportError, find_reports, line_loop_ii, parse_csynth_xml

FIXTURE = Path(__file__).parent / "fixtures" / "zipml_sgd_b4_double_csynth.xml"
ROW_KEYS = {"kernel", "bits", "sampling", "bits_per_value", "n_samples", "n_features", "epoch_s_median",
            "epoch_s_min", "epoch_s_max", "samples_per_s", "gbytes_per_s", "roofline_fraction", "speedup_vs_fp32",
            "prepare_s", "extrapolated", "bytes_per_epoch", "workers", "loss"}


def test_quick_bench_writes_documented_schema(tmp_path, capsys):
    assert main(["bench", "--quick", "--quiet", "--out", str(tmp_path), "--hls-report", str(FIXTURE)]) == 0
    assert "| fp32 C++ kernel |" in capsys.readouterr().out
    r = json.loads((tmp_path / "bench.json").read_text())
    assert r["schema_version"] == 2 and r["cpu"] and r["threads"] == 1
    assert r["sgd_fast_path"] == get_backend("hls").info()["fast_sgd"]
    for key in ("memory_bound", "cache_resident"):
        t = r[key]
        assert t["read_bandwidth_gbps"] > 0
        kernels = {(x["kernel"], x["bits"], x["sampling"], x.get("levels"), x["loss"]) for x in t["rows"]
                   if x["workers"] == 1}
        for bits in (1, 2, 3, 4, 6, 8):
            for sampling in ("double", "naive"):
                assert ("quantized", bits, sampling, "uniform", "squared_error") in kernels
        assert ("quantized", 4, "double", "optimal", "squared_error") in kernels
        assert ("quantized", 4, "double", "shared", "squared_error") in kernels
        for bits in (1, 2, 4, 8):
            for loss in ("hinge", "log_loss"):
                assert ("quantized", bits, "double", "uniform", loss) in kernels
        two = {(x["kernel"], x["bits"], x["sampling"]) for x in t["rows"] if x["workers"] == 2}
        assert two == {("fp32", 32, "fp32")} | {("quantized", b, "double") for b in (1, 2, 4, 8)}
        assert {k[0] for k in kernels} >= {"fp32", "sklearn", "golden"}
        for x in t["rows"]:
            assert ROW_KEYS <= x.keys()
            assert x["epoch_s_min"] <= x["epoch_s_median"] <= x["epoch_s_max"]
            assert x["gbytes_per_s"] == pytest.approx(x["bytes_per_epoch"] / x["epoch_s_median"] / 1e9)
            assert x["extrapolated"] == (x["kernel"] == "golden")
        fp32 = next(x for x in t["rows"] if x["kernel"] == "fp32")
        assert fp32["speedup_vs_fp32"] == 1.0 and fp32["bits_per_value"] == 32
        # a refetching loss reads its refetched rows' float32 values besides the packed lines
        lines = {x["bits"]: x["bytes_per_epoch"] for x in t["rows"] if x["kernel"] == "quantized"
                 and x["sampling"] == "double" and x["levels"] == "uniform" and x["workers"] == 1}
        for x in t["rows"]:
            if x["loss"] == "hinge":
                refetched = int(x["note"].split("%")[0]) / 100 * t["n_samples"]
                assert x["bytes_per_epoch"] == pytest.approx(lines[x["bits"]] + 4 * t["n_features"] * refetched,
                                                             rel=0.01, abs=4 * t["n_features"] * t["n_samples"] / 200)
    assert r["fpga_projection"]["assumptions"]["source"].startswith("synthesis report")
    assert r["fpga_projection"]["assumptions"]["clock_mhz"] == pytest.approx(1000 / 3.2)
    tta = r["time_to_accuracy"]
    assert [(c["bits"], c["sampling"]) for c in tta["curves"]] == [
        (32, "fp32"), (8, "double"), (4, "double"), (2, "double"), (4, "naive"), (64, "sklearn")]
    fp32 = tta["curves"][0]
    assert fp32["seconds_to_target"] is not None and fp32["time_vs_fp32"] == 1.0
    for c in tta["curves"]:
        budgets = [f["max_iter"] for f in c["fits"]]
        assert budgets == list(bench.FIT_BUDGETS[:len(budgets)])
        # the ladder stops at the first fit that reaches the target or stops before its budget
        assert all(f["loss"] > tta["target_loss"] and f["epochs"] == f["max_iter"] for f in c["fits"][:-1])
        assert (c["seconds_to_target"] is not None) == (c["fits"][-1]["loss"] <= tta["target_loss"])
    for name in ("bench.md", "speedup_vs_bits.png", "time_to_loss.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_fpga_cycle_model_counts_lines_and_the_row_latency():
    p = fpga.project(1000, 2048, [(4, "double"), (2, "double"), (8, "naive"), (1, "double")])
    by = {(x["bits"], x["sampling"]): x for x in p["rows"]}
    base = p["baseline"]
    # 32-bit: ceil(2048/16) = 128 lines a row; 4-bit double: ceil(2048/80) = 26 lines
    assert base["lines_per_row"] == 128 and by[(4, "double")]["lines_per_row"] == 26
    for x in p["rows"]:
        assert x["cycles_per_row"] == x["lines_per_row"] + x["row_latency"]
        assert x["epoch_cycles"] == 1000 * x["cycles_per_row"] + x["lines_per_row"] + \
            fpga.engine(x["bits"], x["sampling"]).epoch_overhead
        assert x["speedup_vs_32bit"] == pytest.approx(base["epoch_cycles"] / x["epoch_cycles"])
        # the row dependency costs: below the line ratio, and more so the fewer lines a row has
        assert 1 < x["speedup_vs_32bit"] < base["lines_per_row"] / x["lines_per_row"]
    assert by[(1, "double")]["stored_bits"] == 3 and by[(8, "naive")]["stored_bits"] == 8
    # memory-bound when the bandwidth cannot deliver a line per cycle
    slow = fpga.FpgaAssumptions(clock_mhz=300, bandwidth_gbps=6.4)
    assert fpga.epoch_seconds(1000, 2048, 32, "fp32", slow) == pytest.approx(1000 * 128 * 64 / 6.4e9)


def test_line_loop_ii_reads_the_labelled_line_loop():
    loops = [{"name": "epoch_loop_row_loop_fused_line_loop", "pipeline_ii": 1},
             {"name": "init_loop", "pipeline_ii": 4}, {"name": "flush_loop", "pipeline_ii": None}]
    assert line_loop_ii({"loops": loops}) == 1
    assert line_loop_ii({"loops": loops[1:]}) == 4  # without the label: the worst loop
    assert line_loop_ii({"loops": loops[2:]}) is None


def test_csynth_report_parser_on_fixture():
    r = parse_csynth_xml(FIXTURE)
    assert r["top"] == "zipml_sgd_b4_double" and r["part"] == "xcu250-figd2104-2L-e"
    assert r["estimated_clock_ns"] == 3.2 and r["target_clock_ns"] == 3.33
    assert r["latency_best"] is None and r["interval_min"] is None  # "undef": data-dependent sizes
    assert [loop["name"] for loop in r["loops"]] == ["EPOCHS_ROWS_DOT_LINES", "EPOCHS_ROWS_UPDATE_LINES"]
    assert line_loop_ii(r) == 1
    assert r["resources"] == {"LUT": 61234, "FF": 80412, "DSP": 160, "BRAM_18K": 96, "URAM": 0}
    assert r["available"]["LUT"] == 1728000
    assert find_reports(FIXTURE.parent) == [FIXTURE]


def test_report_errors(tmp_path):
    bad = tmp_path / "x_csynth.xml"
    bad.write_text("<profile><nothing/></profile>")
    with pytest.raises(ReportError, match="PerformanceEstimates"):
        parse_csynth_xml(bad)
    bad.write_text("not xml")
    with pytest.raises(ReportError, match="not a readable"):
        parse_csynth_xml(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReportError, match="no \\*_csynth.xml"):
        find_reports(empty)


def test_bench_on_odd_sizes(tmp_path):
    """Sizes whose float32 bytes are no whole number of 8-byte words (the bandwidth probe
    reads whole words; one word of zeros when there is none): each quantized row reads
    one 64-byte line per row."""
    assert main(["bench", "--quick", "--quiet", "--out", str(tmp_path), "--rows", "3", "--features", "1",
                 "--small-rows", "1", "--small-features", "1", "--repeats", "1", "--no-sklearn"]) == 0
    r = json.loads((tmp_path / "bench.json").read_text())
    for key, n in (("memory_bound", 3), ("cache_resident", 1)):
        assert r[key]["read_bandwidth_gbps"] > 0
        lines = {x["bytes_per_epoch"] for x in r[key]["rows"] if x["kernel"] == "quantized" and x["loss"] != "hinge"}
        assert lines == {64 * n}
