/* The compiler's float32 family: the lowerers of runtime/native_f32.py, node for node (the same
 * operands in the same order, the same params, the same packed panels). */
#include "include/el_compile.h" /* Python.h first */

#include <float.h>
#include <math.h>
#include <string.h>

#include "include/el_pack.h"

#define F32_ONLY (1u << EL_T_FLOAT32)

/* native._clamp: the float32 clamp of a fused activation (ops/_common.activation_range). */
static int clamp_of(el_compiler *c, const el_cnode *node, int position, int64_t clamp[2]) {
  int64_t activation = EL_ACT_NONE;
  if (node->n_opt > position && el_opt_int(c, node, position, &activation) < 0) return EL_DEFER;
  double low = -FLT_MAX, high = FLT_MAX;
  switch (activation) {
    case EL_ACT_NONE: case 4: case 5: break; /* TANH, SIGN_BIT: the whole range */
    case EL_ACT_RELU: low = 0.0; break;
    case EL_ACT_RELU_N1_TO_1: low = -1.0, high = 1.0; break;
    case EL_ACT_RELU6: low = 0.0, high = 6.0; break;
    default: return el_defer(c, "unknown fused activation %lld", (long long)activation);
  }
  clamp[0] = el_f32_bits(low), clamp[1] = el_f32_bits(high);
  return 0;
}

/* A float32 constant operand (native.Lowering.constant): NULL data for an absent one. */
static int constant_of(el_compiler *c, int32_t i, const el_ctensor **out) {
  *out = NULL;
  if (i < 0) return 0;
  if (!el_is_constant(c, i)) return el_defer(c, "operand %d is not a constant", i);
  if (c->t[i].type != EL_T_FLOAT32) return el_defer(c, "constant %d is not float32", i);
  *out = &c->t[i];
  return 0;
}

/* pack_gemm into the heap: a flat float32 row of the panels. */
static int packed_gemm_row(el_compiler *c, const el_ctensor *weights, const el_ctensor *bias, int64_t groups,
                           int64_t n, int64_t k) {
  const size_t nbytes = el_pack_gemm_bytes((size_t)groups, (size_t)n, (size_t)k);
  const int64_t floats = (int64_t)nbytes / 4;
  char *data;
  const int row = el_heap_row(c, (int64_t)nbytes, 0, EL_F32, 1, &floats, 0, &data);
  if (row >= 0)
    el_pack_gemm((const uint32_t *)(const void *)weights->data, bias ? (const uint32_t *)(const void *)bias->data : NULL,
                 (size_t)groups, (size_t)n, (size_t)k, (uint32_t *)(void *)data);
  return row;
}

/* native_hybrid.is_hybrid: a float32 input with int8 weights (input 1) */
static int is_hybrid(const el_compiler *c, const el_cnode *node) {
  return node->n_in >= 2 && node->in[0] >= 0 && node->in[1] >= 0 && c->t[node->in[0]].type == EL_T_FLOAT32 &&
         c->t[node->in[1]].type == EL_T_INT8;
}

