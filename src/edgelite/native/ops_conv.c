/* GEMM (CONV_2D, FULLY_CONNECTED) and DWCONV (DEPTHWISE_CONV_2D) glue: validation and tiling.
 *
 * GEMM params: [mode (0 direct: a = input rows; 1 im2col), kh, kw, stride h, w, dilation h, w,
 *   pad top, pad left, lo, hi, K, N]; inputs: x, packed weights, scratch (im2col only).
 * DWCONV params: [kh, kw, stride h, w, dilation h, w, pad top, pad left, lo, hi];
 *   inputs: x, packed weights [bias C][kh*kw x C], zeros (>= C floats, read-only). */
#include "include/el_engine.h"
#include "include/el_kernels.h"

#define P_RANGE(v, lo, hi) ((v) >= (lo) && (v) <= (hi))

static int check_window(const el_node *n, const int64_t *g, char *err, size_t len) {
  /* g: kh, kw, sh, sw, dh, dw, pad top, pad left */
  for (int i = 0; i < 6; i++)
    if (!P_RANGE(g[i], 1, 1 << 16)) return el_fail(err, len, n, "window parameter %d is %lld", i, (long long)g[i]);
  if (!P_RANGE(g[6], 0, 1 << 20) || !P_RANGE(g[7], 0, 1 << 20)) return el_fail(err, len, n, "bad padding");
  return 0;
}

static int check_nhwc_pair(const el_node *n, const el_tensor *x, const el_tensor *y, char *err, size_t len) {
  if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0])
    return el_fail(err, len, n, "input and output must be NHWC with the same batch");
  return 0;
}

int el_validate_gemm(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *y = el_out(p, n);
  const int64_t mode = n->p[0], K = n->p[11], N = n->p[12];
  if (!P_RANGE(K, 1, 1 << 24) || !P_RANGE(N, 1, 1 << 24)) return el_fail(err, len, n, "bad K or N");
  const int64_t panels = (N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  if (w->count != panels * EL_GEMM_NR * (K + 1)) return el_fail(err, len, n, "packed weights have the wrong size");
  if (y->count % N) return el_fail(err, len, n, "output size is not a multiple of N");
  if (mode == 0) {
    if (n->n_inputs != 2 || y->count / N > x->count / K) return el_fail(err, len, n, "input too small");
    return 0;
  }
  if (mode != 1 || n->n_inputs != 3) return el_fail(err, len, n, "bad mode");
  if (check_window(n, n->p + 1, err, len) || check_nhwc_pair(n, x, y, err, len)) return -1;
  if (y->dims[3] != N || K != n->p[1] * n->p[2] * x->dims[3]) return el_fail(err, len, n, "K or N differs from the shapes");
  const el_tensor *s = el_in(p, n, 2);
  if (!s->writable || s->count < EL_IM2COL_ROWS * K) return el_fail(err, len, n, "scratch too small or read-only");
  return 0;
}

static void im2col_rows(const el_tensor *x, const int64_t *g, int64_t b, int64_t m0, int64_t rows,
                        int64_t out_w, float *col) {
  const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3];
  const float *image = x->data + b * H * W * C;
  for (int64_t r = 0; r < rows; r++) {
    const int64_t oy = (m0 + r) / out_w, ox = (m0 + r) % out_w;
    for (int64_t ky = 0; ky < g[0]; ky++) {
      const int64_t iy = oy * g[2] - g[6] + ky * g[4];
      for (int64_t kx = 0; kx < g[1]; kx++, col += C) {
        const int64_t ix = ox * g[3] - g[7] + kx * g[5];
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) memcpy(col, image + (iy * W + ix) * C, (size_t)C * 4);
        else memset(col, 0, (size_t)C * 4);
      }
    }
  }
}

void el_run_gemm(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const float *w = el_in(p, n, 1)->data;
  const float lo = el_param_f32(n->p[9]), hi = el_param_f32(n->p[10]);
  const size_t K = (size_t)n->p[11], N = (size_t)n->p[12], mr = el_kernels.gemm_mr;
  if (n->p[0] == 0) {
    const size_t M = (size_t)(y->count / (int64_t)N);
    for (size_t m = 0; m < M; m += mr)
      el_kernels.gemm(M - m < mr ? M - m : mr, N, K, x->data + m * K, K, w, y->data + m * N, N, lo, hi);
    return;
  }
  float *col = el_in(p, n, 2)->data;
  const int64_t pixels = y->dims[1] * y->dims[2];
  for (int64_t b = 0; b < x->dims[0]; b++) {
    for (int64_t m0 = 0; m0 < pixels; m0 += EL_IM2COL_ROWS) {
      const size_t rows = (size_t)(pixels - m0 < EL_IM2COL_ROWS ? pixels - m0 : EL_IM2COL_ROWS);
      im2col_rows(x, n->p + 1, b, m0, (int64_t)rows, y->dims[2], col);
      float *out = y->data + ((size_t)(b * pixels + m0)) * N;
      for (size_t m = 0; m < rows; m += mr)
        el_kernels.gemm(rows - m < mr ? rows - m : mr, N, K, col + m * K, K, w, out + m * N, N, lo, hi);
    }
  }
}

int el_validate_dwconv(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *z = el_in(p, n, 2), *y = el_out(p, n);
  if (check_window(n, n->p, err, len) || check_nhwc_pair(n, x, y, err, len)) return -1;
  const int64_t C = x->dims[3], taps = n->p[0] * n->p[1];
  if (y->dims[3] != C) return el_fail(err, len, n, "channel multiplier must be 1");
  if (taps > EL_DW_MAX_TAPS) return el_fail(err, len, n, "more than %d taps", EL_DW_MAX_TAPS);
  if (w->count != (taps + 1) * C) return el_fail(err, len, n, "packed weights have the wrong size");
  if (z->writable || z->count < C) return el_fail(err, len, n, "zero row too small or writable");
  return 0;
}

void el_run_dwconv(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const int64_t *g = n->p;
  const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
  const size_t taps = (size_t)(g[0] * g[1]);
  const float lo = el_param_f32(g[8]), hi = el_param_f32(g[9]);
  const float *w = el_in(p, n, 1)->data, *zeros = el_in(p, n, 2)->data;
  el_dwconv_fn *kernel = taps == 9 ? el_kernels.dwconv9 : el_kernels.dwconv_any;
  const float *ind[EL_DW_CHUNK * EL_DW_MAX_TAPS];
  for (int64_t b = 0; b < x->dims[0]; b++) {
    const float *image = x->data + b * H * W * C;
    for (int64_t oy = 0; oy < OH; oy++) {
      for (int64_t ox0 = 0; ox0 < OW; ox0 += EL_DW_CHUNK) {
        const int64_t count = OW - ox0 < EL_DW_CHUNK ? OW - ox0 : EL_DW_CHUNK;
        const float **slot = ind;
        for (int64_t ox = ox0; ox < ox0 + count; ox++) {
          for (int64_t ky = 0; ky < g[0]; ky++) {
            const int64_t iy = oy * g[2] - g[6] + ky * g[4];
            for (int64_t kx = 0; kx < g[1]; kx++) {
              const int64_t ix = ox * g[3] - g[7] + kx * g[5];
              *slot++ = iy >= 0 && iy < H && ix >= 0 && ix < W ? image + (iy * W + ix) * C : zeros;
            }
          }
        }
        kernel(taps, (size_t)C, (size_t)count, ind, w, y->data + ((b * OH + oy) * OW + ox0) * C, lo, hi);
      }
    }
  }
}
