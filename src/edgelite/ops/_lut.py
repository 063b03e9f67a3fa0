"""Lookup tables of the quantized activations, built as TFLite builds them.

TFLite evaluates int8/uint8 LOGISTIC, TANH, ELU and GELU, and int16 GELU and SOFTMAX, through
tables filled at Prepare from float (or double) math (LUTPopulate in kernels/internal/common.h,
PopulateSoftmaxLookupTable in optimized_ops.h). A table entry that lands near a rounding boundary
changes with the last bit of the math function, so the transforms call the C library's own
expf/tanhf/erfcf/expm1f/logf/exp through ctypes: the ones LiteRT links against. Where no C
library can be loaded they fall back to correctly rounded numpy math.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from functools import cache, lru_cache, wraps

import numpy as np

F32 = np.float32
Transform = Callable[[np.ndarray], np.ndarray]

_NUMPY = {"exp": np.exp, "tanh": np.tanh, "expm1": np.expm1, "log": np.log,
          "erfc": np.vectorize(math.erfc, otypes=[np.float64])}


@cache
def _libm() -> ctypes.CDLL | None:
    """glibc's libm by its soname; elsewhere whatever ctypes.util finds (it may run a subprocess)."""
    try:
        return ctypes.CDLL("libm.so.6")
    except OSError:
        pass
    from ctypes.util import find_library

    name = find_library("m")
    try:
        return None if name is None else ctypes.CDLL(name)
    except OSError:
        return None


@cache
def _c_function(name: str, single: bool) -> Callable[[float], float] | None:
    library = _libm()
    symbol = name + "f" if single else name
    function = getattr(library, symbol, None) if library is not None else None
    if function is None:
        return None
    ctype = ctypes.c_float if single else ctypes.c_double
    function.restype, function.argtypes = ctype, [ctype]
    return function


def cmath(name: str, x: np.ndarray) -> np.ndarray:
    """The C library's `name` (exp, tanh, erfc, expm1, log) elementwise: the float version
    (expf...) for float32 input, the double one for float64, as C++'s std::exp overloads pick."""
    x = np.asarray(x)
    single = x.dtype == F32
    function = _c_function(name, single)
    if function is None:  # no C library: numpy in double precision, rounded once
        return _NUMPY[name](x.astype(np.float64)).astype(x.dtype)
    flat = [function(float(v)) for v in x.reshape(-1)]
    return np.asarray(flat, dtype=x.dtype).reshape(x.shape)


def round_half_away(x: np.ndarray) -> np.ndarray:
    """C's round/roundf in the input's own precision: ties away from zero, no double rounding."""
    truncated = np.trunc(x)
    return truncated + np.where(np.abs(x - truncated) >= 0.5, np.sign(x), 0).astype(x.dtype)


def float_to_int32(x: np.ndarray) -> np.ndarray:
    """C's float -> int32 conversion on x86: truncation, and INT32_MIN for NaN or out of range."""
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(x) & (x > -(2.0**31) - 1) & (x < 2.0**31)
    return np.where(valid, np.trunc(np.where(valid, x, 0)), -(2**31)).astype(np.int64)


def _quiet(function: Callable) -> Callable:
    """Overflow to inf/NaN in a table is the C behaviour too (huge scales): no numpy warnings."""
    @wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)
    return quiet


# --- 8-bit tables: one entry per input value -------------------------------------------------

@lru_cache(maxsize=256)
@_quiet
def table_8bit(transform: Transform, input_scale: float, input_zero_point: int, output_scale: float,
               output_zero_point: int, dtype: type) -> np.ndarray:
    """LUTPopulate<int8/uint8>: entry k holds the output for input value (dtype min + k)."""
    info = np.iinfo(dtype)
    values = np.arange(info.min, info.max + 1, dtype=np.int64)
    dequantized = F32(input_scale) * (values - input_zero_point).astype(F32)
    transformed = transform(dequantized).astype(F32)
    rescaled = round_half_away(transformed * (F32(1) / F32(output_scale)))
    quantized = float_to_int32(rescaled + F32(output_zero_point))
    table = np.clip(quantized, info.min, info.max).astype(dtype)
    table.flags.writeable = False
    return table


