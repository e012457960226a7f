"""NumPy golden model of the kernels in hls/include/zipml: one module per header.

=====================  =====================================
header                 golden model
=====================  =====================================
fixed_point.hpp        :mod:`.fixed_point`
quantize.hpp           :mod:`.quantize`
losses.hpp             :mod:`.losses` (ids: ``spec.losses``)
sgd.hpp                :mod:`.sgd`
sgd_logistic.hpp       :mod:`.sgd_logistic`
sgd_fp32.hpp           :mod:`.sgd_fp32`
engine.hpp             :mod:`.sgd_fixed32` (engine_fixed32;
                       the quantized engine is
                       :mod:`.sgd`'s sgd_linear)
zipml_cpu/             :mod:`.levels` (the level solver's
optimal_levels.hpp     O(s N^2) oracle)
format.hpp, rng.hpp,   ``zipml_hls.spec`` (shared with the
layout.hpp,            training path)
schedule.hpp
=====================  =====================================

Every function agrees with its kernel bit for bit (``np.array_equal``); only the fp32
baseline has a tolerance (docs/FORMATS.md, "fp32 baseline"). Integer arithmetic follows
the kernels: uint32 wrap-around for the RNG, int32 wrap-around for the dot product and the
model, int64 for per-sample scalars, arithmetic (floor) right shifts. Only the kernel
boundary (:mod:`zipml_hls.backend`), the tests and the golden-vector writer
(``scripts/make_golden_vectors.py``) import this package.
"""

from .quantize import quantize_matrix, scaled_position
from .sgd import sgd_linear
from .sgd_fixed32 import sgd_fixed32
from .sgd_fp32 import sgd_fp32
from .sgd_logistic import sgd_logistic

__all__ = ["quantize_matrix", "scaled_position", "sgd_fixed32", "sgd_fp32", "sgd_linear", "sgd_logistic"]
