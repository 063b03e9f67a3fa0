"""Calibration: the four range observers, dataset forms, and the memory bound."""

from __future__ import annotations

import numpy as np
import pytest

from edgelite.model.ir import Model, Operator, Subgraph, Tensor
from edgelite.optimize.quantize._observers import (
    HistogramObserver,
    MinMaxObserver,
    MovingAverageObserver,
    MseObserver,
    PercentileObserver,
)
from edgelite.optimize.quantize._params import activation_params
from edgelite.optimize.quantize.calibrate import CalibrationError, calibrate, samples_of

RNG = np.random.default_rng(3)


def observe(observer, batches):
    for batch in batches:
        observer.update(np.asarray(batch, np.float32))
    return observer


def test_minmax_is_the_extremes() -> None:
    batches = [RNG.normal(size=100) for _ in range(5)]
    low, high = observe(MinMaxObserver(), batches).range()
    everything = np.concatenate(batches).astype(np.float32)
    assert (low, high) == (everything.min(), everything.max())


def test_moving_average_damps_a_single_outlier_batch() -> None:
    batches = [RNG.uniform(-1, 1, 1000) for _ in range(50)]
    batches[10] = batches[10] * 100
    low, high = observe(MovingAverageObserver(), batches).range()
    assert high < 3 and low > -3  # min/max would say +-100
    assert high > 0.9 and low < -0.9


def test_percentile_clips_outliers() -> None:
    values = RNG.normal(size=(200, 1000))
    values[0, :2] = [1e3, -1e3]  # two wild values in 200,000: beyond the 0.001% tails
    observer = observe(PercentileObserver(), values)
    low, high = observer.range()
    assert observer.high == pytest.approx(1e3) and observer.low == pytest.approx(-1e3)
    assert 3.0 < high < 6.0 and -6.0 < low < -3.0


def test_histogram_grows_exactly() -> None:
    observer = HistogramObserver(bins=64)
    observer.update(np.linspace(0, 1, 1000))
    observer.update(np.linspace(-5, 30, 1000))
    assert observer.counts.sum() == 2000
    assert observer.counts.size == 64
    assert observer.origin <= -5 and observer.origin + 64 * observer.width >= 30
    # Every value still lies in the bin its value says.
    centers = observer.centers()
    assert centers.min() < 0 < centers.max()


def quantization_mse(values: np.ndarray, low: float, high: float) -> float:
    """Mean squared error of int8 quantization with TFLite's parameters for [low, high]."""
    quant = activation_params(low, high, np.int8)
    scale, zero = float(quant.scale[0]), int(quant.zero_point[0])
    q = np.clip(np.round(values / scale) + zero, -128, 127)
    return float(np.mean(((q - zero) * scale - values) ** 2))


def test_mse_range_lowers_the_error_on_heavy_tails() -> None:
    values = RNG.standard_t(df=3, size=(100, 2000)).astype(np.float32)  # heavy-tailed
    mse, minmax = observe(MseObserver(), values), observe(MinMaxObserver(), values)
    chosen, extremes = mse.range(256, False), minmax.range()
    assert chosen[1] - chosen[0] < 0.9 * (extremes[1] - extremes[0])
    assert quantization_mse(values, *chosen) < 0.85 * quantization_mse(values, *extremes)


def test_mse_symmetric_range_is_symmetric() -> None:
    observer = observe(MseObserver(), RNG.laplace(size=(20, 5000)))
    low, high = observer.range(65536, True)
    assert low == -high and high > 0


@pytest.mark.parametrize("kind", [MinMaxObserver, MovingAverageObserver, PercentileObserver, MseObserver])
def test_memory_does_not_grow_with_samples(kind) -> None:
    observer = kind()

    def state_bytes() -> int:
        return sum(np.asarray(v).nbytes for v in vars(observer).values())

    observer.update(RNG.normal(size=1000))
    before = state_bytes()
    for k in range(300):
        observer.update(RNG.normal(size=1000) * (1 + k / 10))
    assert state_bytes() == before


def relu_model() -> Model:
    """x -> RELU -> y, with signature name 'image' for x."""
    graph = Subgraph([Tensor("x", (1, 4)), Tensor("y", (1, 4))], (0,), (1,), [Operator("RELU", (0,), (1,))])
    model = Model([graph])
    from edgelite.model.ir import SignatureDef

    model.signatures.append(SignatureDef("serving_default", {"image": 0}, {"out": 1}))
    return model


@pytest.mark.parametrize("form", ["lists", "arrays", "dicts", "signature_dicts", "mapping", "callable",
                                  "unbatched"])
def test_dataset_forms(form: str) -> None:
    data = RNG.uniform(-1, 2, (5, 1, 4)).astype(np.float32)
    dataset = {
        "lists": [[d] for d in data],
        "arrays": list(data),
        "dicts": [{"x": d} for d in data],
        "signature_dicts": [{"image": d} for d in data],
        "mapping": {"image": data},
        "callable": lambda: ([d] for d in data),
        "unbatched": [[d[0]] for d in data],
    }[form]
    result = calibrate(relu_model(), dataset, "minmax", progress=False)
    assert result.samples == 5
    assert result.range(0) == pytest.approx((data.min(), data.max()))
    assert result.range(1) == pytest.approx((0.0, data.max()))


def test_npz_file(tmp_path) -> None:
    data = RNG.uniform(-1, 1, (3, 1, 4)).astype(np.float32)
    np.savez(tmp_path / "cal.npz", anything=data)
    result = calibrate(relu_model(), str(tmp_path / "cal.npz"), "percentile", progress=True)
    assert result.samples == 3


def test_dataset_errors() -> None:
    model = relu_model()
    with pytest.raises(CalibrationError, match="no samples"):
        calibrate(model, [], progress=False)
    with pytest.raises(CalibrationError, match="no array for input 'x' / 'image'"):
        list(samples_of([{"wrong": np.zeros((1, 4))}], model))
    with pytest.raises(CalibrationError, match="2 arrays but the model has 1 inputs"):
        list(samples_of([[np.zeros((1, 4)), np.zeros((1, 4))]], model))
    with pytest.raises(CalibrationError, match="cannot read calibration data"):
        list(samples_of("/nonexistent/cal.npz", model))
    with pytest.raises(CalibrationError, match="must be iterable"):
        list(samples_of(3.5, model))
