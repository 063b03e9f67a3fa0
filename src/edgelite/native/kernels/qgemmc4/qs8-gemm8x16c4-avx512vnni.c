/* qs8-gemm8x16c4-avx512vnni: up to 8 rows x one channel group per step, vpdpbusd on 4 broadcast
 * uint8 inputs against the group's 16 quads of int8 weights (64 multiply-adds per instruction,
 * twice vpdpwssd's; el_qgemm8x16 in el_qavx512.h, the quads format). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx512.h"

EL_AVX512VNNI void el_qs8_gemm8x16c4_avx512vnni(size_t mr, size_t nc, size_t kq, const uint8_t *a,
                                                size_t a_stride, const void *w, size_t group_bytes, int8_t *c,
                                                size_t c_stride, const el_qout *q) {
  el_qgemm8x16(1, mr, nc, kq, (const char *)a, a_stride, w, group_bytes, c, c_stride, q);
}
#endif