static int lower_conv(el_compiler *c, el_cnode *node) {
  if (is_hybrid(c, node)) return el_lower_hybrid(c, node);
  const el_ctensor *weights, *bias;
  int status;
  if ((status = el_options_of(c, node, OPT_CONV, 0)) < 0 || node->n_in < 2 ||
      (status = constant_of(c, node->in[1], &weights)) < 0 ||
      (status = constant_of(c, node->n_in > 2 ? node->in[2] : -1, &bias)) < 0)
    return status < 0 ? status : el_defer(c, "CONV_2D operands");
  int32_t x = node->in[0];
  const int32_t out = node->out[0];
  if (weights == NULL || x < 0 || c->t[x].rank != 4 || weights->rank != 4 || c->t[out].rank != 4)
    return el_defer(c, "CONV_2D of rank other than 4");
  const int64_t ch = c->t[x].dims[3], o = weights->dims[0], kh = weights->dims[1], kw = weights->dims[2];
  const int64_t ic = weights->dims[3], groups = ch / ic;
  if (groups * ic != ch || o % groups || (bias && el_count(bias) != o))
    return el_defer(c, "input channels not a multiple of the weights' depth");
  static const int geometry_at[5] = {CONV_PADDING, CONV_STRIDE_W, CONV_STRIDE_H, CONV_DILATION_W, CONV_DILATION_H};
  el_window w;
  int64_t clamp[2];
  if ((status = el_window_of(c, node, geometry_at, kh, kw, x, out, &w)) < 0 ||
      (status = clamp_of(c, node, CONV_ACTIVATION, clamp)) < 0)
    return status;
  const int fused = el_fuse_pad_input(c, &x, out, w.pads);
  const int64_t k = kh * kw * ic, n = o / groups;
  const int packed = packed_gemm_row(c, weights, bias, groups, o / groups, k);
  if (packed < 0) return packed;
  const int direct = kh == 1 && kw == 1 && w.sh == 1 && w.sw == 1 && w.pads[0] == 0 && w.pads[1] == 0 && !fused;
  int inputs[3] = {el_tensor_row(c, x, F32_ONLY), packed, 0};
  if (inputs[0] < 0) return inputs[0];
  if (!direct && (inputs[2] = el_scratch_row(c, EL_IM2COL_ROWS * k)) < 0) return inputs[2];
  const int64_t params[] = {direct ? 0 : 1, kh, kw, w.sh, w.sw, w.dh, w.dw, w.pads[0], w.pads[1],
                            clamp[0], clamp[1], k, n, groups};
  const int row = el_node_row(c, EL_OP_GEMM, inputs, direct ? 2 : 3, out, F32_ONLY, params, 14);
  if (row >= 0 && fused) el_skip_pad(c, node->in[0]);
  return row < 0 ? row : 0;
}

static int lower_fully_connected(el_compiler *c, el_cnode *node) {
  if (is_hybrid(c, node)) return el_lower_hybrid(c, node);
  const el_ctensor *weights, *bias;
  int64_t format = 0, clamp[2];
  int status;
  if ((status = el_options_of(c, node, OPT_FC, 0)) < 0 || node->n_in < 2 ||
      (status = constant_of(c, node->in[1], &weights)) < 0 ||
      (status = constant_of(c, node->n_in > 2 ? node->in[2] : -1, &bias)) < 0 ||
      (status = el_opt_int(c, node, FC_WEIGHTS_FORMAT, &format)) < 0 ||
      (status = clamp_of(c, node, FC_ACTIVATION, clamp)) < 0)
    return status < 0 ? status : el_defer(c, "FULLY_CONNECTED operands");
  if (weights == NULL || format != 0 || weights->rank != 2 || (bias && el_count(bias) != weights->dims[0]))
    return el_defer(c, "FULLY_CONNECTED weights format");
  const int64_t units = weights->dims[0], k = weights->dims[1];
  const int packed = packed_gemm_row(c, weights, bias, 1, units, k);
  if (packed < 0) return packed;
  const int inputs[2] = {el_tensor_row(c, node->in[0], F32_ONLY), packed};
  if (inputs[0] < 0) return inputs[0];
  const int64_t params[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, clamp[0], clamp[1], k, units};
  const int row = el_node_row(c, EL_OP_GEMM, inputs, 2, node->out[0], F32_ONLY, params, 13);
  return row < 0 ? row : 0;
}

