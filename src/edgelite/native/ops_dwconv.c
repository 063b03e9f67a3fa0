/* DWCONV (DEPTHWISE_CONV_2D) glue: validation and one tile per output row.
 *
 * Params: [kh, kw, stride h, w, dilation h, w, pad top, pad left, lo, hi, multiplier (0 or 1: none)].
 * Inputs: x, packed weights [bias OC][kh*kw x OC] (OC = C x multiplier), zeros (>= OC floats,
 * read-only), and with a multiplier > 1 a scratch of n_threads x kh x W x OC floats: the kh input
 * rows a tile reads, each channel repeated `multiplier` times, so the kernels see OC channels. */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"

int el_validate_dwconv(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *z = el_in(p, n, 2), *y = el_out(p, n);
  if (el_check_window(n, n->p, err, len) || el_check_nhwc_pair(n, x, y, err, len)) return -1;
  const int64_t C = x->dims[3], taps = n->p[0] * n->p[1], M = n->p[10] < 1 ? 1 : n->p[10];
  if (M > (1 << 16) || y->dims[3] != C * M) return el_fail(err, len, n, "output channels are not C x multiplier");
  if (taps > EL_DW_MAX_TAPS) return el_fail(err, len, n, "more than %d taps", EL_DW_MAX_TAPS);
  if (w->count != (taps + 1) * C * M) return el_fail(err, len, n, "packed weights have the wrong size");
  if (z->writable || z->count < C * M) return el_fail(err, len, n, "zero row too small or writable");
  if ((M > 1) != (n->n_inputs == 4)) return el_fail(err, len, n, "a multiplier needs a scratch input");
  if (M > 1) {
    const el_tensor *s = el_in(p, n, 3);
    const int64_t per_thread = n->p[0] * x->dims[2] * C * M;
    if (!s->writable || s->count / per_thread < (int64_t)p->n_threads)
      return el_fail(err, len, n, "scratch too small or read-only");
  }
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  const float *w, *zeros;
  float *scratch;
  el_dwconv_fn *kernel;
  int64_t M;
  float lo, hi;
} dw_task;

/* Input row iy of image, each channel repeated M times. */
static void expand_row(const float *row, int64_t W, int64_t C, int64_t M, float *out) {
  for (int64_t i = 0; i < W * C; i++)
    for (int64_t m = 0; m < M; m++) *out++ = row[i];
}

static void dw_row(const void *ctx, size_t tile, size_t thread) {
  const dw_task *t = ctx;
  const int64_t *g = t->g;
  const int64_t H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OH = t->y->dims[1], OW = t->y->dims[2];
  const int64_t OC = C * t->M, b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const size_t taps = (size_t)(g[0] * g[1]);
  const float *image = t->x->data + b * H * W * C;
  const float *rows[EL_DW_MAX_TAPS]; /* per ky: the row to read (pixel ix at rows[ky] + ix * OC), or NULL */
  for (int64_t ky = 0; ky < g[0]; ky++) {
    const int64_t iy = oy * g[2] - g[6] + ky * g[4];
    rows[ky] = NULL;
    if (iy < 0 || iy >= H) continue;
    if (t->M == 1) {
      rows[ky] = image + iy * W * C;
    } else {
      float *expanded = t->scratch + ((int64_t)thread * g[0] + ky) * W * OC;
      expand_row(image + iy * W * C, W, C, t->M, expanded);
      rows[ky] = expanded;
    }
  }
  /* Columns [inner0, inner1): every tap inside the image; with every window row inside too, one
   * kernel call reads them as evenly spaced windows. The other columns go through indirection. */
  int rows_inside = 1;
  for (int64_t ky = 0; ky < g[0]; ky++) rows_inside &= rows[ky] != NULL;
  const int64_t last_tap = (g[1] - 1) * g[5];
  int64_t inner0 = (g[7] + g[3] - 1) / g[3];
  int64_t inner1 = W - 1 - last_tap + g[7] >= 0 ? (W - 1 - last_tap + g[7]) / g[3] + 1 : 0;
  inner1 = inner1 < OW ? inner1 : OW;
  if (!rows_inside || inner0 >= inner1) inner0 = inner1 = OW;
  float *out_row = t->y->data + (b * OH + oy) * OW * OC;
  if (inner1 > inner0) {
    const float *first[EL_DW_MAX_TAPS];
    size_t k = 0;
    for (int64_t ky = 0; ky < g[0]; ky++)
      for (int64_t kx = 0; kx < g[1]; kx++) first[k++] = rows[ky] + (inner0 * g[3] - g[7] + kx * g[5]) * OC;
    t->kernel(taps, (size_t)OC, (size_t)(inner1 - inner0), first, (size_t)(g[3] * OC), t->w, out_row + inner0 * OC,
              t->lo, t->hi);
  }
  const float *ind[EL_DW_CHUNK * EL_DW_MAX_TAPS];
  const int64_t spans[2][2] = {{0, inner0}, {inner1, OW}};
  for (int s = 0; s < 2; s++)
    for (int64_t ox0 = spans[s][0]; ox0 < spans[s][1]; ox0 += EL_DW_CHUNK) {
      const int64_t count = spans[s][1] - ox0 < EL_DW_CHUNK ? spans[s][1] - ox0 : EL_DW_CHUNK;
      const float **slot = ind;
      for (int64_t ox = ox0; ox < ox0 + count; ox++)
        for (int64_t ky = 0; ky < g[0]; ky++)
          for (int64_t kx = 0; kx < g[1]; kx++) {
            const int64_t ix = ox * g[3] - g[7] + kx * g[5];
            *slot++ = rows[ky] != NULL && ix >= 0 && ix < W ? rows[ky] + ix * OC : t->zeros;
          }
      t->kernel(taps, (size_t)OC, (size_t)count, ind, 0, t->w, out_row + ox0 * OC, t->lo, t->hi);
    }
}

void el_run_dwconv(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const size_t taps = (size_t)(n->p[0] * n->p[1]);
  const int64_t M = n->p[10] < 1 ? 1 : n->p[10];
  el_dwconv_fn *kernel = taps == 9 ? el_kernels.dwconv9 : taps == 25 ? el_kernels.dwconv25 : el_kernels.dwconv_any;
  dw_task t = {x, y, n->p, el_in(p, n, 1)->data, el_in(p, n, 2)->data, M > 1 ? el_in(p, n, 3)->data : NULL,
               kernel, M, el_param_f32(n->p[8]), el_param_f32(n->p[9])};
  el_parallel_work(p, dw_row, &t, (size_t)(x->dims[0] * y->dims[1]), (double)y->count * (double)taps);
}
