/* The compiler's int8 family (el_compile.h): each op's lowering as runtime/native_int8.py does it --
 * the same node (op, operands in the same order, params) and the same packed bytes -- or a defer
 * for anything it does not mirror exactly. The packed weights come from pack.c (the functions
 * _pack.c's pack_qgemm / pack_qdwconv call); tables the reference kernels compute (activations,
 * softmax exp, dequantize, requantize) come from Python through el_python_table. */
#include "include/el_compile.h" /* Python.h first */

#include <math.h>
#include <string.h>

#include "include/el_kernels.h"
#include "include/el_pack.h"

#define T_I8 (1u << EL_T_INT8)
#define T_F32 (1u << EL_T_FLOAT32)
#define T_MOVED ((1u << EL_T_INT8) | (1u << EL_T_INT16))
#define T_COPIED ((1u << EL_T_INT8) | (1u << EL_T_INT16) | (1u << EL_T_INT32))
#define DW_BLOCK 64          /* native_qgemm.DW_BLOCK */
#define PAIRS 0
#define QUADS 1


/* ------------------------------------------------------------------ operands and quantization */

/* The node's options table must be `table` (its values are read by position). */
static int operand(el_compiler *c, const el_cnode *node, int k, int32_t *i) {
  if (k >= node->n_in || node->in[k] < 0 || node->in[k] >= c->n_tensors)
    return el_defer(c, "node %d: operand %d absent", node->index, k);
  *i = node->in[k];
  return 0;
}

static int output_of(el_compiler *c, const el_cnode *node, int32_t *i) {
  if (node->n_out != 1 || node->out[0] < 0 || node->out[0] >= c->n_tensors)
    return el_defer(c, "node %d: not one output", node->index);
  *i = node->out[0];
  return 0;
}

/* native_int8.quant: one positive finite scale and a zero point in int8 (else defer). */
static int per_tensor(el_compiler *c, int32_t i, float *scale, int64_t *zero) {
  const el_ctensor *t = &c->t[i];
  if (t->n_scales != 1 || t->n_zeros != 1 || !isfinite(t->scales[0]) || !(t->scales[0] > 0))
    return el_defer(c, "tensor %d: not one positive scale per tensor", i);
  if (t->zeros[0] < -128 || t->zeros[0] > 127) return el_defer(c, "tensor %d: zero point outside int8", i);
  *scale = t->scales[0];
  *zero = t->zeros[0];
  return 0;
}

/* Weights' scales: finite, positive, one or one per channel on `axis` (a zero point each). */
static int weight_quant(el_compiler *c, int32_t w, int64_t channels, int axis) {
  const el_ctensor *t = &c->t[w];
  if (t->n_scales < 1 || t->n_zeros != t->n_scales) return el_defer(c, "weights %d: no quantization", w);
  if (t->n_scales != 1 && (t->n_scales != channels || t->quant_axis != axis))
    return el_defer(c, "weights %d: scales not per tensor or per output channel", w);
  for (int k = 0; k < t->n_scales; k++)
    if (!isfinite(t->scales[k]) || !(t->scales[k] > 0)) return el_defer(c, "weights %d: scale not positive", w);
  return 0;
}

static int zero_weight_points(el_compiler *c, int32_t w) {
  const el_ctensor *t = &c->t[w];
  for (int k = 0; k < t->n_zeros; k++)
    if (t->zeros[k] != 0) return el_defer(c, "weights %d: non-zero zero points", w);
  return 0;
}

/* A constant int8 tensor's bytes, with `rank` dims. */
static int int8_constant(el_compiler *c, int32_t i, int rank, const int8_t **data) {
  const el_ctensor *t = &c->t[i];
  if (!el_is_constant(c, i) || t->type != EL_T_INT8 || t->rank != rank || t->data_bytes != el_count(t))
    return el_defer(c, "tensor %d: not an int8 constant of rank %d", i, rank);
  *data = (const int8_t *)(const void *)t->data;
  return 0;
}

/* native_int8._bias32: the optional int32 bias constant, one per channel (NULL when absent). */
static int bias32(el_compiler *c, const el_cnode *node, int64_t channels, const int32_t **bias) {
  *bias = NULL;
  if (node->n_in < 3 || node->in[2] < 0) return 0;
  const int32_t b = node->in[2];
  if (b >= c->n_tensors) return el_defer(c, "bias %d out of range", b);
  const el_ctensor *t = &c->t[b];
  if (!el_is_constant(c, b) || t->type != EL_T_INT32 || el_count(t) != channels ||
      t->data_bytes != 4 * channels || (uintptr_t)t->data % 4)
    return el_defer(c, "bias %d: not an aligned int32 constant, one per channel", b);
  *bias = (const int32_t *)(const void *)t->data;
  return 0;
}

static int shaped(el_compiler *c, int32_t i, int rank) {
  if (!c->t[i].shaped || c->t[i].rank != rank) return el_defer(c, "tensor %d: not of rank %d", i, rank);
  return 0;
}

/* An elementwise op's output has its input's shape (the prepare set it; checked all the same). */
static int same_shape(el_compiler *c, int32_t x, int32_t out) {
  const el_ctensor *a = &c->t[x], *b = &c->t[out];
  int same = a->rank == b->rank;
  for (int d = 0; same && d < a->rank; d++) same = a->dims[d] == b->dims[d];
  return same ? 0 : el_defer(c, "output %d not shaped as input %d", out, x);
}

/* ------------------------------------------------------------------ the shared arithmetic */

/* _quant.activation_range_quantized for an int8 output: zero + round(limit / scale) in float32. */
static int quantized_limit(el_compiler *c, double limit, float scale, int64_t zero, int64_t *value) {
  const float scaled = (float)limit / scale;
  if (!isfinite(scaled) || fabsf(scaled) > 1e15f) return el_defer(c, "activation limit out of range");
  *value = zero + (int64_t)roundf(scaled);
  return 0;
}

static int int8_range(el_compiler *c, int64_t activation, float scale, int64_t zero, int64_t *low, int64_t *high) {
  *low = -128, *high = 127;
  int64_t q = 0;
  int status = 0;
  switch (activation) {
    case EL_ACT_NONE: return 0;
    case EL_ACT_RELU:
      if ((status = quantized_limit(c, 0.0, scale, zero, &q)) == 0 && q > *low) *low = q;
      return status;
    case EL_ACT_RELU6:
      if ((status = quantized_limit(c, 0.0, scale, zero, &q)) < 0) return status;
      if (q > *low) *low = q;
      if ((status = quantized_limit(c, 6.0, scale, zero, &q)) == 0 && q < *high) *high = q;
      return status;
    case EL_ACT_RELU_N1_TO_1:
      if ((status = quantized_limit(c, -1.0, scale, zero, &q)) < 0) return status;
      if (q > *low) *low = q;
      if ((status = quantized_limit(c, 1.0, scale, zero, &q)) == 0 && q < *high) *high = q;
      return status;
    default: return el_defer(c, "fused activation %lld", (long long)activation);
  }
}

