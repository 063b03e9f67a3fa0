"""gemmlowp's fixed-point math (fixedpoint/fixedpoint.h) on int16 or int32 raw values.

A fixed-point value with `integer_bits` m in a `bits`-wide integer stands for raw / 2**(bits-1-m).
Values are numpy int64 arrays holding the raw integers; every operation wraps or saturates
exactly as the C++ scalar code does for that width, so the results are bit-equal to TFLite's
int16 LOGISTIC/TANH (power-of-two input scale) and the reference softmax helpers.
"""

from __future__ import annotations

import numpy as np

Raw = np.ndarray


def wrap(x: Raw, bits: int) -> Raw:
    """Two's-complement wrap to a `bits`-wide signed integer (C's cast / overflowing add)."""
    half = 1 << (bits - 1)
    return ((np.asarray(x, dtype=np.int64) + half) & ((1 << bits) - 1)) - half


def srdhm(a: Raw, b: Raw, bits: int) -> Raw:
    """SaturatingRoundingDoublingHighMul: a * b / 2**(bits-1), rounded, min*min saturated."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    product = a * b
    nudge = np.where(product >= 0, 1 << (bits - 2), 1 - (1 << (bits - 2)))
    total = product + nudge
    high = np.where(total >= 0, total >> (bits - 1), -((-total) >> (bits - 1)))  # C truncation
    low = -(1 << (bits - 1))
    return np.where((a == low) & (b == low), (1 << (bits - 1)) - 1, high)


def rounding_divide_by_pot(x: Raw, exponent: int, bits: int) -> Raw:
    """RoundingDivideByPOT: x / 2**exponent, ties away from zero (mask arithmetic in `bits`)."""
    x = np.asarray(x, dtype=np.int64)
    mask = int(wrap((1 << exponent) - 1, bits))
    remainder = x & mask
    threshold = wrap((mask >> 1) + (x < 0), bits)
    return wrap((x >> exponent) + (remainder > threshold), bits)


def saturating_multiply_by_pot(x: Raw, exponent: int, bits: int) -> Raw:
    """SaturatingRoundingMultiplyByPOT<exponent>: saturating left shift, or rounding right."""
    if exponent == 0:
        return np.asarray(x, dtype=np.int64)
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent, bits)
    x = np.asarray(x, dtype=np.int64)
    threshold = (1 << (bits - 1 - exponent)) - 1
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.where(x > threshold, high, np.where(x < -threshold, low, wrap(x << exponent, bits)))


def rescale(x: Raw, src_integer_bits: int, dst_integer_bits: int, bits: int) -> Raw:
    return saturating_multiply_by_pot(x, src_integer_bits - dst_integer_bits, bits)


def constant(raw_int32: int, bits: int) -> int:
    """A GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT written as int32, narrowed to `bits` by rounding."""
    return int(rounding_divide_by_pot(np.int64(raw_int32), 32 - bits, 32)) if bits < 32 \
        else raw_int32


def one(integer_bits: int, bits: int) -> int:
    return (1 << (bits - 1)) - 1 if integer_bits == 0 else 1 << (bits - 1 - integer_bits)


def _add_saturating_if_16(a: Raw, b: Raw, bits: int) -> Raw:
    total = np.asarray(a, dtype=np.int64) + b
    return np.clip(total, -32768, 32767) if bits == 16 else wrap(total, bits)


def _exp_on_interval(a: Raw, bits: int) -> Raw:
    """exp(x) for x in [-1/4, 0), in F0: a Taylor expansion around -1/8."""
    constant_term = constant(1895147668, bits)
    one_third = constant(715827883, bits)
    x = wrap(a + (1 << (bits - 1 - 3)), bits)
    x2 = srdhm(x, x, bits)
    x3 = srdhm(x2, x, bits)
    x4 = srdhm(x2, x2, bits)
    x4_over_4 = saturating_multiply_by_pot(x4, -2, bits)
    inner = wrap(srdhm(wrap(x4_over_4 + x3, bits), one_third, bits) + x2, bits)
    poly = saturating_multiply_by_pot(inner, -1, bits)
    return _add_saturating_if_16(constant_term, srdhm(constant_term, wrap(x + poly, bits), bits),
                                 bits)


_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
           (3, 720401), (4, 242))


def exp_on_negative_values(a: Raw, integer_bits: int, bits: int) -> Raw:
    """exp(a) for a <= 0 given with `integer_bits`; the result is F0 (integer_bits 0)."""
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = bits - 1 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap((a & mask) - one_quarter, bits)
    result = _exp_on_interval(rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0, bits), bits)
    remainder = wrap(a_mod_quarter_minus_one_quarter - a, bits)
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where(remainder & bit, srdhm(result, constant(multiplier, bits), bits), result)
    if integer_bits > 5:
        clamp = constant(-(1 << (36 - integer_bits)), bits)
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, one(0, bits), result)


def _newton_reciprocal(half_denominator: Raw, bits: int) -> Raw:
    """Three Newton-Raphson steps for 1 / half_denominator, in F2."""
    x = wrap(constant(1515870810, bits) + srdhm(half_denominator, constant(-1010580540, bits), bits),
             bits)
    one_f2 = one(2, bits)
    for _ in range(3):
        error = wrap(one_f2 - srdhm(half_denominator, x, bits), bits)
        x = wrap(x + rescale(srdhm(x, error, bits), 4, 2, bits), bits)
    return x


def _rounding_half_sum(a: Raw, b: int | Raw, bits: int) -> Raw:
    total = np.asarray(a, dtype=np.int64) + b
    sign = np.where(total >= 0, 1, -1)
    summed = total + sign
    return wrap(np.where(summed >= 0, summed // 2, -((-summed) // 2)), bits)


def one_over_one_plus_x_for_x_in_0_1(a: Raw, bits: int) -> Raw:
    x = _newton_reciprocal(_rounding_half_sum(a, one(0, bits), bits), bits)
    return rescale(x, 1, 0, bits)  # ExactMulByPot<-1> makes F1, then Rescale<0>


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: Raw, bits: int) -> Raw:
    x = _newton_reciprocal(_rounding_half_sum(a, one(0, bits), bits), bits)
    return rescale(wrap(x - one(2, bits), bits), 2, 0, bits)


def logistic(a: Raw, integer_bits: int, bits: int) -> Raw:
    """gemmlowp::logistic: 1 / (1 + exp(-a)) as F0."""
    a = np.asarray(a, dtype=np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, wrap(-a, bits))
    if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap(-abs_input, bits), integer_bits, bits), bits)
    if_negative = wrap(one(0, bits) - if_positive, bits)
    half = constant(1 << 30, bits)
    return np.where(a == 0, half, np.where(positive, if_positive, if_negative))


def tanh(a: Raw, integer_bits: int, bits: int) -> Raw:
    """gemmlowp::tanh: (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with a's sign, as F0."""
    a = np.asarray(a, dtype=np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap(-a, bits))
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(n, integer_bits + 1, bits), bits)  # ExactMulByPot<1>
    return np.where(a == 0, 0, np.where(negative, wrap(-t, bits), t))
