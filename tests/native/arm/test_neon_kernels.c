/* Arm kernel tests, run under qemu-aarch64 by tests/native/test_arm.py (also builds on x86, where
 * it checks the x86 levels the same way). Usage: test_neon_kernels [cap level name]; without one
 * the cap comes from EDGELITE_ISA (el_dispatch_init, as at module import).
 *
 * 1. Dispatch: after el_set_isa_cap(cap) every slot holds the highest manifest kernel whose level
 *    is at most the cap and supported by the CPU (prints "active <level>").
 * 2. Every manifest kernel above scalar whose level is active runs against the scalar kernel of
 *    its slot on pseudo-random inputs over many shapes (tails, extremes): int8 results must be
 *    equal, float32 ones within 1e-5 relative plus the rounding a different summation order or
 *    FMA may add (4 eps x taps x the sum of the magnitudes of the terms). Nothing past an output
 *    may be written. Prints one "ok" line per kernel and a summary; exits 1 on any failure.
 * 3. The engine: a program of an int8 conv (QGEMM, im2col) and a depthwise conv (QDWCONV), built
 *    and validated by el_program_create, gives the same bytes at the cap with 1 and 3 threads as
 *    at the scalar level. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/edgelite/native/include/el_kernels.h"
#include "../../../src/edgelite/native/include/el_quant.h"

typedef void (*any_fn)(void);
typedef struct {
  const char *family, *name;
  int isa;
  any_fn fn;
  size_t arg;
} entry;

static const entry manifest[] = {
#define EL_UKERNEL(family, dtype, kernel, isa, arg) \
  {#family, #dtype "-" #kernel "-" #isa, EL_ISA_##isa, (any_fn)el_##dtype##_##kernel##_##isa, arg},
#include "../../../src/edgelite/native/kernels/manifest.inc"
#undef EL_UKERNEL
};
#define N_ENTRIES (sizeof(manifest) / sizeof(manifest[0]))

static long failures, cases;
static const char *current;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static int32_t rnd_range(int32_t lo, int32_t hi) {
  const uint64_t r = ((uint64_t)rnd() << 32 | rnd()) % (uint64_t)((int64_t)hi - lo + 1);
  return (int32_t)((int64_t)lo + (int64_t)r);
}
static float rnd_float(void) { return ((float)(rnd() % 2000001) - 1000000.0f) / 500000.0f; } /* [-2, 2] */
/* int values biased towards the ends of [lo, hi]. */
static int32_t rnd_extreme(int32_t lo, int32_t hi) {
  const uint32_t r = rnd() % 8;
  return r == 0 ? lo : r == 1 ? hi : r == 2 ? lo + 1 : r == 3 ? hi - 1 : rnd_range(lo, hi);
}

static int fail(const char *what, size_t i, double got, double want) {
  if (failures < 20) fprintf(stderr, "FAIL %s: %s at %zu: got %.9g want %.9g\n", current, what, i, got, want);
  failures++;
  return 1;
}

static int close_enough(float got, float want, double scale) {
  if (isnan(want)) return isnan(got);
  if (got == want) return 1;
  return fabs((double)got - (double)want) <= 1e-5 * fabs((double)want) + scale;
}

#define CANARY 0x5A
static int check_canary(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != CANARY) return fail("wrote past its output", i, b[i], CANARY);
  return 0;
}

static void pick_clamp(float *lo, float *hi) {
  switch (rnd() % 3) {
    case 0: *lo = -INFINITY; *hi = INFINITY; break;
    case 1: *lo = 0.0f; *hi = 6.0f; break;
    default: *lo = -1.0f; *hi = 1.0f; break;
  }
}

/* ---- float32 families ---- */

static void test_gemm(const entry *e, const entry *ref) {
  static const size_t ncs[] = {1, 5, 15, 16, 17, 31, 32, 40}, kcs[] = {1, 2, 3, 4, 7, 16, 33};
  el_gemm_fn *fn = (el_gemm_fn *)e->fn, *rf = (el_gemm_fn *)ref->fn;
  for (size_t mr = 1; mr <= e->arg; mr++)
    for (size_t ni = 0; ni < sizeof(ncs) / sizeof(ncs[0]); ni++)
      for (size_t ki = 0; ki < sizeof(kcs) / sizeof(kcs[0]); ki++) {
        const size_t nc = ncs[ni], kc = kcs[ki], panels = (nc + 15) / 16, as = kc + 3, cs = nc + 2;
        float *w = calloc(panels * 16 * (kc + 1), sizeof(float)), *a = malloc(mr * as * sizeof(float));
        float *c = malloc((mr * cs + 8) * sizeof(float)), *want = malloc(mr * cs * sizeof(float));
        double *scale = calloc(mr * nc, sizeof(double));
        for (size_t i = 0; i < panels * 16 * (kc + 1); i++) w[i] = rnd_float();
        for (size_t i = 0; i < mr * as; i++) a[i] = rnd_float();
        for (size_t r = 0; r < mr; r++)
          for (size_t n = 0; n < nc; n++) {
            const float *panel = w + (n / 16) * 16 * (kc + 1);
            double s = fabs(panel[n % 16]);
            for (size_t k = 0; k < kc; k++) s += fabs(a[r * as + k] * panel[16 * (1 + k) + n % 16]);
            scale[r * nc + n] = s * 4 * (kc + 1) * FLT_EPSILON;
          }
        float lo, hi;
        pick_clamp(&lo, &hi);
        memset(c, CANARY, (mr * cs + 8) * sizeof(float));
        memset(want, 0, mr * cs * sizeof(float));
        fn(mr, nc, kc, a, as, w, c, cs, lo, hi);
        for (size_t m = 0; m < mr; m += ref->arg)
          rf(mr - m < ref->arg ? mr - m : ref->arg, nc, kc, a + m * as, as, w, want + m * cs, cs, lo, hi);
        for (size_t r = 0; r < mr; r++) {
          for (size_t n = 0; n < nc; n++)
            if (!close_enough(c[r * cs + n], want[r * cs + n], scale[r * nc + n])) {
              fail("output", r * cs + n, c[r * cs + n], want[r * cs + n]);
              break;
            }
          if (check_canary(c + r * cs + nc, r + 1 < mr ? 2 * sizeof(float) : 0)) break;
        }
        check_canary(c + mr * cs, 8 * sizeof(float));
        cases++;
        free(w); free(a); free(c); free(want); free(scale);
      }
}