static int lower_depthwise(el_compiler *c, el_cnode *node) {
  if (is_hybrid(c, node)) return el_lower_hybrid(c, node);
  const el_ctensor *weights, *bias;
  int status;
  if ((status = el_options_of(c, node, OPT_DEPTHWISE, 0)) < 0 || node->n_in < 2 ||
      (status = constant_of(c, node->in[1], &weights)) < 0 ||
      (status = constant_of(c, node->n_in > 2 ? node->in[2] : -1, &bias)) < 0)
    return status < 0 ? status : el_defer(c, "DEPTHWISE_CONV_2D operands");
  int32_t x = node->in[0];
  const int32_t out = node->out[0];
  if (weights == NULL || x < 0 || c->t[x].rank != 4 || weights->rank != 4 || c->t[out].rank != 4)
    return el_defer(c, "DEPTHWISE_CONV_2D of rank other than 4");
  const int64_t ch = c->t[x].dims[3], kh = weights->dims[1], kw = weights->dims[2], oc = weights->dims[3];
  const int64_t multiplier = oc / ch;
  if (multiplier * ch != oc || kh * kw > EL_DW_MAX_TAPS || weights->dims[0] != 1 || (bias && el_count(bias) != oc))
    return el_defer(c, "output channels not a multiple of the input's, or window too large");
  static const int geometry_at[5] = {DW_PADDING, DW_STRIDE_W, DW_STRIDE_H, DW_DILATION_W, DW_DILATION_H};
  el_window w;
  int64_t clamp[2];
  if ((status = el_window_of(c, node, geometry_at, kh, kw, x, out, &w)) < 0 ||
      (status = clamp_of(c, node, DW_ACTIVATION, clamp)) < 0)
    return status;
  const int fused = el_fuse_pad_input(c, &x, out, w.pads);
  const int64_t width = c->t[x].dims[2], taps = kh * kw;
  int inputs[4];
  if ((inputs[0] = el_tensor_row(c, x, F32_ONLY)) < 0) return inputs[0];
  const int64_t dims[2] = {1 + taps, oc};
  char *data;
  if ((inputs[1] = el_heap_row(c, dims[0] * oc * 4, 1, EL_F32, 2, dims, 0, &data)) < 0) return inputs[1];
  if (bias) memcpy(data, bias->data, (size_t)oc * 4); /* row 0: the bias (zero without one) */
  memcpy(data + oc * 4, weights->data, (size_t)(taps * oc * 4));
  if ((inputs[2] = el_zeros_row(c, oc)) < 0) return inputs[2];
  if (multiplier > 1 && (inputs[3] = el_scratch_row(c, kh * width * oc)) < 0) return inputs[3];
  const int64_t params[] = {kh, kw, w.sh, w.sw, w.dh, w.dw, w.pads[0], w.pads[1], clamp[0], clamp[1], multiplier};
  const int row = el_node_row(c, EL_OP_DWCONV, inputs, multiplier > 1 ? 4 : 3, out, F32_ONLY, params, 11);
  if (row >= 0 && fused) el_skip_pad(c, node->in[0]);
  return row < 0 ? row : 0;
}

/* native.collapse_broadcast: dims and element strides of a and b over out, adjacent dims merged,
 * padded to EL_MAX_RANK; -1 when more than EL_MAX_RANK dims remain. */
int el_collapse_broadcast(const el_ctensor *out, const el_ctensor *a, const el_ctensor *b, int64_t dims[EL_MAX_RANK],
                          int64_t sa[EL_MAX_RANK], int64_t sb[EL_MAX_RANK]) {
  const int rank = out->rank;
  const int64_t total = el_count(out);
  int same = a->rank == rank && b->rank == rank && rank > 0 && total > 1;
  for (int d = 0; same && d < rank; d++) same = a->dims[d] == out->dims[d] && b->dims[d] == out->dims[d];
  for (int d = 0; d < EL_MAX_RANK; d++) dims[d] = 1, sa[d] = sb[d] = 0;
  if (same) {
    dims[EL_MAX_RANK - 1] = total, sa[EL_MAX_RANK - 1] = sb[EL_MAX_RANK - 1] = 1;
    return 0;
  }
  int64_t strides[2][EL_MAX_RANK];
  const el_ctensor *operands[2] = {a, b};
  for (int s = 0; s < 2; s++) {
    int64_t shape[EL_MAX_RANK];
    const int lead = rank - operands[s]->rank;
    for (int d = 0; d < rank; d++) shape[d] = d < lead ? 1 : operands[s]->dims[d - lead];
    int64_t contiguous = 1;
    for (int d = rank - 1; d >= 0; d--) {
      strides[s][d] = shape[d] == 1 && out->dims[d] != 1 ? 0 : contiguous;
      contiguous *= shape[d];
    }
  }
  int64_t kd[EL_MAX_RANK], ka[EL_MAX_RANK], kb[EL_MAX_RANK];
  int n = 0;
  for (int d = 0; d < rank; d++)
    if (out->dims[d] != 1) kd[n] = out->dims[d], ka[n] = strides[0][d], kb[n++] = strides[1][d];
  for (int i = n - 2; i >= 0; i--) {
    if (ka[i] == ka[i + 1] * kd[i + 1] && kb[i] == kb[i + 1] * kd[i + 1]) {
      kd[i] *= kd[i + 1], ka[i] = ka[i + 1], kb[i] = kb[i + 1];
      for (int j = i + 1; j + 1 < n; j++) kd[j] = kd[j + 1], ka[j] = ka[j + 1], kb[j] = kb[j + 1];
      n--;
    }
  }
  const int pad = EL_MAX_RANK - n;
  for (int j = 0; j < n; j++) dims[pad + j] = kd[j], sa[pad + j] = ka[j], sb[pad + j] = kb[j];
  return 0;
}

