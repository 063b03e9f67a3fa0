/* qs8-vbinary-scalar: int8 ADD / MUL one element at a time (see el_qvbinary_fn). */
#include "../../include/el_kernels.h"
#include "../../include/el_quant.h"

void el_qs8_vbinary_scalar(size_t n, const int8_t *a, const int8_t *b, int8_t *y, const int64_t *p, int vector) {
  for (size_t i = 0; i < n; i++) y[i] = el_qbinary_one(p, a[i], b[i], vector);
}
