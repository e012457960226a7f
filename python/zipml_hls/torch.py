"""``zipml_hls.torch``: quantized-model training of PyTorch networks (the paper's "little bit
of deep learning"; extra ``zipml-hls[torch]``).

A network keeps a full-precision shadow copy of its weights; every forward pass uses a
quantized copy Q(w), and the backward pass hands the gradient with respect to Q(w) straight
to the shadow copy (the straight-through estimator), which the optimizer updates.

Schemes, per output channel (rows of a Linear weight, filters of a Conv weight) or per layer:

* ``fp32``: Q(w) = w.
* ``uniform``: stochastic rounding to 2^b uniform levels between the channel's min and max,
  unbiased (E Q(w) = w), variance (L_{j+1} - w)(w - L_j).
* ``optimal``: the same rounding to the 2^b levels that minimise the channel's total rounding
  variance (``zipml_hls.optimal_levels``), recomputed every ``refresh`` training steps.
* ``nearest``: deterministic rounding to the nearest of the 2^b uniform levels.
* ``xnor``: Q(w) = alpha sign(w), alpha = mean |w| over the channel (XNOR-Net; 1 bit, biased).

``uniform``, ``optimal`` and ``nearest`` are the project's quantizer (``zipml_hls.quantize``
with one feature per channel, naive or nearest sampling): on the CPU the weight's memory is
handed to it without a copy where its layout allows (per layer; per channel the quantizer
needs channels as columns, one transposed copy), and the result equals ``quantize(...,
backend='reference').dequantize()`` bit for bit.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from ._validation import check_choice, check_int, check_matrix, check_seed
from .backend import BACKENDS
from .quantize import QuantizedData, quantize_checked
from .spec import format as F
from .spec.rng import STREAM_WEIGHT, stream_key

SCHEMES = ("fp32", "uniform", "optimal", "xnor", "nearest")
#: Training steps between recomputations of optimal levels (docs/API.md has the measurement).
DEFAULT_REFRESH = 10
#: Layers quantize_model quantizes: their ``weight``; biases stay at full precision.
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_DTYPES = (torch.float32, torch.float64)


def check_scheme(scheme, bits) -> tuple[str, int]:
    """``(scheme, bits)`` checked: fp32 is 32 bits, xnor 1 bit (None picks them), the
    others one of the quantizer's widths."""
    check_choice(scheme, "scheme", SCHEMES)
    fixed = {"fp32": F.FULL_PRECISION, "xnor": 1}.get(scheme)
    if fixed is not None:
        if bits is not None and (isinstance(bits, bool) or bits != fixed):
            raise ValueError(f"bits must be {fixed} (or None) for scheme={scheme!r}, got {bits!r}")
        return scheme, fixed
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or int(bits) not in F.SUPPORTED_BITS:
        raise ValueError(f"bits must be one of {F.SUPPORTED_BITS} for scheme={scheme!r}, got {bits!r}")
    return scheme, int(bits)


def _check_weight(weight, per_channel: bool) -> None:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dtype not in _DTYPES:
        raise TypeError(f"weight must be float32 or float64, got {weight.dtype}")
    if weight.numel() == 0:
        raise ValueError(f"weight is empty: shape {tuple(weight.shape)}")
    if per_channel and weight.dim() < 2:
        raise ValueError(f"per_channel=True needs a weight of 2 or more dimensions (output channels first), "
                         f"got shape {tuple(weight.shape)}")
    if not bool(torch.isfinite(weight).all()):
        raise ValueError("weight contains NaN or infinity")


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def weight_matrix(weight: torch.Tensor, per_channel: bool) -> np.ndarray:
    """The quantizer's view of a weight: (values per channel, channels) with one feature per
    output channel, or (numel, 1) per layer; float32, C order (a copy only where needed)."""
    w = weight.detach().to("cpu")
    m = w.reshape(w.shape[0], -1).T if per_channel else w.reshape(-1, 1)
    return check_matrix(m.numpy(), "weight")


def _from_matrix(values: np.ndarray, like: torch.Tensor, per_channel: bool) -> torch.Tensor:
    out = torch.from_numpy(values).to(like.dtype)
    out = out.T.reshape(like.shape) if per_channel else out.reshape(like.shape)
    return out.to(like.device)


