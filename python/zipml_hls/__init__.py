"""zipml-hls: ZipML low-precision training of linear models (Zhang et al., ICML 2017).

Public names: :func:`quantize`, :func:`load_quantized`, :func:`optimal_levels`, :func:`quantization_variance`,
:class:`ZipMLRegressor`, :class:`ZipMLClassifier`. The package follows the data path of
docs/ARCHITECTURE.md: ``spec`` (formats, RNG, line layout, schedule, losses) ->
``backend`` (the C++ kernels or the NumPy golden model ``reference``) -> ``quantize``,
``levels``, ``engine`` -> the estimators, the command line and the paper's experiments.
"""

from importlib.metadata import version as _version

from .levels import optimal_levels, quantization_variance
from .quantize import QuantizedData, quantize
from .quantized_io import load_quantized

#: The estimators, imported on first use: scikit-learn takes about a second to import, which
#: the command line's help, usage errors and `quantize` do not need.
_ESTIMATORS = ("ZipMLClassifier", "ZipMLRegressor")


def __getattr__(name):
    if name in _ESTIMATORS:
        from . import linear_model

        return getattr(linear_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_ESTIMATORS])


__version__ = _version("zipml-hls")  # one source: pyproject.toml
__all__ = [
    "QuantizedData", "ZipMLClassifier", "ZipMLRegressor", "load_quantized", "optimal_levels", "quantization_variance", "quantize",
    "__version__",
]
