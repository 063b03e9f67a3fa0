"""Accuracy of the digits CNN (../shared/models) after edgelite.prune: every pattern, magnitude vs
reconstruct, at 50 / 75 / 90% sparsity, on scikit-learn's held-out digits.

    python benchmarks/prune_accuracy.py [--sparsities 0.5 0.75 0.9]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import edgelite
from edgelite.optimize import _layers
from edgelite.optimize.prune import sparsity_of

DIGITS = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "digits_cnn_float32.tflite"
TRAINING = 1400  # the model was trained on the first 1400 images: calibration data; the rest tests
PATTERNS = ("unstructured", "2:4", "block(1,4)", "block(1,16)", "channel")
PRUNED_OPS = ("FULLY_CONNECTED", "CONV_2D")


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return np.kron(data.images / 16.0, np.ones((2, 2))).astype(np.float32)[..., None], data.target


def accuracy(model: edgelite.Model, images: np.ndarray, labels: np.ndarray) -> float:
    logits = next(iter(_layers.run(model, [[images]]).values()))
    return float(np.mean(logits.argmax(1) == labels) * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    args = parser.parse_args()
    images, labels = digits()
    test = images[TRAINING:], labels[TRAINING:]
    calibration = {"x": images[:TRAINING]}
    table = Table(title=f"digits CNN accuracy (%) after pruning; float32: "
                        f"{accuracy(edgelite.load(str(DIGITS)), *test):.2f}")
    for column in ("pattern", "target", "reached", "magnitude", "reconstruct"):
        table.add_column(column, justify="left" if column == "pattern" else "right")
    for pattern in PATTERNS:
        for sparsity in [0.5] if pattern == "2:4" else args.sparsities:
            row, reached = [], 0.0
            for method in ("magnitude", "reconstruct"):
                data = calibration if method == "reconstruct" else None
                model = edgelite.prune(str(DIGITS), sparsity, pattern, method, calibration_data=data)
                reached = sparsity_of(model, PRUNED_OPS)
                row.append(f"{accuracy(model, *test):.2f}")
            table.add_row(pattern, f"{sparsity:.0%}", f"{reached:.0%}", *row)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
