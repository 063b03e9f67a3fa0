/* HGEMM: hybrid (dynamic-range) CONV_2D and FULLY_CONNECTED, as LiteRT's builtin hybrid kernels and
 * edgelite's reference (ops/_matmul.py hybrid_matmul, ops/conv_2d.py _hybrid): the float32 input is
 * quantized to int8 at run time, one scale (and zero point) per region -- each row of K values for
 * FULLY_CONNECTED, each batch image for CONV_2D --, multiplied exactly in int32 by int8 weights,
 * and scaled back in float32: out = clamp(float(acc) * (input scale x weight scale) + bias).
 *
 * Params: [mode (0 rows of K values; 1 im2col), kh, kw, stride h, w, dilation h, w, pad top,
 *   pad left, K, N, input quantization (0 symmetric; 1 asymmetric with 1 / scale in double, as
 *   quantize_input_rows; 2 asymmetric with 1 / scale in float, as _conv.hybrid_input), lo, hi
 *   (f32 bits)]. Inputs: x (float32), packed groups (el_hkernels.h), qvals (int16, writable:
 *   mode 0 rows x Kp, mode 1 the whole input), region scales (float32, writable), and in mode 1
 *   the scratch (n_threads slices of an EL_IM2COL_ROWS x Kp int16 tile). The quantized input is
 *   stored minus its zero point, so padding and the odd K's last column are 0. */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"

el_hukernels el_hkernels;

static size_t tile_bytes(size_t kp) { return (EL_IM2COL_ROWS * kp * 2 + 63) / 64 * 64; }

int el_validate_hgemm(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *q = el_in(p, n, 2), *s = el_in(p, n, 3);
  const el_tensor *y = el_out(p, n);
  const int64_t mode = n->p[0], K = n->p[9], N = n->p[10];
  const float lo = el_param_f32(n->p[12]), hi = el_param_f32(n->p[13]);
  if (x->dtype != EL_F32 || y->dtype != EL_F32 || q->dtype != EL_I16 || s->dtype != EL_F32 || !q->writable ||
      !s->writable)
    return el_fail(err, len, n, "needs float32 input and output, writable int16 values and float32 scales");
  if (!EL_RANGE(K, 1, 1 << 24) || !EL_RANGE(N, 1, 1 << 24) || !EL_RANGE(n->p[11], 0, 2) || !(lo <= hi))
    return el_fail(err, len, n, "bad K, N, quantization mode or clamp");
  const int64_t kp = K + (K & 1), groups = (N + EL_HGROUP - 1) / EL_HGROUP;
  if (w->dtype != EL_I8 || w->count != groups * (EL_HGROUP_HEADER + kp * 32) || ((uintptr_t)w->data) % 16)
    return el_fail(err, len, n, "packed weights have the wrong size, type or alignment");
  if (y->count % N) return el_fail(err, len, n, "output size is not a multiple of N");
  if (mode == 0) {
    const int64_t rows = y->count / N;
    if (rows > x->count / K || q->count < rows * kp || s->count < rows)
      return el_fail(err, len, n, "input, values or scales too small for %lld rows", (long long)rows);
    return n->n_inputs == 4 ? 0 : el_fail(err, len, n, "mode 0 takes 4 inputs");
  }
  if (mode != 1 || n->n_inputs != 5) return el_fail(err, len, n, "bad mode or input count");
  const el_tensor *scratch = el_in(p, n, 4);
  if (el_check_window(n, n->p + 1, err, len) || el_check_nhwc_pair(n, x, y, err, len)) return -1;
  if (y->dims[3] != N || K != n->p[1] * n->p[2] * x->dims[3]) return el_fail(err, len, n, "K or N differ from the shapes");
  if (q->count < x->count || s->count < x->dims[0]) return el_fail(err, len, n, "values or scales too small");
  if (!scratch->writable || ((uintptr_t)scratch->data) % 4 ||
      scratch->count * 4 / (int64_t)tile_bytes((size_t)kp) < (int64_t)p->n_threads)
    return el_fail(err, len, n, "scratch too small or read-only");
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const char *w;
  int16_t *values;
  float *scales;
  char *scratch;
  const int64_t *g; /* window: kh, kw, sh, sw, dh, dw, pad top, pad left */
  size_t K, kp, N, groups, group_bytes, rows, row_block, blocks, group_block, splits, mode, regions;
  int quant;
  float lo, hi;
} hgemm_task;

