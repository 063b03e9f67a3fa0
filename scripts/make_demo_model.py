"""Train the bundled demo model: a small MLP on scikit-learn's digits, written with edgelite's writer.

Run: python scripts/make_demo_model.py   (needs scikit-learn; writes src/edgelite/data/)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from edgelite.model.ir import Model, Operator, SignatureDef, Subgraph, Tensor, TensorType
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.softmax import SoftmaxOptions

DATA = Path(__file__).resolve().parents[1] / "src" / "edgelite" / "data"
HIDDEN, EPOCHS, TRAIN = 128, 200, 1400


def train(x: np.ndarray, y: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """Two dense layers trained with Adam on softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, (2 / 64) ** 0.5, (64, HIDDEN)), np.zeros(HIDDEN),
              rng.normal(0, (2 / HIDDEN) ** 0.5, (HIDDEN, 10)), np.zeros(10)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    step = 0
    for _ in range(EPOCHS):
        for batch in np.array_split(rng.permutation(len(x)), len(x) // 32):
            xb, yb = x[batch], np.eye(10)[y[batch]]
            hidden = np.maximum(xb @ params[0] + params[1], 0)
            logits = hidden @ params[2] + params[3]
            probs = np.exp(logits - logits.max(1, keepdims=True))
            probs /= probs.sum(1, keepdims=True)
            d_logits = (probs - yb) / len(xb)
            d_hidden = (d_logits @ params[2].T) * (hidden > 0)
            grads = [xb.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits, d_logits.sum(0)]
            step += 1
            for p, g, m in zip(params, grads, moments, strict=True):
                m[0] = 0.9 * m[0] + 0.1 * g
                m[1] = 0.999 * m[1] + 0.001 * g * g
                p -= 0.003 * (m[0] / (1 - 0.9**step)) / (np.sqrt(m[1] / (1 - 0.999**step)) + 1e-8)
    return [p.astype(np.float32) for p in params]


def build(params: list[np.ndarray]) -> Model:
    """FULLY_CONNECTED(+RELU) -> FULLY_CONNECTED -> SOFTMAX, weights stored [out, in] as TFLite wants."""
    model = Model(subgraphs=[Subgraph(name="main")], description="edgelite demo: digits MLP")
    graph = model.subgraphs[0]

    def tensor(name: str, shape: tuple[int, ...], data: np.ndarray | None = None) -> int:
        buffer = model.add_buffer(data) if data is not None else 0
        graph.tensors.append(Tensor(name, shape, TensorType.FLOAT32, buffer,
                                    shape_signature=(-1, *shape[1:]) if data is None else None))
        return len(graph.tensors) - 1

    w1, b1, w2, b2 = params
    image = tensor("image", (1, 64))
    hidden = tensor("hidden", (1, HIDDEN))
    logits = tensor("logits", (1, 10))
    probs = tensor("probabilities", (1, 10))
    fc1 = (image, tensor("dense1/weights", w1.T.shape, w1.T), tensor("dense1/bias", b1.shape, b1))
    fc2 = (hidden, tensor("dense2/weights", w2.T.shape, w2.T), tensor("dense2/bias", b2.shape, b2))
    graph.operators = [
        Operator("FULLY_CONNECTED", fc1, (hidden,), FullyConnectedOptions(fused_activation_function=1)),
        Operator("FULLY_CONNECTED", fc2, (logits,), FullyConnectedOptions()),
        Operator("SOFTMAX", (logits,), (probs,), SoftmaxOptions(beta=1.0)),
    ]
    graph.inputs, graph.outputs = (image,), (probs,)
    model.signatures = [SignatureDef("serving_default", {"image": image}, {"probabilities": probs})]
    return model


def main() -> None:
    digits = load_digits()
    x = (digits.data / 16).astype(np.float32)
    params = train(x[:TRAIN], digits.target[:TRAIN])
    DATA.mkdir(parents=True, exist_ok=True)
    build(params).save(str(DATA / "digits_mlp.tflite"))
    np.savez_compressed(DATA / "digits_test.npz", images=digits.data[TRAIN:].astype(np.uint8),
                        labels=digits.target[TRAIN:].astype(np.uint8),
                        calibration=digits.data[:TRAIN:7].astype(np.uint8))
    w1, b1, w2, b2 = params
    hidden = np.maximum(x[TRAIN:] @ w1 + b1, 0)
    accuracy = np.mean((hidden @ w2 + b2).argmax(1) == digits.target[TRAIN:])
    print(f"held-out accuracy {accuracy:.3f}; wrote {DATA}")


if __name__ == "__main__":
    main()
