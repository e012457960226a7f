"""The kernel boundary: both backends implement one interface, and nothing else in the
package imports the compiled module or the golden model."""

import ast
import inspect
from pathlib import Path

import pytest

from zipml_hls.backend import BACKENDS, KernelBackend, NativeBackend, ReferenceBackend, get_backend

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "zipml_hls"
INTERFACE = [name for name, value in vars(KernelBackend).items() if inspect.isfunction(value) and name[0] != "_"]
# switches only the native kernels have: extra trailing keyword parameters with defaults
NATIVE_ONLY = {"portable", "require_fast", "monotone"}


@pytest.mark.parametrize("backend", [NativeBackend, ReferenceBackend])
@pytest.mark.parametrize("method", INTERFACE)
def test_backends_share_the_interface(backend, method):
    want = inspect.signature(getattr(KernelBackend, method))
    got = inspect.signature(getattr(backend, method))
    params = [p for p in got.parameters.values() if p.name not in NATIVE_ONLY]
    assert [(p.name, p.kind, p.default) for p in params] == [
        (p.name, p.kind, p.default) for p in want.parameters.values()]


def test_get_backend_names_and_rejects_others():
    assert [get_backend(name).name for name in BACKENDS] == list(BACKENDS)
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("fpga")


def imported_modules(path: Path) -> set:
    """Every module (and imported name) of a file's import statements, as written."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            sep = "" if base.endswith(".") else "."
            names.update({base} | {base + sep + a.name for a in node.names})
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_only_the_backend_imports_the_kernels_or_the_golden_model():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "reference" or rel.name == "backend.py":
            continue
        for name in imported_modules(path):
            if "_kernels" in name or "reference" in name.split("."):
                offenders.append(f"{rel}: {name}")
    assert offenders == []