static int binary_code(int builtin) {
  switch (builtin) {
    case EL_B_ADD: return 0;
    case EL_B_SUB: return 1;
    case EL_B_MUL: return 2;
    case EL_B_PRELU: return 3;
    case EL_B_DIV: return 4;
    case EL_B_MAXIMUM: return 5;
    case EL_B_MINIMUM: return 6;
    default: return -1;
  }
}

static int binary_options(int builtin) {
  switch (builtin) {
    case EL_B_ADD: return OPT_ADD;
    case EL_B_SUB: return OPT_SUB;
    case EL_B_MUL: return OPT_MUL;
    case EL_B_DIV: return OPT_DIV;
    default: return -1;
  }
}

static int lower_binary(el_compiler *c, el_cnode *node) {
  if (node->n_in != 2 || node->in[0] < 0 || node->in[1] < 0 || node->n_out != 1) return el_defer(c, "binary operands");
  const el_ctensor *a = &c->t[node->in[0]], *b = &c->t[node->in[1]], *out = &c->t[node->out[0]];
  if (a->rank > out->rank || b->rank > out->rank) return el_defer(c, "broadcast of a higher rank");
  int64_t params[1 + 2 + 3 * EL_MAX_RANK];
  params[0] = binary_code(node->builtin);
  const int options = binary_options(node->builtin);
  int status;
  if (options < 0) {
    params[1] = el_f32_bits(-INFINITY), params[2] = el_f32_bits(INFINITY);
  } else if ((status = el_options_of(c, node, options, 1)) < 0 || (status = clamp_of(c, node, 0, params + 1)) < 0) {
    return status;
  }
  el_collapse_broadcast(out, a, b, params + 3, params + 3 + EL_MAX_RANK, params + 3 + 2 * EL_MAX_RANK);
  const int inputs[2] = {el_tensor_row(c, node->in[0], F32_ONLY), el_tensor_row(c, node->in[1], F32_ONLY)};
  if (inputs[0] < 0 || inputs[1] < 0) return inputs[0] < 0 ? inputs[0] : inputs[1];
  const int row = el_node_row(c, EL_OP_BINARY, inputs, 2, node->out[0], F32_ONLY, params, 3 + 3 * EL_MAX_RANK);
  return row < 0 ? row : 0;
}

static int lower_unary(el_compiler *c, el_cnode *node) {
  int64_t op = 0;
  double low = 0.0, high = 0.0;
  switch (node->builtin) {
    case EL_B_RELU: high = INFINITY; break;
    case EL_B_RELU6: high = 6.0; break;
    case EL_B_RELU_N1_TO_1: low = -1.0, high = 1.0; break;
    case EL_B_HARD_SWISH: op = 1; break;
    case EL_B_LOGISTIC: op = 2; break;
    case EL_B_TANH: op = 3; break;
    default: return el_defer(c, "unary %d", node->builtin);
  }
  if (node->n_in < 1 || node->options_code != 0) return el_defer(c, "unary operands or options");
  const int input = el_tensor_row(c, node->in[0], F32_ONLY);
  if (input < 0) return input;
  const int64_t params[3] = {op, el_f32_bits(low), el_f32_bits(high)};
  const int row = el_node_row(c, EL_OP_UNARY, &input, 1, node->out[0], F32_ONLY, params, 3);
  return row < 0 ? row : 0;
}

static int lower_pool(el_compiler *c, el_cnode *node) {
  static const int geometry_at[5] = {POOL_PADDING, POOL_STRIDE_W, POOL_STRIDE_H, -1, -1};
  const int32_t x = node->in[0], out = node->out[0];
  int64_t kh, kw, clamp[2];
  el_window w;
  int status;
  if ((status = el_options_of(c, node, OPT_POOL, 0)) < 0 || (status = el_opt_int(c, node, POOL_FILTER_H, &kh)) < 0 ||
      (status = el_opt_int(c, node, POOL_FILTER_W, &kw)) < 0)
    return status;
  if (x < 0 || c->t[x].rank != 4 || c->t[out].rank != 4) return el_defer(c, "pool of rank other than 4");
  if ((status = el_window_of(c, node, geometry_at, kh, kw, x, out, &w)) < 0 ||
      (status = clamp_of(c, node, POOL_ACTIVATION, clamp)) < 0)
    return status;
  const int input = el_tensor_row(c, x, F32_ONLY);
  if (input < 0) return input;
  const int64_t params[] = {kh, kw, w.sh, w.sw, w.pads[0], w.pads[1], clamp[0], clamp[1]};
  const int op = node->builtin == EL_B_MAX_POOL_2D ? EL_OP_MAXPOOL : EL_OP_AVGPOOL;
  const int row = el_node_row(c, op, &input, 1, out, F32_ONLY, params, 8);
  return row < 0 ? row : 0;
}