def _quantized_data(X: np.ndarray, scheme: str, bits: int, seed: int, table, backend: str) -> QuantizedData:
    """One draw of the project's quantizer: naive (stochastic) or nearest sampling, uniform
    levels or the level table ``table`` (optimal; None computes it from X)."""
    sampling = "nearest" if scheme == "nearest" else "naive"
    levels = "optimal" if scheme == "optimal" else "uniform"
    return quantize_checked(X, bits, sampling, levels, seed, 1, backend, table=table)


def xnor(weight: torch.Tensor, per_channel: bool = True) -> torch.Tensor:
    """alpha sign(w) with alpha = mean |w| per output channel (or over the tensor); sign(0) = +1."""
    dims = tuple(range(1, weight.dim())) if per_channel else tuple(range(weight.dim()))
    alpha = weight.abs().mean(dim=dims, keepdim=True)
    return torch.where(weight >= 0, alpha, -alpha)


def quantize_weight(weight: torch.Tensor, scheme: str, bits: int | None = None, *, seed: int = 0,
                    per_channel: bool = True, backend: str = "hls") -> torch.Tensor:
    """One quantized copy of ``weight`` (no gradient; same shape, dtype and device).

    Parameters
    ----------
    weight : float32 or float64 tensor, finite; output channels along dimension 0.
    scheme : {'fp32', 'uniform', 'optimal', 'xnor', 'nearest'} (module docstring).
    bits : 1, 2, 3, 4, 6 or 8 for uniform, optimal and nearest; None for fp32 and xnor.
    seed : int in [0, 2^32): the quantizer's seed (``zipml_hls.quantize(seed=...)``).
    per_channel : levels (and xnor's alpha) per output channel, else one set per tensor.
    backend : {'hls', 'reference'}: the C++ quantizer or the NumPy golden model (same bits).

    For uniform, optimal and nearest the result is ``quantize(M, bits, sampling='naive' or
    'nearest', levels=..., seed=seed).dequantize()`` of the matrix M of :func:`weight_matrix`,
    reshaped back (optimal levels computed afresh from this weight).
    """
    scheme, bits = check_scheme(scheme, bits)
    _check_flag(per_channel, "per_channel")
    seed = check_seed(seed)
    check_choice(backend, "backend", BACKENDS)
    _check_weight(weight, per_channel)
    with torch.no_grad():
        if scheme == "fp32":
            return weight.detach().clone()
        if scheme == "xnor":
            return xnor(weight.detach(), per_channel)
        q = _quantized_data(weight_matrix(weight, per_channel), scheme, bits, seed, None, backend)
        return _from_matrix(q.dequantize(), weight, per_channel)


def weight_levels(weight: torch.Tensor, scheme: str, bits: int, *, per_channel: bool = True,
                  backend: str = "hls") -> torch.Tensor:
    """The 2^bits levels (float64, (channels, 2^bits); one row per layer) that the uniform,
    optimal or nearest scheme rounds ``weight`` to: min + p (max - min) for the level
    positions p in [0, 1] (k / (2^bits - 1), or the optimal table's)."""
    scheme, bits = check_scheme(scheme, bits)
    if scheme not in ("uniform", "optimal", "nearest"):
        raise ValueError(f"scheme must be 'uniform', 'optimal' or 'nearest' to have level tables, got {scheme!r}")
    _check_flag(per_channel, "per_channel")
    check_choice(backend, "backend", BACKENDS)
    _check_weight(weight, per_channel)
    return _levels(_quantized_data(weight_matrix(weight, per_channel), scheme, bits, 0, None, backend))


def _levels(q: QuantizedData) -> torch.Tensor:
    """Level values (features, 2^bits) of a quantization, in original units (as ``dequantize``)."""
    lo = q.scaling.lo.astype(np.float64)[:, None]
    return torch.from_numpy(lo + q.level_positions() * q.scaling.span()[:, None])


