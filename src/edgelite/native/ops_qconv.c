/* QGEMM (int8 CONV_2D, FULLY_CONNECTED) and QDWCONV (int8 DEPTHWISE_CONV_2D) glue: validation of
 * shapes, params and packed channel groups (el_qkernels.h), and tiling over the pool.
 *
 * QGEMM params: [mode (0 direct: rows of K input values; 1 im2col), kh, kw, stride h, w, dilation
 *   h, w, pad top, pad left, K, N, input zero point, output zero point, lo, hi, format (0: int16
 *   pairs for qgemm, 1: int8 quads for qgemmc4)]. Inputs: x (int8), packed groups (int8 bytes),
 *   scratch (n_threads slices, see slice_bytes). Each tile writes its rows to its slice, then runs
 *   the format's kernel on them: pairs take x minus the zero point (0 in the padding) as int16 rows
 *   of Kp (K rounded up to even) values, quads take x + 128 (x ^ 0x80; the padding the zero point
 *   + 128) as uint8 rows of Kp (K rounded up to a multiple of 4).
 * QDWCONV params: [kh, kw, stride h, w, dilation h, w, pad top, pad left, output zero point, lo,
 *   hi, ruy channels, format (0: int16 tap pairs for qdwconv, 1: int8 tap quads for qdwconvc4)].
 *   Inputs: x (int8), packed groups (bias already minus zp * sum of weights; quads: minus (zp +
 *   128) * sum), pad row (>= C int8 copies of the input zero point, read-only). */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"
#include "include/el_quant.h"

el_qukernels el_qkernels;

int el_op_mixed_dtypes(int64_t op) {
  switch (op) {
    case EL_OP_QGEMM: case EL_OP_QDWCONV: case EL_OP_QUANTIZE: case EL_OP_QLUT: case EL_OP_QBINARY:
    case EL_OP_QMAXPOOL: case EL_OP_QAVGPOOL: case EL_OP_QMEAN_HW: case EL_OP_QSOFTMAX: case EL_OP_BYTECOPY:
    case EL_OP_HGEMM: case EL_OP_QCONCAT: case EL_OP_QGATHER: case EL_OP_HDWCONV: /* ops_hybrid.c, ops_qmove.c */
      return 1;
    case EL_OP_SPMM: case EL_OP_QSPMM: /* int32 sparse index (ops_sparse.c checks every operand) */
      return 1;
    default:
      return 0;
  }
}