static int lower_mean(el_compiler *c, el_cnode *node) {
  int64_t axes[8];
  const int32_t x = node->in[0];
  const int64_t n = node->n_in == 2 ? el_int_values(c, node->in[1], axes, 8) : -1;
  if (x < 0 || c->t[x].rank != 4 || n < 1) return el_defer(c, "MEAN other than over H and W of an NHWC tensor");
  int seen[4] = {0, 0, 0, 0};
  for (int64_t k = 0; k < n; k++) {
    const int64_t axis = axes[k] < 0 ? axes[k] + 4 : axes[k];
    if (axis < 0 || axis > 3) return el_defer(c, "MEAN axis");
    seen[axis] = 1;
  }
  if (seen[0] || !seen[1] || !seen[2] || seen[3]) return el_defer(c, "MEAN other than over H and W");
  const int input = el_tensor_row(c, x, F32_ONLY);
  if (input < 0) return input;
  const int row = el_node_row(c, EL_OP_MEAN_HW, &input, 1, node->out[0], F32_ONLY, NULL, 0);
  return row < 0 ? row : 0;
}

static int lower_pad(el_compiler *c, el_cnode *node) {
  int64_t pairs[8];
  const int32_t x = node->in[0];
  if (node->n_in != 2 || x < 0) return el_defer(c, "PAD operands");
  const int rank = c->t[x].rank;
  if (rank > 4 || el_int_values(c, node->in[1], pairs, 8) != 2 * rank)
    return el_defer(c, "PAD needs constant paddings and rank <= 4");
  int64_t before[4] = {0, 0, 0, 0};
  for (int d = 0; d < rank; d++) before[4 - rank + d] = pairs[2 * d];
  const int input = el_tensor_row(c, x, F32_ONLY);
  if (input < 0) return input;
  const int row = el_node_row(c, EL_OP_PAD, &input, 1, node->out[0], F32_ONLY, before, 4);
  if (row >= 0) el_offer_pad(c, node, row, rank, pairs);
  return row < 0 ? row : 0;
}

static int lower_concat(el_compiler *c, el_cnode *node) {
  int64_t axis, activation;
  int status;
  if ((status = el_options_of(c, node, OPT_CONCAT, 0)) < 0 || (status = el_opt_int(c, node, CONCAT_AXIS, &axis)) < 0 ||
      (status = el_opt_int(c, node, CONCAT_ACTIVATION, &activation)) < 0)
    return status;
  if (node->n_in > EL_MAX_INPUTS || activation != EL_ACT_NONE) return el_defer(c, "too many inputs or a fused activation");
  const int rank = c->t[node->out[0]].rank;
  const int64_t params[1] = {axis < 0 ? axis + rank : axis};
  int inputs[EL_MAX_INPUTS];
  for (int k = 0; k < node->n_in; k++)
    if ((inputs[k] = el_tensor_row(c, node->in[k], F32_ONLY)) < 0) return inputs[k];
  const int row = el_node_row(c, EL_OP_CONCAT, inputs, node->n_in, node->out[0], F32_ONLY, params, 1);
  return row < 0 ? row : 0;
}

static int lower_copy(el_compiler *c, el_cnode *node) {
  const int input = el_tensor_row(c, node->in[0], F32_ONLY);
  if (input < 0) return input;
  const int row = el_node_row(c, EL_OP_COPY, &input, 1, node->out[0], F32_ONLY, NULL, 0);
  return row < 0 ? row : 0;
}

static int lower_softmax(el_compiler *c, el_cnode *node) {
  double beta = 0.0;
  int status;
  if ((status = el_options_of(c, node, OPT_SOFTMAX, 1)) < 0 ||
      (node->n_opt && (status = el_opt_float(c, node, 0, &beta)) < 0))
    return status;
  const int input = el_tensor_row(c, node->in[0], F32_ONLY);
  if (input < 0) return input;
  const int64_t params[1] = {el_f32_bits(beta)};
  const int row = el_node_row(c, EL_OP_SOFTMAX, &input, 1, node->out[0], F32_ONLY, params, 1);
  return row < 0 ? row : 0;
}

