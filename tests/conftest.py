"""Session set-up shared by the test modules: the slowest step of the suite, Yosys'
synthesis of the 32-bit engine (minutes of one core), starts as soon as the tests are
collected, in a Yosys process of its own, so that it runs beside the tests that run in
the interpreter instead of after them; tests/test_rtl.py asserts on its result."""

import shutil
import tempfile
from pathlib import Path

import pytest

_synthesis = {}  # the running Yosys process of the 32-bit engine, and its folder


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
