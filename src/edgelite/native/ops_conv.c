/* GEMM (CONV_2D, FULLY_CONNECTED, grouped CONV_2D) glue: validation and tiling over the pool.
 *
 * GEMM params: [mode (0 direct: a = input rows; 1 im2col), kh, kw, stride h, w, dilation h, w,
 *   pad top, pad left, lo, hi, K, N, groups (0 or 1: ungrouped)]; K and N are per group. Inputs: x,
 *   packed weights (groups x panels of [bias 16][K x 16]), scratch (im2col only: n_threads slices of
 *   EL_IM2COL_ROWS x K). Group g reads input channels [g*C/groups, ...) and writes outputs [g*N, ...).
 *
 * Tiles: (batch, group, block of rows, block of output panels). Every output element is computed by
 * one gemm call whose arithmetic does not depend on the tiling, so results are the same for any
 * thread count. */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"

#if EL_ARCH_X86
#include <emmintrin.h>
#endif

int el_validate_gemm(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *y = el_out(p, n);
  const int64_t mode = n->p[0], K = n->p[11], N = n->p[12], G = n->p[13] < 1 ? 1 : n->p[13];
  if (!EL_RANGE(K, 1, 1 << 24) || !EL_RANGE(N, 1, 1 << 24) || !EL_RANGE(G, 1, 1 << 16))
    return el_fail(err, len, n, "bad K, N or groups");
  const int64_t panels = (N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  if (w->count != G * panels * EL_GEMM_NR * (K + 1)) return el_fail(err, len, n, "packed weights have the wrong size");
  if (y->count % (G * N)) return el_fail(err, len, n, "output size is not a multiple of N x groups");
  if (mode == 0) {
    if (n->n_inputs != 2 || y->count / (G * N) > x->count / (G * K)) return el_fail(err, len, n, "input too small");
    return 0;
  }
  if (mode != 1 || n->n_inputs != 3) return el_fail(err, len, n, "bad mode");
  if (el_check_window(n, n->p + 1, err, len) || el_check_nhwc_pair(n, x, y, err, len)) return -1;
  if (y->dims[3] != G * N || x->dims[3] % G || K != n->p[1] * n->p[2] * (x->dims[3] / G))
    return el_fail(err, len, n, "K, N or groups differ from the shapes");
  const el_tensor *s = el_in(p, n, 2);
  if (!s->writable || s->count / EL_IM2COL_ROWS / K < (int64_t)p->n_threads)
    return el_fail(err, len, n, "scratch too small or read-only");
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const float *w, *scratch;
  const int64_t *g; /* window: kh, kw, sh, sw, dh, dw, pad top, pad left */
  size_t K, N, G, panels, rows, row_block, blocks, panel_block, panel_splits, mode;
  float lo, hi;
} gemm_task;

/* memcpy / memset without a call for the short runs of narrow inputs (3-channel images); SSE2
 * moves on x86, where GCC would turn a plain loop back into a memcpy call. */
static inline void copy_floats(float *dst, const float *src, int64_t n) {
  if (n >= 32) {
    memcpy(dst, src, (size_t)n * 4);
    return;
  }
  int64_t i = 0;
#if EL_ARCH_X86
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; i++) _mm_store_ss(dst + i, _mm_load_ss(src + i));
#else
  for (; i < n; i++) dst[i] = src[i];
#endif
}

static inline void zero_floats(float *dst, int64_t n) {
  if (n >= 32) {
    memset(dst, 0, (size_t)n * 4);
    return;
  }
  int64_t i = 0;
#if EL_ARCH_X86
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_setzero_ps());
  for (; i < n; i++) _mm_store_ss(dst + i, _mm_setzero_ps());
#else
  for (; i < n; i++) dst[i] = 0.0f;
#endif
}

/* Rows [m0, m0 + rows) of batch b's output pixels, input channels [c0, c0 + cg), as im2col rows. A
 * window row that lies inside the image with dilation 1 and all channels is one contiguous copy. */