/* Regions [tile * EL_IM2COL_ROWS, ...) of mode 0 (rows), or batch image `tile` of mode 1. */
static void quantize_tile(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const hgemm_task *t = ctx;
  if (t->mode == 1) {
    const size_t count = (size_t)(t->x->count / t->x->dims[0]);
    t->scales[tile] = el_hkernels.hquant(count, t->x->data + tile * count, t->quant, t->values + tile * count);
    return;
  }
  const size_t r1 = (tile + 1) * EL_IM2COL_ROWS < t->regions ? (tile + 1) * EL_IM2COL_ROWS : t->regions;
  for (size_t r = tile * EL_IM2COL_ROWS; r < r1; r++) {
    int16_t *row = t->values + r * t->kp;
    t->scales[r] = el_hkernels.hquant(t->K, t->x->data + r * t->K, t->quant, row);
    if (t->kp > t->K) row[t->K] = 0;
  }
}

/* Output pixels [m0, m0 + rows) of batch b as int16 im2col rows of kp values (0 outside). */
static void im2col_rows(const hgemm_task *t, size_t b, size_t m0, size_t rows, int16_t *a) {
  const int64_t *g = t->g, H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OW = t->y->dims[2];
  const int64_t kw = g[1], span = kw * C;
  const int16_t *image = t->values + (int64_t)b * H * W * C;
  int16_t *row = a;
  for (size_t r = 0; r < rows; r++, row += t->kp) {
    const int64_t oy = (int64_t)(m0 + r) / OW, ox = (int64_t)(m0 + r) % OW, x0 = ox * g[3] - g[7];
    const int whole = g[5] == 1 && x0 >= 0 && x0 + kw <= W; /* the kw taps are one contiguous run */
    int16_t *col = row;
    for (int64_t ky = 0; ky < g[0]; ky++, col += span) {
      const int64_t iy = oy * g[2] - g[6] + ky * g[4];
      if (iy < 0 || iy >= H) {
        memset(col, 0, (size_t)span * sizeof(*col));
      } else if (whole) {
        memcpy(col, image + (iy * W + x0) * C, (size_t)span * sizeof(*col));
      } else {
        for (int64_t kx = 0; kx < kw; kx++) {
          const int64_t ix = x0 + kx * g[5];
          if (ix >= 0 && ix < W) memcpy(col + kx * C, image + (iy * W + ix) * C, (size_t)C * sizeof(*col));
          else memset(col + kx * C, 0, (size_t)C * sizeof(*col));
        }
      }
    }
    if (t->kp > t->K) row[t->K] = 0;
  }
}

static void hgemm_tile(const void *ctx, size_t tile, size_t thread) {
  const hgemm_task *t = ctx;
  const size_t split = tile % t->splits, block = tile / t->splits % t->blocks, b = tile / t->splits / t->blocks;
  const size_t g0 = split * t->group_block, g1 = g0 + t->group_block < t->groups ? g0 + t->group_block : t->groups;
  if (g0 >= g1) return;
  const size_t m0 = block * t->row_block, rows = t->rows - m0 < t->row_block ? t->rows - m0 : t->row_block;
  const size_t nc = (g1 * EL_HGROUP < t->N ? g1 * EL_HGROUP : t->N) - g0 * EL_HGROUP, mr = el_hkernels.hgemm_mr;
  const int16_t *a;
  const float *scales;
  float same[EL_IM2COL_ROWS];
  if (t->mode == 0) {
    a = t->values + m0 * t->kp;
    scales = t->scales + m0;
  } else {
    int16_t *tile_rows = (int16_t *)(void *)(t->scratch + thread * tile_bytes(t->kp));
    im2col_rows(t, b, m0, rows, tile_rows);
    for (size_t r = 0; r < rows; r++) same[r] = t->scales[b];
    a = tile_rows;
    scales = same;
  }
  float *c = t->y->data + (b * t->rows + m0) * t->N + g0 * EL_HGROUP;
  for (size_t m = 0; m < rows; m += mr)
    el_hkernels.hgemm(rows - m < mr ? rows - m : mr, nc, t->kp, a + m * t->kp, t->kp, t->w + g0 * t->group_bytes,
                      t->group_bytes, c + m * t->N, t->N, scales + m, t->lo, t->hi);
}