/* Every group's header agrees with its multipliers and shifts (el_qkernels.h). */
static int check_groups(const el_node *n, const el_tensor *w, size_t groups, size_t group_bytes, char *err,
                        size_t len) {
  if (w->dtype != EL_I8 || (uint64_t)w->count != groups * group_bytes || ((uintptr_t)w->data) % 16)
    return el_fail(err, len, n, "packed weights have the wrong size, type or alignment");
  for (size_t g = 0; g < groups; g++) {
    const char *group = (const char *)w->data + g * group_bytes;
    for (size_t c = 0; c < EL_QGROUP; c++) {
      const int32_t shift = el_load_i32(group, EL_QHDR_SHIFT + 4 * c);
      if (shift < -31 || shift > 31) return el_fail(err, len, n, "group %zu: shift %d out of range", g, shift);
      const int64_t right = shift < 0 ? -shift : 0;
      const uint64_t round = ((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63);
      const uint64_t want[3] = {round, (uint64_t)(31 + right), (uint64_t)1 << (32 - right)};
      const size_t lane = (c % 8) / 2 + (c % 2) * 4, half = c / 8; /* even channels, then odd */
      for (int k = 0; k < 3; k++) {
        uint64_t got;
        memcpy(&got, group + EL_QHDR_ROUND + 128 * k + 64 * half + 8 * lane, sizeof(got));
        if (got != want[k]) return el_fail(err, len, n, "group %zu: header word %d of channel %zu", g, k, c);
      }
      if (el_load_i32(group, EL_QHDR_LEFT + 4 * c) != (shift > 0 ? shift : 0))
        return el_fail(err, len, n, "group %zu: left shift of channel %zu", g, c);
    }
  }
  return 0;
}

static size_t slice_bytes(int quads, size_t kp);

/* K padded to the format's step and the bytes of one packed group. */
static size_t padded_k(int quads, size_t K) { return quads ? (K + 3) / 4 * 4 : K + (K & 1); }
static size_t gemm_group_bytes(int quads, size_t kp) { return EL_QGROUP_HEADER + kp * (quads ? 16 : 32); }

static int check_out(const el_node *n, const int64_t *q, char *err, size_t len) {
  if (!EL_RANGE(q[0], INT32_MIN, INT32_MAX) || !EL_RANGE(q[1], -128, 127) || !EL_RANGE(q[2], q[1], 127))
    return el_fail(err, len, n, "bad output zero point or clamp");
  return 0;
}

int el_validate_qgemm(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *s = el_in(p, n, 2), *y = el_out(p, n);
  const int64_t mode = n->p[0], K = n->p[9], N = n->p[10];
  if (x->dtype != EL_I8 || y->dtype != EL_I8 || !s->writable || ((uintptr_t)s->data) % 2)
    return el_fail(err, len, n, "needs int8 input and output and a writable scratch");
  if (!EL_RANGE(K, 1, 1 << 24) || !EL_RANGE(N, 1, 1 << 24) || !EL_RANGE(n->p[11], -128, 127))
    return el_fail(err, len, n, "bad K, N or input zero point");
  if (check_out(n, n->p + 12, err, len)) return -1;
  if (!EL_RANGE(n->p[15], 0, 1)) return el_fail(err, len, n, "bad weight format");
  const int quads = (int)n->p[15];
  const size_t kp = padded_k(quads, (size_t)K);
  if (check_groups(n, w, (size_t)((N + EL_QGROUP - 1) / EL_QGROUP), gemm_group_bytes(quads, kp), err, len))
    return -1;
  if (el_dtype_size(s->dtype) * s->count / (int64_t)slice_bytes(quads, kp) < (int64_t)p->n_threads)
    return el_fail(err, len, n, "scratch too small");
  if (y->count % N) return el_fail(err, len, n, "output size is not a multiple of N");
  if (mode == 0) return y->count / N > x->count / K ? el_fail(err, len, n, "input too small") : 0;
  if (mode != 1) return el_fail(err, len, n, "bad mode");
  if (el_check_window(n, n->p + 1, err, len) || el_check_nhwc_pair(n, x, y, err, len)) return -1;
  if (y->dims[3] != N || K != n->p[1] * n->p[2] * x->dims[3]) return el_fail(err, len, n, "K or N differ from the shapes");
  return 0;
}

typedef struct {
  const el_tensor *x, *y;
  const char *w;
  char *scratch;
  const int64_t *g; /* window: kh, kw, sh, sw, dh, dw, pad top, pad left */
  size_t K, kp, N, groups, group_bytes, rows, row_block, blocks, group_block, splits, mode;
  int quads;
  int16_t zero_point;
  el_qout q;
} qgemm_task;

/* A thread's scratch slice: pairs, the int16 tile (EL_IM2COL_ROWS x kp) and the int8 rows it is
 * converted from; quads, the uint8 tile only (its rows are staged in place); plus slack for the
 * 16-byte copies of short runs. native_int8.py agrees. */
static size_t slice_bytes(int quads, size_t kp) { return (EL_IM2COL_ROWS * kp * (quads ? 1 : 3) + 32 + 31) / 32 * 32; }

/* n bytes x ^ 0x80 (int8 -> uint8 + 128), 64 then 8 at a time; in place when dst == src. GCC's
 * generic vectors: SSE2 / NEON registers at the baseline, no per-ISA kernel needed. */
typedef uint8_t el_u8x16 __attribute__((vector_size(16)));

static void flip_signs(uint8_t *dst, const int8_t *src, size_t n) {
  const uint64_t signs = 0x8080808080808080ull;
  const el_u8x16 flip = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    el_u8x16 v[4];
    memcpy(v, src + i, 64);
    v[0] ^= flip, v[1] ^= flip, v[2] ^= flip, v[3] ^= flip;
    memcpy(dst + i, v, 64);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, src + i, 8);
    v ^= signs;
    memcpy(dst + i, &v, 8);
  }
  for (; i < n; i++) dst[i] = (uint8_t)(src[i] ^ (int8_t)0x80);
}

/* n bytes (xor `flip` per byte: 0, or 0x80 for the quads' uint8 rows); runs up to 16 move as one
 * 16-byte copy when the source has that many bytes left (the excess lands where the next run, the
 * row's pad bytes or the slack goes). Flipping here, not in a pass over the staged rows, keeps
 * later loads from straddling these overlapping stores (store-forwarding stalls on short runs). */
