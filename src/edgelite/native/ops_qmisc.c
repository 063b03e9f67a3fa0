/* int8 elementwise, pooling, reduction and softmax glue, mirroring edgelite's reference kernels
 * (ops/quantize.py, _lut.py, _qbinary.py, _pool.py, mean.py, softmax.py) exactly.
 *
 * QUANTIZE (float32 -> int8, one scale) params: [1/scale (f32 bits), scale (f32 bits), zero point,
 *   lanes]: the first n - n % lanes values round x * (1/scale) half to even, the rest x / scale in
 *   double half away from zero (LiteRT's vector loop and scalar tail).
 * QLUT params: [lanes, output dtype (int8 or float32)]; input 1: tables [2][256] indexed by x + 128,
 *   the first for the first n - n % lanes values (all of them when lanes is 0), the second after.
 * QBINARY params: [op (0 ADD, 1 MUL, 2 SUB, 3 MAXIMUM, 4 MINIMUM: raw compare), lanes, zp a, zp b, output zp, lo, hi, m a, shift a,
 *   m b, shift b, m out, shift out, left shift, row, vector path, dims[4], strides a[4], strides
 *   b[4]] (broadcast dims and element strides, collapsed): output element i takes LiteRT's vector
 *   path (1 elementwise rows, 2 scalar-broadcast rows) when i % row < row - row % lanes, its
 *   scalar loop otherwise (lanes 0: always), as the reference's _qneon.lane_paths.
 * QMAXPOOL/QAVGPOOL params: [kh, kw, stride h, w, pad top, pad left, lo, hi].
 * QMEAN_HW params: [variant (0: height-width kernel, 1: requantizing), multiplier, shift, bias or
 *   output zp, input zp x count, ruy channels]. QSOFTMAX params: [output scale (f32 bits), output
 *   zp]; input 1: the 256-entry float exp table. BYTECOPY: RESHAPE-likes of non-float tensors. */
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"
#include "include/el_quant.h"

static int same_count(const el_node *n, const el_tensor *x, const el_tensor *y, int xt, int yt, char *err,
                      size_t len) {
  if (x->dtype != xt || y->dtype != yt || x->count != y->count) return el_fail(err, len, n, "operand types or sizes differ");
  return 0;
}

static int lanes_ok(const el_node *n, int64_t lanes, char *err, size_t len) {
  return EL_RANGE(lanes, 0, 64) ? 0 : el_fail(err, len, n, "bad lane count");
}

#define QB_RANK 4
#define QB_DIMS 16

static size_t vector_end(int64_t count, int64_t lanes) { return (size_t)(lanes ? count - count % lanes : count); }

int el_validate_quantize(const el_program *p, const el_node *n, char *err, size_t len) {
  if (!EL_RANGE(n->p[2], -128, 127) || lanes_ok(n, n->p[3], err, len)) return el_fail(err, len, n, "bad params");
  return same_count(n, el_in(p, n, 0), el_out(p, n), EL_F32, EL_I8, err, len);
}

void el_run_quantize(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const float inv = el_param_f32(n->p[0]), scale = el_param_f32(n->p[1]);
  const int32_t zp = (int32_t)n->p[2];
  const size_t count = (size_t)x->count, vec = vector_end(x->count, n->p[3]);
  int8_t *y = el_i8(el_out(p, n));
  el_qkernels.qvcvt(vec, x->data, y, inv, scale, zp, 1);
  el_qkernels.qvcvt(count - vec, x->data + vec, y + vec, inv, scale, zp, 0);
}

int el_validate_qlut(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *table = el_in(p, n, 1);
  const int64_t out = n->p[1];
  if (lanes_ok(n, n->p[0], err, len)) return -1;
  if ((out != EL_I8 && out != EL_F32) || table->dtype != out || table->count != 512)
    return el_fail(err, len, n, "tables must be 2 x 256 entries of the output type");
  return same_count(n, el_in(p, n, 0), el_out(p, n), EL_I8, (int)out, err, len);
}

