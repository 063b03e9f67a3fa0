/* MAXPOOL, AVGPOOL, MEAN_HW, PAD, CONCAT and COPY glue.
 *
 * Pool params: [kh, kw, stride h, w, pad top, pad left, lo, hi]; windows cover only the input
 *   elements they overlap (averages divide by that count), as TFLite.
 * PAD params: [before[4]] for the input's dims left-padded with 1s to rank 4; zeros fill the rest.
 * CONCAT params: [axis]. */
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_math.h"

static int validate_pool(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  for (int i = 0; i < 4; i++)
    if (n->p[i] < 1 || n->p[i] > (1 << 16)) return el_fail(err, len, n, "bad window");
  if (n->p[4] < 0 || n->p[5] < 0 || n->p[4] > (1 << 20) || n->p[5] > (1 << 20)) return el_fail(err, len, n, "bad padding");
  if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[3] != y->dims[3])
    return el_fail(err, len, n, "input and output must be NHWC with the same batch and channels");
  return 0;
}

int el_validate_maxpool(const el_program *p, const el_node *n, char *err, size_t len) {
  return validate_pool(p, n, err, len);
}
int el_validate_avgpool(const el_program *p, const el_node *n, char *err, size_t len) {
  return validate_pool(p, n, err, len);
}

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  int average;
} pool_task;

#define EL_POOL_CHUNK 64 /* window taps per kernel call */

/* One output row (batch b, row oy) of a pooling op: window taps inside the image, in row-major
 * order, go to the kernel in chunks; averages divide by their count. */
static void pool_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const pool_task *t = ctx;
  const el_tensor *x = t->x, *y = t->y;
  const int64_t *g = t->g, H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1];
  const int64_t b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const int op = t->average ? EL_POOL_AVG : EL_POOL_MAX;
  const float lo = el_param_f32(g[6]), hi = el_param_f32(g[7]);
  const float *image = x->data + b * H * W * C;
  float *out = y->data + (b * OH + oy) * y->dims[2] * C;
  const int64_t y0 = oy * g[2] - g[4], ys = y0 < 0 ? 0 : y0, ye = y0 + g[0] < H ? y0 + g[0] : H;
  const float *taps[EL_POOL_CHUNK];
  for (int64_t ox = 0; ox < y->dims[2]; ox++, out += C) {
    const int64_t x0 = ox * g[3] - g[5], xs = x0 < 0 ? 0 : x0, xe = x0 + g[1] < W ? x0 + g[1] : W;
    const int64_t count = (ye > ys ? ye - ys : 0) * (xe > xs ? xe - xs : 0);
    const float scale = t->average ? 1.0f / (float)count : 1.0f;
    size_t used = 0;
    int first = 1;
    for (int64_t iy = ys; iy < ye; iy++)
      for (int64_t ix = xs; ix < xe; ix++) {
        taps[used++] = image + (iy * W + ix) * C;
        if (used == EL_POOL_CHUNK) {
          el_kernels.pool(op, used, (size_t)C, taps, out, first, 0, scale, lo, hi);
          used = 0;
          first = 0;
        }
      }
    el_kernels.pool(op, used, (size_t)C, taps, out, first, 1, scale, lo, hi);
  }
}

static void run_pool(const el_program *p, const el_node *n, int average) {
  const pool_task t = {el_in(p, n, 0), el_out(p, n), n->p, average};
  el_parallel_work(p, pool_row, &t, (size_t)(t.y->dims[0] * t.y->dims[1]),
                   (double)t.y->count * (double)(n->p[0] * n->p[1]));
}

void el_run_maxpool(const el_program *p, const el_node *n) { run_pool(p, n, 0); }
void el_run_avgpool(const el_program *p, const el_node *n) { run_pool(p, n, 1); }

int el_validate_mean_hw(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  if (x->rank != 4 || y->count != x->dims[0] * x->dims[3] || x->dims[1] * x->dims[2] == 0)
    return el_fail(err, len, n, "needs NHWC input, N x C output and a non-empty window");
  return 0;
}

