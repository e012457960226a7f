"""Golden twin of the loss policies in hls/include/zipml/losses.hpp: each loss's residual,
in the kernels' fixed point (Q16 prediction and label, Python ints) and in float32 for
the fp32 baseline. Loss ids and properties are in ``zipml_hls.spec.losses``."""

from __future__ import annotations

import numpy as np

from ..spec.format import LABEL_FRAC
from .fixed_point import saturate32

_ONE = 1 << LABEL_FRAC


def _sign(label: int) -> int:
    return 1 if label > 0 else -1


#: name -> r(pred_q16, label_q16) -> Q16 residual (the factor of the sample in the step)
FIXED_RESIDUALS = {
    "squared_error": lambda pred, label: saturate32(pred - label),
    "hinge": lambda pred, label: -_sign(label) * _ONE if _sign(label) * pred < _ONE else 0,
    "squared_hinge": lambda pred, label: saturate32(pred - label) if _sign(label) * pred < _ONE else 0,
}

_F1 = np.float32(1)

#: name -> r(pred, y) in float32 (the fp32 baseline kernel)
FLOAT_RESIDUALS = {
    "squared_error": lambda pred, y: pred - y,
    "hinge": lambda pred, y: -y if y * pred < _F1 else np.float32(0),
    "log_loss": lambda pred, y: -y / (_F1 + np.exp(y * pred)),
    "squared_hinge": lambda pred, y: pred - y if y * pred < _F1 else np.float32(0),
}