static void test_dwconv(const entry *e, const entry *ref) {
  static const size_t tapss[] = {1, 2, 3, 4, 9, 25}, chans[] = {1, 3, 4, 5, 8, 9, 15, 16, 17, 33};
  el_dwconv_fn *fn = (el_dwconv_fn *)e->fn, *rf = (el_dwconv_fn *)ref->fn;
  for (size_t ti = 0; ti < sizeof(tapss) / sizeof(tapss[0]); ti++) {
    const size_t taps = tapss[ti];
    if (e->arg != 0 && taps != e->arg) continue;
    for (size_t ci = 0; ci < sizeof(chans) / sizeof(chans[0]); ci++)
      for (size_t pixels = 1; pixels <= 3; pixels += 2)
        for (int strided = 0; strided < 2; strided++) {
          const size_t C = chans[ci], stride = strided ? C + 1 : 0, span = pixels * (C + 1) + taps * C;
          float *w = malloc((taps + 1) * C * sizeof(float)), *x = malloc(span * sizeof(float));
          float *out = malloc((pixels * C + 4) * sizeof(float)), *want = malloc(pixels * C * sizeof(float));
          const float **ind = malloc(pixels * taps * sizeof(float *));
          for (size_t i = 0; i < (taps + 1) * C; i++) w[i] = rnd_float();
          for (size_t i = 0; i < span; i++) x[i] = rnd_float();
          for (size_t i = 0; i < pixels * taps; i++) ind[i] = x + (strided ? (i % taps) * C : rnd() % (span - C + 1));
          float lo, hi;
          pick_clamp(&lo, &hi);
          memset(out, CANARY, (pixels * C + 4) * sizeof(float));
          fn(taps, C, pixels, ind, stride, w, out, lo, hi);
          rf(taps, C, pixels, ind, stride, w, want, lo, hi);
          for (size_t p = 0; p < pixels; p++)
            for (size_t c = 0; c < C; c++) {
              const float **in = stride ? ind : ind + p * taps;
              double s = fabs(w[c]);
              for (size_t t = 0; t < taps; t++) s += fabs(in[t][stride * p + c] * w[(1 + t) * C + c]);
              if (!close_enough(out[p * C + c], want[p * C + c], s * 4 * (taps + 1) * FLT_EPSILON)) {
                fail("output", p * C + c, out[p * C + c], want[p * C + c]);
                p = pixels;
                break;
              }
            }
          check_canary(out + pixels * C, 4 * sizeof(float));
          cases++;
          free(w); free(x); free(out); free(want); free(ind);
        }
  }
}

/* Floats with the awkward values mixed in: zeros of both signs, NaN, infinities, big, tiny. */
static float special_float(void) {
  static const float specials[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 3.0f, -3.0f, 6.0f, 1e30f, -1e-30f};
  return rnd() % 5 == 0 ? specials[rnd() % 10] : rnd_float() * 4;
}

static void compare_floats(const float *got, const float *want, size_t n, size_t slack) {
  for (size_t i = 0; i < n; i++)
    if (!close_enough(got[i], want[i], 0)) {
      fail("output", i, got[i], want[i]);
      break;
    }
  check_canary(got + n, slack * sizeof(float));
}

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100};
#define N_LENGTHS (sizeof(lengths) / sizeof(lengths[0]))

static void test_vbinary(const entry *e, const entry *ref) {
  el_vbinary_fn *fn = (el_vbinary_fn *)e->fn, *rf = (el_vbinary_fn *)ref->fn;
  float a[100], b[100], y[104], want[100];
  for (int op = 0; op < EL_BIN_COUNT; op++)
    for (size_t li = 0; li < N_LENGTHS; li++)
      for (int s = 0; s < 4; s++) {
        const size_t n = lengths[li], sa = s & 1, sb = s >> 1;
        for (size_t i = 0; i < 100; i++) a[i] = special_float(), b[i] = special_float();
        float lo, hi;
        pick_clamp(&lo, &hi);
        memset(y, CANARY, sizeof(y));
        fn(op, n, a, sa, b, sb, y, lo, hi);
        rf(op, n, a, sa, b, sb, want, lo, hi);
        compare_floats(y, want, n, 4);
        cases++;
      }
}

static void test_vunary(const entry *e, const entry *ref) {
  el_vunary_fn *fn = (el_vunary_fn *)e->fn, *rf = (el_vunary_fn *)ref->fn;
  float x[100], y[104], want[100];
  for (int op = 0; op < EL_UN_COUNT; op++)
    for (size_t li = 0; li < N_LENGTHS; li++)
      for (int rep = 0; rep < 3; rep++) {
        const size_t n = lengths[li];
        for (size_t i = 0; i < 100; i++) x[i] = special_float();
        float lo, hi;
        pick_clamp(&lo, &hi);
        memset(y, CANARY, sizeof(y));
        fn(op, n, x, y, lo, hi);
        rf(op, n, x, want, lo, hi);
        compare_floats(y, want, n, 4);
        cases++;
      }
}