static void im2col_rows(const el_tensor *x, const int64_t *g, int64_t b, int64_t m0, int64_t rows,
                        int64_t out_w, int64_t c0, int64_t cg, float *col) {
  const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], kw = g[1];
  const float *image = x->data + b * H * W * C + c0;
  int64_t oy = m0 / out_w, ox = m0 % out_w;
  for (int64_t r = 0; r < rows; r++, ox = ox + 1 < out_w ? ox + 1 : 0, oy += ox == 0) {
    const int64_t ix0 = ox * g[3] - g[7];
    const int contiguous = g[5] == 1 && cg == C && ix0 >= 0 && ix0 + kw <= W;
    for (int64_t ky = 0; ky < g[0]; ky++) {
      const int64_t iy = oy * g[2] - g[6] + ky * g[4];
      if (iy < 0 || iy >= H) {
        zero_floats(col, kw * cg);
        col += kw * cg;
      } else if (contiguous) {
        copy_floats(col, image + (iy * W + ix0) * C, kw * C);
        col += kw * C;
      } else {
        for (int64_t kx = 0; kx < kw; kx++, col += cg) {
          const int64_t ix = ix0 + kx * g[5];
          if (ix >= 0 && ix < W) copy_floats(col, image + (iy * W + ix) * C, cg);
          else zero_floats(col, cg);
        }
      }
    }
  }
}

#define EL_CONV_MAX_SEGMENTS 64 /* windows of more pieces go through im2col */

/* Output columns [*x0, *x1) of output row oy whose windows lie inside the image (empty if a window
 * row of oy falls outside). */
static void inside_columns(const int64_t *g, int64_t H, int64_t W, int64_t OW, int64_t oy, int64_t *x0, int64_t *x1) {
  const int64_t iy = oy * g[2] - g[6], last = (g[1] - 1) * g[5];
  *x0 = *x1 = 0;
  if (iy < 0 || iy + (g[0] - 1) * g[4] >= H || W - 1 - last + g[7] < 0) return;
  *x0 = (g[7] + g[3] - 1) / g[3];
  *x1 = (W - 1 - last + g[7]) / g[3] + 1;
  if (*x1 > OW) *x1 = OW;
  if (*x0 > *x1) *x0 = *x1;
}

/* gemm of rows [m, m + rows) of the output (one batch and group), A given as im2col rows. */
static void gemm_rows(const gemm_task *t, const float *a, size_t a_stride, size_t rows, const float *w, float *c,
                      size_t c_stride, size_t nc) {
  const size_t mr = el_kernels.gemm_mr;
  for (size_t m = 0; m < rows; m += mr)
    el_kernels.gemm(rows - m < mr ? rows - m : mr, nc, t->K, a + m * a_stride, a_stride, w, c + m * c_stride,
                    c_stride, t->lo, t->hi);
}

/* Output pixels [m0, m0 + rows) of batch b, group `group`: runs of pixels whose windows lie inside
 * the image go to the conv kernel, which reads the input in place (a window row of every channel,
 * or with dilation or groups each tap's channels, as one segment); the others through im2col. */