class _StraightThrough(torch.autograd.Function):
    """Forward: the quantized weight; backward: the gradient passes unchanged to the shadow weight."""

    @staticmethod
    def forward(ctx, weight, quantized):
        return quantized

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class WeightQuantizer(nn.Module):
    """A parametrization (``torch.nn.utils.parametrize``) that replaces a layer's weight with
    a quantized copy of its full-precision shadow in every forward pass.

    Every call in training mode is a new step t and quantizes with the seed
    ``stream_key(seed, STREAM_WEIGHT, layer, t)`` (spec.rng), so draws are fresh each step,
    independent across layers and the same on every run; in eval mode it draws the weights
    of the current step without advancing it, so evaluations are repeatable. Optimal levels
    are recomputed from the shadow weights at steps 0, refresh, 2 refresh, ... and kept as
    positions in [0, 1] of each channel's current min/max (a stale table still spans the
    channel, so rounding stays unbiased).

    Parameters as :func:`quantize_weight`, plus ``layer`` (int >= 0, set by
    :func:`quantize_model`) and ``refresh`` (optimal only; default DEFAULT_REFRESH).
    The step is a buffer (``step``), saved with the model's state_dict.
    """

    def __init__(self, scheme: str, bits: int | None = None, *, seed: int = 0, per_channel: bool = True,
                 refresh: int | None = None, layer: int = 0, backend: str = "hls"):
        super().__init__()
        self.scheme, self.bits = check_scheme(scheme, bits)
        self.seed = check_seed(seed)
        self.per_channel = _check_flag(per_channel, "per_channel")
        if refresh is not None and self.scheme != "optimal":
            raise ValueError(f"refresh is only used with scheme='optimal', got scheme={self.scheme!r}")
        self.refresh = check_int(DEFAULT_REFRESH if refresh is None else refresh, "refresh", 1)
        self.layer = check_int(layer, "layer", 0, (1 << 32) - 1)
        self.backend = check_choice(backend, "backend", BACKENDS)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))
        self.table = None  #: optimal levels: Q0.24 positions (channels, 2^bits), uint32

    def extra_repr(self) -> str:
        return (f"scheme={self.scheme!r}, bits={self.bits}, seed={self.seed}, layer={self.layer}, "
                f"per_channel={self.per_channel}" + (f", refresh={self.refresh}" if self.scheme == "optimal" else ""))

    def step_seed(self, step: int) -> int:
        """The quantizer's seed at training step ``step`` (counted modulo 2^32)."""
        return int(stream_key(self.seed, STREAM_WEIGHT, self.layer, step & 0xFFFFFFFF)[0])

    def levels(self, weight: torch.Tensor) -> torch.Tensor:
        """The levels (float64, (channels, 2^bits)) this quantizer rounds ``weight`` to now:
        its current optimal table (computed afresh if it has none) or uniform levels, on the
        weight's min/max."""
        if self.scheme not in ("uniform", "optimal", "nearest"):
            raise ValueError(f"scheme {self.scheme!r} has no level tables")
        _check_weight(weight, self.per_channel)
        return _levels(_quantized_data(weight_matrix(weight, self.per_channel), self.scheme, self.bits, 0,
                                       self.table, self.backend))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.scheme == "fp32":
            return weight
        _check_weight(weight, self.per_channel)
        step = int(self.step)
        if self.training:
            self.step += 1
        with torch.no_grad():
            quantized = self._quantize(weight.detach(), step)
        return _StraightThrough.apply(weight, quantized)

    def _quantize(self, weight: torch.Tensor, step: int) -> torch.Tensor:
        if self.scheme == "xnor":
            return xnor(weight, self.per_channel)
        if self.scheme == "optimal" and self.training and step % self.refresh == 0:
            self.table = None
        X = weight_matrix(weight, self.per_channel)
        q = _quantized_data(X, self.scheme, self.bits, self.step_seed(step), self.table, self.backend)
        if self.scheme == "optimal":
            self.table = q.level_table
        return _from_matrix(q.dequantize(), weight, self.per_channel)


def quantize_model(model: nn.Module, scheme: str, bits: int | None = None, *, seed: int = 0,
                   per_channel: bool = True, refresh: int | None = None, backend: str = "hls") -> nn.Module:
    """Quantize the weights of every Linear and Conv layer of ``model`` in place (a
    :class:`WeightQuantizer` per layer, numbered 0, 1, ... in ``model.modules()`` order);
    returns ``model``. Each shadow weight is ``layer.parametrizations.weight.original``;
    ``torch.nn.utils.parametrize.remove_parametrizations(layer, 'weight')`` leaves a quantized
    weight in its place (in eval mode, the one evaluation uses).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, LAYERS)]
    if not layers:
        raise ValueError("model has no Linear or Conv layers to quantize")
    if any(parametrize.is_parametrized(m, "weight") for m in layers):
        raise ValueError("model already has parametrized (e.g. quantized) weights")
    quantizers = [WeightQuantizer(scheme, bits, seed=seed, per_channel=per_channel, refresh=refresh, layer=i,
                                  backend=backend) for i in range(len(layers))]
    for m, q in zip(layers, quantizers):
        # unsafe: skip the checking call, which would consume a training step
        parametrize.register_parametrization(m, "weight", q.train(model.training), unsafe=True)
    return model
