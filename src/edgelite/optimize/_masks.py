"""Sparsity patterns and the two ways of choosing what to remove from a [rows, columns] weight
matrix: by magnitude, or by one-shot Optimal Brain Surgeon reconstruction (SparseGPT, Frantar &
Alistarh 2023), which also updates the weights that stay so that the layer's output on the
calibration inputs changes as little as possible. A True in a mask means "pruned"."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from edgelite.optimize._layers import OptimizationError

OBS_BLOCK = 128  # columns processed together (SparseGPT's lazy batch updates)


@dataclass(frozen=True)
class Pattern:
    """unstructured (group 1), block(1,g) (g consecutive columns), n:m (n of every m consecutive
    columns) or channel (whole rows)."""

    name: str
    group: int = 1
    n: int = 0
    m: int = 0

    @classmethod
    def parse(cls, text: str) -> Pattern:
        text = str(text).strip().replace(" ", "")
        if text == "unstructured":
            return cls(text)
        if text == "channel":
            return cls(text, group=0)
        if match := re.fullmatch(r"block\(1,(\d+)\)", text):
            return cls(text, group=int(match[1]))
        if (match := re.fullmatch(r"(\d+):(\d+)", text)) and 0 < int(match[1]) < int(match[2]):
            return cls(text, n=int(match[1]), m=int(match[2]))
        raise OptimizationError(f"unknown sparsity pattern {text!r}; use 'unstructured', 'n:m' such as "
                                "'2:4', 'block(1,4)', 'block(1,16)' or 'channel'")

    @property
    def fixed_sparsity(self) -> float | None:
        return self.n / self.m if self.m else None

    def step(self, columns: int) -> int:
        """Width of one pattern unit along the columns."""
        return self.m or (self.group or columns)

    def fits(self, last_dim: int) -> bool:
        """Units must not straddle the stored tensor's last dimension (storage blocks it)."""
        return self.name in ("unstructured", "channel") or last_dim % (self.m or self.group) == 0


