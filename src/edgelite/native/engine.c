/* Program creation (copy + validation of the lowered tables) and the run loop. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "include/el_engine.h"
#include "include/el_kernels.h"

typedef struct {
  const char *name;
  int min_inputs, max_inputs;
  el_validate_fn *validate;
  el_run_fn *run;
} el_opdesc;

static const el_opdesc el_ops[EL_OP_COUNT] = {
#define EL_OP(code, name, lo, hi) {#code, lo, hi, el_validate_##name, el_run_##name},
#include "include/ops.inc"
#undef EL_OP
};

static size_t el_node_index;  /* only read while formatting a validation error */

int el_fail(char *err, size_t err_len, const el_node *n, const char *fmt, ...) {
  int used = snprintf(err, err_len, "native node %zu (%s): ", el_node_index,
                      n != NULL && n->op >= 0 && n->op < EL_OP_COUNT ? el_ops[n->op].name : "?");
  if (used < 0 || (size_t)used >= err_len) return -1;
  va_list args;
  va_start(args, fmt);
  vsnprintf(err + used, err_len - (size_t)used, fmt, args);
  va_end(args);
  return -1;
}

static int resolve_tensor(const int64_t *w, const el_buffer *buffers, size_t n_buffers, el_tensor *t,
                          size_t index, char *err, size_t err_len) {
  const int64_t buffer = w[0], offset = w[1], nbytes = w[2], dtype = w[3], rank = w[4];
  static const int64_t sizes[EL_DTYPE_COUNT] = {4, 1, 4, 2}; /* enum el_dtype */
  const int64_t size = dtype >= 0 && dtype < EL_DTYPE_COUNT ? sizes[dtype] : 0;
  const char *why = NULL;
  if (buffer < 0 || (uint64_t)buffer >= n_buffers) why = "buffer index out of range";
  else if (size == 0) why = "unknown dtype";
  else if (rank < 0 || rank > EL_MAX_RANK) why = "rank out of range";
  else if (offset < 0 || nbytes < 0 || offset % size || (uint64_t)offset > buffers[buffer].size ||
           (uint64_t)nbytes > buffers[buffer].size - (uint64_t)offset)
    why = "byte range outside its buffer or misaligned";
  else if (((uintptr_t)buffers[buffer].base) % 4) why = "buffer is not 4-byte aligned";
  if (why == NULL) {
    int64_t count = 1;
    for (int64_t d = 0; d < rank && why == NULL; d++) {
      if (w[5 + d] < 0 || w[5 + d] > EL_MAX_ELEMENTS) why = "dimension out of range";
      else if (w[5 + d] && count > EL_MAX_ELEMENTS / w[5 + d]) why = "too many elements";
      else count *= w[5 + d];
    }
    if (why == NULL && count * size != nbytes) why = "nbytes differs from the element count x size";
    t->count = count;
  }
  if (why != NULL) {
    snprintf(err, err_len, "native tensor %zu: %s", index, why);
    return -1;
  }
  t->data = (float *)(buffers[buffer].base + offset);
  t->rank = rank;
  for (int64_t d = 0; d < EL_MAX_RANK; d++) t->dims[d] = d < rank ? w[5 + d] : 1;
  t->writable = buffers[buffer].writable;
  t->dtype = (int)dtype;
  return 0;
}

static int validate_node(const el_program *p, const el_node *n, char *err, size_t err_len) {
  if (n->op < 0 || n->op >= EL_OP_COUNT) return el_fail(err, err_len, n, "unknown op %lld", (long long)n->op);
  const el_opdesc *d = &el_ops[n->op];
  if (n->n_inputs < d->min_inputs || n->n_inputs > d->max_inputs)
    return el_fail(err, err_len, n, "%lld inputs", (long long)n->n_inputs);
  for (int64_t i = 0; i < n->n_inputs; i++)
    if (n->inputs[i] < 0 || (uint64_t)n->inputs[i] >= p->n_tensors)
      return el_fail(err, err_len, n, "input %lld is tensor %lld of %zu", (long long)i,
                     (long long)n->inputs[i], p->n_tensors);
  if (n->output < 0 || (uint64_t)n->output >= p->n_tensors)
    return el_fail(err, err_len, n, "output tensor %lld of %zu", (long long)n->output, p->n_tensors);
  if (!p->tensors[n->output].writable) return el_fail(err, err_len, n, "output is in a read-only buffer");
  if (!el_op_mixed_dtypes(n->op)) {
    int all_float = p->tensors[n->output].dtype == EL_F32;
    for (int64_t i = 0; i < n->n_inputs; i++) all_float &= p->tensors[n->inputs[i]].dtype == EL_F32;
    if (!all_float) return el_fail(err, err_len, n, "operands must be float32");
  }
  return d->validate(p, n, err, err_len);
}

el_program *el_program_create(const int64_t *tensor_words, size_t n_tensors, const int64_t *node_words,
                              size_t n_nodes, const el_buffer *buffers, size_t n_buffers, size_t n_threads,
                              char *err, size_t err_len, long long *refused) {
  if (refused != NULL) *refused = -1;
  el_program *p = calloc(1, sizeof(*p));
  if (p == NULL) goto oom;
  p->n_threads = n_threads < 1 ? 1 : n_threads > EL_MAX_THREADS ? EL_MAX_THREADS : n_threads;
  p->tensors = calloc(n_tensors ? n_tensors : 1, sizeof(el_tensor));
  p->nodes = calloc(n_nodes ? n_nodes : 1, sizeof(el_node));
  if (p->tensors == NULL || p->nodes == NULL) goto oom;
  p->n_tensors = n_tensors;
  p->n_nodes = n_nodes;
  memcpy(p->nodes, node_words, n_nodes * sizeof(el_node));
  for (size_t i = 0; i < n_tensors; i++)
    if (resolve_tensor(tensor_words + i * EL_TENSOR_WORDS, buffers, n_buffers, &p->tensors[i], i, err,
                       err_len))
      goto fail;
  for (size_t i = 0; i < n_nodes; i++) {
    el_node_index = i;
    if (validate_node(p, &p->nodes[i], err, err_len)) {
      if (refused != NULL) *refused = (long long)i;
      goto fail;
    }
  }
  p->pool = el_pool_create(p->n_threads); /* NULL (inline) with one thread or if none can start */
  return p;
oom:
  snprintf(err, err_len, "out of memory");
fail:
  el_program_destroy(p);
  return NULL;
}

void el_program_destroy(el_program *p) {
  if (p == NULL) return;
  el_pool_destroy(p->pool);
  free(p->tensors);
  free(p->nodes);
  free(p);
}

void el_program_run(const el_program *p, size_t start, size_t end) {
  if (end > p->n_nodes) end = p->n_nodes;
  for (size_t i = start; i < end; i++) el_ops[p->nodes[i].op].run(p, &p->nodes[i]);
}