static inline void copy_run(int8_t *dst, const int8_t *src, size_t n, const int8_t *end, uint64_t flip) {
  if (n <= 16 && src + 16 <= end) {
    uint64_t v[2];
    memcpy(v, src, 16);
    v[0] ^= flip, v[1] ^= flip;
    memcpy(dst, v, 16);
  } else if (flip) {
    flip_signs((uint8_t *)dst, src, n);
  } else {
    memcpy(dst, src, n);
  }
}

static void convert_rows(const qgemm_task *t, size_t n, const int8_t *stage, void *a) {
  if (t->quads) flip_signs(a, stage, n);
  else el_qkernels.qpack(n, stage, t->zero_point, a);
}

/* Rows [m0, m0 + rows) of batch b as the format's rows (see the params above): int8 rows first
 * (the padding and the columns from K to kp hold the zero point), then one conversion to a
 * (quads: stage == a, in place). */
static void pack_rows(const qgemm_task *t, size_t b, size_t m0, size_t rows, void *a, int8_t *stage) {
  const int8_t zp = (int8_t)t->zero_point, *x = el_i8(t->x), *end = x + t->x->count;
  if (t->mode == 0 && t->kp == t->K) {
    convert_rows(t, rows * t->K, x + m0 * t->K, a);
    return;
  }
  int8_t *row = stage;
  const uint64_t flip = t->quads ? 0x8080808080808080ull : 0;
  const int8_t pad = (int8_t)(zp ^ (int8_t)(flip & 0xFF)); /* the zero point as stored in the rows */
  if (t->mode == 0) {
    for (size_t r = 0; r < rows; r++, row += t->kp) {
      memcpy(row, x + (m0 + r) * t->K, t->K);
      memset(row + t->K, zp, t->kp - t->K);
    }
    convert_rows(t, rows * t->kp, stage, a);
    return;
  }
  const int64_t *g = t->g, H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3], OW = t->y->dims[2];
  const int64_t kw = g[1], span = kw * C;
  const int8_t *image = x + (int64_t)b * H * W * C;
  int64_t oy = (int64_t)m0 / OW, ox = (int64_t)m0 % OW - 1; /* advanced before use: no division per row */
  for (size_t r = 0; r < rows; r++, row += t->kp) {
    if (++ox == OW) ox = 0, oy++;
    const int64_t x0 = ox * g[3] - g[7];
    const int whole = g[5] == 1 && x0 >= 0 && x0 + kw <= W; /* the kw taps are one contiguous run */
    int8_t *col = row;
    for (int64_t ky = 0; ky < g[0]; ky++) {
      const int64_t iy = oy * g[2] - g[6] + ky * g[4];
      if (iy < 0 || iy >= H) {
        memset(col, pad, (size_t)span);
        col += span;
      } else if (whole) {
        copy_run(col, image + (iy * W + x0) * C, (size_t)span, end, flip);
        col += span;
      } else {
        for (int64_t kx = 0; kx < kw; kx++, col += C) {
          const int64_t ix = x0 + kx * g[5];
          if (ix >= 0 && ix < W) copy_run(col, image + (iy * W + ix) * C, (size_t)C, end, flip);
          else memset(col, pad, (size_t)C);
        }
      }
    }
    for (size_t k = t->K; k < t->kp; k++) row[k] = pad; /* at most 3 bytes: no memset call */
  }
  if (!t->quads) el_qkernels.qpack(rows * t->kp, stage, zp, a); /* quads: flipped in place already */
}

