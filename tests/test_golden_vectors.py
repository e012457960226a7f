"""The testbench vectors in the repository are exactly what the golden model writes."""

import filecmp
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_vectors_are_current(tmp_path):
    spec = importlib.util.spec_from_file_location("make_golden_vectors", ROOT / "scripts" / "make_golden_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    committed = ROOT / "testbench" / "vectors"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for rel in written:
        assert filecmp.cmp(tmp_path / rel, committed / rel, shallow=False), rel
