"""Streaming range observers for calibration: each keeps O(1) state per tensor, whatever the
number of samples (the histogram has a fixed number of bins and re-bins exactly when it grows).

  minmax          the smallest and largest value seen
  moving_average  exponential moving average of each sample's min and max (weight 0.01, as
                  PyTorch's MovingAverageMinMaxObserver)
  percentile      the 0.001th and 99.999th percentiles of everything seen (TensorFlow's
                  HISTOGRAM_PERCENTILE defaults), from a 2048-bin histogram
  mse             the clipping range that minimizes the expected squared quantization error
                  (clipping error + rounding noise step**2/12) for the target number of levels
"""

from __future__ import annotations

import math

import numpy as np

BINS = 2048
MOMENTUM = 0.01
PERCENTILES = (0.001, 99.999)
_SEARCH_STEPS = 128


class MinMaxObserver:
    """Running min and max."""

    def __init__(self) -> None:
        self.low, self.high = math.inf, -math.inf

    def update(self, values: np.ndarray) -> None:
        finite = _finite(values)
        if finite.size:
            self.low = min(self.low, float(finite.min()))
            self.high = max(self.high, float(finite.max()))

    @property
    def seen(self) -> bool:
        return self.low <= self.high

    def range(self, levels: int = 256, symmetric: bool = False) -> tuple[float, float]:
        return (self.low, self.high) if self.seen else (0.0, 0.0)


class MovingAverageObserver(MinMaxObserver):
    """Exponential moving average of per-sample min and max."""

    def __init__(self, momentum: float = MOMENTUM) -> None:
        super().__init__()
        self.momentum = momentum

    def update(self, values: np.ndarray) -> None:
        finite = _finite(values)
        if not finite.size:
            return
        low, high = float(finite.min()), float(finite.max())
        if not self.seen:
            self.low, self.high = low, high
            return
        self.low += self.momentum * (low - self.low)
        self.high += self.momentum * (high - self.high)


class HistogramObserver(MinMaxObserver):
    """A fixed-size histogram whose range grows by whole-bin merges (no approximation)."""

    def __init__(self, bins: int = BINS) -> None:
        super().__init__()
        self.counts = np.zeros(bins, dtype=np.int64)
        self.origin = 0.0
        self.width = 0.0

    def update(self, values: np.ndarray) -> None:
        finite = _finite(values).astype(np.float64).reshape(-1)
        if not finite.size:
            return
        low, high = float(finite.min()), float(finite.max())
        if not self.seen:
            self.origin = low
            self.width = (high - low) / self.counts.size or max(abs(low), 1.0) * 1e-6
        else:
            self._grow(low, high)
        super().update(finite)
        index = np.floor((finite - self.origin) / self.width)
        index = np.clip(index, 0, self.counts.size - 1).astype(np.int64)
        self.counts += np.bincount(index, minlength=self.counts.size)

    def _grow(self, low: float, high: float) -> None:
        bins, end = self.counts.size, self.origin + self.counts.size * self.width
        if low >= self.origin and high <= end:
            return
        shift = math.ceil((self.origin - low) / self.width) if low < self.origin else 0
        new_origin, factor = self.origin - shift * self.width, 1
        while new_origin + bins * factor * self.width < max(high, end):
            factor *= 2
        target = (np.arange(bins) + shift) // factor
        self.counts = np.bincount(target, weights=self.counts, minlength=bins).astype(np.int64)
        self.origin, self.width = new_origin, self.width * factor

    def centers(self) -> np.ndarray:
        return self.origin + (np.arange(self.counts.size) + 0.5) * self.width

    def percentile_range(self, lower: float, upper: float) -> tuple[float, float]:
        """Values below which `lower`% and `upper`% of the observed values fall."""
        if not self.seen:
            return 0.0, 0.0
        cumulative = np.cumsum(self.counts)
        total = cumulative[-1]
        first = int(np.searchsorted(cumulative, total * lower / 100.0, side="right"))
        last = int(np.searchsorted(cumulative, total * upper / 100.0, side="left"))
        low = self.origin + first * self.width
        high = self.origin + (min(last, self.counts.size - 1) + 1) * self.width
        return max(low, self.low), min(high, self.high)

    def quantization_error(self, low: np.ndarray, high: np.ndarray, levels: int) -> np.ndarray:
        """Expected squared error of quantizing the histogram to [low, high] (arrays of candidates)."""
        x, n = self.centers()[None, :], self.counts[None, :].astype(np.float64)
        low, high = np.asarray(low, np.float64)[:, None], np.asarray(high, np.float64)[:, None]
        step = (high - low) / (levels - 1)
        clipped = np.where(x < low, (low - x) ** 2, np.where(x > high, (x - high) ** 2, step**2 / 12))
        return (clipped * n).sum(axis=1)

    def mse_range(self, levels: int, symmetric: bool) -> tuple[float, float]:
        """The [low, high] with 0 inside that minimizes quantization_error (coordinate search)."""
        if not self.seen:
            return 0.0, 0.0
        fractions = np.linspace(1.0, 1.0 / _SEARCH_STEPS, _SEARCH_STEPS)
        low, high = min(self.low, 0.0), max(self.high, 0.0)
        if symmetric:
            bounds = max(-low, high) * fractions
            best = bounds[int(np.argmin(self.quantization_error(-bounds, bounds, levels)))]
            return -best, best
        for _ in range(3):
            highs = high * fractions if high > 0 else np.zeros(1)
            high = highs[int(np.argmin(self.quantization_error(np.full_like(highs, low), highs, levels)))]
            lows = low * fractions if low < 0 else np.zeros(1)
            low = lows[int(np.argmin(self.quantization_error(lows, np.full_like(lows, high), levels)))]
        return float(low), float(high)


class PercentileObserver(HistogramObserver):
    def __init__(self, percentiles: tuple[float, float] = PERCENTILES, bins: int = BINS) -> None:
        super().__init__(bins)
        self.percentiles = percentiles

    def range(self, levels: int = 256, symmetric: bool = False) -> tuple[float, float]:
        return self.percentile_range(*self.percentiles)


class MseObserver(HistogramObserver):
    def range(self, levels: int = 256, symmetric: bool = False) -> tuple[float, float]:
        return self.mse_range(levels, symmetric)


OBSERVERS = {
    "minmax": MinMaxObserver,
    "moving_average": MovingAverageObserver,
    "percentile": PercentileObserver,
    "mse": MseObserver,
}


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values[np.isfinite(values)] if values.dtype.kind == "f" else values
