"""The int8 tables of the native lowering that edgelite's reference kernels compute: QUANTIZE int8 ->
int8, DEQUANTIZE, SOFTMAX's exp table and the elementwise activations, each the reference run once
on all 256 int8 values, so the engine cannot drift from it.

Both lowerings use them: runtime/native_int8.py per node, and the compiler (native/compile_int8.c)
by kind through runtime/compiled.py (`TABLES[kind](*args) -> bytes`, cached: a repeated start-up
asks for nothing new). This module imports only what the tables need, so that the first int8 model
of a process does not import the Python lowerers.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.runtime.native import Unsupported, _engine

# Elementwise int8 ops whose reference result depends only on each value: one table each.
TABLE_OPS = ("LOGISTIC", "TANH", "HARD_SWISH", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1",
             "LEAKY_RELU", "ELU", "GELU")
INT8_VALUES = np.arange(-128, 128).astype(np.int8)


def multiplier(real: np.float64) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier of a requantization scale (Unsupported when it is not finite)."""
    if not np.isfinite(real):
        raise Unsupported(f"requantization scale {real} is not finite")
    return _engine.quantize_multiplier(float(real))


def requantize_array(in_scale: float, in_zero: int, out_scale: float, out_zero: int) -> np.ndarray:
    """QUANTIZE int8 -> int8 on every int8 value: LiteRT's 16-lane loop, then its scalar tail."""
    from edgelite.ops._quant import requantize

    scale, shift = multiplier(np.float64(in_scale) / np.float64(out_scale))
    return np.concatenate([requantize(INT8_VALUES, in_zero, out_zero, scale, shift, np.int8, lanes)
                           for lanes in (16, 0)])


def dequantize_array(scale: float, zero: int) -> np.ndarray:
    """DEQUANTIZE of every int8 value: the reference's 8-lane vector result, then the exact one."""
    from edgelite.ops.dequantize import dequantize

    # 256 % 8 == 0: every value takes the vector path
    vector = dequantize(INT8_VALUES, np.array([scale], np.float32), np.array([zero]), 0)
    exact = (np.float64(np.float32(scale)) * (INT8_VALUES.astype(np.int64) - zero)).astype(np.float32)
    return np.concatenate([vector, exact]).astype(np.float32)


def softmax_exp_array(in_scale: float, beta: float) -> np.ndarray:
    from edgelite.ops._lut import softmax_exp_table

    return np.asarray(softmax_exp_table(in_scale, beta), np.float32)


def activation_array(opdef, node) -> np.ndarray:
    """The activation's reference kernel on every int8 value, twice (QLUT's vector and scalar halves)."""
    table = np.empty(256, np.int8)
    opdef.run(dataclasses.replace(node, inputs=[INT8_VALUES], outputs=[table], input_shapes=[(256,)]))
    return np.concatenate([table, table])


@functools.lru_cache(maxsize=256)  # start-ups of the same model ask again
def requantize_table(in_scale: float, in_zero: int, out_scale: float, out_zero: int) -> bytes:
    """Kind "requantize": the QLUT table of an int8 -> int8 QUANTIZE."""
    return requantize_array(in_scale, in_zero, out_scale, out_zero).tobytes()


@functools.lru_cache(maxsize=256)
def dequantize_table(scale: float, zero: int) -> bytes:
    """Kind "dequantize": the float32 QLUT table of an int8 DEQUANTIZE."""
    return dequantize_array(scale, zero).tobytes()


@functools.lru_cache(maxsize=256)
def softmax_exp_table(in_scale: float, beta: float) -> bytes:
    """Kind "softmax_exp": QSOFTMAX's float32 exp table."""
    return softmax_exp_array(in_scale, beta).tobytes()


_TABLE_OPTIONS = {"LEAKY_RELU": lambda option: {"alpha": option},
                  "GELU": lambda option: {"approximate": bool(option)}}


def activation_table(opname: str, in_scale: float, in_zero: int, out_scale: float, out_zero: int,
                     option: float = 0.0) -> bytes:
    """Kind "activation": the QLUT table of an int8 -> int8 activation `opname` of these per-tensor
    quantizations (`option`: LEAKY_RELU's alpha, GELU's approximate), after the op's prepare-time
    check, which raises for what the Python plan would reject."""
    from edgelite.ops.registry import lookup

    opdef = lookup(opname)
    if opdef is None or opname not in TABLE_OPS:
        raise Unsupported(f"no int8 table activation {opname}")
    return _activation_table(opdef, opname, in_scale, in_zero, out_scale, out_zero, option)


@functools.lru_cache(maxsize=256)  # by the kernel too: a registered op may replace the builtin one
def _activation_table(opdef, opname: str, in_scale: float, in_zero: int, out_scale: float, out_zero: int,
                      option: float) -> bytes:
    from edgelite.model.ir import Operator, Quantization, Tensor
    from edgelite.ops.base import Node

    make_options = _TABLE_OPTIONS.get(opname)
    options = None if make_options is None else opdef.options(**make_options(option))
    x = Tensor("x", (256,), TensorType.INT8, quantization=Quantization.of(in_scale, in_zero))
    y = Tensor("y", (256,), TensorType.INT8, quantization=Quantization.of(out_scale, out_zero))
    node = Node(0, Operator(opname, (0,), (1,), options), [x], [y], [(256,)], [None])
    if opdef.check is not None:
        opdef.check(node)
    return activation_array(opdef, node).tobytes()


# kind -> table maker, for runtime/compiled.py's tables(kind, args)
TABLES: dict[str, Callable[..., bytes]] = {
    "requantize": requantize_table, "dequantize": dequantize_table, "softmax_exp": softmax_exp_table,
    "activation": activation_table,
}
