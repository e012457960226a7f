"""What fit()'s set-up needs of a data set, computed once where the float data are at hand
and kept with its quantization (in memory and in quantized files), so that training from
quantized data needs no pass over float data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conditioning import Conditioning
from .scaling import FeatureSummary
from .step_size import RoundingStats, row_bound


@dataclass(frozen=True)
class DataStats:
    """The feature ranges and moments (``summary``), the rounding variances of sampled rows
    at ``bits`` bits (``rounding``), and the step bound R of ``step_size.row_bound`` without
    conditioning (``bound``) and with the conditioning that fit() derives from these
    statistics (``bound_conditioned``): exactly what fit(X) computes from X."""

    summary: FeatureSummary
    rounding: RoundingStats
    bound: float
    bound_conditioned: float

    @classmethod
    def of(cls, X: np.ndarray, bits: int, summary: FeatureSummary | None = None,
           table: np.ndarray | None = None) -> "DataStats":
        """Of ``X`` (finite float32, C order) at ``bits`` bits; ``summary``: X's, computed
        before; ``table``: the level tables X is quantized with (None: uniform levels):
        the rounding variances at them and their conditioning's centers."""
        summary = FeatureSummary.of(X) if summary is None else summary
        rounding = RoundingStats.of(X, summary.scaling, bits, table)
        conditioning = Conditioning.fit(summary, bits, rounding, tables=table is not None)
        return cls(summary=summary, rounding=rounding, bound=row_bound(X, summary.scaling),
                   bound_conditioned=row_bound(X, summary.scaling, conditioning))

    def step_bound(self, conditioned: bool) -> float:
        """R for a fit with (``conditioned``) or without the conditioning."""
        return self.bound_conditioned if conditioned else self.bound