static void qgemm_tile(const void *ctx, size_t tile, size_t thread) {
  const qgemm_task *t = ctx;
  const size_t split = tile % t->splits, block = tile / t->splits % t->blocks, b = tile / t->splits / t->blocks;
  const size_t g0 = split * t->group_block, g1 = g0 + t->group_block < t->groups ? g0 + t->group_block : t->groups;
  if (g0 >= g1) return;
  const size_t m0 = block * t->row_block, rows = t->rows - m0 < t->row_block ? t->rows - m0 : t->row_block;
  const size_t nc = (g1 * EL_QGROUP < t->N ? g1 * EL_QGROUP : t->N) - g0 * EL_QGROUP, mr = el_qkernels.qgemm_mr;
  char *slice = t->scratch + thread * slice_bytes(t->quads, t->kp);
  int8_t *c = el_i8(t->y) + (b * t->rows + m0) * t->N + g0 * EL_QGROUP;
  const char *w = t->w + g0 * t->group_bytes;
  if (t->quads) {
    const uint8_t *a = (const uint8_t *)slice;
    pack_rows(t, b, m0, rows, slice, (int8_t *)slice);
    const size_t mr4 = el_qkernels.qgemmc4_mr;
    /* Channel blocks whose weights stay in L1 (about 16 KB) while every row of the tile passes. */
    size_t block = (16384 / (t->kp * EL_QGROUP) + 1) * EL_QGROUP;
    if (block > nc) block = nc;
    for (size_t n0 = 0; n0 < nc; n0 += block) {
      const size_t width = nc - n0 < block ? nc - n0 : block;
      for (size_t m = 0; m < rows; m += mr4)
        el_qkernels.qgemmc4(rows - m < mr4 ? rows - m : mr4, width, t->kp, a + m * t->kp, t->kp,
                            w + n0 / EL_QGROUP * t->group_bytes, t->group_bytes, c + m * t->N + n0, t->N, &t->q);
    }
    return;
  }
  int16_t *a = (int16_t *)(void *)slice;
  pack_rows(t, b, m0, rows, a, (int8_t *)(slice + EL_IM2COL_ROWS * t->kp * 2));
  for (size_t m = 0; m < rows; m += mr)
    el_qkernels.qgemm(rows - m < mr ? rows - m : mr, nc, t->kp, a + m * t->kp, t->kp, w, t->group_bytes,
                      c + m * t->N, t->N, &t->q);
}

void el_run_qgemm(const el_program *p, const el_node *n) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  qgemm_task t = {.x = x, .y = y, .w = (const char *)el_in(p, n, 1)->data,
                  .scratch = (char *)el_in(p, n, 2)->data, .g = n->p + 1, .K = (size_t)n->p[9],
                  .N = (size_t)n->p[10], .mode = (size_t)n->p[0], .zero_point = (int16_t)n->p[11],
                  .q = {(int32_t)n->p[12], (int32_t)n->p[13], (int32_t)n->p[14]}, .quads = (int)n->p[15]};
  t.kp = padded_k(t.quads, t.K);
  t.groups = (t.N + EL_QGROUP - 1) / EL_QGROUP;
  t.group_bytes = gemm_group_bytes(t.quads, t.kp);
  const size_t batches = t.mode == 0 ? 1 : (size_t)x->dims[0];
  t.rows = t.mode == 0 ? (size_t)y->count / t.N : (size_t)(y->dims[1] * y->dims[2]);
  const size_t mr = t.quads ? el_qkernels.qgemmc4_mr : el_qkernels.qgemm_mr;
  const el_gemm_tiling tiles = el_gemm_tiles(t.rows, batches, t.groups, mr, p->n_threads);
  t.row_block = tiles.row_block, t.blocks = tiles.blocks, t.splits = tiles.splits, t.group_block = tiles.group_block;
  el_parallel(p, qgemm_tile, &t, batches * t.blocks * t.splits);
}

/* Bytes of one packed depthwise group: tap pairs (int16) or tap quads (int8), 16 channels. */
static size_t dw_group_bytes(int quads, size_t taps) {
  return EL_QGROUP_HEADER + (quads ? (taps + 3) / 4 * 64 : (taps + 1) / 2 * 64);
}

int el_validate_qdwconv(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *z = el_in(p, n, 2), *y = el_out(p, n);
  if (x->dtype != EL_I8 || y->dtype != EL_I8 || z->dtype != EL_I8) return el_fail(err, len, n, "needs int8 operands");
  if (el_check_window(n, n->p, err, len) || el_check_nhwc_pair(n, x, y, err, len) || check_out(n, n->p + 8, err, len))
    return -1;
  const int64_t C = x->dims[3], taps = n->p[0] * n->p[1];
  if (y->dims[3] != C) return el_fail(err, len, n, "channel multiplier must be 1");
  if (taps > EL_DW_MAX_TAPS) return el_fail(err, len, n, "more than %d taps", EL_DW_MAX_TAPS);
  if (z->writable || z->count < C) return el_fail(err, len, n, "pad row too small or writable");
  if (!EL_RANGE(n->p[11], 0, C)) return el_fail(err, len, n, "bad ruy channel count");
  if (!EL_RANGE(n->p[12], 0, 1)) return el_fail(err, len, n, "bad weight format");
  return check_groups(n, w, (size_t)((C + EL_QGROUP - 1) / EL_QGROUP), dw_group_bytes((int)n->p[12], (size_t)taps),
                      err, len);
}