/* native_int8._multiplier: QuantizeMultiplier of a finite real. */
static int multiplier_of(el_compiler *c, double real, int64_t *multiplier, int64_t *shift) {
  if (!isfinite(real)) return el_defer(c, "requantization scale not finite");
  int32_t m, s;
  el_quantize_multiplier(real, &m, &s);
  *multiplier = m, *shift = s;
  return 0;
}

/* _qbinary.multiplier_below_one: LiteRT needs the multiplier in (0, 1). */
static int multiplier_below_one(el_compiler *c, double real, int64_t *multiplier, int64_t *shift) {
  if (!(real > 0 && real < 1)) return el_defer(c, "multiplier %g outside (0, 1)", real);
  return multiplier_of(c, real, multiplier, shift);
}

/* A Python table (el_python_table) as a heap row of `count` items of `dtype` (el_dtype); a failure
 * of the table maker (the reference rejecting the node) defers. */
static int python_row(el_compiler *c, PyObject *table, int dtype, int64_t count, const char *kind) {
  if (table == NULL) { /* out of memory or an interrupt propagates; the reference's refusal defers */
    if (PyErr_ExceptionMatches(PyExc_MemoryError) || !PyErr_ExceptionMatches(PyExc_Exception)) return -1;
    PyErr_Clear();
    return el_defer(c, "the %s table was refused", kind);
  }
  const int64_t itemsize = dtype == EL_I8 ? 1 : 4;
  int row;
  if (PyBytes_GET_SIZE(table) != count * itemsize) row = el_defer(c, "the %s table has the wrong size", kind);
  else row = el_copy_row(c, PyBytes_AS_STRING(table), count * itemsize, dtype, 1, &count);
  Py_DECREF(table);
  return row;
}

/* ------------------------------------------------------------------ convolutions */

/* native_qgemm.slice_floats */
static int64_t slice_floats(int fmt, int64_t k) {
  const int64_t padded = fmt == QUADS ? (k + 3) / 4 * 4 : k + k % 2;
  const int64_t tile = EL_IM2COL_ROWS * padded * (fmt == QUADS ? 1 : 3);
  return (tile + 32 + 31) / 32 * 8;
}

/* native_int8._gemm_weights: [n, k] weights minus weight_zero packed as pack_qgemm packs them; the
 * packed row, then the scratch row; *fmt the format. */
static int gemm_weights(el_compiler *c, int32_t x, int32_t w, int32_t out, const int8_t *weights, int64_t n,
                        int64_t k, int64_t weight_zero, const int32_t *bias, int64_t input_zero, int float_product,
                        int *packed, int *scratch, int *fmt) {
  if (n < 1 || k < 1 || n > ((int64_t)1 << 24) || k > ((int64_t)1 << 24) || n * k > EL_MAX_ELEMENTS)
    return el_defer(c, "gemm extents %lld x %lld", (long long)n, (long long)k);
  if (weight_zero < -128 || weight_zero > 127) return el_defer(c, "weight zero point outside int8");
  const el_ctensor *wt = &c->t[w];
  float x_scale, out_scale;
  int64_t x_zero, out_zero;
  int status;
  if ((status = per_tensor(c, x, &x_scale, &x_zero)) < 0 || (status = per_tensor(c, out, &out_scale, &out_zero)) < 0)
    return status;
  int32_t *mult = PyMem_Malloc((size_t)n * sizeof(int32_t)), *shift = PyMem_Malloc((size_t)n * sizeof(int32_t));
  int64_t *folded = PyMem_Malloc((size_t)n * sizeof(int64_t));
  status = 0;
  if (mult == NULL || shift == NULL || folded == NULL) {
    PyErr_NoMemory();
    status = -1;
  } else if (el_pack_multipliers(wt->scales, (size_t)wt->n_scales, (size_t)n, (double)x_scale, (double)out_scale,
                                 float_product, mult, shift) < 0) {
    status = el_defer(c, "a requantization shift is outside [-31, 31]");
  } else {
    const int quads = c->prefer_quads && el_pack_qgemm_fits_quads(weights, (size_t)(n * k), (int)weight_zero);
    el_pack_qgemm_bias(weights, (size_t)n, (size_t)k, (int)weight_zero, bias, (int)input_zero, quads, folded);
    const int64_t nbytes = (int64_t)el_pack_qgemm_bytes((size_t)n, (size_t)k, quads);
    char *data;
    *packed = el_heap_row(c, nbytes, 1, EL_I8, 1, &nbytes, 0, &data);
    if (*packed < 0) {
      status = *packed;
    } else {
      el_pack_qgemm(weights, (size_t)n, (size_t)k, (int)weight_zero, folded, mult, shift, quads, data);
      *fmt = quads ? QUADS : PAIRS;
      *scratch = el_scratch_row(c, slice_floats(*fmt, k));
      if (*scratch < 0) status = *scratch;
    }
  }
  PyMem_Free(mult), PyMem_Free(shift), PyMem_Free(folded);
  return status;
}

/* native_int8._clamp: the fused activation's int8 range for RELU / RELU6 / RELU_N1_TO_1, else
 * the whole int8 range (other activations defer). */
static int conv_clamp(el_compiler *c, const el_cnode *node, int k, int32_t out, int64_t *out_zero, int64_t *low,
                      int64_t *high) {
  int64_t activation;
  float scale;
  int status;
  if ((status = el_opt_int(c, node, k, &activation)) < 0 || (status = per_tensor(c, out, &scale, out_zero)) < 0)
    return status;
  return int8_range(c, activation, scale, *out_zero, low, high);
}

/* The common operand checks of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (ops/_conv.conv_kind
 * for int8: int8 input, weights and output, int32 bias). */
static int conv_operands(el_compiler *c, const el_cnode *node, int32_t *x, int32_t *w, int32_t *out) {
  int status;
  if ((status = operand(c, node, 0, x)) < 0 || (status = operand(c, node, 1, w)) < 0 ||
      (status = output_of(c, node, out)) < 0)
    return status;
  if (node->n_in > 3) return el_defer(c, "node %d: more than 3 inputs", node->index);
  if (c->t[*x].type != EL_T_INT8 || c->t[*w].type != EL_T_INT8 || c->t[*out].type != EL_T_INT8)
    return el_defer(c, "node %d: not int8 input, weights and output", node->index);
  if (node->n_in == 3 && node->in[2] >= 0 && c->t[node->in[2]].type != EL_T_INT32)
    return el_defer(c, "node %d: bias not int32", node->index);
  return 0;
}