static void conv_rows(const gemm_task *t, size_t b, size_t group, size_t m0, size_t rows, const float *w, float *c,
                      size_t c_stride, size_t nc, size_t thread) {
  const int64_t *g = t->g;
  const int64_t H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OW = t->y->dims[2];
  const int64_t cg = C / (int64_t)t->G, c0 = (int64_t)group * cg;
  const float *image = t->x->data + (int64_t)b * H * W * C + c0;
  float *col = (float *)t->scratch + thread * EL_IM2COL_ROWS * t->K;
  const int whole_rows = g[5] == 1 && cg == C;
  const size_t segments = (size_t)(whole_rows ? g[0] : g[0] * g[1]);
  const size_t seg_len = (size_t)(whole_rows ? g[1] * C : cg), mr = el_kernels.conv_mr;
  const int direct = segments <= EL_CONV_MAX_SEGMENTS;
  const float *seg[EL_CONV_MAX_SEGMENTS];
  for (size_t m = m0, end = m0 + rows; m < end;) {
    const int64_t oy = (int64_t)m / OW, ox = (int64_t)m % OW;
    int64_t x0 = 0, x1 = 0;
    if (direct) inside_columns(g, H, W, OW, oy, &x0, &x1);
    const int inside = ox >= x0 && ox < x1;
    /* An interior run ends with the row's interior columns; a border run at the next interior
     * pixel, which may be in the next row (im2col and the gemm take rows across output rows). */
    int64_t stop = x1;
    if (!inside && ox < x0) {
      stop = x0;
    } else if (!inside) {
      int64_t nx0 = 0, nx1 = 0;
      if (direct && oy + 1 < t->y->dims[1]) inside_columns(g, H, W, OW, oy + 1, &nx0, &nx1);
      stop = OW + (nx0 < nx1 ? nx0 : OW);
    }
    const size_t run = (size_t)(stop - ox) < end - m ? (size_t)(stop - ox) : end - m;
    if (!inside) {
      im2col_rows(t->x, g, (int64_t)b, (int64_t)m, (int64_t)run, OW, c0, cg, col);
      gemm_rows(t, col, t->K, run, w, c + (m - m0) * c_stride, c_stride, nc);
      m += run;
      continue;
    }
    for (size_t q = 0; q < run; q += mr) {
      const int64_t iy = oy * g[2] - g[6], ix = (ox + (int64_t)q) * g[3] - g[7];
      size_t s = 0;
      for (int64_t ky = 0; ky < g[0]; ky++)
        for (int64_t kx = 0; kx < (whole_rows ? 1 : g[1]); kx++)
          seg[s++] = image + ((iy + ky * g[4]) * W + ix + kx * g[5]) * C;
      el_kernels.conv(run - q < mr ? run - q : mr, nc, segments, seg_len, seg, (size_t)(g[3] * C), w,
                      c + (m + q - m0) * c_stride, c_stride, t->lo, t->hi);
    }
    m += run;
  }
}

static void gemm_tile(const void *ctx, size_t tile, size_t thread) {
  const gemm_task *t = ctx;
  const size_t split = tile % t->panel_splits, block = tile / t->panel_splits % t->blocks;
  const size_t group = tile / t->panel_splits / t->blocks % t->G, b = tile / t->panel_splits / t->blocks / t->G;
  const size_t p0 = split * t->panel_block, p1 = p0 + t->panel_block < t->panels ? p0 + t->panel_block : t->panels;
  if (p0 >= p1) return;
  const size_t m0 = block * t->row_block, rows = t->rows - m0 < t->row_block ? t->rows - m0 : t->row_block;
  const size_t nc = (p1 * EL_GEMM_NR < t->N ? p1 * EL_GEMM_NR : t->N) - p0 * EL_GEMM_NR;
  const float *w = t->w + (group * t->panels + p0) * EL_GEMM_NR * (t->K + 1);
  const size_t c_stride = t->G * t->N;
  float *c = t->y->data + (b * t->rows + m0) * c_stride + group * t->N + p0 * EL_GEMM_NR;
  if (t->mode == 0) {
    const size_t a_stride = t->G * t->K;
    gemm_rows(t, t->x->data + m0 * a_stride + group * t->K, a_stride, rows, w, c, c_stride, nc);
  } else {
    conv_rows(t, b, group, m0, rows, w, c, c_stride, nc, thread);
  }
}

void el_run_gemm(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  gemm_task t = {.x = x, .y = y, .w = el_in(p, n, 1)->data, .g = n->p + 1, .K = (size_t)n->p[11],
                 .N = (size_t)n->p[12], .G = n->p[13] < 1 ? 1 : (size_t)n->p[13], .mode = (size_t)n->p[0],
                 .lo = el_param_f32(n->p[9]), .hi = el_param_f32(n->p[10])};
  t.panels = (t.N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  size_t batches = 1;
  if (t.mode == 0) {
    t.rows = (size_t)y->count / (t.G * t.N);
  } else {
    t.scratch = el_in(p, n, 2)->data;
    batches = (size_t)x->dims[0];
    t.rows = (size_t)(y->dims[1] * y->dims[2]);
  }
  const size_t outer = batches * t.G, threads = el_threads_for(p, (double)(outer * t.rows) * (double)(t.N * t.K));
  const el_gemm_tiling tiles = el_gemm_tiles(t.rows, outer, t.panels, el_kernels.gemm_mr, threads);
  t.row_block = tiles.row_block, t.blocks = tiles.blocks;
  t.panel_splits = tiles.splits, t.panel_block = tiles.group_block;
  el_pool_run(threads > 1 ? p->pool : NULL, gemm_tile, &t, outer * t.blocks * t.panel_splits);
}
