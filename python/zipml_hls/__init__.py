"""zipml-hls: ZipML low-precision training of linear models (Zhang et al., ICML 2017).

Public names: :func:`quantize`, :class:`ZipMLRegressor`, and the golden model
:mod:`zipml_hls.reference`.
"""

from .levels import optimal_levels, quantization_variance
from .linear_model import ZipMLClassifier, ZipMLRegressor
from .quantize import QuantizedData, quantize

__version__ = "0.1.0"
__all__ = [
    "QuantizedData", "ZipMLClassifier", "ZipMLRegressor", "optimal_levels", "quantization_variance", "quantize",
    "__version__",
]