def lookup_8bit(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """LookupTable for int8/uint8: each value replaced by its table entry."""
    offset = int(np.iinfo(table.dtype).min)
    return table[x.astype(np.int64) - offset]


# --- int16 tables: 512 segments with linear interpolation ------------------------------------

@lru_cache(maxsize=64)
@_quiet
def table_int16(transform: Transform, input_scale: float, input_zero_point: int,
                output_scale: float, output_zero_point: int, double: bool = False) -> np.ndarray:
    """LUTPopulate<int16_t>: 513 entries over the input range, each biased so that interpolating
    to the segment's midpoint errs as little as sampling it; float math, or double (`double`)."""
    t = np.float64 if double else F32
    low, high = -32768, 32767
    input_min = t(input_scale) * t(low - input_zero_point)
    input_max = t(input_scale) * t(high - input_zero_point)
    output_min = t(output_scale) * t(low - output_zero_point)
    output_max = t(output_scale) * t(high - output_zero_point)
    steps = 512
    step = (input_max - input_min) / t(steps)
    half_step = step / t(2)
    scaling = t(high - low + 1) / (output_max - output_min)
    index = np.arange(steps).astype(t)
    start = input_min + index * step
    value = transform(start).astype(t)
    midpoint = transform(start + half_step).astype(t)
    following = transform(input_min + (index + t(1)) * step).astype(t)
    sample = round_half_away(value * scaling)
    interpolated = round_half_away((following * scaling + round_half_away(value * scaling)) / t(2))
    bias = round_half_away((interpolated - round_half_away(midpoint * scaling)) / t(2))
    table = np.empty(steps + 1, dtype=np.int16)
    table[:steps] = np.clip(sample - bias, low, high)
    last = round_half_away(transform(np.asarray([input_max], dtype=t)).astype(t) * scaling)
    table[steps] = np.clip(last, low, high)[0]
    table.flags.writeable = False
    return table


def wrap16(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values to int16 (a C cast to int16_t)."""
    return ((np.asarray(x, dtype=np.int64) + 32768) & 0xFFFF) - 32768


def lookup_int16(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """LUTLookup for int16: the top 9 bits pick a segment, the low 7 interpolate along it."""
    x = np.asarray(x, dtype=np.int64)
    index = 256 + (x >> 7)
    base = table[index].astype(np.int64)
    slope = wrap16(table[index + 1].astype(np.int64) - base)
    delta = (slope * (x & 0x7F) + 64) >> 7
    return wrap16(base + delta)


# --- the transforms TFLite passes to LUTPopulate (float math, C library functions) ----------

def logistic(x: np.ndarray) -> np.ndarray:
    """1.0f / (1.0f + std::exp(-value))."""
    return F32(1) / (F32(1) + cmath("exp", -x))


def tanh(x: np.ndarray) -> np.ndarray:
    return cmath("tanh", x)


def elu(x: np.ndarray) -> np.ndarray:
    """value < 0 ? std::expm1(value) : value."""
    return np.where(x < 0, cmath("expm1", x), x).astype(x.dtype)


_MINUS_SQRT_HALF = F32(-math.sqrt(0.5))
_SQRT_2_OVER_PI = F32(2 / math.sqrt(math.pi) * math.sqrt(0.5))


def gelu(x: np.ndarray) -> np.ndarray:
    """GeluTransform: 0.5f * x * std::erfc(x * -M_SQRT1_2)."""
    return F32(0.5) * x * cmath("erfc", x * _MINUS_SQRT_HALF)


def gelu_approximate(x: np.ndarray) -> np.ndarray:
    """GeluTransformApproximate: 0.5f * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715f * x^3)))."""
    cube = F32(0.044715) * x * x * x
    return F32(0.5) * x * (F32(1) + cmath("tanh", _SQRT_2_OVER_PI * (x + cube)))


def exp(x: np.ndarray) -> np.ndarray:
    return cmath("exp", x)


def one_over_one_plus(x: np.ndarray) -> np.ndarray:
    return x.dtype.type(1) / (x.dtype.type(1) + x)


# --- the float exp table of the optimized int8/uint8 SOFTMAX and LOG_SOFTMAX -----------------

@lru_cache(maxsize=256)
@_quiet
def softmax_exp_table(input_scale: float, beta: float) -> np.ndarray:
    """PopulateSoftmaxLookupTable: entry 255 - d holds expf(-input_scale * beta * d)."""
    scale = -F32(input_scale) * F32(beta)
    table = cmath("exp", scale * np.arange(256).astype(F32))[::-1].copy()
    table.flags.writeable = False
    return table


# --- the sigmoid table of the int16 LOGISTIC and TANH reference kernels ----------------------

SIGMOID_UINT16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535], dtype=np.int64)
"""sigmoid(i / 24) in 0.16 fixed point (common.h's sigmoid_table_uint16)."""