static int lower_conv(el_compiler *c, el_cnode *node) {
  int32_t x = -1, w = -1, out = -1;
  const int8_t *weights;
  const int32_t *bias;
  int status;
  if ((status = el_options_of(c, node, OPT_CONV, 0)) < 0 || (status = conv_operands(c, node, &x, &w, &out)) < 0 ||
      (status = shaped(c, x, 4)) < 0 || (status = shaped(c, out, 4)) < 0 ||
      (status = int8_constant(c, w, 4, &weights)) < 0)
    return status;
  const int64_t *wd = c->t[w].dims, o = wd[0], kh = wd[1], kw = wd[2], ic = wd[3], channels = c->t[x].dims[3];
  if (ic != channels || c->t[out].dims[3] != o) return el_defer(c, "grouped convolution");
  if ((status = weight_quant(c, w, o, 0)) < 0 || (status = zero_weight_points(c, w)) < 0 ||
      (status = bias32(c, node, o, &bias)) < 0)
    return status;
  int64_t out_zero, low, high;
  if ((status = conv_clamp(c, node, CONV_ACTIVATION, out, &out_zero, &low, &high)) < 0) return status;
  static const int opts[5] = {CONV_PADDING, CONV_STRIDE_W, CONV_STRIDE_H, CONV_DILATION_W, CONV_DILATION_H};
  el_window win;
  if ((status = el_window_of(c, node, opts, kh, kw, x, out, &win)) < 0) return status;
  int32_t source = x;
  const int fused = el_fuse_pad_input(c, &source, out, win.pads);
  const int64_t k = kh * kw * channels;
  const int direct = kh == 1 && kw == 1 && win.sh == 1 && win.sw == 1 && win.pads[0] == 0 && win.pads[1] == 0 &&
                     !fused;
  float x_scale;
  int64_t zero;
  if ((status = per_tensor(c, x, &x_scale, &zero)) < 0) return status;
  int packed, scratch, fmt;
  if ((status = gemm_weights(c, x, w, out, weights, o, k, 0, bias, zero, 0, &packed, &scratch, &fmt)) < 0)
    return status;
  const int x_row = el_tensor_row(c, source, T_I8);
  if (x_row < 0) return x_row;
  const int64_t params[] = {direct ? 0 : 1, kh, kw, win.sh, win.sw, win.dh, win.dw, win.pads[0], win.pads[1],
                            k, o, zero, out_zero, low, high, fmt};
  const int inputs[3] = {x_row, packed, scratch};
  const int row = el_node_row(c, EL_OP_QGEMM, inputs, 3, out, T_I8, params, 16);
  if (row >= 0 && fused) el_skip_pad(c, x);
  return row < 0 ? row : 0;
}

/* fully_connected._check_quantized: with per-tensor weights, a bias scale within 2% of the output
 * scale from input scale x weight scale (float32 product). */
static int fc_bias_scale(el_compiler *c, const el_cnode *node, const el_ctensor *wt, float x_scale, float out_scale) {
  if (wt->n_scales != 1 || node->n_in < 3 || node->in[2] < 0) return 0;
  const el_ctensor *bias = &c->t[node->in[2]];
  const double product = (double)(x_scale * wt->scales[0]);
  const double bias_scale = bias->n_scales == 1 ? (double)bias->scales[0] : 0.0;
  if (!(fabs(product - bias_scale) / (double)out_scale <= 0.02)) return el_defer(c, "bias scale differs");
  return 0;
}

static int lower_fully_connected(el_compiler *c, el_cnode *node) {
  int32_t x = -1, w = -1, out = -1;
  const int8_t *weights;
  const int32_t *bias;
  int64_t format, activation;
  int status;
  if ((status = el_options_of(c, node, OPT_FC, 0)) < 0 || (status = conv_operands(c, node, &x, &w, &out)) < 0 ||
      (status = int8_constant(c, w, 2, &weights)) < 0 ||
      (status = el_opt_int(c, node, FC_WEIGHTS_FORMAT, &format)) < 0 ||
      (status = el_opt_int(c, node, FC_ACTIVATION, &activation)) < 0)
    return status;
  if (format != 0) return el_defer(c, "FULLY_CONNECTED weights format %lld", (long long)format);
  const int64_t units = c->t[w].dims[0], k = c->t[w].dims[1];
  if ((status = weight_quant(c, w, units, 0)) < 0 || (status = bias32(c, node, units, &bias)) < 0) return status;
  float out_scale, x_scale;
  int64_t out_zero, zero, low, high;
  if ((status = per_tensor(c, out, &out_scale, &out_zero)) < 0 ||
      (status = int8_range(c, activation, out_scale, out_zero, &low, &high)) < 0 ||
      (status = per_tensor(c, x, &x_scale, &zero)) < 0)
    return status;
  const el_ctensor *wt = &c->t[w];
  if ((status = fc_bias_scale(c, node, wt, x_scale, out_scale)) < 0) return status;
  int packed, scratch, fmt;
  if ((status = gemm_weights(c, x, w, out, weights, units, k, wt->zeros[0], bias, zero, wt->n_scales == 1, &packed,
                             &scratch, &fmt)) < 0)
    return status;
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  const int64_t params[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, k, units, zero, out_zero, low, high, fmt};
  const int inputs[3] = {x_row, packed, scratch};
  const int row = el_node_row(c, EL_OP_QGEMM, inputs, 3, out, T_I8, params, 16);
  return row < 0 ? row : 0;
}

/* native_qgemm.choose_dw_format */
static int dw_format(const el_compiler *c, int64_t channels) {
  if (c->dw_format >= 0) return c->dw_format == QUADS ? QUADS : PAIRS;
  return strcmp(el_isa_name(el_isa_active()), "avx512vnni") == 0 && channels % DW_BLOCK == 0 ? QUADS : PAIRS;
}

