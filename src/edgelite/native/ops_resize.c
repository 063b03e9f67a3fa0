/* RESIZE_BILINEAR and RESIZE_NEAREST glue (float32): one tile per output row.
 *
 * Params: [align_corners, half_pixel_centers]. Coordinates are computed in float32 exactly as the
 * reference (edgelite/ops/resize_bilinear.py: interpolation): step = in/out (or (in-1)/(out-1)
 * with align_corners), coord = (i + 0.5) * step - 0.5 with half-pixel centers, else i * step;
 * lower = max(floor(coord), 0), upper = min(ceil(coord), in - 1), weight = coord - lower. */
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"

int el_validate_resize_bilinear(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[3] != y->dims[3])
    return el_fail(err, len, n, "input and output must be NHWC with the same batch and channels");
  if (x->dims[1] < 1 || x->dims[2] < 1 || y->dims[1] > (1 << 24) || y->dims[2] > (1 << 24))
    return el_fail(err, len, n, "bad sizes");
  if ((n->p[0] != 0 && n->p[0] != 1) || (n->p[1] != 0 && n->p[1] != 1)) return el_fail(err, len, n, "bad flags");
  return 0;
}

typedef struct {
  int64_t lower, upper;
  float weight;
} el_coord;

static el_coord coordinate(int64_t i, int64_t in, int64_t out, int align_corners, int half_pixel) {
  const float step = align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
  const float coord = half_pixel ? ((float)i + 0.5f) * step - 0.5f : (float)i * step;
  const float low = floorf(coord);
  el_coord c = {low > 0.0f ? (int64_t)low : 0, (int64_t)ceilf(coord), 0.0f};
  if (c.lower > in - 1) c.lower = in - 1; /* never with finite sizes; keeps reads in bounds */
  if (c.upper > in - 1) c.upper = in - 1;
  if (c.upper < 0) c.upper = 0;
  c.weight = coord - (float)c.lower;
  return c;
}

#define EL_RESIZE_COLUMNS 1024 /* output widths up to this reuse one table of x coordinates */

typedef struct {
  const el_tensor *x, *y;
  int align_corners, half_pixel;
  const el_coord *columns; /* per output column, or NULL: computed per row */
} resize_task;

static void resize_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const resize_task *t = ctx;
  const int64_t H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OH = t->y->dims[1], OW = t->y->dims[2];
  const int64_t b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const el_coord cy = coordinate(oy, H, OH, t->align_corners, t->half_pixel);
  const float *top = t->x->data + (b * H + cy.lower) * W * C, *bottom = t->x->data + (b * H + cy.upper) * W * C;
  float *out = t->y->data + (b * OH + oy) * OW * C;
  for (int64_t ox = 0; ox < OW; ox++, out += C) {
    const el_coord cx = t->columns != NULL ? t->columns[ox] : coordinate(ox, W, OW, t->align_corners, t->half_pixel);
    el_kernels.ibilinear((size_t)C, top + cx.lower * C, top + cx.upper * C, bottom + cx.lower * C,
                         bottom + cx.upper * C, cy.weight, cx.weight, out);
  }
}

void el_run_resize_bilinear(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  el_coord columns[EL_RESIZE_COLUMNS];
  const int align_corners = (int)n->p[0], half_pixel = (int)n->p[1];
  const int table = y->dims[2] <= EL_RESIZE_COLUMNS;
  for (int64_t ox = 0; table && ox < y->dims[2]; ox++)
    columns[ox] = coordinate(ox, x->dims[2], y->dims[2], align_corners, half_pixel);
  const resize_task t = {x, y, align_corners, half_pixel, table ? columns : NULL};
  el_parallel(p, resize_row, &t, (size_t)(y->dims[0] * y->dims[1]));
}

/* RESIZE_NEAREST glue (float32): params [align_corners, half_pixel_centers]; the source index of
 * output i is, in float32 as the reference (edgelite/ops/resize_nearest_neighbor.py), coord =
 * (i + (half_pixel ? 0.5 : 0)) * scale, rounded half away from zero with align_corners, else
 * floored, clamped to [0, in - 1]. One tile per output row. */
int el_validate_resize_nearest(const el_program *p, const el_node *n, char *err, size_t len) {
  return el_validate_resize_bilinear(p, n, err, len);
}

static int64_t nearest(int64_t i, int64_t in, int64_t out, int align_corners, int half_pixel) {
  const float scale = align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
  const float coord = ((float)i + (half_pixel ? 0.5f : 0.0f)) * scale, low = floorf(coord);
  const float index = align_corners && coord - low >= 0.5f ? low + 1.0f : low;
  if (!(index > 0.0f)) return 0; /* NaN too */
  return index >= (float)(in - 1) ? in - 1 : (int64_t)index;
}

typedef struct {
  const el_tensor *x, *y;
  int align_corners, half_pixel;
  const int64_t *columns; /* per output column, or NULL */
} nearest_task;

static void nearest_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const nearest_task *t = ctx;
  const int64_t H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OH = t->y->dims[1], OW = t->y->dims[2];
  const int64_t b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const float *row = t->x->data + (b * H + nearest(oy, H, OH, t->align_corners, t->half_pixel)) * W * C;
  float *out = t->y->data + (b * OH + oy) * OW * C;
  for (int64_t ox = 0; ox < OW; ox++, out += C) {
    const int64_t ix = t->columns != NULL ? t->columns[ox] : nearest(ox, W, OW, t->align_corners, t->half_pixel);
    memcpy(out, row + ix * C, (size_t)C * sizeof(float));
  }
}

void el_run_resize_nearest(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  int64_t columns[EL_RESIZE_COLUMNS];
  const int align_corners = (int)n->p[0], half_pixel = (int)n->p[1];
  const int table = y->dims[2] <= EL_RESIZE_COLUMNS;
  for (int64_t ox = 0; table && ox < y->dims[2]; ox++)
    columns[ox] = nearest(ox, x->dims[2], y->dims[2], align_corners, half_pixel);
  const nearest_task t = {x, y, align_corners, half_pixel, table ? columns : NULL};
  el_parallel_work(p, nearest_row, &t, (size_t)(y->dims[0] * y->dims[1]), (double)y->count);
}