def _lowest(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the round(fraction * size) lowest scores (ties broken by position)."""
    count = int(round(fraction * scores.size))
    mask = np.zeros(scores.size, dtype=bool)
    mask[np.argsort(scores, axis=None, kind="stable")[:count]] = True
    return mask.reshape(scores.shape)


def unit_scores(values: np.ndarray, pattern: Pattern) -> np.ndarray:
    """[rows, units] summed scores of each group of columns (not for n:m)."""
    rows, columns = values.shape
    width = pattern.step(columns)
    return values.reshape(rows, columns // width, width).sum(axis=2)


def expand(unit_mask: np.ndarray, columns: int) -> np.ndarray:
    return np.repeat(unit_mask, columns // unit_mask.shape[1], axis=1)


def n_of_m(scores: np.ndarray, pattern: Pattern) -> np.ndarray:
    """Prune the n lowest scores of every m consecutive columns of each row."""
    rows, columns = scores.shape
    grouped = scores.reshape(rows, columns // pattern.m, pattern.m)
    order = np.argsort(grouped, axis=2, kind="stable")[..., :pattern.n]
    mask = np.zeros(grouped.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=2)
    return mask.reshape(rows, columns)


def magnitude_masks(matrices: list[np.ndarray], pattern: Pattern, sparsity: float,
                    scope: str) -> list[np.ndarray]:
    """Masks removing the smallest weights (L2 over a pattern unit), per layer or globally."""
    squares = [np.square(w.astype(np.float64)) for w in matrices]
    if pattern.m:
        return [n_of_m(s, pattern) for s in squares]
    scores = [unit_scores(s, pattern) for s in squares]
    if scope == "layer":
        return [expand(_lowest(s, sparsity), w.shape[1]) for s, w in zip(scores, matrices, strict=True)]
    flat = np.concatenate([s.reshape(-1) for s in scores])
    chosen = _lowest(flat, sparsity)
    masks, start = [], 0
    for s, w in zip(scores, matrices, strict=True):
        masks.append(expand(chosen[start:start + s.size].reshape(s.shape), w.shape[1]))
        start += s.size
    return masks


def _joint_n_of_m(values: np.ndarray, factor: np.ndarray, pattern: Pattern) -> np.ndarray:
    """Per row, the n of these m columns whose joint removal costs least, w_P^T ([H^-1]_PP)^-1 w_P,
    with H^-1 that of the columns not yet processed (U^T U over this span of its Cholesky factor)."""
    inverse = factor.T @ factor
    best, best_cost = None, None
    for removed in itertools.combinations(range(pattern.m), pattern.n):
        chosen = list(removed)
        w = values[:, chosen]
        cost = np.einsum("ri,ij,rj->r", w, np.linalg.inv(inverse[np.ix_(chosen, chosen)]), w)
        if best is None:
            best, best_cost = np.full(len(values), 0), cost
            options = [chosen]
        else:
            better = cost < best_cost
            best[better], best_cost = len(options), np.where(better, cost, best_cost)
            options.append(chosen)
    mask = np.zeros(values.shape, dtype=bool)
    for k, chosen in enumerate(options):
        rows = np.nonzero(best == k)[0]
        mask[np.ix_(rows, chosen)] = True
    return mask


def inverse_hessian(hessian: np.ndarray, damping: float) -> tuple[np.ndarray, np.ndarray]:
    """(upper Cholesky factor of the damped H^-1, columns that never see a non-zero input)."""
    h = hessian.astype(np.float64).copy()
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    mean = float(np.mean(np.diag(h)))
    for attempt in range(6):
        damped = h + np.eye(len(h)) * damping * mean * 10.0**attempt
        try:
            return np.linalg.cholesky(np.linalg.inv(damped)).T, dead
        except np.linalg.LinAlgError:
            continue
    raise OptimizationError("the layer's input Hessian stays singular after damping; give more "
                            "calibration samples or use method='magnitude'")


def reconstruct(weights: np.ndarray, hessian: np.ndarray, sparsity: float, pattern: Pattern,
                damping: float = 0.01, bias: np.ndarray | None = None):
    """(pruned and updated weights, updated bias): OBS pruning column by column, each removal's
    error spread over the columns not yet processed (w -= err * [H^-1]_i,: / [H^-1]_ii). With a
    bias, `hessian` has one more column (inputs of ones) and the bias, never pruned and processed
    last, absorbs what the weights could not."""
    rows, columns = weights.shape
    w = weights.astype(np.float64)
    w = np.concatenate([w, bias.astype(np.float64).reshape(rows, 1)], axis=1) if bias is not None \
        else w.copy()
    hinv, dead = inverse_hessian(hessian, damping)
    w[:, dead] = 0.0
    step = pattern.step(columns)
    block = columns if step >= columns else max(step, OBS_BLOCK // step * step)
    mask = np.zeros((rows, columns), dtype=bool)
    for first in range(0, columns, block):
        last = min(first + block, columns)
        part, hinv_part = w[:, first:last].copy(), hinv[first:last, first:last]
        diag = np.diag(hinv_part)
        errors = np.zeros_like(part)
        part_mask = mask[:, first:last]
        if not pattern.m:  # choose this block's units up front, by OBS saliency w^2 / [H^-1]_jj^2
            part_mask[...] = expand(_lowest(unit_scores(part**2 / diag**2, pattern), sparsity),
                                    last - first)
        for j in range(last - first):
            if pattern.m and j % pattern.m == 0:
                span = slice(j, j + pattern.m)
                part_mask[:, span] = _joint_n_of_m(part[:, span], hinv_part[span, span], pattern)
            column = part[:, j]
            kept = np.where(part_mask[:, j], 0.0, column)
            error = (column - kept) / diag[j]
            part[:, j:] -= np.outer(error, hinv_part[j, j:])
            part[:, j] = kept
            errors[:, j] = error
        w[:, first:last] = part
        w[:, last:] -= errors @ hinv[first:last, last:]
    w[:, :columns][mask] = 0.0
    return w[:, :columns], (w[:, columns] if bias is not None else None)


def refit(weights: np.ndarray, bias: np.ndarray | None, mask: np.ndarray, gram: np.ndarray,
          cross: np.ndarray, damping: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Least-squares weights for a fixed mask: per row, the kept weights (and the bias) that best
    reproduce the original layer's output on the float model's inputs (cross = X^T Y)."""
    rows, columns = weights.shape
    original = weights.astype(np.float64)
    if bias is not None:
        original = np.concatenate([original, bias.astype(np.float64).reshape(rows, 1)], axis=1)
        mask = np.concatenate([mask, np.zeros((rows, 1), dtype=bool)], axis=1)
    targets = cross @ original.T  # X^T Y w_r for every row r
    ridge = np.eye(len(gram)) * damping * float(np.mean(np.diag(gram)))
    regularized = gram + ridge
    result = np.zeros_like(original)
    for r in range(rows):
        kept = ~mask[r]
        if kept.any():
            system = regularized[np.ix_(kept, kept)]
            result[r, kept] = np.linalg.solve(system, targets[kept, r] + ridge[np.ix_(kept, kept)] @
                                              original[r, kept])
    return result[:, :columns], (result[:, columns] if bias is not None else None)
