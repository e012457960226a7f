"""The open RTL cross-check: the generated Verilog engine (zipml_hls.rtl) under Verilator
equals the golden model bit for bit, its measured epoch cycles equal the cycle model
(zipml_hls.fpga), a deliberately wrong bit is caught, and Yosys synthesizes it for
UltraScale+. Tests needing Verilator or Yosys skip when the tool is absent (.ci/run
installs both)."""

import json
import os
import shutil

import numpy as np
import pytest

from zipml_hls import fpga
from zipml_hls.cli import main
from zipml_hls.reference import sgd_fixed32
from zipml_hls.rtl import report, simulate, verilog
from zipml_hls.rtl.synthesize import cache_path, parse_sta, parse_stat, synthesize
from zipml_hls.rtl.verilog import EngineConfig
from zipml_hls.spec import format as F

needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None,
                                     reason="verilator is not installed (apt-get install verilator)")
needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys is not installed (apt-get install yosys)")

B4 = EngineConfig(4, "double")
FIXED32 = EngineConfig(32, "fixed32")


@pytest.fixture(scope="module", autouse=True)
def rtl_cache(tmp_path_factory):
    """Simulators and synthesis results built once for this module, in a temporary cache
    unless ZIPML_RTL_CACHE names one."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("ZIPML_RTL_CACHE"):
            mp.setenv("ZIPML_RTL_CACHE", str(tmp_path_factory.mktemp("rtl-cache")))
        yield


def test_engine_configs():
    assert B4.lanes == 80 and FIXED32.lanes == 16
    assert EngineConfig(1, "double").lanes == 160 and EngineConfig(8, "double").lanes == 48
    for bits, sampling in ((3, "double"), (4, "nearest"), (32, "double")):
        with pytest.raises(ValueError, match="no RTL engine"):
            EngineConfig(bits, sampling)
    # the cycle model is the engine's stage count: lines, row latency, flush, overhead
    assert fpga.epoch_cycles(10, 2048, 4, "double") == 10 * (26 + B4.row_latency) + 26 + B4.epoch_overhead
    text = verilog.generate(B4)
    assert text.count("module zipml_engine_b4_double") == 1 and "endmodule" in text


def fixed32_cases():
    rng = np.random.default_rng(1)
    for n, d, shift in ((20, 1, 3), (30, 37, 5), (12, 130, 2)):
        positions = rng.integers(0, F.POS_ONE + 1, size=(n, d)).astype(np.uint32)
        labels = rng.integers(-(1 << 20), 1 << 20, size=n).astype(np.int32)
        model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
        yield positions, labels, model_in, shift


@needs_verilator
def test_b4_double_engine_on_golden_vectors_and_cycle_model():
    sim = simulate.build(B4)
    cases = report.golden_cases(B4)
    assert len(cases) >= 1
    for folder in cases:
        r = report.run_golden_case(sim, B4, folder)
        assert r["equal"], r
        assert r["measured_epoch_cycles"] == [r["model_epoch_cycles"]] * len(r["measured_epoch_cycles"]), r
    r = report.check_engine(B4, synth=False)
    c = r["cycle_problem"]
    assert c["equal"] and c["lines_per_row"] == 26
    assert c["max_model_error"] <= 0.05 and c["measured_epoch_cycles"][-1] == c["model_epoch_cycles"]
    assert c["model_epoch_cycles"] == fpga.epoch_cycles(report.CYCLE_ROWS, report.CYCLE_FEATURES, 4, "double")


@needs_verilator
def test_fixed32_engine_equals_its_golden_model():
    sim = simulate.build(FIXED32)
    for positions, labels, model_in, shift in fixed32_cases():
        n, d = positions.shape
        history, ends = simulate.run(sim, FIXED32, simulate.fixed32_lines(positions), labels, model_in, d, 3, shift, 2)
        assert np.array_equal(history, sgd_fixed32(positions, labels, 3, shift, 2, model_in)), (n, d)
        assert np.diff(np.r_[0, ends]).tolist() == [FIXED32.epoch_cycles(n, -(-d // 16))] * 3


@needs_verilator
def test_a_wrong_bit_in_the_rtl_fails(tmp_path, monkeypatch):
    """The baseline's per-lane rounding with its rounding bit dropped (one constant bit):
    the co-simulation must see the difference."""
    good = verilog.generate(FIXED32)
    bad = good.replace("(64'sd1 <<< (15 + shift))", "(64'sd0 <<< (15 + shift))")
    assert bad != good
    monkeypatch.setattr(verilog, "generate", lambda cfg: bad)
    sim = simulate.build(FIXED32)
    positions, labels, model_in, shift = next(fixed32_cases())
    d = positions.shape[1]
    history, _ = simulate.run(sim, FIXED32, simulate.fixed32_lines(positions), labels, model_in, d, 3, shift, 2)
    assert not np.array_equal(history, sgd_fixed32(positions, labels, 3, shift, 2, model_in))


@needs_verilator
def test_cli_hls_rtl_writes_the_report(tmp_path, capsys):
    assert main(["hls", "rtl", "--bits", "32", "--no-synth", "--quiet", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "rtl.md").read_text()
    assert "zipml_engine_fixed32" in text and "1.00x" in text and "| 9028 | 9028 | 0.0% |" in text
    assert (tmp_path / "rtl.json").stat().st_size > 0


def test_cli_hls_rtl_rejects_engines_it_does_not_have(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["hls", "rtl", "--bits", "3"])
    assert exc.value.code == 2


def test_yosys_log_parsers():
    log = ("Number of cells:   10\n     DSP48E2    3\n     FDRE    96\n     LUT2   64\n     LUT6    2\n"
           "     RAMB36E2    1\n     RAMB18E2    3\n     RAM64M   4\n\n"
           "Latest arrival time in 't' is 764:\n     764 x (FDRE.D)\n           a\n     637 y (LUT2.I0->O)\n"
           "           b\n     399 z (FDRE.C->Q)\n           c\n\n")
    s = parse_stat(log)
    assert (s["lut"], s["ff"], s["dsp"], s["bram36"], s["lutram"]) == (66, 96, 3, 2.5, 4)
    t = parse_sta(log)
    assert t["logic_delay_ns"] == 0.764 and t["path_cells"] == ["FDRE.C->Q", "LUT2.I0->O", "FDRE.D"]


@needs_yosys
def test_yosys_synthesizes_the_32bit_engine_for_ultrascale_plus(fixed32_synthesis):
    r = fixed32_synthesis  # (tests/conftest.py starts it with the session: it takes minutes)
    assert r["dsp"] >= 16 and r["lut"] > 1000 and r["ff"] > 1000  # a multiplier per lane at least
    assert 0 < r["logic_delay_ns"] < 20 and len(r["path_cells"]) >= 2


@needs_yosys
def test_synthesize_returns_the_cached_result(fixed32_synthesis):
    # keyed by the Verilog and Yosys' version: a second call runs no Yosys
    path = cache_path(FIXED32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**fixed32_synthesis, "lut": -1}))
    assert synthesize(FIXED32) == {**fixed32_synthesis, "lut": -1}