void el_run_qlut(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const int8_t *in = el_i8(x);
  const size_t count = (size_t)x->count, vec = vector_end(x->count, n->p[0]);
  if (n->p[1] == EL_I8) {
    const int8_t *table = el_i8(el_in(p, n, 1));
    int8_t *y = el_i8(el_out(p, n));
    for (size_t i = 0; i < count; i++) y[i] = table[(i < vec ? 0 : 256) + in[i] + 128];
  } else {
    const float *table = el_in(p, n, 1)->data;
    float *y = el_out(p, n)->data;
    for (size_t i = 0; i < count; i++) y[i] = table[(i < vec ? 0 : 256) + in[i] + 128];
  }
}

int el_validate_qbinary(const el_program *p, const el_node *n, char *err, size_t len) {
  const int64_t *q = n->p;
  if (!EL_RANGE(q[0], 0, 4) || lanes_ok(n, q[1], err, len) || !EL_RANGE(q[2], -128, 127) ||
      !EL_RANGE(q[3], -128, 127) || !EL_RANGE(q[4], INT16_MIN, INT16_MAX) || !EL_RANGE(q[5], -128, 127) ||
      !EL_RANGE(q[6], q[5], 127) || !EL_RANGE(q[13], 0, 31) || !EL_RANGE(q[15], 1, 2))
    return el_fail(err, len, n, "bad params");
  for (int i = 7; i < 13; i += 2) /* non-negative multipliers: the doubling high multiply never saturates */
    if (!EL_RANGE(q[i], 0, INT32_MAX) || !EL_RANGE(q[i + 1], -31, 31)) return el_fail(err, len, n, "bad multiplier");
  if ((q[0] == 0 || q[0] == 2) && (q[8] > 0 || q[10] > 0 || q[12] > 0)) return el_fail(err, len, n, "ADD multipliers must be below one");
  const el_tensor *a = el_in(p, n, 0), *b = el_in(p, n, 1), *y = el_out(p, n);
  if (a->dtype != EL_I8 || b->dtype != EL_I8 || y->dtype != EL_I8) return el_fail(err, len, n, "needs int8 operands");
  int64_t total = 1, reach_a = 0, reach_b = 0;
  for (int d = 0; d < QB_RANK; d++) {
    const int64_t dim = q[QB_DIMS + d], sa = q[QB_DIMS + QB_RANK + d], sb = q[QB_DIMS + 2 * QB_RANK + d];
    if (!EL_RANGE(dim, 1, EL_MAX_ELEMENTS) || !EL_RANGE(sa, 0, a->count) || !EL_RANGE(sb, 0, b->count))
      return el_fail(err, len, n, "bad broadcast dims or strides");
    if ((sa && dim - 1 > a->count / sa) || (sb && dim - 1 > b->count / sb) || dim > y->count / total)
      return el_fail(err, len, n, "broadcast dims or strides reach outside the operands");
    total *= dim;
    reach_a += (dim - 1) * sa;
    reach_b += (dim - 1) * sb;
  }
  if (total != y->count || reach_a >= a->count || reach_b >= b->count)
    return el_fail(err, len, n, "broadcast dims or strides do not fit the operands");
  if (!EL_RANGE(q[14], 1, total) || total % q[14]) return el_fail(err, len, n, "bad row length");
  return 0;
}

/* One output element on LiteRT's path `path` (0 scalar loop; 1 elementwise vector rows; 2
 * scalar-broadcast vector rows, where int8 ADD rescales each input without combining shifts). */
