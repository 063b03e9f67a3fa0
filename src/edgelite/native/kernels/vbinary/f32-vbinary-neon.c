/* f32-vbinary-neon: ADD/SUB/MUL/PRELU with a fused clamp, 4 lanes per step (see el_vbinary_fn). */
#include "../../include/el_kernels.h"

#if EL_ARCH_ARM64
#include "../../include/el_math.h"
#include "../../include/el_neon.h"

static inline float32x4_t load(const float *p, size_t s) { return s ? vld1q_f32(p) : vld1q_dup_f32(p); }

static inline float32x4_t apply(int op, float32x4_t a, float32x4_t b) {
  switch (op) {
    case EL_BIN_ADD: return vaddq_f32(a, b);
    case EL_BIN_SUB: return vsubq_f32(a, b);
    case EL_BIN_PRELU: return vbslq_f32(vcgeq_f32(a, vdupq_n_f32(0.0f)), a, vmulq_f32(a, b));
    default: return vmulq_f32(a, b);
  }
}

static inline float apply1(int op, float a, float b) {
  switch (op) {
    case EL_BIN_ADD: return a + b;
    case EL_BIN_SUB: return a - b;
    case EL_BIN_PRELU: return a >= 0.0f ? a : a * b;
    default: return a * b;
  }
}

void el_f32_vbinary_neon(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                         float *y, float lo, float hi) {
  const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, el_nclamp4(apply(op, load(a + i * sa, sa), load(b + i * sb, sb)), vlo, vhi));
  for (; i < n; i++) y[i] = el_clamp(apply1(op, a[i * sa], b[i * sb]), lo, hi);
}
#endif
