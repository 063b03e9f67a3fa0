/* float16 -> float32 widening of constant weights (DEQUANTIZE folded at plan time). The hardware
 * converters quiet signalling NaNs (and honour FPCR.DN on Arm), numpy does not: a vector of 8 (x86)
 * or 4 (Arm) values holding a NaN is redone with the exact integer conversion. */
#include "include/el_convert.h"

#include "include/el_kernels.h"

#if EL_ARCH_X86
#include <immintrin.h>
#elif EL_ARCH_ARM64
#include <arm_neon.h>
#endif

uint32_t el_f16_bits_to_f32_bits(uint16_t half) {
  const uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
  const uint32_t exponent = half & 0x7c00u, mantissa = half & 0x03ffu;
  if (exponent == 0x7c00u) return sign | 0x7f800000u | (mantissa << 13); /* inf, NaN (payload kept) */
  if (exponent != 0) return sign | (((uint32_t)(half & 0x7fffu) << 13) + 0x38000000u); /* rebias 15 -> 127 */
  if (mantissa == 0) return sign;
  /* subnormal: mantissa * 2**-24 = 2**(top - 24) * 1.f, top = its highest set bit */
  int top = 9;
  while (!(mantissa >> top)) top--;
  const uint32_t fraction = (mantissa << (10 - top)) & 0x03ffu;
  return sign | ((uint32_t)(top + 103) << 23) | (fraction << 13);
}

static void widen_scalar(const uint16_t *src, uint32_t *dst, size_t count) {
  for (size_t i = 0; i < count; i++) dst[i] = el_f16_bits_to_f32_bits(src[i]);
}

#if EL_ARCH_X86 && defined(__GNUC__)
__attribute__((target("avx,f16c"))) static size_t widen_f16c(const uint16_t *src, uint32_t *dst,
                                                              size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 wide = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
    if (_mm256_movemask_ps(_mm256_cmp_ps(wide, wide, _CMP_UNORD_Q)))
      widen_scalar(src + i, dst + i, 8);
    else
      _mm256_storeu_ps((float *)(dst + i), wide);
  }
  return i;
}

static int have_f16c(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
}
#endif

#if EL_ARCH_ARM64
static size_t widen_fcvtl(const uint16_t *src, uint32_t *dst, size_t count) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const float32x4_t wide = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i)));
    if (vmaxvq_u32(vmvnq_u32(vceqq_f32(wide, wide))))
      widen_scalar(src + i, dst + i, 4);
    else
      vst1q_u32(dst + i, vreinterpretq_u32_f32(wide));
  }
  return i;
}
#endif

void el_widen_f16(const uint16_t *src, uint32_t *dst, size_t count) {
  size_t done = 0;
#if EL_ARCH_X86 && defined(__GNUC__)
  if (el_isa_active() >= EL_ISA_avx2 && have_f16c()) done = widen_f16c(src, dst, count);
#elif EL_ARCH_ARM64
  if (el_isa_active() >= EL_ISA_neon) done = widen_fcvtl(src, dst, count);
#endif
  widen_scalar(src + done, dst + done, count - done);
}