static inline int8_t qbinary_element(const int64_t *p, int32_t a, int32_t b, int path) {
  if (p[0] == 3) return (int8_t)(a > b ? a : b); /* MAXIMUM, MINIMUM: raw values, as the reference */
  if (p[0] == 4) return (int8_t)(a < b ? a : b);
  if (p[0] == 2 || (p[0] == 0 && path == 2)) {
    const int32_t va = a - (int32_t)p[2], vb = b - (int32_t)p[3], zp = (int32_t)p[4], left = (int32_t)p[13];
    if (p[0] == 2) { /* SUB: TFLite's reference loop */
      const int32_t raw = el_wrap32((int64_t)el_mbqm(el_shl32(va, left), (int32_t)p[7], (int)p[8]) -
                                    el_mbqm(el_shl32(vb, left), (int32_t)p[9], (int)p[10]));
      return (int8_t)el_clamp32((int64_t)el_mbqm(raw, (int32_t)p[11], (int)p[12]) + zp, p[5], p[6]);
    }
    const int32_t raw = el_wrap32((int64_t)el_vshl(el_srdhm(el_shl32(va, left), (int32_t)p[7]), (int)p[8]) +
                                  el_vshl(el_srdhm(el_shl32(vb, left), (int32_t)p[9]), (int)p[10]));
    const int32_t scaled = el_rdbp(el_srdhm(raw, (int32_t)p[11]), -(int)p[12]);
    return (int8_t)el_clamp32(el_clamp32(el_wrap16(el_wrap16(scaled) + zp), -128, 127), p[5], p[6]);
  }
  return el_qbinary_one(p, a, b, path != 0);
}

void el_run_qbinary(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  const int64_t *q = n->p, *dims = q + QB_DIMS, *sa = dims + QB_RANK, *sb = sa + QB_RANK;
  const int8_t *a = el_i8(el_in(p, n, 0)), *b = el_i8(el_in(p, n, 1));
  int8_t *out = el_i8(y);
  const size_t row = (size_t)q[14], lanes = (size_t)q[1], vec = lanes ? row - row % lanes : 0;
  const int path = (int)q[15];
  if (sa[QB_RANK - 1] == 1 && sb[QB_RANK - 1] == 1 && (size_t)dims[QB_RANK - 1] == (size_t)y->count &&
      row == (size_t)y->count && path == 1 && q[0] <= 1) { /* same shapes: the vector kernel, then the scalar tail */
    el_qkernels.qvbinary(vec, a, b, out, q, 1);
    el_qkernels.qvbinary((size_t)y->count - vec, a + vec, b + vec, out + vec, q, 0);
    return;
  }
  const int whole_rows = sa[QB_RANK - 1] == 1 && sb[QB_RANK - 1] == 1 && (size_t)dims[QB_RANK - 1] == row &&
                         path == 1 && q[0] <= 1;
  size_t i = 0;
  for (int64_t i0 = 0; i0 < dims[0]; i0++)
    for (int64_t i1 = 0; i1 < dims[1]; i1++)
      for (int64_t i2 = 0; i2 < dims[2]; i2++) {
        const int8_t *ra = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2], *rb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
        if (whole_rows) { /* a contiguous run that is one of LiteRT's rows: the vector kernel */
          el_qkernels.qvbinary(vec, ra, rb, out + i, q, 1);
          el_qkernels.qvbinary(row - vec, ra + vec, rb + vec, out + i + vec, q, 0);
          i += row;
          continue;
        }
        for (int64_t i3 = 0; i3 < dims[3]; i3++, i++)
          out[i] = qbinary_element(q, ra[i3 * sa[3]], rb[i3 * sb[3]], i % row < vec ? path : 0);
      }
}

static int validate_qpool(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  for (int i = 0; i < 4; i++)
    if (!EL_RANGE(n->p[i], 1, 1 << 16)) return el_fail(err, len, n, "bad window");
  if (n->p[0] * n->p[1] > (1 << 16)) return el_fail(err, len, n, "window larger than 65536");
  if (!EL_RANGE(n->p[4], 0, 1 << 20) || !EL_RANGE(n->p[5], 0, 1 << 20) || !EL_RANGE(n->p[6], -128, 127) ||
      !EL_RANGE(n->p[7], n->p[6], 127))
    return el_fail(err, len, n, "bad padding or clamp");
  if (x->dtype != EL_I8 || y->dtype != EL_I8 || el_check_nhwc_pair(n, x, y, err, len) || x->dims[3] != y->dims[3])
    return el_fail(err, len, n, "input and output must be int8 NHWC with the same batch and channels");
  return 0;
}

