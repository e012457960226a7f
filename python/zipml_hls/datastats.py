"""What fit()'s set-up needs of a data set, computed once where the float data are at hand
and kept with its quantization (in memory and in quantized files), so that training from
quantized data needs no pass over float data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conditioning import Conditioning
from .scaling import FeatureSummary
from .step_size import RoundingStats, row_bounds_both


@dataclass(frozen=True)
class DataStats:
    """The feature ranges and moments (``summary``), the rounding variances of sampled rows
    at ``bits`` bits (``rounding``), and the step bounds R and S of ``step_size.row_bounds``
    without conditioning (``bound``, ``square_bound``) and with the conditioning that fit()
    derives from these statistics (``bound_conditioned``, ``square_bound_conditioned``):
    exactly what fit(X) computes from X. (Quantized files written before S was kept have
    none: None; fits on them start from R as others do, and do not double towards S.)"""

    summary: FeatureSummary
    rounding: RoundingStats
    bound: float
    bound_conditioned: float
    square_bound: float | None = None
    square_bound_conditioned: float | None = None

    @classmethod
    def of(cls, X: np.ndarray, bits: int, summary: FeatureSummary | None = None,
           table: np.ndarray | None = None) -> "DataStats":
        """Of ``X`` (finite float32, C order) at ``bits`` bits; ``summary``: X's, computed
        before; ``table``: the level tables X is quantized with (None: uniform levels):
        the rounding variances at them and their conditioning's centers."""
        summary = FeatureSummary.of(X) if summary is None else summary
        rounding = RoundingStats.of(X, summary.scaling, bits, table)
        conditioning = Conditioning.fit(summary, bits, rounding, tables=table is not None)
        return cls.of_bounds(summary, rounding, row_bounds_both(X, summary.scaling, conditioning))

    @classmethod
    def of_bounds(cls, summary: FeatureSummary, rounding: RoundingStats, bounds) -> "DataStats":
        """From the summary, the rounding variances and the bounds (R, S, R conditioned, S
        conditioned), as ``row_bounds_both`` gives them (maxima over chunks of rows: over X)."""
        plain, square, conditioned, square_conditioned = map(float, bounds)
        return cls(summary=summary, rounding=rounding, bound=plain, bound_conditioned=conditioned,
                   square_bound=square, square_bound_conditioned=square_conditioned)

    def step_bounds(self, conditioned: bool) -> tuple[float, float]:
        """(R, S) for a fit with (``conditioned``) or without the conditioning (S is R where
        it was not kept)."""
        bound, square = ((self.bound_conditioned, self.square_bound_conditioned) if conditioned
                         else (self.bound, self.square_bound))
        return bound, bound if square is None else square
