/* f32-vbinary-avx2: ADD/SUB/MUL/PRELU/DIV/MAXIMUM/MINIMUM (max_ps(a, b) is a > b ? a : b, as
 * TFLite's), vector-vector or vector-scalar, 8 lanes, masked tail. */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_avx2.h"

EL_AVX2 static inline __m256 prelu(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_mul_ps(a, b), a, _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GE_OQ));
}

EL_AVX2 static inline __m256 apply(int op, __m256 a, __m256 b) {
  return op == EL_BIN_ADD   ? _mm256_add_ps(a, b)
         : op == EL_BIN_SUB ? _mm256_sub_ps(a, b)
         : op == EL_BIN_MUL ? _mm256_mul_ps(a, b)
         : op == EL_BIN_DIV ? _mm256_div_ps(a, b)
         : op == EL_BIN_MAX ? _mm256_max_ps(a, b)
         : op == EL_BIN_MIN ? _mm256_min_ps(a, b)
                            : prelu(a, b);
}

/* One loop per operand pattern so that `op` and the strides are loop-invariant. */
#define EL_VBINARY_LOOP(LOAD_A, LOAD_B)                                                 \
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, el_clamp8(apply(op, LOAD_A, LOAD_B), vlo, vhi)); \
  if (i < n) {                                                                          \
    const __m256i mask = el_mask8(n - i);                                               \
    _mm256_maskstore_ps(y + i, mask, el_clamp8(apply(op, MASK_##LOAD_A, MASK_##LOAD_B), vlo, vhi)); \
  }

#define VA _mm256_loadu_ps(a + i)
#define VB _mm256_loadu_ps(b + i)
#define SA _mm256_set1_ps(a[0])
#define SB _mm256_set1_ps(b[0])
#define MASK_VA _mm256_maskload_ps(a + i, mask)
#define MASK_VB _mm256_maskload_ps(b + i, mask)
#define MASK_SA SA
#define MASK_SB SB

EL_AVX2 void el_f32_vbinary_avx2(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                                 float *y, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  size_t i = 0;
  if (sa && sb) {
    EL_VBINARY_LOOP(VA, VB)
  } else if (sa) {
    EL_VBINARY_LOOP(VA, SB)
  } else if (sb) {
    EL_VBINARY_LOOP(SA, VB)
  } else {
    EL_VBINARY_LOOP(SA, SB)
  }
}
#endif