int el_validate_qmaxpool(const el_program *p, const el_node *n, char *err, size_t len) { return validate_qpool(p, n, err, len); }
int el_validate_qavgpool(const el_program *p, const el_node *n, char *err, size_t len) { return validate_qpool(p, n, err, len); }

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  int op;
} qpool_task;

#define QPOOL_CHANNELS 512

/* One output row (tile = batch * OH + oy): each pixel's window taps inside the image, in chunks
 * of EL_QPOOL_TAPS, over blocks of QPOOL_CHANNELS channels. */
static void qpool_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const qpool_task *t = ctx;
  const int64_t *g = t->g, H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OH = t->y->dims[1];
  const int64_t b = (int64_t)tile / OH, oy = (int64_t)tile % OH, OW = t->y->dims[2];
  const int64_t y0 = oy * g[2] - g[4], ys = y0 < 0 ? 0 : y0, ye = y0 + g[0] < H ? y0 + g[0] : H;
  const int8_t *image = el_i8(t->x) + b * H * W * C;
  int8_t *out = el_i8(t->y) + (b * OH + oy) * OW * C;
  const int8_t *taps[EL_QPOOL_TAPS];
  int32_t acc[QPOOL_CHANNELS];
  for (int64_t ox = 0; ox < OW; ox++, out += C) {
    const int64_t x0 = ox * g[3] - g[5], xs = x0 < 0 ? 0 : x0, xe = x0 + g[1] < W ? x0 + g[1] : W;
    const int64_t count = (ye > ys ? ye - ys : 0) * (xe > xs ? xe - xs : 0);
    for (int64_t c0 = 0; c0 < C; c0 += QPOOL_CHANNELS) {
      const size_t width = (size_t)(C - c0 < QPOOL_CHANNELS ? C - c0 : QPOOL_CHANNELS);
      size_t used = 0;
      int first = 1;
      for (int64_t iy = ys; iy < ye; iy++)
        for (int64_t ix = xs; ix < xe; ix++) {
          taps[used++] = image + (iy * W + ix) * C + c0;
          const int last = iy == ye - 1 && ix == xe - 1;
          if (used == EL_QPOOL_TAPS || last) {
            el_qkernels.qpool(t->op, used, width, taps, acc, out + c0, first, last, (int32_t)count,
                              (int32_t)g[6], (int32_t)g[7]);
            used = 0;
            first = 0;
          }
        }
      if (count == 0) /* an empty window: the padding's value (MAX) or 0, clamped */
        el_qkernels.qpool(t->op, 0, width, taps, acc, out + c0, 1, 1, 1, (int32_t)g[6], (int32_t)g[7]);
    }
  }
}

static void run_qpool(const el_program *p, const el_node *n, int op) {
  const qpool_task t = {el_in(p, n, 0), el_out(p, n), n->p, op};
  el_parallel(p, qpool_row, &t, (size_t)(t.y->dims[0] * t.y->dims[1]));
}

void el_run_qmaxpool(const el_program *p, const el_node *n) { run_qpool(p, n, 0); }
void el_run_qavgpool(const el_program *p, const el_node *n) { run_qpool(p, n, 1); }

int el_validate_qmean_hw(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  if (x->dtype != EL_I8 || y->dtype != EL_I8 || x->rank != 4 || y->count != x->dims[0] * x->dims[3] ||
      x->dims[1] * x->dims[2] == 0 || x->dims[1] * x->dims[2] > (1 << 23))
    return el_fail(err, len, n, "needs int8 NHWC input, N x C output and a window of 1 to 2^23 pixels");
  if (!EL_RANGE(n->p[0], 0, 1) || !EL_RANGE(n->p[1], INT32_MIN, INT32_MAX) || !EL_RANGE(n->p[2], -31, 31) ||
      !EL_RANGE(n->p[3], INT32_MIN, INT32_MAX) || !EL_RANGE(n->p[4], -((int64_t)1 << 50), (int64_t)1 << 50) ||
      !EL_RANGE(n->p[5], 0, x->dims[3]))
    return el_fail(err, len, n, "bad params");
  return 0;
}