typedef struct {
  const el_tensor *x, *y;
  const int64_t *g;
  const char *w;
  const int8_t *pad;
  size_t taps, group_bytes, ruy_channels;
  el_qdwconv_fn *kernel;
  el_qout q;
} qdwconv_task;

/* One output row (tile = batch * OH + oy), in chunks of EL_DW_CHUNK pixels: each pixel's tap
 * pointers (the pad row outside the image); inside, tap t's pointer is base[t] + ox * stride. */
static void qdwconv_row(const void *ctx, size_t tile, size_t thread) {
  (void)thread;
  const qdwconv_task *t = ctx;
  const int64_t *g = t->g, H = t->x->dims[1], W = t->x->dims[2], C = t->x->dims[3];
  const int64_t OH = t->y->dims[1], OW = t->y->dims[2], b = (int64_t)tile / OH, oy = (int64_t)tile % OH;
  const int64_t kh = g[0], kw = g[1], sw = g[3], dw = g[5], pl = g[7];
  const int8_t *image = el_i8(t->x) + b * H * W * C;
  const int8_t *row[EL_DW_MAX_TAPS]; /* per ky: the input row, or NULL above or below the image */
  int rows_inside = 1;
  for (int64_t ky = 0; ky < kh; ky++) {
    const int64_t iy = oy * g[2] - g[6] + ky * g[4];
    row[ky] = iy >= 0 && iy < H ? image + iy * W * C : NULL;
    rows_inside &= row[ky] != NULL;
  }
  /* Columns whose every tap is inside: ox * sw - pl >= 0 and ox * sw - pl + (kw - 1) * dw < W. */
  const int64_t first = (pl + sw - 1) / sw, last_x = W - 1 - (kw - 1) * dw + pl;
  const int64_t last = rows_inside && last_x >= 0 ? last_x / sw : -1;
  const int8_t *ind[EL_DW_CHUNK * EL_DW_MAX_TAPS];
  const int8_t *tap0[EL_DW_MAX_TAPS]; /* inside: tap t of column ox reads tap0[t] + (ox * sw - pl) * C */
  const int64_t taps = kh * kw;
  if (last >= first)
    for (int64_t t = 0; t < taps; t++) tap0[t] = row[t / kw] + (t % kw) * dw * C;
  for (int64_t ox0 = 0; ox0 < OW; ox0 += EL_DW_CHUNK) {
    const int64_t count = OW - ox0 < EL_DW_CHUNK ? OW - ox0 : EL_DW_CHUNK;
    const int8_t **slot = ind;
    for (int64_t ox = ox0; ox < ox0 + count; ox++) {
      const int64_t x0 = ox * sw - pl;
      if (ox >= first && ox <= last) {
        const int64_t offset = x0 * C;
        for (int64_t t = 0; t < taps; t++) *slot++ = tap0[t] + offset;
        continue;
      }
      for (int64_t ky = 0; ky < kh; ky++)
        for (int64_t kx = 0; kx < kw; kx++) {
          const int64_t ix = x0 + kx * dw;
          *slot++ = row[ky] != NULL && ix >= 0 && ix < W ? row[ky] + ix * C : t->pad;
        }
    }
    t->kernel(t->taps, (size_t)C, (size_t)count, ind, t->w, t->group_bytes,
                        el_i8(t->y) + ((b * OH + oy) * OW + ox0) * C, &t->q, t->ruy_channels);
  }
}

void el_run_qdwconv(const el_program *p, const el_node *n) {
  const el_tensor *y = el_out(p, n);
  const size_t taps = (size_t)(n->p[0] * n->p[1]);
  const int quads = (int)n->p[12];
  el_qdwconv_fn *kernel = quads ? el_qkernels.qdwconvc4
                          : taps == 9 && el_qkernels.qdwconv9 != NULL ? el_qkernels.qdwconv9 : el_qkernels.qdwconv;
  const qdwconv_task t = {.x = el_in(p, n, 0), .y = y, .g = n->p, .w = (const char *)el_in(p, n, 1)->data,
                          .pad = el_i8(el_in(p, n, 2)), .taps = taps, .group_bytes = dw_group_bytes(quads, taps),
                          .ruy_channels = (size_t)n->p[11], .kernel = kernel,
                          .q = {(int32_t)n->p[8], (int32_t)n->p[9], (int32_t)n->p[10]}};
  el_parallel(p, qdwconv_row, &t, (size_t)(y->dims[0] * y->dims[1]));
}