static int lower_depthwise(el_compiler *c, el_cnode *node) {
  int32_t x = -1, w = -1, out = -1;
  const int8_t *weights;
  const int32_t *bias;
  int status;
  if ((status = el_options_of(c, node, OPT_DEPTHWISE, 0)) < 0 || (status = conv_operands(c, node, &x, &w, &out)) < 0 ||
      (status = shaped(c, x, 4)) < 0 || (status = shaped(c, out, 4)) < 0 ||
      (status = int8_constant(c, w, 4, &weights)) < 0)
    return status;
  const int64_t *wd = c->t[w].dims, kh = wd[1], kw = wd[2], oc = wd[3], channels = c->t[x].dims[3];
  if (wd[0] != 1 || oc != channels || c->t[out].dims[3] != oc || kh * kw > EL_DW_MAX_TAPS)
    return el_defer(c, "depth multiplier > 1, window too large or odd weights");
  if ((status = weight_quant(c, w, oc, 3)) < 0 || (status = zero_weight_points(c, w)) < 0) return status;
  int64_t out_zero, low, high, zero;
  float x_scale, out_scale;
  if ((status = conv_clamp(c, node, DW_ACTIVATION, out, &out_zero, &low, &high)) < 0 ||
      (status = per_tensor(c, x, &x_scale, &zero)) < 0 || (status = per_tensor(c, out, &out_scale, &out_zero)) < 0 ||
      (status = bias32(c, node, channels, &bias)) < 0)
    return status;
  static const int opts[5] = {DW_PADDING, DW_STRIDE_W, DW_STRIDE_H, DW_DILATION_W, DW_DILATION_H};
  el_window win;
  if ((status = el_window_of(c, node, opts, kh, kw, x, out, &win)) < 0) return status;
  int32_t source = x;
  const int fused = el_fuse_pad_input(c, &source, out, win.pads);
  const int fmt = dw_format(c, channels), taps = (int)(kh * kw);
  if (channels > ((int64_t)1 << 24)) return el_defer(c, "depthwise channels %lld", (long long)channels);
  const el_ctensor *wt = &c->t[w];
  int32_t *mult = PyMem_Malloc((size_t)channels * sizeof(int32_t));
  int32_t *shift = PyMem_Malloc((size_t)channels * sizeof(int32_t));
  int64_t *folded = PyMem_Malloc((size_t)channels * sizeof(int64_t));
  int packed = -1;
  if (mult == NULL || shift == NULL || folded == NULL) {
    PyErr_NoMemory();
    status = -1;
  } else if (el_pack_multipliers(wt->scales, (size_t)wt->n_scales, (size_t)channels, (double)x_scale,
                                 (double)out_scale, 0, mult, shift) < 0) {
    status = el_defer(c, "a requantization shift is outside [-31, 31]");
  } else {
    el_pack_qdwconv_bias(weights, (size_t)taps, (size_t)channels, bias, (int)zero, fmt == QUADS, folded);
    const int64_t nbytes = (int64_t)el_pack_qdwconv_bytes((size_t)taps, (size_t)channels, fmt == QUADS);
    char *data;
    packed = el_heap_row(c, nbytes, 1, EL_I8, 1, &nbytes, 0, &data);
    if (packed >= 0)
      el_pack_qdwconv(weights, (size_t)taps, (size_t)channels, folded, mult, shift, fmt == QUADS, data);
    status = packed < 0 ? packed : 0;
  }
  PyMem_Free(mult), PyMem_Free(shift), PyMem_Free(folded);
  if (status < 0) return status;
  char *pad;
  const int pad_row = el_heap_row(c, channels, 0, EL_I8, 1, &channels, 0, &pad);
  if (pad_row < 0) return pad_row;
  memset(pad, (int)(int8_t)zero, (size_t)channels);
  const int x_row = el_tensor_row(c, source, T_I8);
  if (x_row < 0) return x_row;
  const int64_t params[] = {kh, kw, win.sh, win.sw, win.dh, win.dw, win.pads[0], win.pads[1], out_zero, low, high,
                            channels - channels % 8, fmt};
  const int inputs[3] = {x_row, packed, pad_row};
  const int row = el_node_row(c, EL_OP_QDWCONV, inputs, 3, out, T_I8, params, 13);
  if (row >= 0 && fused) el_skip_pad(c, x);
  return row < 0 ? row : 0;
}

/* ------------------------------------------------------------------ pools, MEAN, SOFTMAX */

static int lower_pool(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  int64_t activation, low, high, zero;
  float scale;
  int status;
  el_window win;
  int64_t kh, kw;
  if ((status = el_options_of(c, node, OPT_POOL, 0)) < 0 || (status = operand(c, node, 0, &x)) < 0 ||
      (status = output_of(c, node, &out)) < 0 || (status = shaped(c, x, 4)) < 0 || (status = shaped(c, out, 4)) < 0 ||
      (status = el_opt_int(c, node, POOL_FILTER_H, &kh)) < 0 || (status = el_opt_int(c, node, POOL_FILTER_W, &kw)) < 0 ||
      (status = el_opt_int(c, node, POOL_ACTIVATION, &activation)) < 0)
    return status;
  static const int opts[5] = {POOL_PADDING, POOL_STRIDE_W, POOL_STRIDE_H, -1, -1};
  float in_scale;
  int64_t in_zero;
  if ((status = el_window_of(c, node, opts, kh, kw, x, out, &win)) < 0 || (status = per_tensor(c, x, &in_scale, &in_zero)) < 0 ||
      (status = per_tensor(c, out, &scale, &zero)) < 0 || (status = int8_range(c, activation, scale, zero, &low, &high)) < 0)
    return status;
  if (node->n_in != 1 || c->t[x].type != EL_T_INT8 || c->t[out].type != EL_T_INT8)
    return el_defer(c, "pool other than int8, of one input");
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  const int64_t params[] = {win.kh, win.kw, win.sh, win.sw, win.pads[0], win.pads[1], low, high};
  const int op = node->builtin == EL_B_MAX_POOL_2D ? EL_OP_QMAXPOOL : EL_OP_QAVGPOOL;
  const int row = el_node_row(c, op, &x_row, 1, out, T_I8, params, 8);
  return row < 0 ? row : 0;
}

/* The constant axes of MEAN are exactly {1, 2} of a rank-4 input (ops/_common.axis_list). */
static int mean_axes_hw(el_compiler *c, int32_t axes) {
  const el_ctensor *t = &c->t[axes];
  if (!el_is_constant(c, axes) || (t->type != EL_T_INT32 && t->type != EL_T_INT64))
    return el_defer(c, "MEAN axes not a constant");
  const int64_t count = el_count(t), size = t->type == EL_T_INT32 ? 4 : 8;
  if (t->data_bytes != count * size || count < 1 || count > 16) return el_defer(c, "MEAN axes");
  int seen[4] = {0, 0, 0, 0};
  for (int64_t k = 0; k < count; k++) {
    int64_t a;
    if (size == 4) {
      int32_t v;
      memcpy(&v, t->data + 4 * k, 4);
      a = v;
    } else {
      memcpy(&a, t->data + 8 * k, 8);
    }
    if (a < 0) a += 4;
    if (a < 0 || a > 3) return el_defer(c, "MEAN axis out of range");
    seen[a] = 1;
  }
  if (seen[0] || !seen[1] || !seen[2] || seen[3]) return el_defer(c, "MEAN other than over H and W");
  return 0;
}

static int lower_mean(el_compiler *c, el_cnode *node) {
  int32_t x = -1, axes = -1, out = -1;
  int64_t keep_dims, in_zero, out_zero;
  float in_scale, out_scale;
  int status;
  if ((status = el_options_of(c, node, OPT_REDUCER, 0)) < 0 || (status = operand(c, node, 0, &x)) < 0 ||
      (status = operand(c, node, 1, &axes)) < 0 || (status = output_of(c, node, &out)) < 0 ||
      (status = shaped(c, x, 4)) < 0 || (status = mean_axes_hw(c, axes)) < 0 ||
      (status = el_opt_int(c, node, 0, &keep_dims)) < 0 || (status = per_tensor(c, x, &in_scale, &in_zero)) < 0 ||
      (status = per_tensor(c, out, &out_scale, &out_zero)) < 0)
    return status;
  if (node->n_in != 2) return el_defer(c, "MEAN of %d inputs", node->n_in);
  const int64_t *shape = c->t[x].dims, count = shape[1] * shape[2];
  int64_t params[6], multiplier = 0, shift = 0;
  if (keep_dims) { /* mean.py's _mean_height_width, in float32 */
    float offset = (float)((float)in_zero * in_scale) / out_scale;
    offset = offset > 0 ? offset + 0.5f : offset - 0.5f;
    if (!isfinite(offset) || fabsf(offset) > 1e15f) return el_defer(c, "MEAN offset out of range");
    const float real = in_scale / ((float)count * out_scale);
    if ((status = multiplier_of(c, (double)real, &multiplier, &shift)) < 0) return status;
    const int64_t p[6] = {0, multiplier, shift, out_zero - (int64_t)offset, 0, shape[3] / 16 * 16};
    memcpy(params, p, sizeof p);
  } else { /* _mean_requantized */
    if ((status = multiplier_of(c, (double)in_scale / (double)out_scale, &multiplier, &shift)) < 0) return status;
    int64_t bits = 63 - __builtin_clzll((unsigned long long)count);
    if (bits > 32) bits = 32;
    if (bits > 31 + shift) bits = 31 + shift;
    if (bits < 0) return el_defer(c, "MEAN: negative shift");
    const int64_t p[6] = {1, el_floor_div(multiplier * ((int64_t)1 << bits), count), shift - bits, out_zero,
                          in_zero * count, 0};
    memcpy(params, p, sizeof p);
  }
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  const int row = el_node_row(c, EL_OP_QMEAN_HW, &x_row, 1, out, T_I8, params, 6);
  return row < 0 ? row : 0;
}

