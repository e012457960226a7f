"""dask is optional: the package and the CLI import without it, and zipml_hls.dask says
how to get it."""

import subprocess
import sys

CHECK = """
import sys
sys.modules["distributed"] = None  # as if the [dask] extra were not installed
import zipml_hls, zipml_hls.cli, zipml_hls.ingest
assert "dask" not in sys.modules, "imported dask"
try:
    import zipml_hls.dask
except ImportError as exc:
    print(exc)
"""


def test_dask_is_optional_and_says_how_to_get_it():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True).stdout
    assert out == "zipml_hls.dask needs dask.distributed: pip install 'zipml-hls[dask]'\n"