static void test_pool(const entry *e, const entry *ref) {
  static const size_t tapss[] = {1, 2, 4, 9, 25}, chans[] = {1, 3, 4, 5, 8, 13, 16, 33};
  el_pool_fn *fn = (el_pool_fn *)e->fn, *rf = (el_pool_fn *)ref->fn;
  float x[40 * 40];
  for (int op = 0; op < 2; op++)
    for (size_t ti = 0; ti < sizeof(tapss) / sizeof(tapss[0]); ti++)
      for (size_t ci = 0; ci < sizeof(chans) / sizeof(chans[0]); ci++)
        for (int chunked = 0; chunked < 2; chunked++) {
          const size_t taps = tapss[ti], C = chans[ci], first_taps = chunked ? taps / 2 : taps;
          const float *ind[25];
          for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) x[i] = rnd() % 7 == 0 ? special_float() : rnd_float();
          for (size_t t = 0; t < taps; t++) ind[t] = x + (rnd() % 40) * 40;
          float lo, hi, out[40], want[40];
          pick_clamp(&lo, &hi);
          const float scale = 1.0f / (float)taps;
          memset(out, CANARY, sizeof(out));
          fn(op, first_taps, C, ind, out, 1, !chunked, scale, lo, hi);
          rf(op, first_taps, C, ind, want, 1, !chunked, scale, lo, hi);
          if (chunked) {
            fn(op, taps - first_taps, C, ind + first_taps, out, 0, 1, scale, lo, hi);
            rf(op, taps - first_taps, C, ind + first_taps, want, 0, 1, scale, lo, hi);
          }
          for (size_t c = 0; c < C; c++) {
            double s = 0;
            for (size_t t = 0; t < taps; t++) s += fabs(ind[t][c]);
            if (!close_enough(out[c], want[c], s * 4 * taps * FLT_EPSILON * (op == 1))) {
              fail("output", c, out[c], want[c]);
              break;
            }
          }
          check_canary(out + C, (C + 4 <= 40 ? 4 : 40 - C) * sizeof(float));
          cases++;
        }
}

static void test_ibilinear(const entry *e, const entry *ref) {
  el_ibilinear_fn *fn = (el_ibilinear_fn *)e->fn, *rf = (el_ibilinear_fn *)ref->fn;
  float rows[4][100], y[104], want[100];
  for (size_t li = 0; li < N_LENGTHS; li++)
    for (int rep = 0; rep < 4; rep++) {
      const size_t n = lengths[li];
      for (int r = 0; r < 4; r++)
        for (size_t i = 0; i < 100; i++) rows[r][i] = special_float();
      const float dy = (float)(rnd() % 1001) / 1000.0f, dx = (float)(rnd() % 1001) / 1000.0f;
      memset(y, CANARY, sizeof(y));
      fn(n, rows[0], rows[1], rows[2], rows[3], dy, dx, y);
      rf(n, rows[0], rows[1], rows[2], rows[3], dy, dx, want);
      compare_floats(y, want, n, 4);
      cases++;
    }
}

static void test_raddstoreexp(const entry *e, const entry *ref) {
  el_raddstoreexp_fn *fn = (el_raddstoreexp_fn *)e->fn, *rf = (el_raddstoreexp_fn *)ref->fn;
  float x[100], y[104], want[100];
  for (size_t li = 0; li < N_LENGTHS; li++)
    for (int rep = 0; rep < 6; rep++) {
      const size_t n = lengths[li];
      const float beta = rep == 0 ? 1.0f : rep == 1 ? -0.5f : (float)(rnd() % 400) / 100.0f;
      float max = -INFINITY;
      for (size_t i = 0; i < 100; i++) {
        x[i] = rnd_float() * (rep == 2 ? 60.0f : 8.0f);
        max = i < n && x[i] > max ? x[i] : max;
      }
      if (n == 0) max = 0.0f;
      memset(y, CANARY, sizeof(y));
      const float sum = fn(n, x, max, beta, y), sum_want = rf(n, x, max, beta, want);
      compare_floats(y, want, n, 4);
      if (!close_enough(sum, sum_want, 0)) fail("sum", n, sum, sum_want);
      cases++;
    }
}

/* ---- int8 families ---- */

/* A channel group header with random requantization (extremes included) and the vector fields.
 * corner: every 3rd channel gets bias = multiplier = INT32_MIN and shift 0 or -1 (the case where
 * ruy's 64-bit product and vqrdmulh's saturation part, el_neon.h). */