/* ---- MediaPipe's Convolution2DTransposeBias (ops/convolution2d_transpose_bias.py, native_f32.py) */
#define TCONV_MAX_STRIDE 16 /* ops_tconv.c: EL_TCONV_MAX_STRIDE */
enum { TFLITE_PADDING_SAME = 1, TFLITE_PADDING_VALID = 2 };

/* The custom options: int32 padding, stride_width, stride_height (little-endian). */
static int tconv_params(el_compiler *c, const el_cnode *node, int32_t params[3]) {
  if (node->custom_options == NULL || node->custom_size < 12) return el_defer(c, "transposed conv options");
  memcpy(params, node->custom_options, 12);
  if (params[0] < 0 || params[0] > TFLITE_PADDING_VALID || params[1] < 1 || params[2] < 1)
    return el_defer(c, "transposed conv padding or strides");
  return 0;
}

static int64_t tconv_out_size(int64_t size, int64_t kernel, int64_t stride, int padding) {
  int64_t total = padding == TFLITE_PADDING_SAME ? kernel - (size - 1) % stride - 1 : 0;
  return stride * (size - 1) + kernel - (total > 0 ? total : 0);
}

static int prepare_tconv_bias(el_compiler *c, el_cnode *node) {
  int32_t p[3];
  int status;
  if (node->n_in != 3 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0 || node->in[2] < 0)
    return el_defer(c, "transposed conv operands");
  if ((status = tconv_params(c, node, p)) < 0) return status;
  const el_ctensor *x = &c->t[node->in[0]], *w = &c->t[node->in[1]], *bias = &c->t[node->in[2]];
  if (x->type != EL_T_FLOAT32 || w->type != EL_T_FLOAT32 || bias->type != EL_T_FLOAT32 || x->rank != 4 ||
      w->rank != 4 || bias->rank != 1 || x->dims[3] != w->dims[3] || bias->dims[0] != w->dims[0])
    return el_defer(c, "transposed conv shapes or types");
  const int64_t dims[4] = {x->dims[0], tconv_out_size(x->dims[1], w->dims[1], p[2], p[0]),
                           tconv_out_size(x->dims[2], w->dims[2], p[1], p[0]), w->dims[0]};
  return el_set_shape(c, node->out[0], 4, dims);
}

/* native_f32.pack_pixel_shuffle (kernel = stride, no padding: per ky, the gemm panels of the
 * [kw x out_c, in_c] matrix) or pack_transpose_conv (per phase (ry, rx), the panels of the taps
 * ry::stride_h, rx::stride_w), one part after another in one heap row. */