static int lower_softmax(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  double beta;
  float in_scale, out_scale;
  int64_t in_zero, out_zero;
  int status;
  if ((status = el_options_of(c, node, OPT_SOFTMAX, 0)) < 0 || (status = operand(c, node, 0, &x)) < 0 ||
      (status = output_of(c, node, &out)) < 0 || (status = el_opt_float(c, node, 0, &beta)) < 0 ||
      (status = per_tensor(c, x, &in_scale, &in_zero)) < 0 || (status = per_tensor(c, out, &out_scale, &out_zero)) < 0)
    return status;
  if (c->t[x].type != EL_T_INT8 || c->t[out].type != EL_T_INT8 || node->n_in != 1)
    return el_defer(c, "SOFTMAX other than int8 -> int8");
  if ((status = same_shape(c, x, out)) < 0) return status;
  if (out_scale != 1.0f / 256 || out_zero != -128) return el_defer(c, "SOFTMAX output not 1/256, -128");
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  PyObject *table = el_python_table(c, "softmax_exp", "(dd)", (double)in_scale, beta);
  const int table_row = python_row(c, table, EL_F32, 256, "softmax_exp");
  if (table_row < 0) return table_row;
  const int64_t params[2] = {el_f32_bits(out_scale), out_zero};
  const int inputs[2] = {x_row, table_row};
  const int row = el_node_row(c, EL_OP_QSOFTMAX, inputs, 2, out, T_I8, params, 2);
  return row < 0 ? row : 0;
}

/* ------------------------------------------------------------------ tables: QUANTIZE, DEQUANTIZE, activations */

/* native_int8._table_node: QLUT of x through a table the Python reference fills. */
static int table_node(el_compiler *c, int x_row, int32_t out, PyObject *table, const char *kind, int dtype,
                      int64_t count, int64_t lanes, unsigned out_types) {
  const int table_row = python_row(c, table, dtype, count, kind);
  if (table_row < 0) return table_row;
  const int64_t params[2] = {lanes, dtype};
  const int inputs[2] = {x_row, table_row};
  const int row = el_node_row(c, EL_OP_QLUT, inputs, 2, out, out_types, params, 2);
  return row < 0 ? row : 0;
}

static int lower_quantize(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  float out_scale, in_scale;
  int64_t out_zero, in_zero;
  int status;
  if ((status = operand(c, node, 0, &x)) < 0 || (status = output_of(c, node, &out)) < 0 ||
      (status = per_tensor(c, out, &out_scale, &out_zero)) < 0)
    return status;
  if (node->n_in != 1 || c->t[out].type != EL_T_INT8) return el_defer(c, "QUANTIZE to a non-int8 output");
  if ((status = same_shape(c, x, out)) < 0) return status;
  if (c->t[x].type == EL_T_FLOAT32) {
    const int x_row = el_tensor_row(c, x, T_F32);
    if (x_row < 0) return x_row;
    const int64_t params[4] = {el_f32_bits(1.0f / out_scale), el_f32_bits(out_scale), out_zero, 8};
    const int row = el_node_row(c, EL_OP_QUANTIZE, &x_row, 1, out, T_I8, params, 4);
    return row < 0 ? row : 0;
  }
  if (c->t[x].type != EL_T_INT8) return el_defer(c, "QUANTIZE of a non-float32, non-int8 input");
  if ((status = per_tensor(c, x, &in_scale, &in_zero)) < 0) return status;
  if (!isfinite((double)in_scale / (double)out_scale)) return el_defer(c, "requantization scale not finite");
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  PyObject *table = el_python_table(c, "requantize", "(dLdL)", (double)in_scale, (long long)in_zero,
                                    (double)out_scale, (long long)out_zero);
  return table_node(c, x_row, out, table, "requantize", EL_I8, 512, 16, T_I8);
}

static int lower_dequantize(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  float scale;
  int64_t zero;
  int status;
  if ((status = operand(c, node, 0, &x)) < 0 || (status = output_of(c, node, &out)) < 0) return status;
  if (node->n_in != 1 || c->t[x].type != EL_T_INT8 || c->t[out].type != EL_T_FLOAT32)
    return el_defer(c, "DEQUANTIZE other than int8 -> float32");
  if ((status = per_tensor(c, x, &scale, &zero)) < 0 || (status = same_shape(c, x, out)) < 0) return status;
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  PyObject *table = el_python_table(c, "dequantize", "(dL)", (double)scale, (long long)zero);
  return table_node(c, x_row, out, table, "dequantize", EL_F32, 512, 8, T_F32);
}

static const char *table_op_name(int builtin) {
  switch (builtin) {
    case EL_B_LOGISTIC: return "LOGISTIC";
    case EL_B_TANH: return "TANH";
    case EL_B_HARD_SWISH: return "HARD_SWISH";
    case EL_B_RELU: return "RELU";
    case EL_B_RELU6: return "RELU6";
    case EL_B_RELU_N1_TO_1: return "RELU_N1_TO_1";
    case EL_B_RELU_0_TO_1: return "RELU_0_TO_1";
    case EL_B_LEAKY_RELU: return "LEAKY_RELU";
    case EL_B_ELU: return "ELU";
    case EL_B_GELU: return "GELU";
    default: return NULL;
  }
}

/* An int8 activation (native_int8.TABLE_OPS): the reference kernel run on every int8 value
 * (activation_table; it also runs the op's prepare-time check, and refuses what it rejects). */
