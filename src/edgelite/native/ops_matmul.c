/* BATCH_MATMUL glue (float32): every output matrix y[b] = lhs[b] x rhs[b] (batch dims broadcast) runs
 * on the gemm microkernel, rows in blocks of EL_IM2COL_ROWS.
 *
 * Params: [mode, adj_x | adj_y << 1, M, K, N, batch dims[4], lhs batch strides[4], rhs batch
 * strides[4]] (strides count whole matrices; 0 broadcasts). Mode 0: input 1 holds the constant rhs
 * packed at prepare (per rhs matrix, gemm panels with a zero bias; adj_y already applied); mode 1:
 * input 1 is the rhs tensor ([K, N] matrices, [N, K] with adj_y) and each tile packs it into its
 * thread's scratch. With adj_x ([K, M] lhs matrices) a tile transposes its rows into scratch first.
 * Scratch per thread: packed rhs (mode 1), then EL_IM2COL_ROWS x K (adj_x). Tiles are (output matrix,
 * row block); each output element is one gemm call, whatever the thread count. */
#include <math.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"

typedef struct {
  int64_t mode, adj_x, adj_y, M, K, N, panels, packed, per_thread, x_matrices, w_matrices;
  const int64_t *dims, *sx, *sw;
} matmul_shape;

static matmul_shape shape_of(const el_program *p, const el_node *n) {
  matmul_shape s = {.mode = n->p[0], .adj_x = n->p[1] & 1, .adj_y = (n->p[1] >> 1) & 1, .M = n->p[2],
                    .K = n->p[3], .N = n->p[4], .dims = n->p + 5, .sx = n->p + 9, .sw = n->p + 13};
  s.panels = (s.N + EL_GEMM_NR - 1) / EL_GEMM_NR;
  s.packed = s.panels * EL_GEMM_NR * (s.K + 1);
  s.per_thread = (s.mode == 1 ? s.packed : 0) + (s.adj_x ? EL_IM2COL_ROWS * s.K : 0);
  (void)p;
  return s;
}

static int64_t reach(const int64_t *dims, const int64_t *strides) {
  int64_t last = 0;
  for (int d = 0; d < 4; d++) last += (dims[d] - 1) * strides[d];
  return last;
}

int el_validate_batch_matmul(const el_program *p, const el_node *n, char *err, size_t len) {
  const matmul_shape s = shape_of(p, n);
  const el_tensor *x = el_in(p, n, 0), *w = el_in(p, n, 1), *y = el_out(p, n);
  if ((s.mode != 0 && s.mode != 1) || n->p[1] < 0 || n->p[1] > 3 || (s.mode == 0 && s.adj_y))
    return el_fail(err, len, n, "bad mode or flags");
  if (!EL_RANGE(s.M, 1, 1 << 24) || !EL_RANGE(s.K, 1, 1 << 24) || !EL_RANGE(s.N, 1, 1 << 24))
    return el_fail(err, len, n, "bad M, K or N");
  int64_t batches = 1;
  for (int d = 0; d < 4; d++) {
    if (!EL_RANGE(s.dims[d], 1, 1 << 24) || !EL_RANGE(s.sx[d], 0, 1 << 24) || !EL_RANGE(s.sw[d], 0, 1 << 24))
      return el_fail(err, len, n, "bad batch dims or strides");
    batches *= s.dims[d];
  }
  if (batches > EL_MAX_ELEMENTS / (s.M * s.N) || batches * s.M * s.N != y->count)
    return el_fail(err, len, n, "batch x M x N differs from the output");
  const int64_t w_size = s.mode == 0 ? s.packed : s.K * s.N;
  if (x->count % (s.M * s.K) || w->count % w_size) return el_fail(err, len, n, "operand sizes are not whole matrices");
  if (reach(s.dims, s.sx) >= x->count / (s.M * s.K) || reach(s.dims, s.sw) >= w->count / w_size)
    return el_fail(err, len, n, "batch strides reach outside an operand");
  if (s.per_thread == 0) return n->n_inputs == 2 ? 0 : el_fail(err, len, n, "unexpected scratch");
  if (n->n_inputs != 3) return el_fail(err, len, n, "scratch missing");
  const el_tensor *scratch = el_in(p, n, 2);
  if (!scratch->writable || scratch->count / s.per_thread < (int64_t)p->n_threads)
    return el_fail(err, len, n, "scratch too small or read-only");
  return 0;
}

