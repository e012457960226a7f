"""The HLS flow without Vitis: kernel-code rules, run_hls.tcl under tclsh with stub
commands, the synth command's fallback, and the report command."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zipml_hls.cli import main
from zipml_hls.hls_flow import source_root

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
# Synthesizable code: the kernel headers and the tops. CPU-only code (fast paths,
# dispatch, host helpers) lives in hls/include/zipml_cpu and is never synthesized.
KERNEL_DIRS = [ROOT / "hls" / "include" / "zipml", ROOT / "hls" / "kernels"]
CPU_ONLY_DIR = ROOT / "hls" / "include" / "zipml_cpu"

FORBIDDEN = {
    "dynamic memory": r"\bnew\b|\bdelete\b|\bmalloc\s*\(|\bcalloc\s*\(|\brealloc\s*\(|\bfree\s*\("
                      r"|\baligned_alloc\b|\bposix_memalign\b",
    "smart pointers": r"\b(unique_ptr|shared_ptr|weak_ptr|make_unique|make_shared)\b|#include\s*<memory>",
    "STL containers": r"std::(vector|map|set|list|deque|unordered_\w+|string|array|queue|stack)\b"
                      r"|#include\s*<(vector|map|set|list|deque|string|unordered_map|queue|stack)>",
    "I/O": r"#include\s*<(iostream|fstream|sstream|cstdio|stdio\.h)>|\bprintf\s*\(|std::(cout|cerr)",
    "exceptions": r"\bthrow\b|\btry\s*\{|\bcatch\s*\(",
    "virtual calls": r"\bvirtual\b",
    "intrinsics": r"\b_mm\w*|\b__m(64|128|256|512)\w*|#include\s*<\w*intrin\.h>|#include\s*<arm_\w+\.h>",
    "compiler builtins": r"\b__builtin_\w*",
}


def strip_comments(code: str) -> str:
    code = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
    return re.sub(r"//[^\n]*", " ", code)


def function_bodies(code: str):
    """(name, body) of each function definition: an identifier, a parameter list, then
    a brace block (control statements excluded)."""
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(([^;{}()]|\([^()]*\))*\)\s*(const\s*)?\{", code):
        name = m.group(1)
        if name in ("if", "for", "while", "switch", "return", "sizeof", "catch"):
            continue
        depth, i = 1, m.end()
        while depth and i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        yield name, code[m.end():i - 1]


def synthesized_text(code: str) -> str:
    """The code without its software-only regions: from ``#ifndef __SYNTHESIS__`` to the
    matching ``#else`` or ``#endif`` (not nested; C simulation and the Python module
    compile them, synthesis never sees them)."""
    return re.sub(r"#ifndef __SYNTHESIS__\b.*?(#else\b|#endif\b)", " ", code, flags=re.S)


def violations(code: str) -> list[str]:
    code = synthesized_text(strip_comments(code))
    found = [rule for rule, pattern in FORBIDDEN.items() if re.search(pattern, code)]
    found += [f"recursion in {name}" for name, body in function_bodies(code) if re.search(rf"\b{name}\s*\(", body)]
    return found


def kernel_files():
    return sorted(f for folder in KERNEL_DIRS for f in folder.glob("*.[hc]pp"))


def test_rule_checker_catches_each_rule():
    assert violations("int f(int n) { return n ? f(n - 1) : 0; }") == ["recursion in f"]
    assert violations("void g() { int* p = new int[3]; }") == ["dynamic memory"]
    assert violations("#include <vector>\nstd::vector<int> v;") == ["STL containers"]
    assert violations('void h() { printf("x"); }') == ["I/O"]
    assert violations("void k() { throw 1; }") == ["exceptions"]
    assert violations("struct A { virtual void f(); };") == ["virtual calls"]
    assert violations("float* p = (float*)aligned_alloc(64, 256);") == ["dynamic memory"]
    assert violations("std::unique_ptr<int[]> p;") == ["smart pointers"]
    assert violations("auto p = std::make_shared<int>(1);") == ["smart pointers"]
    assert violations("#include <immintrin.h>") == ["intrinsics"]
    assert violations("__m512i v = _mm512_setzero_si512();") == ["intrinsics"]
    assert violations("int x = _mm_popcnt_u32(7);") == ["intrinsics"]
    assert violations("int c = __builtin_popcount(7u);") == ["compiler builtins"]
    # names that merely contain the patterns are not flagged
    assert violations("int comm_mode, my__m512, newer, builtin_x; int f(int a) { return a; }") == []
    assert violations("// new delete printf\nint ok(int a) { return a + 1; }") == []
    # software-only regions are not synthesized; the synthesis branch is checked
    assert violations("#ifndef __SYNTHESIS__\n#include <memory>\nstd::unique_ptr<int[]> p{new int[4]};\n"
                      "#else\nint a[4];\n#endif") == []
    assert violations("#ifndef __SYNTHESIS__\nint a;\n#else\nstd::vector<int> v;\n#endif") == ["STL containers"]


@pytest.mark.parametrize("path", kernel_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_kernel_code_follows_the_hls_rules(path):
    assert violations(path.read_text()) == []


def test_cpu_only_code_is_kept_out_of_synthesis():
    cpu_only = sorted(CPU_ONLY_DIR.glob("*.hpp"))
    assert cpu_only
    for path in cpu_only:  # each stops a synthesis compile that includes it
        assert re.search(r"#ifdef __SYNTHESIS__\s*\n#error", path.read_text()), path.name
    assert all("zipml_cpu" not in strip_comments(path.read_text()) for path in kernel_files())


def run_tcl(tmp_path, **env):
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh is not installed")
    log = tmp_path / "calls.log"
    full_env = {"PATH": "/usr/bin:/bin", "STUB_LOG": str(log), "RUN_HLS": str(ROOT / "scripts" / "run_hls.tcl"),
                "PROJECT_DIR": str(tmp_path), **env}
    proc = subprocess.run([tclsh, str(Path(__file__).parent / "tcl" / "vitis_stubs.tcl")], env=full_env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [line.split() for line in log.read_text().splitlines()]


@pytest.mark.parametrize("flags, steps", [
    ({}, ["csim_design", "csynth_design"]),
    ({"CSIM": "0"}, ["csynth_design"]),
    ({"CSIM": "1", "CSYNTH": "1", "COSIM": "1", "EXPORT": "1"},
     ["csim_design", "csynth_design", "cosim_design", "export_design"]),
    ({"CSIM": "0", "CSYNTH": "0"}, []),
])
def test_run_hls_tcl_call_sequence(tmp_path, flags, steps):
    calls = run_tcl(tmp_path, TOPS="zipml_sgd_b4_double", PART="xcvu9p-flga2104-2-e", CLOCK="4", **flags)
    names = [c[0] for c in calls]
    assert names == ["open_project", "set_top", "add_files", "add_files", "add_files", "open_solution", "set_part",
                     "create_clock", *steps, "close_project"]
    assert calls[1] == ["set_top", "zipml_sgd_b4_double"]
    assert calls[6] == ["set_part", "xcvu9p-flga2104-2-e"]
    assert calls[7][:3] == ["create_clock", "-period", "4"]
    tb = [c for c in calls if c[0] == "add_files" and c[1] == "-tb"]
    assert Path(tb[0][2]).name == "tb_hls_tops.cpp"  # the testbench ctest runs
    for call in calls:
        if call[0] == "add_files":
            path = Path(call[2] if call[1] == "-tb" else call[1])
            assert path.exists(), path


def test_run_hls_tcl_all_tops_and_defaults(tmp_path):
    calls = run_tcl(tmp_path)
    tops = [c[1] for c in calls if c[0] == "set_top"]
    assert len(tops) == 9 and "zipml_sgd_fixed32" in tops
    assert ["set_part", "xcu250-figd2104-2L-e"] in calls
    assert any(c[:3] == ["create_clock", "-period", "3.33"] for c in calls)


def test_every_tcl_top_exists_in_the_sources():
    tcl = (ROOT / "scripts" / "run_hls.tcl").read_text()
    tops = re.search(r"set all_tops \{([^}]*)\}", tcl).group(1).split()
    code = "".join((ROOT / "hls" / "kernels" / name).read_text() for name in ("zipml_tops.cpp", "zipml_tops.hpp"))
    for top in tops:
        assert re.search(rf"\b{top}\b", code), top


def test_synth_without_vitis_writes_the_project(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    out = tmp_path / "proj"
    assert main(["hls", "synth", "--bits", "4", "--out", str(out)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "vitis_hls is not on PATH" in err[0] and "TOPS=zipml_sgd_b4_double" in err[0]
    assert (out / "src" / "hls" / "kernels" / "zipml_tops.cpp").is_file()
    assert (out / "src" / "testbench" / "vectors" / "index.txt").is_file()
    assert (out / "src" / "scripts" / "run_hls.tcl").is_file()


def test_synth_exit_status_3_from_the_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", "hls", "synth", "--bits", "2", "--sampling", "naive",
                           "--out", str(tmp_path / "p")], capture_output=True, text=True,
                          env={"PATH": "/nonexistent", "HOME": str(tmp_path)})
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_report_command(capsys):
    assert main(["hls", "report", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "zipml_sgd_b4_double" in out and "II 1" in out and "LUT 61234/1728000" in out


def test_source_root_has_everything():
    root = source_root()
    assert (root / "testbench" / "tb_hls_tops.cpp").is_file() and (root / "scripts" / "run_hls.tcl").is_file()


def test_synth_runs_vitis_when_it_is_on_path(tmp_path, monkeypatch):
    # A stand-in `vitis_hls` that records how it was called.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "vitis_hls"
    fake.write_text('#!/bin/sh\necho "$PWD|$TOPS|$PART|$CLOCK|$CSIM|$CSYNTH|$COSIM|$EXPORT|$*" > "$PWD/called.txt"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    out = tmp_path / "proj"
    assert main(["hls", "synth", "--bits", "8", "--sampling", "naive", "--clock", "4", "--cosim", "--out",
                 str(out)]) == 0
    cwd, tops, part, clock, csim, csynth, cosim, export, argv = (out / "called.txt").read_text().strip().split("|")
    assert Path(cwd) == out.resolve() and tops == "zipml_sgd_b8_naive" and part == "xcu250-figd2104-2L-e"
    assert clock == "4" and (csim, csynth, cosim, export) == ("1", "1", "1", "0")
    assert argv.startswith("-f ") and argv.endswith("run_hls.tcl") and Path(argv[3:]).is_file()


def test_synthesized_code_includes_no_math_library():
    """The tops' include closure (what Vitis synthesizes) has no <cmath>/<math.h>: no
    floating-point library calls in the hardware (the fp32 kernel is for the CPU only)."""
    seen, todo, system = set(), [ROOT / "hls" / "kernels" / "zipml_tops.cpp"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        text = path.read_text()
        system |= set(re.findall(r'#include <([^>]+)>', text))
        for name in re.findall(r'#include "([^"]+)"', text):
            for base in (path.parent, ROOT / "hls" / "include"):
                if (base / name).is_file():
                    todo.append((base / name).resolve())
                    break
    names = {p.name for p in seen}
    assert {"engine.hpp", "layout.hpp", "resample.hpp"} <= names and "sgd_fp32.hpp" not in names
    assert not system & {"cmath", "math.h"}, system