static void fill_header(char *group, int corner) {
  for (size_t c = 0; c < EL_QGROUP; c++) {
    static const int32_t mults[] = {INT32_MAX, 1 << 30, INT32_MIN, 0, 1518500250};
    int32_t bias = rnd() % 4 == 0 ? rnd_extreme(INT32_MIN, INT32_MAX) : rnd_range(-100000, 100000);
    int32_t m = rnd() % 4 == 0 ? mults[rnd() % 5] : rnd_range(1 << 30, INT32_MAX);
    int32_t shift = rnd() % 3 == 0 ? rnd_extreme(-31, 31) : rnd_range(-14, 2);
    if (corner && c % 3 == 0) {
      bias = m = INT32_MIN;
      shift = c % 2 ? -1 : 0;
    }
    const int32_t left = shift > 0 ? shift : 0;
    memcpy(group + EL_QHDR_BIAS + 4 * c, &bias, 4);
    memcpy(group + EL_QHDR_MULT + 4 * c, &m, 4);
    memcpy(group + EL_QHDR_SHIFT + 4 * c, &shift, 4);
    memcpy(group + EL_QHDR_LEFT + 4 * c, &left, 4);
    const int64_t right = shift < 0 ? -shift : 0;
    const uint64_t want[3] = {((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63),
                              (uint64_t)(31 + right), (uint64_t)1 << (32 - right)};
    const size_t lane = (c % 8) / 2 + (c % 2) * 4, half = c / 8;
    for (int k = 0; k < 3; k++) memcpy(group + EL_QHDR_ROUND + 128 * k + 64 * half + 8 * lane, &want[k], 8);
  }
}

static el_qout random_qout(void) {
  el_qout q;
  q.zero_point = rnd() % 4 == 0 ? rnd_extreme(-128, 127) : rnd_range(-20, 20);
  q.lo = rnd() % 2 ? -128 : rnd_range(-128, 0);
  q.hi = rnd() % 2 ? 127 : rnd_range(q.lo, 127);
  return q;
}

static void compare_bytes(const int8_t *got, const int8_t *want, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (got[i] != want[i]) {
      fail("output", i, got[i], want[i]);
      return;
    }
}

/* Inputs of a qgemm: 0 all zero (the accumulators are the raw biases, corner headers), 1 x - zero
 * point with int8 weights (conv), 2 the same with weights in [-255, 255] (a fully-connected weight
 * zero point folded in), 3 inputs spanning [-255, 255] within a row (no single zero point). */
static void test_qgemm(const entry *e, const entry *ref) {
  static const size_t ncs[] = {1, 7, 8, 9, 16, 17, 40}, kps[] = {2, 4, 6, 18, 64, 130, 516, 1030};
  el_qgemm_fn *fn = (el_qgemm_fn *)e->fn, *rf = (el_qgemm_fn *)ref->fn;
  for (size_t mr = 1; mr <= e->arg; mr++)
    for (size_t ni = 0; ni < sizeof(ncs) / sizeof(ncs[0]); ni++)
      for (size_t ki = 0; ki < sizeof(kps) / sizeof(kps[0]); ki++)
        for (int variant = 0; variant < 4; variant++) {
          const size_t nc = ncs[ni], kp = kps[ki], groups = (nc + 15) / 16, gb = EL_QGROUP_HEADER + kp * 32;
          const size_t as = kp + 2, cs = nc + 3;
          if (kp > 130 && (mr % 5 != 1 || ni % 3 != 0)) continue; /* long rows: a few shapes */
          char *w = aligned_alloc(16, groups * gb);
          int16_t *a = malloc(mr * as * sizeof(int16_t));
          int8_t *c = malloc(mr * cs + 16), *want = calloc(mr * cs, 1);
          const int32_t wmax = variant == 2 ? 255 : 127, zp = rnd_extreme(-128, 127);
          for (size_t g = 0; g < groups; g++) {
            fill_header(w + g * gb, variant == 0);
            int16_t *body = (int16_t *)(void *)(w + g * gb + EL_QGROUP_HEADER);
            for (size_t i = 0; i < kp * 16; i++) body[i] = (int16_t)rnd_extreme(-wmax - (variant != 2), wmax);
          }
          for (size_t i = 0; i < mr * as; i++)
            a[i] = (int16_t)(variant == 0 ? 0 : variant == 3 ? rnd_extreme(-255, 255) : rnd_extreme(-128, 127) - zp);
          const el_qout q = random_qout();
          memset(c, CANARY, mr * cs + 16);
          fn(mr, nc, kp, a, as, w, gb, c, cs, &q);
          for (size_t m = 0; m < mr; m += ref->arg)
            rf(mr - m < ref->arg ? mr - m : ref->arg, nc, kp, a + m * as, as, w, gb, want + m * cs, cs, &q);
          for (size_t r = 0; r < mr; r++) {
            compare_bytes(c + r * cs, want + r * cs, nc);
            if (check_canary(c + r * cs + nc, r + 1 < mr ? 3 : 0)) break;
          }
          check_canary(c + mr * cs, 16);
          cases++;
          free(w); free(a); free(c); free(want);
        }
}

static void test_qdwconv(const entry *e, const entry *ref) {
  static const size_t tapss[] = {1, 2, 3, 4, 9, 25}, chans[] = {1, 3, 4, 5, 8, 12, 15, 16, 17, 24, 33, 40};
  el_qdwconv_fn *fn = (el_qdwconv_fn *)e->fn, *rf = (el_qdwconv_fn *)ref->fn;
  for (size_t ti = 0; ti < sizeof(tapss) / sizeof(tapss[0]); ti++) {
    const size_t taps = tapss[ti];
    if (e->arg != 0 && taps != e->arg) continue;
    for (size_t ci = 0; ci < sizeof(chans) / sizeof(chans[0]); ci++)
      for (int variant = 0; variant < 4; variant++) {
        const size_t C = chans[ci], pixels = 1 + variant, groups = (C + 15) / 16, pairs = (taps + 1) / 2;
        const size_t gb = EL_QGROUP_HEADER + pairs * 64, span = 64 * C;
        const size_t ruy = variant == 0 ? C - C % 8 : variant == 1 ? 0 : variant == 2 ? C : (size_t)rnd() % (C + 1);
        char *w = aligned_alloc(16, groups * gb);
        int8_t *x = malloc(span), *out = malloc(pixels * C + 16), *want = malloc(pixels * C);
        const int8_t **ind = malloc(pixels * taps * sizeof(int8_t *));
        for (size_t g = 0; g < groups; g++) {
          fill_header(w + g * gb, variant == 1);
          int16_t *body = (int16_t *)(void *)(w + g * gb + EL_QGROUP_HEADER);
          for (size_t i = 0; i < pairs * 32; i++) /* odd last tap: its pair's second weights are 0 */
            body[i] = (taps & 1) && i / 32 == pairs - 1 && (i & 1) ? 0
                      : (int16_t)(variant == 3 ? rnd_extreme(INT16_MIN, INT16_MAX) : rnd_extreme(-128, 127));
        }
        for (size_t i = 0; i < span; i++) x[i] = (int8_t)rnd_extreme(-128, 127);
        for (size_t i = 0; i < pixels * taps; i++) ind[i] = x + rnd() % (span - C + 1);
        const el_qout q = random_qout();
        memset(out, CANARY, pixels * C + 16);
        fn(taps, C, pixels, ind, w, gb, out, &q, ruy);
        rf(taps, C, pixels, ind, w, gb, want, &q, ruy);
        compare_bytes(out, want, pixels * C);
        check_canary(out + pixels * C, 16);
        cases++;
        free(w); free(x); free(out); free(want); free(ind);
      }
  }
}

static void test_qpack(const entry *e, const entry *ref) {
  el_qpack_fn *fn = (el_qpack_fn *)e->fn, *rf = (el_qpack_fn *)ref->fn;
  int8_t x[100];
  int16_t y[108], want[100];
  for (size_t li = 0; li < N_LENGTHS; li++)
    for (int rep = 0; rep < 4; rep++) {
      const size_t n = lengths[li];
      const int32_t zp = rnd_extreme(-128, 127);
      for (size_t i = 0; i < 100; i++) x[i] = (int8_t)rnd_extreme(-128, 127);
      memset(y, CANARY, sizeof(y));
      fn(n, x, zp, y);
      rf(n, x, zp, want);
      for (size_t i = 0; i < n; i++)
        if (y[i] != want[i]) {
          fail("output", i, y[i], want[i]);
          break;
        }
      check_canary(y + n, 8);
      cases++;
    }
}

static void test_qpool(const entry *e, const entry *ref) {
  static const size_t tapss[] = {1, 2, 4, 9, 25, 64}, chans[] = {1, 3, 8, 15, 16, 17, 33, 40};
  el_qpool_fn *fn = (el_qpool_fn *)e->fn, *rf = (el_qpool_fn *)ref->fn;
  int8_t x[64 * 40];
  for (int op = 0; op < 2; op++)
    for (size_t ti = 0; ti < sizeof(tapss) / sizeof(tapss[0]); ti++)
      for (size_t ci = 0; ci < sizeof(chans) / sizeof(chans[0]); ci++)
        for (int chunked = 0; chunked < 2; chunked++) {
          const size_t taps = tapss[ti], C = chans[ci], first_taps = chunked ? taps / 2 : taps;
          const int8_t *ind[64];
          for (size_t i = 0; i < sizeof(x); i++) x[i] = (int8_t)rnd_extreme(-128, 127);
          for (size_t t = 0; t < taps; t++) ind[t] = x + (rnd() % 64) * 40;
          int32_t acc[40], acc_want[40];
          int8_t out[56], want[40];
          const int32_t lo = rnd() % 2 ? -128 : rnd_range(-128, 0), hi = rnd() % 2 ? 127 : rnd_range(lo, 127);
          const int32_t count = (int32_t)taps + (rnd() % 3 == 0 ? rnd_range(0, 5) : 0);
          memset(out, CANARY, sizeof(out));
          fn(op, first_taps, C, ind, acc, out, 1, !chunked, count, lo, hi);
          rf(op, first_taps, C, ind, acc_want, want, 1, !chunked, count, lo, hi);
          if (chunked) {
            fn(op, taps - first_taps, C, ind + first_taps, acc, out, 0, 1, count, lo, hi);
            rf(op, taps - first_taps, C, ind + first_taps, acc_want, want, 0, 1, count, lo, hi);
          }
          compare_bytes(out, want, C);
          check_canary(out + C, 16);
          cases++;
        }
}

static void test_qvcvt(const entry *e, const entry *ref) {
  el_qvcvt_fn *fn = (el_qvcvt_fn *)e->fn, *rf = (el_qvcvt_fn *)ref->fn;
  static const float specials[] = {0.5f, -0.5f, 1.5f, -2.5f, 127.5f, -128.5f, 3e9f, -3e9f, 2147483520.0f,
                                   -2147483648.0f, 2147483648.0f, INFINITY, -INFINITY, NAN, -0.0f};
  float x[100];
  int8_t y[116], want[100];
  for (int vector = 0; vector < 2; vector++)
    for (size_t li = 0; li < N_LENGTHS; li++)
      for (int rep = 0; rep < 4; rep++) {
        const size_t n = lengths[li];
        const float scale = rep == 0 ? 1.0f : rep == 1 ? 0.5f : (float)(rnd() % 1000 + 1) / 997.0f;
        const int32_t zp = rnd_extreme(-128, 127);
        for (size_t i = 0; i < 100; i++)
          x[i] = rnd() % 4 == 0 ? specials[rnd() % 15] * (rep < 2 ? 1.0f : scale) : rnd_float() * 100;
        memset(y, CANARY, sizeof(y));
        fn(n, x, y, 1.0f / scale, scale, zp, vector);
        rf(n, x, want, 1.0f / scale, scale, zp, vector);
        compare_bytes(y, want, n);
        check_canary(y + n, 16);
        cases++;
      }
}

/* QBINARY params within what el_validate_qbinary accepts: [op, lanes, zp a, zp b, output zp, lo,
 * hi, m a, shift a, m b, shift b, m out, shift out, left shift]. */
static void test_qvbinary(const entry *e, const entry *ref) {
  el_qvbinary_fn *fn = (el_qvbinary_fn *)e->fn, *rf = (el_qvbinary_fn *)ref->fn;
  int8_t a[100], b[100], y[116], want[100];
  for (int op = 0; op < 2; op++)
    for (int vector = 0; vector < 2; vector++)
      for (size_t li = 0; li < N_LENGTHS; li++)
        for (int rep = 0; rep < 6; rep++) {
          const size_t n = lengths[li];
          int64_t p[14] = {op, 16, rnd_extreme(-128, 127), rnd_extreme(-128, 127)};
          p[4] = rep == 0 ? rnd_extreme(INT16_MIN, INT16_MAX) : rnd_range(-128, 127);
          p[5] = rnd() % 2 ? -128 : rnd_range(-128, 0);
          p[6] = rnd() % 2 ? 127 : rnd_range((int32_t)p[5], 127);
          for (int i = 7; i < 13; i += 2) {
            p[i] = rnd() % 5 == 0 ? rnd_extreme(0, INT32_MAX) : rnd_range(1 << 30, INT32_MAX);
            p[i + 1] = op == 0 ? (rnd() % 4 == 0 ? rnd_extreme(-31, 0) : rnd_range(-8, 0))
                               : (rnd() % 4 == 0 ? rnd_extreme(-31, 31) : rnd_range(-10, 1));
          }
          p[13] = op == 0 ? (rnd() % 4 == 0 ? rnd_extreme(0, 31) : 20) : 0;
          for (size_t i = 0; i < 100; i++) a[i] = (int8_t)rnd_extreme(-128, 127), b[i] = (int8_t)rnd_extreme(-128, 127);
          memset(y, CANARY, sizeof(y));
          fn(n, a, b, y, p, vector);
          rf(n, a, b, want, p, vector);
          compare_bytes(y, want, n);
          check_canary(y + n, 16);
          cases++;
        }
}

/* ---- the engine: an int8 conv (QGEMM, im2col) and depthwise conv (QDWCONV) program ---- */

enum { H = 9, W = 11, C = 20, N = 40, KP = 9 * C }; /* 3x3 windows, stride 1, padding 1 */
#define SLICE ((48 * KP * 3 + 32 + 31) / 32 * 32) /* ops_qconv.c's slice_bytes */
#define QGEMM_GROUP (EL_QGROUP_HEADER + KP * 32)
#define QDW_GROUP (EL_QGROUP_HEADER + 5 * 64)

static void tensor_words(int64_t *w, int64_t buffer, int64_t offset, int64_t nbytes, int64_t dtype, int64_t rank,
                         const int64_t *dims) {
  memset(w, 0, EL_TENSOR_WORDS * sizeof(int64_t));
  w[0] = buffer, w[1] = offset, w[2] = nbytes, w[3] = dtype, w[4] = rank;
  for (int64_t i = 0; i < rank; i++) w[5 + i] = dims[i];
}

/* TFLite-like requantization: multipliers in [2^30, 2^31), shifts in [-10, 0]. */
static void typical_header(char *group) {
  fill_header(group, 0);
  for (size_t c = 0; c < EL_QGROUP; c++) {
    const int32_t m = rnd_range(1 << 30, INT32_MAX), shift = rnd_range(-10, 0), left = 0;
    const int32_t bias = rnd_range(-5000, 5000);
    memcpy(group + EL_QHDR_BIAS + 4 * c, &bias, 4);
    memcpy(group + EL_QHDR_MULT + 4 * c, &m, 4);
    memcpy(group + EL_QHDR_SHIFT + 4 * c, &shift, 4);
    memcpy(group + EL_QHDR_LEFT + 4 * c, &left, 4);
    const uint64_t right = (uint64_t)-shift;
    const uint64_t want[3] = {((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63),
                              31 + right, (uint64_t)1 << (32 - right)};
    const size_t lane = (c % 8) / 2 + (c % 2) * 4, half = c / 8;
    for (int k = 0; k < 3; k++) memcpy(group + EL_QHDR_ROUND + 128 * k + 64 * half + 8 * lane, &want[k], 8);
  }
}

static _Alignas(64) int8_t arena[H * W * C + 2 * H * W * N + 64];
static _Alignas(64) char weights[3 * QGEMM_GROUP + 2 * QDW_GROUP];
static _Alignas(64) int8_t scratch[3 * SLICE], pad_row[64];

/* Runs the program with n_threads; out: the two outputs. Returns 0 when it could not be built. */
static int run_program(size_t n_threads, int8_t *out) {
  const int64_t x_dims[4] = {1, H, W, C}, y_dims[4] = {1, H, W, N}, d_dims[4] = {1, H, W, C};
  const int64_t w_dims[1] = {3 * QGEMM_GROUP}, dw_dims[1] = {2 * QDW_GROUP}, s_dims[1] = {3 * SLICE};
  const int64_t z_dims[1] = {64};
  int64_t t[7 * EL_TENSOR_WORDS];
  tensor_words(t, 0, 0, H * W * C, EL_I8, 4, x_dims);
  tensor_words(t + EL_TENSOR_WORDS, 0, H * W * C, H * W * N, EL_I8, 4, y_dims);
  tensor_words(t + 2 * EL_TENSOR_WORDS, 1, 0, 3 * QGEMM_GROUP, EL_I8, 1, w_dims);
  tensor_words(t + 3 * EL_TENSOR_WORDS, 2, 0, 3 * SLICE, EL_I8, 1, s_dims);
  tensor_words(t + 4 * EL_TENSOR_WORDS, 1, 3 * QGEMM_GROUP, 2 * QDW_GROUP, EL_I8, 1, dw_dims);
  tensor_words(t + 5 * EL_TENSOR_WORDS, 3, 0, 64, EL_I8, 1, z_dims);
  tensor_words(t + 6 * EL_TENSOR_WORDS, 0, H * W * (C + N), H * W * C, EL_I8, 4, d_dims);
  int64_t nodes[2 * EL_NODE_WORDS] = {0};
  int64_t *q = nodes, *d = nodes + EL_NODE_WORDS;
  q[0] = EL_OP_QGEMM, q[1] = 3, q[2] = 0, q[3] = 2, q[4] = 3, q[2 + EL_MAX_INPUTS] = 1;
  const int64_t qp[15] = {1, 3, 3, 1, 1, 1, 1, 1, 1, KP, N, -7, 5, -128, 127};
  memcpy(q + 3 + EL_MAX_INPUTS, qp, sizeof(qp));
  d[0] = EL_OP_QDWCONV, d[1] = 3, d[2] = 0, d[3] = 4, d[4] = 5, d[2 + EL_MAX_INPUTS] = 6;
  const int64_t dp[12] = {3, 3, 1, 1, 1, 1, 1, 1, -3, -100, 120, C - C % 8};
  memcpy(d + 3 + EL_MAX_INPUTS, dp, sizeof(dp));
  const el_buffer buffers[4] = {{(char *)arena, sizeof(arena), 1}, {weights, sizeof(weights), 0},
                                {(char *)scratch, sizeof(scratch), 1}, {(char *)pad_row, sizeof(pad_row), 0}};
  char err[256] = "";
  el_program *program = el_program_create(t, 7, nodes, 2, buffers, 4, n_threads, err, sizeof(err), NULL);
  if (program == NULL) {
    fail(err, 0, 0, 0);
    return 0;
  }
  memset(arena + H * W * C, 0, 2 * H * W * N);
  el_program_run(program, 0, 2);
  memcpy(out, arena + H * W * C, H * W * (N + C));
  el_program_destroy(program);
  return 1;
}

/* The program's outputs at the cap and with 1 or 3 threads equal the scalar level's (1 thread). */
static void test_engine(int cap) {
  current = "engine";
  const long before = failures;
  for (size_t i = 0; i < H * W * C; i++) arena[i] = (int8_t)rnd_extreme(-128, 127);
  memset(pad_row, -7, sizeof(pad_row));
  for (int g = 0; g < 3; g++) {
    typical_header(weights + g * QGEMM_GROUP);
    int16_t *body = (int16_t *)(void *)(weights + g * QGEMM_GROUP + EL_QGROUP_HEADER);
    for (size_t i = 0; i < KP * 16; i++) body[i] = g * 16 + (int)(i % 16) < N ? (int16_t)rnd_extreme(-127, 127) : 0;
  }
  for (int g = 0; g < 2; g++) {
    typical_header(weights + 3 * QGEMM_GROUP + g * QDW_GROUP);
    int16_t *body = (int16_t *)(void *)(weights + 3 * QGEMM_GROUP + g * QDW_GROUP + EL_QGROUP_HEADER);
    for (size_t i = 0; i < 5 * 32; i++) body[i] = i >= 4 * 32 && (i & 1) ? 0 : (int16_t)rnd_extreme(-127, 127);
  }
  static int8_t want[H * W * (N + C)], got[H * W * (N + C)];
  el_set_isa_cap(EL_ISA_scalar);
  if (!run_program(1, want)) return;
  el_set_isa_cap(cap);
  for (size_t threads = 1; threads <= 3; threads += 2) {
    if (!run_program(threads, got)) return;
    compare_bytes(got, want, sizeof(want));
    cases++;
  }
  long distinct = 0;
  for (size_t i = 1; i < sizeof(want); i++) distinct += want[i] != want[i - 1];
  if (distinct < (long)sizeof(want) / 4) fail("outputs too uniform to test anything", 0, (double)distinct, 0);
  printf("%s engine (QGEMM + QDWCONV program, 1 and 3 threads) vs scalar: 2 cases\n", failures == before ? "ok" : "FAILED");
}

/* ---- driver ---- */

typedef void tester(const entry *e, const entry *ref);
static const struct {
  const char *family;
  tester *run;
  int by_arg; /* the scalar reference has the same arg (taps); otherwise any arg (MR) */
} testers[] = {
    {"gemm", test_gemm, 0},       {"dwconv", test_dwconv, 1}, {"vbinary", test_vbinary, 0},
    {"vunary", test_vunary, 0},   {"pool", test_pool, 0},     {"qgemm", test_qgemm, 0},
    {"qdwconv", test_qdwconv, 1}, {"qpack", test_qpack, 0},   {"qpool", test_qpool, 0},
    {"ibilinear", test_ibilinear, 0}, {"qvcvt", test_qvcvt, 0}, {"qvbinary", test_qvbinary, 0},
    {"raddstoreexp", test_raddstoreexp, 0},
};

/* The slot a manifest line fills: family plus, for the tap-specialised families, the taps. */
static int same_slot(const entry *a, const entry *b) {
  if (strcmp(a->family, b->family) != 0) return 0;
  if (strcmp(a->family, "dwconv") == 0 || strcmp(a->family, "qdwconv") == 0) return (a->arg == 9) == (b->arg == 9);
  return 1;
}

static any_fn dispatched(const entry *e) {
  const char *f = e->family;
  if (!strcmp(f, "gemm")) return (any_fn)el_kernels.gemm;
  if (!strcmp(f, "conv")) return (any_fn)el_kernels.conv; /* scalar only on Arm */
  if (!strcmp(f, "dwconv")) return (any_fn)(e->arg == 9 ? el_kernels.dwconv9 : el_kernels.dwconv_any);
  if (!strcmp(f, "vbinary")) return (any_fn)el_kernels.vbinary;
  if (!strcmp(f, "vunary")) return (any_fn)el_kernels.vunary;
  if (!strcmp(f, "ibilinear")) return (any_fn)el_kernels.ibilinear;
  if (!strcmp(f, "raddstoreexp")) return (any_fn)el_kernels.raddstoreexp;
  if (!strcmp(f, "pool")) return (any_fn)el_kernels.pool;
  if (!strcmp(f, "qgemm")) return (any_fn)el_qkernels.qgemm;
  if (!strcmp(f, "qgemmc4")) return (any_fn)el_qkernels.qgemmc4;
  if (!strcmp(f, "qdwconvc4")) return (any_fn)el_qkernels.qdwconvc4;
  if (!strcmp(f, "qdwconv")) return (any_fn)(e->arg == 9 ? el_qkernels.qdwconv9 : el_qkernels.qdwconv);
  if (!strcmp(f, "qpack")) return (any_fn)el_qkernels.qpack;
  if (!strcmp(f, "qvbinary")) return (any_fn)el_qkernels.qvbinary;
  if (!strcmp(f, "qvcvt")) return (any_fn)el_qkernels.qvcvt;
  if (!strcmp(f, "qpool")) return (any_fn)el_qkernels.qpool;
  if (!strcmp(f, "hgemm")) return (any_fn)el_hkernels.hgemm;
  if (!strcmp(f, "hquant")) return (any_fn)el_hkernels.hquant;
  if (!strcmp(f, "hdwconv")) return (any_fn)el_hkernels.hdwconv;
  if (!strcmp(f, "scopy")) return (any_fn)el_kernels.scopy;
  if (!strcmp(f, "transpose")) return (any_fn)el_kernels.transpose;
  if (!strcmp(f, "spmm")) return (any_fn)el_spkernels.spmm; /* sparse families: scalar only on Arm */
  if (!strcmp(f, "spmv")) return (any_fn)el_spkernels.spmv;
  if (!strcmp(f, "qspmm")) return (any_fn)el_spkernels.qspmm;
  if (!strcmp(f, "qspmv")) return (any_fn)el_spkernels.qspmv;
  return NULL;
}

static int allowed(int isa, int cap) { return isa <= cap && el_isa_supported(isa); }

int main(int argc, char **argv) {
  int cap = EL_ISA_COUNT - 1; /* without an argument: EDGELITE_ISA's cap, as the module reads it */
  const char *env = getenv("EDGELITE_ISA");
  for (int i = 0; argc == 1 && env != NULL && i < EL_ISA_COUNT; i++)
    if (strcmp(env, el_isa_name(i)) == 0) cap = i;
  if (argc > 1) {
    cap = -1;
    for (int i = 0; i < EL_ISA_COUNT; i++)
      if (strcmp(argv[1], el_isa_name(i)) == 0) cap = i;
    if (cap < 0) {
      fprintf(stderr, "unknown level %s\n", argv[1]);
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1) el_set_isa_cap(cap);
  else el_dispatch_init();
  printf("active %s\n", el_isa_name(el_isa_active()));
  current = "dispatch";
  for (size_t i = 0; i < N_ENTRIES; i++) { /* the last allowed line of a slot is the one in use */
    const entry *best = NULL;
    for (size_t j = 0; j < N_ENTRIES; j++)
      if (same_slot(&manifest[i], &manifest[j]) && allowed(manifest[j].isa, cap)) best = &manifest[j];
    if (best != NULL && dispatched(&manifest[i]) != best->fn) fail(manifest[i].name, i, 0, 1);
  }
  long kernels = 0, untested = 0;
  for (size_t i = 0; i < N_ENTRIES; i++) {
    const entry *e = &manifest[i];
    if (e->isa == EL_ISA_scalar || !allowed(e->isa, cap)) continue;
    const entry *ref = NULL;
    for (size_t j = 0; j < N_ENTRIES && ref == NULL; j++)
      if (manifest[j].isa == EL_ISA_scalar && !strcmp(manifest[j].family, e->family)) {
        int by_arg = 0;
        for (size_t t = 0; t < sizeof(testers) / sizeof(testers[0]); t++)
          if (!strcmp(testers[t].family, e->family)) by_arg = testers[t].by_arg;
        if (!by_arg || manifest[j].arg == e->arg || (e->arg != 9 && manifest[j].arg == 0)) ref = &manifest[j];
      }
    tester *run = NULL;
    for (size_t t = 0; t < sizeof(testers) / sizeof(testers[0]); t++)
      if (!strcmp(testers[t].family, e->family)) run = testers[t].run;
    if (run == NULL || ref == NULL) {
      printf("untested %s (no tester for family %s here)\n", e->name, e->family);
      untested++;
      continue;
    }
    current = e->name;
    const long before_cases = cases, before_failures = failures;
    run(e, ref);
    printf("%s %s vs %s: %ld cases\n", failures == before_failures ? "ok" : "FAILED", e->name, ref->name,
           cases - before_cases);
    kernels++;
  }
  test_engine(cap);
  printf("summary: %ld kernels, %ld cases, %ld untested, %ld failures\n", kernels, cases, untested, failures);
  return failures ? 1 : 0;
}