/* Sums in double, divides once: the reference's float64 sum, then rounding to float32. Each
 * channel adds its pixels in order; a block of channels goes over the rows together, so the reads
 * are contiguous (the sums stay in a stack block: nothing is allocated). */
void el_run_mean_hw(const el_program *p, const el_node *n) {
  enum { BLOCK = 256 };
  const el_tensor *x = el_in(p, n, 0);
  const int64_t HW = x->dims[1] * x->dims[2], C = x->dims[3];
  float *y = el_out(p, n)->data;
  double sum[BLOCK];
  for (int64_t b = 0; b < x->dims[0]; b++, y += C) {
    const float *v = x->data + b * HW * C;
    for (int64_t c0 = 0; c0 < C; c0 += BLOCK) {
      const int64_t width = C - c0 < BLOCK ? C - c0 : BLOCK;
      for (int64_t c = 0; c < width; c++) sum[c] = 0.0;
      for (int64_t i = 0; i < HW; i++)
        for (int64_t c = 0; c < width; c++) sum[c] += v[i * C + c0 + c];
      for (int64_t c = 0; c < width; c++) y[c0 + c] = (float)(sum[c] / (double)HW);
    }
  }
}

static void dims4(const el_tensor *t, int64_t *d) {
  for (int k = 0; k < 4; k++) d[k] = k < 4 - t->rank ? 1 : t->dims[k - (4 - t->rank)];
}

int el_validate_pad(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  int64_t dx[4], dy[4];
  if (x->rank > 4 || y->rank != x->rank) return el_fail(err, len, n, "rank above 4 or ranks differ");
  dims4(x, dx);
  dims4(y, dy);
  for (int k = 0; k < 4; k++)
    if (n->p[k] < 0 || n->p[k] > dy[k] || dx[k] > dy[k] - n->p[k]) return el_fail(err, len, n, "bad paddings");
  return 0;
}

void el_run_pad(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  int64_t dx[4], dy[4];
  dims4(x, dx);
  dims4(y, dy);
  const int64_t *b = n->p;
  memset(y->data, 0, (size_t)y->count * 4);
  const float *src = x->data;
  for (int64_t i0 = 0; i0 < dx[0]; i0++)
    for (int64_t i1 = 0; i1 < dx[1]; i1++)
      for (int64_t i2 = 0; i2 < dx[2]; i2++, src += dx[3]) {
        float *dst = y->data + (((i0 + b[0]) * dy[1] + i1 + b[1]) * dy[2] + i2 + b[2]) * dy[3] + b[3];
        memcpy(dst, src, (size_t)dx[3] * 4);
      }
}

int el_validate_concat(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *y = el_out(p, n);
  const int64_t axis = n->p[0];
  if (axis < 0 || axis >= y->rank) return el_fail(err, len, n, "bad axis");
  int64_t total = 0;
  for (int64_t i = 0; i < n->n_inputs; i++) {
    const el_tensor *x = el_in(p, n, (int)i);
    if (x->rank != y->rank) return el_fail(err, len, n, "ranks differ");
    for (int64_t d = 0; d < y->rank; d++)
      if (d != axis && x->dims[d] != y->dims[d]) return el_fail(err, len, n, "dims differ off the axis");
    total += x->dims[axis];
  }
  if (total != y->dims[axis]) return el_fail(err, len, n, "axis sizes do not add up");
  return 0;
}

void el_run_concat(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  int64_t outer = 1;
  for (int64_t d = 0; d < n->p[0]; d++) outer *= y->dims[d];
  float *dst = y->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < n->n_inputs; i++) {
      const el_tensor *x = el_in(p, n, (int)i);
      const int64_t inner = outer ? x->count / outer : 0;
      memcpy(dst, x->data + o * inner, (size_t)inner * 4);
      dst += inner;
    }
}

int el_validate_copy(const el_program *p, const el_node *n, char *err, size_t len) {
  if (el_in(p, n, 0)->count != el_out(p, n)->count) return el_fail(err, len, n, "sizes differ");
  return 0;
}

void el_run_copy(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  if (x->data != y->data) memmove(y->data, x->data, (size_t)x->count * 4);
}
