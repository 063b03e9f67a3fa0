/* STUB (lead's scaffold until helper cshapes lands the real prepares): every output keeps the
 * file's shape. Never merged as is. */
#include "include/el_compile.h"

static int keep_file_shapes(el_compiler *c, el_cnode *node) {
  for (int o = 0; o < node->n_out; o++) {
    el_ctensor *t = &c->t[node->out[o]];
    t->shaped = 1;
  }
  return 0;
}

int64_t el_pad_before(int64_t size, int64_t kernel, int64_t stride, int64_t dilation, int64_t out) {
  const int64_t effective = (kernel - 1) * dilation + 1;
  int64_t total = (out - 1) * stride + effective - size;
  if (total < 0) total = 0;
  return total / 2;
}

int el_prepare_conv(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_depthwise(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_fully_connected(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_pool(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_broadcast(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_same(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_mean(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_pad(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_concat(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
int el_prepare_reshape(el_compiler *c, el_cnode *node) { return keep_file_shapes(c, node); }
