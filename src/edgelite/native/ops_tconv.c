/* TCONV (TRANSPOSE_CONV, MediaPipe's Convolution2DTransposeBias) glue: a gather per output phase.
 *
 * Output pixel (oy, ox) receives input (iy, ix) through tap (ky, kx) when oy + pad_top = iy*sh + ky
 * (the same along x). For a phase (ry, rx) = ((oy + pad_top) % sh, (ox + pad_left) % sw) the taps
 * are ky = ry + j*sh, kx = rx + i*sw: a plain convolution over an im2col of those taps, run by the
 * gemm kernels with the phase's weights. So no output is accumulated by two tiles (no scatter) and
 * results do not depend on the thread count.
 *
 * Params: [kh, kw, stride h, w, pad top, pad left, lo, hi, C (input channels), N (output channels),
 * mode]. Inputs: x, packed weights, scratch (n_threads x EL_IM2COL_ROWS x the largest K).
 * Mode 0 (gather): weights per phase, row-major over (ry, rx): panels of [bias 16][K x 16] with
 * K = taps_y(ry) * taps_x(rx) * C.
 * Mode 1 (kernel = stride, no padding, output = input x stride: the usual 2x upsampling): output
 * row oy is input row oy / sh times the weights of ky = oy % sh, whose columns are (kx, n): one
 * gemm per output row, straight from the input, writing kw * N consecutive outputs per input
 * pixel. Weights: per ky, panels of [bias 16][C x 16] over kw * N columns. */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"

#define EL_TCONV_MAX_STRIDE 16

static int64_t phase_taps(int64_t kernel, int64_t stride, int64_t phase) {
  return phase < kernel ? (kernel - 1 - phase) / stride + 1 : 0;
}

int el_validate_tconv(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *s = el_in(p, n, 2), *y = el_out(p, n);
  const int64_t kh = n->p[0], kw = n->p[1], sh = n->p[2], sw = n->p[3], C = n->p[8], N = n->p[9];
  if (!EL_RANGE(kh, 1, 1 << 12) || !EL_RANGE(kw, 1, 1 << 12) || !EL_RANGE(sh, 1, EL_TCONV_MAX_STRIDE) ||
      !EL_RANGE(sw, 1, EL_TCONV_MAX_STRIDE) || !EL_RANGE(n->p[4], 0, 1 << 20) || !EL_RANGE(n->p[5], 0, 1 << 20))
    return el_fail(err, len, n, "bad window");
  if (!EL_RANGE(C, 1, 1 << 24) || !EL_RANGE(N, 1, 1 << 24) || kh * kw * C > (1 << 24))
    return el_fail(err, len, n, "bad C or N");
  if (el_check_nhwc_pair(n, x, y, err, len)) return -1;
  if (x->dims[3] != C || y->dims[3] != N) return el_fail(err, len, n, "C or N differs from the shapes");
  if (n->p[10] == 1) {
    if (kh != sh || kw != sw || n->p[4] || n->p[5] || y->dims[1] != x->dims[1] * sh || y->dims[2] != x->dims[2] * sw)
      return el_fail(err, len, n, "mode 1 needs kernel = stride, no padding and output = input x stride");
    if (w->count != sh * ((kw * N + EL_GEMM_NR - 1) / EL_GEMM_NR) * EL_GEMM_NR * (C + 1))
      return el_fail(err, len, n, "packed weights have the wrong size");
    return 0;
  }
  if (n->p[10] != 0) return el_fail(err, len, n, "bad mode");
  const int64_t panels = (N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  int64_t total = 0, largest = 1;
  for (int64_t ry = 0; ry < sh; ry++)
    for (int64_t rx = 0; rx < sw; rx++) {
      const int64_t K = phase_taps(kh, sh, ry) * phase_taps(kw, sw, rx) * C;
      total += panels * EL_GEMM_NR * (K + 1);
      largest = K > largest ? K : largest;
    }
  if (w->count != total) return el_fail(err, len, n, "packed weights have the wrong size");
  if (!s->writable || s->count / EL_IM2COL_ROWS / largest < (int64_t)p->n_threads)
    return el_fail(err, len, n, "scratch too small or read-only");
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  float *scratch;
  size_t scratch_stride; /* floats per thread */
  const float *phase_weights[EL_TCONV_MAX_STRIDE * EL_TCONV_MAX_STRIDE];
  float lo, hi;
} tconv_task;

static void tconv_tile(const void *ctx, size_t tile, size_t thread) {
  const tconv_task *t = ctx;
  const int64_t *g = t->g, kh = g[0], kw = g[1], sh = g[2], sw = g[3], pt = g[4], pl = g[5];
  const int64_t H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3];
  const int64_t OH = t->y->dims[1], OW = t->y->dims[2], N = t->y->dims[3];
  const int64_t rx = (int64_t)tile % sw, oy = (int64_t)tile / sw % OH, b = (int64_t)tile / sw / OH;
  const int64_t ry = (oy + pt) % sh, ox0 = ((rx - pl) % sw + sw) % sw;
  if (ox0 >= OW) return;
  const int64_t pixels = (OW - 1 - ox0) / sw + 1, nky = phase_taps(kh, sh, ry), nkx = phase_taps(kw, sw, rx);
  const size_t K = (size_t)(nky * nkx * C), mr = el_kernels.gemm_mr, c_stride = (size_t)(sw * N);
  const float *w = t->phase_weights[ry * sw + rx], *image = t->x->data + b * H * W * C;
  float *col = t->scratch + thread * t->scratch_stride;
  for (int64_t j0 = 0; j0 < pixels; j0 += EL_IM2COL_ROWS) {
    const int64_t rows = pixels - j0 < EL_IM2COL_ROWS ? pixels - j0 : EL_IM2COL_ROWS;
    float *slot = col;
    for (int64_t r = 0; r < rows; r++) {
      const int64_t ox = ox0 + (j0 + r) * sw;
      for (int64_t jy = 0; jy < nky; jy++) {
        const int64_t iy = (oy + pt - ry - jy * sh) / sh; /* exact: oy + pt - ky is a multiple of sh */
        for (int64_t jx = 0; jx < nkx; jx++, slot += C) {
          const int64_t ix = (ox + pl - rx - jx * sw) / sw;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) memcpy(slot, image + (iy * W + ix) * C, (size_t)C * 4);
          else memset(slot, 0, (size_t)C * 4);
        }
      }
    }
    float *out = t->y->data + ((b * OH + oy) * OW + ox0 + j0 * sw) * N;
    for (size_t m = 0; m < (size_t)rows; m += mr)
      el_kernels.gemm((size_t)rows - m < mr ? (size_t)rows - m : mr, (size_t)N, K, col + m * K, K, w,
                      out + m * c_stride, c_stride, t->lo, t->hi);
  }
}