static int packed_tconv_row(el_compiler *c, const el_ctensor *w, const el_ctensor *bias, const int64_t stride[2],
                            int shuffle) {
  const int64_t out_c = w->dims[0], kh = w->dims[1], kw = w->dims[2], in_c = w->dims[3];
  const int64_t parts = shuffle ? kh : stride[0] * stride[1];
  int64_t total = 0, largest = 0;
  for (int64_t part = 0; part < parts; part++) {
    const int64_t ry = part / stride[1], rx = part % stride[1];
    const int64_t taps = shuffle ? 1 : ((kh - ry + stride[0] - 1) / stride[0]) * ((kw - rx + stride[1] - 1) / stride[1]);
    const int64_t n = shuffle ? kw * out_c : out_c, k = taps * in_c;
    total += (int64_t)el_pack_gemm_bytes(1, (size_t)n, (size_t)k);
    if (n * k > largest) largest = n * k;
  }
  const int64_t floats = total / 4;
  char *data;
  const int row = el_heap_row(c, total, 0, EL_F32, 1, &floats, 0, &data);
  float *matrix = PyMem_Malloc((size_t)(largest > 0 ? largest : 1) * 4), *tiled = PyMem_Malloc((size_t)(kw * out_c) * 4);
  if (row < 0 || matrix == NULL || tiled == NULL) {
    PyMem_Free(matrix), PyMem_Free(tiled);
    return row < 0 ? row : (PyErr_NoMemory(), -1);
  }
  const float *weights = (const float *)(const void *)w->data, *b = (const float *)(const void *)bias->data;
  for (int64_t kx = 0; kx < kw; kx++) memcpy(tiled + kx * out_c, b, (size_t)out_c * 4);
  for (int64_t part = 0; part < parts; part++) {
    const int64_t ry = part / stride[1], rx = part % stride[1];
    const int64_t nky = (kh - ry + stride[0] - 1) / stride[0], nkx = (kw - rx + stride[1] - 1) / stride[1];
    const int64_t n = shuffle ? kw * out_c : out_c, k = shuffle ? in_c : nky * nkx * in_c;
    for (int64_t r = 0; r < n; r++) { /* shuffle: rows (kx, o) of tap (ky = part, kx); else rows o */
      const int64_t o = shuffle ? r % out_c : r;
      if (shuffle) {
        memcpy(matrix + r * k, weights + ((o * kh + part) * kw + r / out_c) * in_c, (size_t)in_c * 4);
        continue;
      }
      float *column = matrix + r * k;
      for (int64_t ky = ry; ky < kh; ky += stride[0])
        for (int64_t kx = rx; kx < kw; kx += stride[1], column += in_c)
          memcpy(column, weights + ((o * kh + ky) * kw + kx) * in_c, (size_t)in_c * 4);
    }
    el_pack_gemm((const uint32_t *)(const void *)matrix, (const uint32_t *)(const void *)(shuffle ? tiled : b), 1,
                 (size_t)n, (size_t)k, (uint32_t *)(void *)data);
    data += el_pack_gemm_bytes(1, (size_t)n, (size_t)k);
  }
  PyMem_Free(matrix), PyMem_Free(tiled);
  return row;
}

static int64_t tconv_padding(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  const int64_t over = (in - 1) * stride + kernel - out;
  return over > 0 ? over / 2 : 0;
}

static int lower_tconv_bias(el_compiler *c, el_cnode *node) {
  int32_t p[3];
  const el_ctensor *w, *bias;
  int status;
  if ((status = tconv_params(c, node, p)) < 0 || (status = constant_of(c, node->in[1], &w)) < 0 ||
      (status = constant_of(c, node->in[2], &bias)) < 0)
    return status;
  const int32_t x = node->in[0], out = node->out[0];
  const int64_t stride[2] = {p[2], p[1]};
  if (w == NULL || bias == NULL || c->t[x].rank != 4 || stride[0] > TCONV_MAX_STRIDE || stride[1] > TCONV_MAX_STRIDE)
    return el_defer(c, "transposed conv needs constant OHWI weights and strides <= 16");
  const int64_t out_c = w->dims[0], kh = w->dims[1], kw = w->dims[2], in_c = w->dims[3];
  const el_ctensor *xt = &c->t[x], *ot = &c->t[out];
  const int64_t pads[2] = {tconv_padding(xt->dims[1], ot->dims[1], kh, stride[0]),
                           tconv_padding(xt->dims[2], ot->dims[2], kw, stride[1])};
  const int shuffle = kh == stride[0] && kw == stride[1] && pads[0] == 0 && pads[1] == 0 &&
                      ot->dims[1] == xt->dims[1] * stride[0] && ot->dims[2] == xt->dims[2] * stride[1];
  int64_t largest = 0;
  for (int64_t ry = 0; ry < stride[0]; ry++)
    for (int64_t rx = 0; rx < stride[1]; rx++) {
      const int64_t taps = ((kh - ry + stride[0] - 1) / stride[0]) * ((kw - rx + stride[1] - 1) / stride[1]);
      if (taps * in_c > largest) largest = taps * in_c;
    }
  int inputs[3];
  const int packed = packed_tconv_row(c, w, bias, stride, shuffle);
  if (packed < 0) return packed;
  if ((inputs[0] = el_tensor_row(c, x, F32_ONLY)) < 0) return inputs[0];
  inputs[1] = packed;
  if ((inputs[2] = el_scratch_row(c, shuffle ? 0 : EL_IM2COL_ROWS * (largest > 1 ? largest : 1))) < 0) return inputs[2];
  const int64_t params[] = {kh, kw, stride[0], stride[1], pads[0], pads[1], el_f32_bits(-FLT_MAX), el_f32_bits(FLT_MAX),
                            in_c, out_c, shuffle};
  const int row = el_node_row(c, EL_OP_TCONV, inputs, 3, out, F32_ONLY, params, 11);
  return row < 0 ? row : 0;
}

