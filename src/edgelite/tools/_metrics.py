"""Error metrics between a reference tensor and an approximation of it (float vs quantized).

Used by `edgelite compare` and by the quantizer's selective quantization (`target_sqnr`). The
one-shot functions take two arrays; `ErrorStats` accumulates the same metrics over many samples
in constant memory, so that aggregating over a data set equals computing over all of it at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    out = np.asarray(test, dtype=np.float64)
    if ref.shape != out.shape:
        raise ValueError(f"cannot compare arrays of shapes {ref.shape} and {out.shape}")
    return ref, out


def max_abs_error(reference: np.ndarray, test: np.ndarray) -> float:
    """max |test - reference| (0 for empty arrays)."""
    ref, out = _pair(reference, test)
    return float(np.max(np.abs(out - ref))) if ref.size else 0.0


def rmse(reference: np.ndarray, test: np.ndarray) -> float:
    """Root mean square of test - reference."""
    ref, out = _pair(reference, test)
    return float(np.sqrt(np.mean((out - ref) ** 2))) if ref.size else 0.0


def sqnr_from_sums(signal_power: float, noise_power: float) -> float:
    """10*log10(signal/noise) in dB; inf when the noise is zero (exact), -inf when the signal is."""
    if noise_power == 0:
        return math.inf
    if signal_power == 0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio: 10*log10(sum(ref^2) / sum((test - ref)^2)) dB."""
    ref, out = _pair(reference, test)
    return sqnr_from_sums(float(np.sum(ref * ref)), float(np.sum((out - ref) ** 2)))


def cosine_from_sums(dot: float, norm_ref_sq: float, norm_test_sq: float) -> float:
    """Cosine from its sums; two all-zero vectors are identical (1), one all-zero vector is 0."""
    if norm_ref_sq == 0 and norm_test_sq == 0:
        return 1.0
    if norm_ref_sq == 0 or norm_test_sq == 0:
        return 0.0
    return float(np.clip(dot / math.sqrt(norm_ref_sq * norm_test_sq), -1.0, 1.0))


def cosine_similarity(reference: np.ndarray, test: np.ndarray) -> float:
    """Cosine of the angle between the two arrays seen as flat vectors."""
    ref, out = _pair(reference, test)
    return cosine_from_sums(float(np.dot(ref.ravel(), out.ravel())), float(np.sum(ref * ref)),
                            float(np.sum(out * out)))


def is_classifier_output(shape: tuple[int, ...]) -> bool:
    """Classifier-like: 2-D [batch, classes] with more than one class."""
    return len(shape) == 2 and shape[1] > 1


def top1_matches(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per row of a [batch, classes] pair: does the argmax agree? (bool [batch])."""
    ref, out = _pair(reference, test)
    if ref.ndim != 2:
        raise ValueError(f"top-1 agreement needs [batch, classes] arrays, got shape {ref.shape}")
    return np.argmax(ref, axis=1) == np.argmax(out, axis=1)


def top1_agreement(reference: np.ndarray, test: np.ndarray) -> float:
    """Fraction of rows of [batch, classes] arrays whose argmax agrees."""
    matches = top1_matches(reference, test)
    return float(matches.mean()) if matches.size else 1.0


@dataclass
class ErrorStats:
    """Running sums from which every metric is computed; `update` once per sample."""

    count: int = 0
    max_abs: float = 0.0
    sum_sq_error: float = 0.0
    sum_sq_ref: float = 0.0
    sum_sq_test: float = 0.0
    dot: float = 0.0
    top1: bool = False  # track top-1 agreement when the arrays are [batch, classes]
    top1_rows: int = 0
    top1_agree: int = 0

    def update(self, reference: np.ndarray, test: np.ndarray) -> None:
        """Add one sample's pair of arrays (same shape)."""
        ref, out = _pair(reference, test)
        error = out - ref
        self.count += ref.size
        if ref.size:
            self.max_abs = max(self.max_abs, float(np.max(np.abs(error))))
        self.sum_sq_error += float(np.sum(error * error))
        self.sum_sq_ref += float(np.sum(ref * ref))
        self.sum_sq_test += float(np.sum(out * out))
        self.dot += float(np.dot(ref.ravel(), out.ravel()))
        if self.top1 and is_classifier_output(ref.shape):
            matches = top1_matches(ref, out)
            self.top1_rows += matches.size
            self.top1_agree += int(matches.sum())

    @property
    def rmse(self) -> float:
        return math.sqrt(self.sum_sq_error / self.count) if self.count else 0.0

    @property
    def sqnr_db(self) -> float:
        return sqnr_from_sums(self.sum_sq_ref, self.sum_sq_error)

    @property
    def cosine(self) -> float:
        return cosine_from_sums(self.dot, self.sum_sq_ref, self.sum_sq_test)

    @property
    def top1_agreement(self) -> float | None:
        """Fraction of [batch, classes] rows whose argmax agrees; None when none were tracked."""
        return self.top1_agree / self.top1_rows if self.top1_rows else None

    def summary(self) -> dict[str, float | None]:
        """The metrics as a dict: max_abs_error, rmse, sqnr_db, cosine, top1_agreement."""
        return {"max_abs_error": self.max_abs, "rmse": self.rmse, "sqnr_db": self.sqnr_db,
                "cosine": self.cosine, "top1_agreement": self.top1_agreement}