typedef struct {
  const el_tensor *x, *y;
  const float *w;
  size_t sh, sw, C, N;
  float lo, hi;
} shuffle_task;

static void shuffle_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const shuffle_task *t = ctx;
  const size_t H = (size_t)t->x->dims[1], W = (size_t)t->x->dims[2], OH = H * t->sh, mr = el_kernels.gemm_mr;
  const size_t b = tile / OH, oy = tile % OH, columns = t->sw * t->N;
  const float *a = t->x->data + (b * H + oy / t->sh) * W * t->C;
  const float *w = t->w + oy % t->sh * ((columns + EL_GEMM_NR - 1) / EL_GEMM_NR) * EL_GEMM_NR * (t->C + 1);
  float *c = t->y->data + (b * OH + oy) * W * columns;
  for (size_t m = 0; m < W; m += mr)
    el_kernels.gemm(W - m < mr ? W - m : mr, columns, t->C, a + m * t->C, t->C, w, c + m * columns, columns,
                    t->lo, t->hi);
}

void el_run_tconv(const el_program *p, const el_node *n) {
  if (n->p[10] == 1) {
    const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
    const shuffle_task t = {x, y, el_in(p, n, 1)->data, (size_t)n->p[2], (size_t)n->p[3], (size_t)n->p[8],
                            (size_t)n->p[9], el_param_f32(n->p[6]), el_param_f32(n->p[7])};
    el_parallel(p, shuffle_row, &t, (size_t)(y->dims[0] * y->dims[1]));
    return;
  }
  const el_tensor *x = el_in(p, n, 0), *s = el_in(p, n, 2), *y = el_out(p, n);
  const int64_t kh = n->p[0], kw = n->p[1], sh = n->p[2], sw = n->p[3], C = n->p[8], N = n->p[9];
  tconv_task t = {.x = x, .y = y, .g = n->p, .scratch = s->data, .scratch_stride = (size_t)(s->count / (int64_t)p->n_threads),
                  .lo = el_param_f32(n->p[6]), .hi = el_param_f32(n->p[7])};
  const float *w = el_in(p, n, 1)->data;
  const int64_t panels = (N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  for (int64_t ry = 0; ry < sh; ry++)
    for (int64_t rx = 0; rx < sw; rx++) {
      t.phase_weights[ry * sw + rx] = w;
      w += panels * EL_GEMM_NR * (phase_taps(kh, sh, ry) * phase_taps(kw, sw, rx) * C + 1);
    }
  el_parallel(p, tconv_tile, &t, (size_t)(x->dims[0] * y->dims[1] * sw));
}