void el_run_hgemm(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  hgemm_task t = {.x = x, .y = y, .w = (const char *)el_in(p, n, 1)->data,
                  .values = (int16_t *)(void *)el_in(p, n, 2)->data, .scales = el_in(p, n, 3)->data,
                  .scratch = n->n_inputs > 4 ? (char *)el_in(p, n, 4)->data : NULL, .g = n->p + 1,
                  .K = (size_t)n->p[9], .N = (size_t)n->p[10], .mode = (size_t)n->p[0], .quant = (int)n->p[11],
                  .lo = el_param_f32(n->p[12]), .hi = el_param_f32(n->p[13])};
  t.kp = t.K + (t.K & 1);
  t.groups = (t.N + EL_HGROUP - 1) / EL_HGROUP;
  t.group_bytes = EL_HGROUP_HEADER + t.kp * 32;
  const size_t batches = t.mode == 0 ? 1 : (size_t)x->dims[0];
  t.rows = t.mode == 0 ? (size_t)y->count / t.N : (size_t)(y->dims[1] * y->dims[2]);
  t.regions = t.mode == 0 ? t.rows : batches;
  const size_t quant_tiles = t.mode == 0 ? (t.rows + EL_IM2COL_ROWS - 1) / EL_IM2COL_ROWS : batches;
  el_parallel_work(p, quantize_tile, &t, quant_tiles, (double)x->count);
  const el_gemm_tiling tiles = el_gemm_tiles(t.rows, batches, t.groups, el_hkernels.hgemm_mr, p->n_threads);
  t.row_block = tiles.row_block, t.blocks = tiles.blocks, t.splits = tiles.splits, t.group_block = tiles.group_block;
  el_parallel_work(p, hgemm_tile, &t, batches * t.blocks * t.splits,
                   (double)t.rows * (double)batches * (double)t.K * (double)t.N);
}

/* HDWCONV: hybrid DEPTHWISE_CONV_2D (ops/depthwise_conv_2d.py _hybrid): each batch image quantized
 * asymmetrically (1 / scale in float), exact int32 sums over the window, then in float32
 * (acc * weight scale) * input scale for the channels in whole blocks of 4 and (acc * input
 * scale) * weight scale for the rest, plus bias, clamp.
 * Params: [kh, kw, stride h, w, dilation h, w, pad top, pad left, multiplier, lo, hi (f32 bits),
 *   blocked channels]. Inputs: x (float32), weights (int16 [taps][OC]), scale and bias (float32
 *   [2][OC]), qvals (int16, writable, the whole input), batch scales (float32, writable). */
#define HDW_CHANNELS 256 /* output channels accumulated per pass (on the stack) */

int el_validate_hdwconv(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *e = el_in(p, n, 2), *q = el_in(p, n, 3);
  const el_tensor *s = el_in(p, n, 4), *y = el_out(p, n);
  if (x->dtype != EL_F32 || y->dtype != EL_F32 || w->dtype != EL_I16 || e->dtype != EL_F32 || q->dtype != EL_I16 ||
      s->dtype != EL_F32 || !q->writable || !s->writable)
    return el_fail(err, len, n, "operand types, or read-only values or scales");
  if (el_check_window(n, n->p, err, len) || el_check_nhwc_pair(n, x, y, err, len)) return -1;
  const int64_t m = n->p[8], OC = y->dims[3];
  const float lo = el_param_f32(n->p[9]), hi = el_param_f32(n->p[10]);
  if (!EL_RANGE(m, 1, 1 << 16) || x->dims[3] * m != OC || !(lo <= hi) || !EL_RANGE(n->p[11], 0, OC))
    return el_fail(err, len, n, "bad multiplier, clamp or blocked channel count");
  if (w->count != n->p[0] * n->p[1] * OC || e->count != 2 * OC) return el_fail(err, len, n, "weights do not fit");
  if (q->count < x->count || s->count < x->dims[0]) return el_fail(err, len, n, "values or scales too small");
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  const int16_t *w, *values;
  const float *epilogue, *scales;
} hdwconv_task;