/* ---- RESIZE_BILINEAR (ops/resize_bilinear.py, ops/_resize.py) */

static int prepare_resize_bilinear(el_compiler *c, el_cnode *node) {
  int64_t size[2], align, half;
  int status = 0;
  if (node->n_in != 2 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0 ||
      (status = el_options_of(c, node, OPT_RESIZE_BILINEAR, 0)) < 0 || (status = el_opt_int(c, node, RESIZE_ALIGN_CORNERS, &align)) < 0 ||
      (status = el_opt_int(c, node, RESIZE_HALF_PIXEL, &half)) < 0)
    return status < 0 ? status : el_defer(c, "RESIZE_BILINEAR operands");
  const el_ctensor *x = &c->t[node->in[0]], *sizes = &c->t[node->in[1]];
  if (x->type != EL_T_FLOAT32 || c->t[node->out[0]].type != EL_T_FLOAT32 || x->rank != 4 || sizes->type != EL_T_INT32 ||
      sizes->rank != 1 || sizes->dims[0] != 2 || el_int_values(c, node->in[1], size, 2) != 2 || size[0] < 1 ||
      size[1] < 1 || (align && half))
    return el_defer(c, "RESIZE_BILINEAR size or options");
  const int64_t dims[4] = {x->dims[0], size[0], size[1], x->dims[3]};
  return el_set_shape(c, node->out[0], 4, dims);
}

static int lower_resize_bilinear(el_compiler *c, el_cnode *node) {
  const int input = el_tensor_row(c, node->in[0], F32_ONLY);
  if (input < 0) return input;
  const int64_t params[2] = {node->opt[RESIZE_ALIGN_CORNERS].i != 0, node->opt[RESIZE_HALF_PIXEL].i != 0};
  const int row = el_node_row(c, EL_OP_RESIZE_BILINEAR, &input, 1, node->out[0], F32_ONLY, params, 2);
  return row < 0 ? row : 0;
}

#define OP(builtin, prepare, lower) [builtin] = {prepare, lower}
const el_compile_op el_compile_f32[EL_B_COUNT] = {
    OP(EL_B_CONV_2D, el_prepare_conv, lower_conv),
    OP(EL_B_FULLY_CONNECTED, el_prepare_fully_connected, lower_fully_connected),
    OP(EL_B_DEPTHWISE_CONV_2D, el_prepare_depthwise, lower_depthwise),
    OP(EL_B_ADD, el_prepare_broadcast, lower_binary),
    OP(EL_B_SUB, el_prepare_broadcast, lower_binary),
    OP(EL_B_MUL, el_prepare_broadcast, lower_binary),
    OP(EL_B_DIV, el_prepare_broadcast, lower_binary),
    OP(EL_B_MAXIMUM, el_prepare_broadcast, lower_binary),
    OP(EL_B_MINIMUM, el_prepare_broadcast, lower_binary),
    OP(EL_B_PRELU, el_prepare_broadcast, lower_binary),
    OP(EL_B_RELU, el_prepare_same, lower_unary),
    OP(EL_B_RELU6, el_prepare_same, lower_unary),
    OP(EL_B_RELU_N1_TO_1, el_prepare_same, lower_unary),
    OP(EL_B_HARD_SWISH, el_prepare_same, lower_unary),
    OP(EL_B_LOGISTIC, el_prepare_same, lower_unary),
    OP(EL_B_TANH, el_prepare_same, lower_unary),
    OP(EL_B_MAX_POOL_2D, el_prepare_pool, lower_pool),
    OP(EL_B_AVERAGE_POOL_2D, el_prepare_pool, lower_pool),
    OP(EL_B_MEAN, el_prepare_mean, lower_mean),
    OP(EL_B_PAD, el_prepare_pad, lower_pad),
    OP(EL_B_CONCATENATION, el_prepare_concat, lower_concat),
    OP(EL_B_RESHAPE, el_prepare_reshape, lower_copy),
    OP(EL_B_SQUEEZE, el_prepare_reshape, lower_copy),
    OP(EL_B_EXPAND_DIMS, el_prepare_reshape, lower_copy),
    OP(EL_B_SOFTMAX, el_prepare_same, lower_softmax),
    OP(EL_B_RESIZE_BILINEAR, prepare_resize_bilinear, lower_resize_bilinear),
    OP(EL_B_TCONV_BIAS, prepare_tconv_bias, lower_tconv_bias),
};