typedef struct {
  matmul_shape s;
  const float *x, *w;
  float *y, *scratch;
  int64_t row_blocks;
  int64_t *packed_index; /* per thread: the rhs matrix its scratch holds packed (mode 1), or -1 */
} matmul_task;

/* Panels of rhs matrix b ([K, N], or [N, K] transposed) with a zero bias: the gemm's layout. */
static void pack_rhs(const matmul_shape *s, const float *b, float *packed) {
  memset(packed, 0, (size_t)s->packed * sizeof(float));
  for (int64_t k = 0; k < s->K; k++)
    for (int64_t j = 0; j < s->N; j++) {
      const float v = s->adj_y ? b[j * s->K + k] : b[k * s->N + j];
      packed[(j / EL_GEMM_NR) * EL_GEMM_NR * (s->K + 1) + (k + 1) * EL_GEMM_NR + j % EL_GEMM_NR] = v;
    }
}

static void matmul_tile(const void *ctx, size_t tile, size_t thread) {
  const matmul_task *t = ctx;
  const matmul_shape *s = &t->s;
  const int64_t batch = (int64_t)tile / t->row_blocks, m0 = (int64_t)tile % t->row_blocks * EL_IM2COL_ROWS;
  const int64_t rows = s->M - m0 < EL_IM2COL_ROWS ? s->M - m0 : EL_IM2COL_ROWS;
  int64_t rest = batch, xi = 0, wi = 0;
  for (int d = 3; d >= 0; d--) {
    const int64_t i = rest % s->dims[d];
    rest /= s->dims[d];
    xi += i * s->sx[d];
    wi += i * s->sw[d];
  }
  float *scratch = t->scratch + (size_t)thread * (size_t)s->per_thread;
  const float *w = t->w + wi * (s->mode == 0 ? s->packed : s->K * s->N);
  if (s->mode == 1) {
    if (t->packed_index[thread] != wi) pack_rhs(s, w, scratch); /* consecutive row blocks reuse it */
    t->packed_index[thread] = wi;
    w = scratch;
    scratch += s->packed;
  }
  const float *x = t->x + xi * s->M * s->K, *a = x + m0 * s->K;
  if (s->adj_x) { /* x is [K, M]: rows m0.. of its transpose */
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < s->K; k++) scratch[r * s->K + k] = x[k * s->M + m0 + r];
    a = scratch;
  }
  float *c = t->y + (batch * s->M + m0) * s->N;
  const size_t mr = el_kernels.gemm_mr;
  for (int64_t m = 0; m < rows; m += (int64_t)mr) {
    const size_t count = (size_t)(rows - m) < mr ? (size_t)(rows - m) : mr;
    el_kernels.gemm(count, (size_t)s->N, (size_t)s->K, a + m * s->K, (size_t)s->K, w, c + m * s->N, (size_t)s->N,
                    -INFINITY, INFINITY);
  }
}

void el_run_batch_matmul(const el_program *p, const el_node *n) {
  int64_t packed_index[EL_MAX_THREADS];
  for (size_t i = 0; i < EL_MAX_THREADS; i++) packed_index[i] = -1;
  matmul_task t = {shape_of(p, n), el_in(p, n, 0)->data, el_in(p, n, 1)->data, el_out(p, n)->data, NULL, 0,
                   packed_index};
  t.scratch = n->n_inputs == 3 ? el_in(p, n, 2)->data : NULL;
  t.row_blocks = (t.s.M + EL_IM2COL_ROWS - 1) / EL_IM2COL_ROWS;
  const int64_t batches = el_out(p, n)->count / (t.s.M * t.s.N);
  el_parallel_work(p, matmul_tile, &t, (size_t)(batches * t.row_blocks),
                   (double)el_out(p, n)->count * (double)t.s.K);
}
