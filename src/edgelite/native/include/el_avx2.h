/* Helpers for AVX2+FMA kernels: included only inside `#if EL_ARCH_X86`. Every function that uses
 * them carries EL_AVX2, so the rest of the library stays baseline x86-64. */
#ifndef EL_AVX2_H
#define EL_AVX2_H

#include <immintrin.h>

#define EL_AVX2 __attribute__((target("avx2,fma")))

/* Loaded at offset 8 - n: the first n lanes are set. */
static const int el_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

EL_AVX2 static inline __m256i el_mask8(size_t n) {
  return _mm256_loadu_si256((const __m256i *)(el_mask_table + 8 - n));
}

/* (lo > x ? lo : x) then (hi < x ? hi : x): NaN and -0.0 pass through, as in the scalar code. */
EL_AVX2 static inline __m256 el_clamp8(__m256 x, __m256 lo, __m256 hi) {
  return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
}

#endif
