"""Session set-up shared by the test modules: the slowest step of the suite, Yosys'
synthesis of the 32-bit engine (minutes of one core), starts as soon as the tests are
collected, in a Yosys process of its own, so that it runs beside the tests that run in
the interpreter instead of after them; tests/test_rtl.py asserts on its result. Option
``--without MODULE`` runs the tests as if MODULE were not installed (``--without pyarrow``:
CSV ingestion with pandas' or NumPy's parser, Parquet tests skipped). Fixture
``linear_problem``: the small least-squares problem of the training-statistics tests."""

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

_synthesis = {}  # the running Yosys process of the 32-bit engine, and its folder


def pytest_addoption(parser):
    parser.addoption("--without", action="append", default=[], metavar="MODULE",
                     help="run as if MODULE (e.g. pyarrow, pandas) were not installed")


class _Without:
    """An import hook that makes ``import NAME`` (or of a submodule) fail as for a module
    not installed. (Not None in sys.modules: scikit-learn looks there for pyarrow.)"""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (pytest --without)", name=name)
        return None


def pytest_configure(config):
    names = config.getoption("without")
    for name in names:
        if any(m == name or m.startswith(name + ".") for m in sys.modules):
            raise pytest.UsageError(f"--without {name}: {name} is imported already")
    if names:
        sys.meta_path.insert(0, _Without(names))


def pytest_collection_finish(session):
    if shutil.which("yosys") is None or not any("fixed32_synthesis" in getattr(item, "fixturenames", ())
                                                for item in session.items):
        return
    from zipml_hls.rtl.synthesize import start
    from zipml_hls.rtl.verilog import EngineConfig

    folder = Path(tempfile.mkdtemp(prefix="zipml-yosys-"))
    _synthesis.update(folder=folder, process=start(EngineConfig(32, "fixed32"), folder))


def pytest_sessionfinish(session):
    if _synthesis:  # a run stopped early (-x, a selection) does not wait for Yosys
        _synthesis["process"].kill()
        _synthesis["process"].wait()
        shutil.rmtree(_synthesis["folder"], ignore_errors=True)


@pytest.fixture(scope="session")
def fixed32_synthesis():
    """Yosys' synthesis of the 32-bit engine (zipml_hls.rtl.synthesize.finish's result),
    started when the session's tests were collected."""
    from zipml_hls.rtl.synthesize import finish
    from zipml_hls.rtl.verilog import EngineConfig

    return finish(EngineConfig(32, "fixed32"), _synthesis["process"], _synthesis["folder"])


@pytest.fixture(scope="module")
def linear_problem():
    """5000 x 20 uniform features, a linear target with noise 0.1, and its least-squares
    solution (weights, then the intercept)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5000, 20))
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(5000)
    A = np.hstack([X, np.ones((5000, 1))])
    return X, y, np.linalg.lstsq(A, y, rcond=None)[0]