static int lower_table(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  float in_scale, out_scale;
  int64_t in_zero, out_zero;
  double option = 0.0;
  int status;
  const char *name = table_op_name(node->builtin);
  if (name == NULL || (status = operand(c, node, 0, &x)) < 0 || (status = output_of(c, node, &out)) < 0)
    return name == NULL ? el_defer(c, "no int8 table op %d", node->builtin) : status;
  if (node->n_in != 1 || c->t[x].type != EL_T_INT8 || c->t[out].type != EL_T_INT8)
    return el_defer(c, "not an int8 -> int8 activation");
  if ((status = per_tensor(c, x, &in_scale, &in_zero)) < 0 || (status = per_tensor(c, out, &out_scale, &out_zero)) < 0 ||
      (status = same_shape(c, x, out)) < 0)
    return status;
  if (node->builtin == EL_B_LEAKY_RELU || node->builtin == EL_B_GELU) {
    if ((status = el_options_of(c, node, node->builtin == EL_B_GELU ? OPT_GELU : OPT_LEAKY_RELU, 0)) < 0 ||
        (status = el_opt_float(c, node, 0, &option)) < 0)
      return status;
  } else if (node->options_code != 0 && !(node->builtin == EL_B_HARD_SWISH && node->options_code == OPT_HARD_SWISH)) {
    return el_defer(c, "activation %s with options", name);
  }
  const int x_row = el_tensor_row(c, x, T_I8);
  if (x_row < 0) return x_row;
  PyObject *table = el_python_table(c, "activation", "(sdLdLd)", name, (double)in_scale, (long long)in_zero,
                                    (double)out_scale, (long long)out_zero, option);
  return table_node(c, x_row, out, table, "activation", EL_I8, 512, 0, T_I8);
}

/* ------------------------------------------------------------------ QBINARY: ADD, SUB, MUL */

/* native.collapse_broadcast(out, a, b): dims and element strides, adjacent dims merged. */
static int collapse_broadcast(const el_ctensor *out, const el_ctensor *a, const el_ctensor *b, int64_t dims[6],
                              int64_t sa[6], int64_t sb[6]) {
  const int rank = out->rank;
  if (rank != (a->rank > b->rank ? a->rank : b->rank)) return -1;
  int64_t total = el_count(out);
  int same = a->rank == rank && b->rank == rank;
  for (int d = 0; same && d < rank; d++) same = a->dims[d] == out->dims[d] && b->dims[d] == out->dims[d];
  for (int d = 0; d < 6; d++) dims[d] = 1, sa[d] = sb[d] = 0;
  if (same && rank > 0 && total > 1) {
    dims[5] = total, sa[5] = sb[5] = 1;
    return 0;
  }
  int64_t kd[6], ka[6], kb[6];
  int n = 0;
  const el_ctensor *shapes[2] = {a, b};
  int64_t strides[2][6];
  for (int s = 0; s < 2; s++) {
    const el_ctensor *t = shapes[s];
    if (t->rank > rank) return -1;
    int64_t padded[6], contiguous = 1;
    for (int d = 0; d < rank; d++) padded[d] = d < rank - t->rank ? 1 : t->dims[d - (rank - t->rank)];
    for (int d = 0; d < rank; d++)
      if (padded[d] != 1 && padded[d] != out->dims[d]) return -1; /* out is not the broadcast shape */
    for (int d = rank - 1; d >= 0; d--) {
      strides[s][d] = padded[d] == 1 && out->dims[d] != 1 ? 0 : contiguous;
      contiguous *= padded[d];
    }
  }
  for (int d = 0; d < rank; d++) {
    if (out->dims[d] != 1 && strides[0][d] == 0 && strides[1][d] == 0) return -1; /* stretched from 1 on both */
    if (out->dims[d] != 1) kd[n] = out->dims[d], ka[n] = strides[0][d], kb[n] = strides[1][d], n++;
  }
  for (int i = n - 2; i >= 0; i--) {
    if (ka[i] == ka[i + 1] * kd[i + 1] && kb[i] == kb[i + 1] * kd[i + 1]) {
      kd[i] *= kd[i + 1], ka[i] = ka[i + 1], kb[i] = kb[i + 1];
      for (int j = i + 1; j + 1 < n; j++) kd[j] = kd[j + 1], ka[j] = ka[j + 1], kb[j] = kb[j + 1];
      n--;
    }
  }
  for (int k = 0; k < n; k++) dims[6 - n + k] = kd[k], sa[6 - n + k] = ka[k], sb[6 - n + k] = kb[k];
  return 0;
}

/* native_int8.lane_row: (row, lanes, path) of LiteRT's broadcast loops; scalar_row_lanes < 0: None. */
static void lane_row(const el_ctensor *ta, const el_ctensor *tb, int64_t row_lanes, int64_t scalar_row_lanes,
                     int64_t out[3]) {
  const int rank = ta->rank > tb->rank ? ta->rank : tb->rank;
  int64_t a[6], b[6], total = 1;
  for (int d = 0; d < rank; d++) {
    a[d] = d < rank - ta->rank ? 1 : ta->dims[d - (rank - ta->rank)];
    b[d] = d < rank - tb->rank ? 1 : tb->dims[d - (rank - tb->rank)];
    total *= a[d] == 1 ? b[d] : a[d];
  }
  int same = 1, last = -1;
  for (int d = 0; d < rank; d++)
    if (a[d] != b[d]) same = 0, last = d;
  out[0] = total, out[1] = 0, out[2] = 1;
  if (same) {
    out[1] = row_lanes;
    return;
  }
  if (scalar_row_lanes < 0) return;
  if (a[last] != 1)
    for (int d = 0; d < rank; d++) {
      const int64_t swap = a[d];
      a[d] = b[d], b[d] = swap;
    }
  int64_t fold[5] = {1, 1, 1, 1, 1};
  int i = rank - 1;
  for (int slot = 4; slot >= 0; slot--) {
    for (; i >= 0; i--) {
      const int take = slot == 3 ? a[i] == 1 : slot == 1 ? b[i] == 1 : a[i] == b[i];
      if (!take) break;
      fold[slot] *= a[i] > b[i] ? a[i] : b[i];
    }
  }
  if (i >= 0) return;
  if (fold[4] > 1) out[0] = fold[4], out[1] = row_lanes;
  else out[0] = fold[3], out[1] = scalar_row_lanes, out[2] = 2;
}

/* _qbinary.affine + fused_range: per-tensor scales and zero points and the clamp. */
static int binary_quant(el_compiler *c, const el_cnode *node, int32_t a, int32_t b, int32_t out, float scales[3],
                        int64_t zeros[3], int64_t *low, int64_t *high) {
  int64_t activation;
  int status;
  if ((status = per_tensor(c, a, &scales[0], &zeros[0])) < 0 || (status = per_tensor(c, b, &scales[1], &zeros[1])) < 0 ||
      (status = per_tensor(c, out, &scales[2], &zeros[2])) < 0 ||
      (status = el_opt_int(c, node, 0, &activation)) < 0)
    return status;
  return int8_range(c, activation, scales[2], zeros[2], low, high);
}

