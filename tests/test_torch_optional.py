"""torch is optional: the package imports without it, and the report says how to get it."""

import subprocess
import sys

from zipml_hls.reproduce import TORCH_HINT, deep_learning_section


def test_importing_the_package_does_not_import_torch():
    code = "import sys, zipml_hls, zipml_hls.reproduce, zipml_hls.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_the_report_says_how_to_get_torch_when_it_is_missing():
    text = "\n".join(deep_learning_section(None))
    assert text.startswith("## 8. A little bit of deep learning")
    assert 'pip install "zipml-hls[torch]"' in TORCH_HINT and TORCH_HINT in text
