/* Helpers for the float32 AVX-512 kernels (level `avx512`: F/BW/VL/DQ): included only inside
 * `#if EL_ARCH_X86`. Every function that uses them carries EL_AVX512, so the rest of the library
 * stays baseline x86-64. */
#ifndef EL_AVX512_H
#define EL_AVX512_H

#include <immintrin.h>

#define EL_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq")))

/* The first n (<= 16) lanes. */
EL_AVX512 static inline __mmask16 el_mask16(size_t n) { return (__mmask16)((1u << n) - 1u); }

/* (lo > x ? lo : x) then (hi < x ? hi : x): NaN and -0.0 pass through, as in the scalar code. */
EL_AVX512 static inline __m512 el_clamp16(__m512 x, __m512 lo, __m512 hi) {
  return _mm512_min_ps(hi, _mm512_max_ps(lo, x));
}

#endif