static int lower_binary(el_compiler *c, el_cnode *node) {
  int32_t a = -1, b = -1, out = -1;
  int status;
  const int table = node->builtin == EL_B_ADD ? OPT_ADD : node->builtin == EL_B_SUB ? OPT_SUB : OPT_MUL;
  if ((status = el_options_of(c, node, table, 0)) < 0 || (status = operand(c, node, 0, &a)) < 0 ||
      (status = operand(c, node, 1, &b)) < 0 || (status = output_of(c, node, &out)) < 0)
    return status;
  if (node->n_in != 2 || c->t[a].type != EL_T_INT8 || c->t[b].type != EL_T_INT8 || c->t[out].type != EL_T_INT8)
    return el_defer(c, "binary op other than int8");
  const int a_row = el_tensor_row(c, a, T_I8);
  if (a_row < 0) return a_row;
  const int b_row = el_tensor_row(c, b, T_I8);
  if (b_row < 0) return b_row;
  int64_t dims[6], sa[6], sb[6];
  if (collapse_broadcast(&c->t[out], &c->t[a], &c->t[b], dims, sa, sb) < 0 || dims[0] != 1 || dims[1] != 1)
    return el_defer(c, "int8 broadcast needs more than 4 dims");
  float scales[3];
  int64_t zeros[3], low, high, params[28];
  if ((status = binary_quant(c, node, a, b, out, scales, zeros, &low, &high)) < 0) return status;
  memset(params, 0, sizeof params);
  params[2] = zeros[0], params[3] = zeros[1], params[4] = zeros[2], params[5] = low, params[6] = high;
  int64_t row_lanes, scalar_lanes;
  if (node->builtin == EL_B_MUL) {
    const float real = (scales[0] * scales[1]) / scales[2];
    if (!isfinite(real)) return el_defer(c, "MUL multiplier not finite");
    params[0] = 1;
    if ((status = multiplier_of(c, (double)real, &params[7], &params[8])) < 0) return status;
    row_lanes = 16, scalar_lanes = 16;
  } else {
    const double twice_max = 2 * (double)(scales[0] > scales[1] ? scales[0] : scales[1]);
    params[0] = node->builtin == EL_B_ADD ? 0 : 2;
    if ((status = multiplier_below_one(c, (double)scales[0] / twice_max, &params[7], &params[8])) < 0 ||
        (status = multiplier_below_one(c, (double)scales[1] / twice_max, &params[9], &params[10])) < 0 ||
        (status = multiplier_below_one(c, twice_max / ((double)(1 << 20) * (double)scales[2]), &params[11],
                                       &params[12])) < 0)
      return status;
    params[13] = 20;
    row_lanes = node->builtin == EL_B_ADD ? 16 : 0, scalar_lanes = node->builtin == EL_B_ADD ? 8 : -1;
  }
  int64_t lanes[3];
  lane_row(&c->t[a], &c->t[b], row_lanes, scalar_lanes, lanes);
  params[1] = lanes[1], params[14] = lanes[0], params[15] = lanes[2];
  for (int d = 0; d < 4; d++) params[16 + d] = dims[2 + d], params[20 + d] = sa[2 + d], params[24 + d] = sb[2 + d];
  const int inputs[2] = {a_row, b_row};
  const int row = el_node_row(c, EL_OP_QBINARY, inputs, 2, out, T_I8, params, 28);
  return row < 0 ? row : 0;
}

/* int8 MAXIMUM / MINIMUM (native_int8.lower_minmax): raw values compared, QBINARY ops 3 / 4. */
static int lower_minmax(el_compiler *c, el_cnode *node) {
  int32_t a = -1, b = -1, out = -1;
  int status;
  if ((status = operand(c, node, 0, &a)) < 0 || (status = operand(c, node, 1, &b)) < 0 ||
      (status = output_of(c, node, &out)) < 0)
    return status;
  if (node->n_in != 2 || c->t[a].type != EL_T_INT8 || c->t[b].type != EL_T_INT8 || c->t[out].type != EL_T_INT8)
    return el_defer(c, "MAXIMUM / MINIMUM other than int8");
  const int a_row = el_tensor_row(c, a, T_I8);
  if (a_row < 0) return a_row;
  const int b_row = el_tensor_row(c, b, T_I8);
  if (b_row < 0) return b_row;
  int64_t dims[6], sa[6], sb[6], params[28];
  if (collapse_broadcast(&c->t[out], &c->t[a], &c->t[b], dims, sa, sb) < 0 || dims[0] != 1 || dims[1] != 1)
    return el_defer(c, "int8 broadcast needs more than 4 dims");
  memset(params, 0, sizeof params);
  params[0] = node->builtin == EL_B_MAXIMUM ? 3 : 4, params[5] = -128, params[6] = 127;
  params[14] = el_count(&c->t[out]), params[15] = 1;
  for (int d = 0; d < 4; d++) params[16 + d] = dims[2 + d], params[20 + d] = sa[2 + d], params[24 + d] = sb[2 + d];
  const int inputs[2] = {a_row, b_row};
  const int row = el_node_row(c, EL_OP_QBINARY, inputs, 2, out, T_I8, params, 28);
  return row < 0 ? row : 0;
}

/* ------------------------------------------------------------------ byte movers */

/* ops/_shape.check_movement: a and b have the same quantization (scales and zero points), or none. */
static int same_quant_key(const el_compiler *c, int32_t a, int32_t b) {
  const el_ctensor *x = &c->t[a], *y = &c->t[b];
  if (x->n_scales == 0 || y->n_scales == 0) return x->n_scales == y->n_scales;
  if (x->n_scales != y->n_scales || x->n_zeros != y->n_zeros) return 0;
  for (int k = 0; k < x->n_scales; k++)
    if (!(x->scales[k] == y->scales[k])) return 0;
  for (int k = 0; k < x->n_zeros; k++)
    if (x->zeros[k] != y->zeros[k]) return 0;
  return 1;
}

static int lower_copy(el_compiler *c, el_cnode *node) {
  int32_t x = -1, out = -1;
  int status;
  if ((status = operand(c, node, 0, &x)) < 0 || (status = output_of(c, node, &out)) < 0) return status;
  if (!same_quant_key(c, x, out)) return el_defer(c, "data movement between quantizations");
  const int x_row = el_tensor_row(c, x, T_COPIED);
  if (x_row < 0) return x_row;
  const int row = el_node_row(c, EL_OP_BYTECOPY, &x_row, 1, out, T_COPIED, NULL, 0);
  return row < 0 ? row : 0;
}

/* Whether tensors a and b have one and the same per-tensor quantization. */
static int same_quant(const el_compiler *c, int32_t a, int32_t b) {
  const el_ctensor *x = &c->t[a], *y = &c->t[b];
  return x->n_scales == 1 && y->n_scales == 1 && x->n_zeros == 1 && y->n_zeros == 1 && x->scales[0] == y->scales[0] &&
         x->zeros[0] == y->zeros[0];
}

static int lower_concat(el_compiler *c, el_cnode *node) {
  int32_t out = -1;
  int64_t axis, activation;
  int status;
  if ((status = el_options_of(c, node, OPT_CONCAT, 0)) < 0 || (status = output_of(c, node, &out)) < 0 ||
      (status = el_opt_int(c, node, CONCAT_AXIS, &axis)) < 0 ||
      (status = el_opt_int(c, node, CONCAT_ACTIVATION, &activation)) < 0)
    return status;
  if (node->n_in < 1 || node->n_in > EL_MAX_INPUTS || activation != EL_ACT_NONE)
    return el_defer(c, "too many inputs or a fused activation");
  const int rank = c->t[out].rank;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return el_defer(c, "CONCATENATION axis out of range");
  int inputs[EL_MAX_INPUTS];
  for (int k = 0; k < node->n_in; k++) {
    int32_t i = -1;
    if ((status = operand(c, node, k, &i)) < 0) return status;
    if (c->t[i].type != c->t[out].type || !same_quant(c, i, out) ||
        (c->t[out].type == EL_T_INT16 && c->t[out].zeros[0] != 0))
      return el_defer(c, "CONCATENATION of differently quantized inputs, or of asymmetric int16");
    if ((inputs[k] = el_tensor_row(c, i, T_MOVED)) < 0) return inputs[k];
  }
  const int row = el_node_row(c, EL_OP_QCONCAT, inputs, node->n_in, out, T_MOVED, &axis, 1);
  return row < 0 ? row : 0;
}

