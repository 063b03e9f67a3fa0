/* Whole-array conversions used while planning (outside the node tables). */
#ifndef EL_CONVERT_H
#define EL_CONVERT_H

#include <stddef.h>
#include <stdint.h>

/* float16 bit patterns -> float32 bit patterns, exactly as numpy's astype: every finite value and
 * infinity exact, subnormals normalised, NaNs keep sign and payload (signalling ones stay signalling).
 * Vector path (F16C / fcvtl) at the dispatch level avx2 / neon and up, exact integer bits otherwise. */
void el_widen_f16(const uint16_t *src, uint32_t *dst, size_t count);

/* The exact scalar conversion of one value (the reference every path agrees with). */
uint32_t el_f16_bits_to_f32_bits(uint16_t half);

#endif