/* Sums channel-contiguous (int32 per channel: validation bounds H x W x 128 well inside it),
 * in blocks of QMEAN_BLOCK channels, then one requantization per channel. */
#define QMEAN_BLOCK 512

void el_run_qmean_hw(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const int64_t HW = x->dims[1] * x->dims[2], C = x->dims[3];
  const int32_t m = (int32_t)n->p[1];
  const int shift = (int)n->p[2];
  int8_t *y = el_i8(el_out(p, n));
  int32_t sums[QMEAN_BLOCK];
  for (int64_t b = 0; b < x->dims[0]; b++, y += C) {
    const int8_t *v = el_i8(x) + b * HW * C;
    for (int64_t c0 = 0; c0 < C; c0 += QMEAN_BLOCK) {
      const int64_t width = C - c0 < QMEAN_BLOCK ? C - c0 : QMEAN_BLOCK;
      for (int64_t c = 0; c < width; c++) sums[c] = 0;
      for (int64_t i = 0; i < HW; i++) {
        const int8_t *row = v + i * C + c0;
        for (int64_t c = 0; c < width; c++) sums[c] += row[c];
      }
      for (int64_t c = 0; c < width; c++) {
        int32_t scaled;
        if (n->p[0] == 0)
          scaled = c0 + c < n->p[5] ? el_mbqm_ruy(sums[c], m, shift) : el_mbqm(sums[c], m, shift);
        else
          scaled = el_mbqm(el_wrap32((int64_t)sums[c] - n->p[4]), m, shift);
        y[c0 + c] = (int8_t)el_clamp32((int64_t)scaled + n->p[3], -128, 127);
      }
    }
  }
}

int el_validate_qsoftmax(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *table = el_in(p, n, 1);
  if (table->dtype != EL_F32 || table->count != 256 || !EL_RANGE(n->p[1], -128, 127))
    return el_fail(err, len, n, "needs a 256-entry float table and an int8 zero point");
  if (el_in(p, n, 0)->rank < 1) return el_fail(err, len, n, "needs a last axis");
  return same_count(n, el_in(p, n, 0), el_out(p, n), EL_I8, EL_I8, err, len);
}

void el_run_qsoftmax(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0);
  const float *table = el_in(p, n, 1)->data, out_scale = el_param_f32(n->p[0]);
  const int64_t inner = x->dims[x->rank - 1];
  if (inner == 0) return;
  int8_t *y = el_i8(el_out(p, n));
  for (int64_t r = 0; r < x->count / inner; r++) {
    const int8_t *row = el_i8(x) + r * inner;
    int8_t *out = y + r * inner;
    int32_t max = row[0];
    for (int64_t i = 1; i < inner; i++) max = row[i] > max ? row[i] : max;
    float total = 0.0f;
    for (int64_t i = 0; i < inner; i++) total += table[255 - (max - row[i])];
    const float inv = 1.0f / (total * out_scale);
    for (int64_t i = 0; i < inner; i++) {
      const float rounded = roundf(table[255 - (max - row[i])] * inv);
      const int32_t v = (double)rounded > -2147483649.0 && (double)rounded < 2147483648.0 ? (int32_t)rounded : INT32_MIN;
      out[i] = (int8_t)el_clamp32(el_wrap32((int64_t)v + n->p[1]), -128, 127);
    }
  }
}

int el_validate_bytecopy(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  return same_count(n, x, y, x->dtype, x->dtype, err, len);
}

void el_run_bytecopy(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  if (x->data != y->data) memmove(y->data, x->data, (size_t)(x->count * el_dtype_size(x->dtype)));
}