/* PAD's constant paddings: 2 x rank non-negative int32 / int64 values (ops/_shape.paddings). */
static int pad_pairs(el_compiler *c, int32_t i, int rank, int64_t *pairs) {
  if (el_int_values(c, i, pairs, 2 * rank) != 2 * rank) return el_defer(c, "PAD paddings not a constant [%d, 2]", rank);
  for (int k = 0; k < 2 * rank; k++)
    if (pairs[k] < 0) return el_defer(c, "PAD by a negative amount");
  return 0;
}

/* native_int8._pad_table: output element -> input element, -1 where it writes the fill. */
static void pad_table(const el_ctensor *x, const el_ctensor *out, const int64_t *pairs, int32_t *table) {
  const int64_t out_count = el_count(out), count = el_count(x);
  for (int64_t k = 0; k < out_count; k++) table[k] = -1;
  int64_t index[EL_MAX_RANK] = {0};
  for (int64_t k = 0; k < count; k++) {
    int64_t at = 0;
    for (int d = 0; d < x->rank; d++) at = at * out->dims[d] + index[d] + pairs[2 * d];
    table[at] = (int32_t)k;
    for (int d = x->rank - 1; d >= 0; d--) { /* the next input element, row-major */
      if (++index[d] < x->dims[d]) break;
      index[d] = 0;
    }
  }
}

/* int8 / int16 PAD as QGATHER through an index table (native_int8.lower_gather); an int8 PAD of
 * height and width by its zero point is offered to the next convolution (_offer_pad). */
static int lower_pad(el_compiler *c, el_cnode *node) {
  int32_t x = -1, p = -1, out = -1;
  float in_scale, out_scale;
  int64_t in_zero, out_zero, pairs[2 * EL_MAX_RANK];
  int status;
  if ((status = operand(c, node, 0, &x)) < 0 || (status = operand(c, node, 1, &p)) < 0 ||
      (status = output_of(c, node, &out)) < 0)
    return status;
  const el_ctensor *xt = &c->t[x], *ot = &c->t[out];
  if (node->n_in != 2 || xt->type != ot->type || (xt->type != EL_T_INT8 && xt->type != EL_T_INT16))
    return el_defer(c, "PAD other than int8 / int16 of one type");
  if ((status = per_tensor(c, x, &in_scale, &in_zero)) < 0 || (status = per_tensor(c, out, &out_scale, &out_zero)) < 0 ||
      (status = pad_pairs(c, p, xt->rank, pairs)) < 0)
    return status;
  if (ot->rank != xt->rank || !same_quant_key(c, x, out)) return el_defer(c, "PAD output rank or quantization");
  for (int d = 0; d < xt->rank; d++)
    if (xt->dims[d] + pairs[2 * d] + pairs[2 * d + 1] != ot->dims[d]) return el_defer(c, "PAD output shape");
  const int64_t count = el_count(xt), out_count = el_count(ot);
  if (count >= ((int64_t)1 << 30) || out_count >= ((int64_t)1 << 28)) return el_defer(c, "PAD too large");
  const int x_row = el_tensor_row(c, x, T_MOVED);
  if (x_row < 0) return x_row;
  char *data;
  const int table_row = el_heap_row(c, out_count * 4, 0, EL_I32, 1, &out_count, 0, &data);
  if (table_row < 0) return table_row;
  pad_table(xt, ot, pairs, (int32_t *)(void *)data);
  const int padded = out_count > count;
  const int64_t fill = padded ? out_zero : 0;
  const int inputs[2] = {x_row, table_row};
  const int row = el_node_row(c, EL_OP_QGATHER, inputs, 2, out, T_MOVED, &fill, 1);
  if (row < 0) return row;
  if (xt->type == EL_T_INT8 && in_scale == out_scale && in_zero == out_zero && (!padded || fill == in_zero))
    el_offer_pad(c, node, row, xt->rank, pairs);
  return 0;
}

/* ------------------------------------------------------------------ prepares with int8 checks */

const el_compile_op el_compile_int8[EL_B_COUNT] = {
    [EL_B_QUANTIZE] = {el_prepare_same, lower_quantize},
    [EL_B_CONV_2D] = {el_prepare_conv, lower_conv},
    [EL_B_DEPTHWISE_CONV_2D] = {el_prepare_depthwise, lower_depthwise},
    [EL_B_FULLY_CONNECTED] = {el_prepare_fully_connected, lower_fully_connected},
    [EL_B_ADD] = {el_prepare_broadcast, lower_binary},
    [EL_B_SUB] = {el_prepare_broadcast, lower_binary},
    [EL_B_MUL] = {el_prepare_broadcast, lower_binary},
    [EL_B_MAXIMUM] = {el_prepare_broadcast, lower_minmax},
    [EL_B_MINIMUM] = {el_prepare_broadcast, lower_minmax},
    [EL_B_MAX_POOL_2D] = {el_prepare_pool, lower_pool},
    [EL_B_AVERAGE_POOL_2D] = {el_prepare_pool, lower_pool},
    [EL_B_MEAN] = {el_prepare_mean, lower_mean},
    [EL_B_SOFTMAX] = {el_prepare_same, lower_softmax},
    [EL_B_DEQUANTIZE] = {el_prepare_same, lower_dequantize},
    [EL_B_LOGISTIC] = {el_prepare_same, lower_table},
    [EL_B_TANH] = {el_prepare_same, lower_table},
    [EL_B_HARD_SWISH] = {el_prepare_same, lower_table},
    [EL_B_RELU] = {el_prepare_same, lower_table},
    [EL_B_RELU6] = {el_prepare_same, lower_table},
    [EL_B_RELU_N1_TO_1] = {el_prepare_same, lower_table},
    [EL_B_RELU_0_TO_1] = {el_prepare_same, lower_table},
    [EL_B_LEAKY_RELU] = {el_prepare_same, lower_table},
    [EL_B_ELU] = {el_prepare_same, lower_table},
    [EL_B_GELU] = {el_prepare_same, lower_table},
    [EL_B_RESHAPE] = {el_prepare_reshape, lower_copy},
    [EL_B_SQUEEZE] = {el_prepare_reshape, lower_copy},
    [EL_B_EXPAND_DIMS] = {el_prepare_reshape, lower_copy},
    [EL_B_CONCATENATION] = {el_prepare_concat, lower_concat},
    [EL_B_PAD] = {el_prepare_pad, lower_pad},
};