static void hdw_quantize(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const hdwconv_task *t = ctx;
  const size_t count = (size_t)(t->x->count / t->x->dims[0]);
  ((float *)t->scales)[tile] = el_hkernels.hquant(count, t->x->data + tile * count, EL_HQUANT_ASYM_FLOAT,
                                                  (int16_t *)t->values + tile * count);
}

/* One output row (tile = batch * OH + oy): with multiplier 1 the hdwconv kernel per pixel (tap
 * pointers, NULL outside the image); otherwise channel blocks of HDW_CHANNELS in C. */
static void hdwconv_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const hdwconv_task *t = ctx;
  const int64_t *g = t->g, H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OH = t->y->dims[1];
  const int64_t OW = t->y->dims[2], OC = t->y->dims[3], m = g[8], b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const int16_t *image = t->values + b * H * W * C;
  const float in_scale = t->scales[b], lo = el_param_f32(g[9]), hi = el_param_f32(g[10]);
  float *out = t->y->data + (b * OH + oy) * OW * OC;
  if (m == 1 && g[0] * g[1] <= EL_DW_MAX_TAPS) {
    const int16_t *taps[EL_DW_MAX_TAPS];
    for (int64_t ox = 0; ox < OW; ox++, out += OC) {
      size_t k = 0;
      for (int64_t ky = 0; ky < g[0]; ky++) {
        const int64_t iy = oy * g[2] - g[6] + ky * g[4];
        for (int64_t kx = 0; kx < g[1]; kx++, k++) {
          const int64_t ix = ox * g[3] - g[7] + kx * g[5];
          taps[k] = iy >= 0 && iy < H && ix >= 0 && ix < W ? image + (iy * W + ix) * C : NULL;
        }
      }
      el_hkernels.hdwconv(k, (size_t)OC, taps, t->w, (size_t)OC, t->epilogue, t->epilogue + OC, in_scale,
                          (size_t)g[11], out, lo, hi);
    }
    return;
  }
  uint32_t acc[HDW_CHANNELS]; /* unsigned: wraps like the reference's int32 */
  for (int64_t ox = 0; ox < OW; ox++, out += OC)
    for (int64_t c0 = 0; c0 < OC; c0 += HDW_CHANNELS) {
      const int64_t width = OC - c0 < HDW_CHANNELS ? OC - c0 : HDW_CHANNELS;
      memset(acc, 0, sizeof(acc));
      for (int64_t ky = 0; ky < g[0]; ky++) {
        const int64_t iy = oy * g[2] - g[6] + ky * g[4];
        if (iy < 0 || iy >= H) continue;
        for (int64_t kx = 0; kx < g[1]; kx++) {
          const int64_t ix = ox * g[3] - g[7] + kx * g[5];
          if (ix < 0 || ix >= W) continue;
          const int16_t *src = image + (iy * W + ix) * C, *w = t->w + (ky * g[1] + kx) * OC + c0;
          for (int64_t c = 0; c < width; c++) acc[c] += (uint32_t)((int32_t)src[(c0 + c) / m] * w[c]);
        }
      }
      for (int64_t c = 0; c < width; c++)
        out[c0 + c] = el_hdw_out((int32_t)acc[c], t->epilogue[c0 + c], t->epilogue[OC + c0 + c], in_scale,
                                 c0 + c < g[11], lo, hi);
    }
}

void el_run_hdwconv(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  const hdwconv_task t = {.x = x, .y = y, .g = n->p, .w = (const int16_t *)(const void *)el_in(p, n, 1)->data,
                          .epilogue = el_in(p, n, 2)->data, .values = (const int16_t *)(const void *)el_in(p, n, 3)->data,
                          .scales = el_in(p, n, 4)->data};
  el_parallel_work(p, hdw_quantize, &t, (size_t)x->dims[0], (double)x->count);
  el_parallel_work(p, hdwconv_row, &t, (size_t)(y->dims[0] * y->dims[1]),
                   (double)y->count * (double)(n->p[0] * n->p[1]));
}
