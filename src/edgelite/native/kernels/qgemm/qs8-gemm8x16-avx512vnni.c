/* qs8-gemm8x16-avx512vnni: up to 8 rows x one channel group per step, vpdpwssd on int16 input
 * pairs against the group's 16 weight pairs (el_qgemm8x16 in el_qavx512.h, the pairs format). */
#include "../../include/el_kernels.h"

#if EL_ARCH_X86
#include "../../include/el_qavx512.h"

EL_AVX512VNNI void el_qs8_gemm8x16_avx512vnni(size_t mr, size_t nc, size_t kp, const int16_t *a, size_t a_stride,
                                              const void *w, size_t group_bytes, int8_t *c, size_t c_stride,
                                              const el_qout *q) {
  el_qgemm8x16(0, mr, nc, kp * sizeof(*a), (const char *)a, a_stride * sizeof(*a), w, group_bytes, c, c_stride, q);
}
#endif
