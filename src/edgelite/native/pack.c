/* Weight packers of the lowering (include/el_pack.h): runtime/native*.py hands each node's whole
 * weight array here once, at allocate_tensors, instead of a few dozen numpy calls. The bytes are
 * those the numpy packers of tests/native/packers.py (the oracle) build. */
#include "include/el_pack.h"

#include <math.h>
#include <string.h>

#include "include/el_kernels.h"

void el_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift) {
  int exponent = 0;
  const double fraction = frexp(real, &exponent);
  double m = floor(fabs(fraction) * 2147483648.0 + 0.5);
  if (fraction < 0) m = -m;
  if (m == 2147483648.0) { m /= 2; exponent += 1; } /* only the positive side overflows, as numpy's */
  if (exponent < -31) { m = 0; exponent = 0; }
  *multiplier = (int32_t)(int64_t)m;
  *shift = exponent;
}

int el_pack_multipliers(const float *scales, size_t n_scales, size_t channels, double input_scale,
                        double output_scale, int float_product, int32_t *mult, int32_t *shift) {
  if (n_scales == 1 && channels > 1) { /* one scale: one multiplier */
    if (el_pack_multipliers(scales, 1, 1, input_scale, output_scale, float_product, mult, shift) < 0) return -1;
    for (size_t c = 1; c < channels; c++) mult[c] = mult[0], shift[c] = shift[0];
    return 0;
  }
  for (size_t c = 0; c < channels; c++) {
    const float ws = scales[n_scales == 1 ? 0 : c];
    const double product = float_product ? (double)((float)input_scale * ws) : input_scale * (double)ws;
    const double real = product / output_scale;
    if (!isfinite(real)) return -1;
    el_quantize_multiplier(real, &mult[c], &shift[c]);
    if (shift[c] < -31 || shift[c] > 31) return -1;
  }
  return 0;
}

/* -- float32 gemm panels (ops_conv.c) ----------------------------------------------------------- */
size_t el_pack_gemm_bytes(size_t groups, size_t n, size_t k) {
  return groups * ((n + EL_GEMM_NR - 1) / EL_GEMM_NR) * (k + 1) * EL_GEMM_NR * 4;
}

void el_pack_gemm(const uint32_t *w, const uint32_t *bias, size_t groups, size_t n, size_t k, uint32_t *out) {
  const size_t panels = (n + EL_GEMM_NR - 1) / EL_GEMM_NR;
  for (size_t g = 0; g < groups; g++)
    for (size_t p = 0; p < panels; p++) {
      const size_t first = p * EL_GEMM_NR, count = n - first < EL_GEMM_NR ? n - first : EL_GEMM_NR;
      const uint32_t *rows = w + (g * n + first) * k;
      uint32_t *line = out + (g * panels + p) * (k + 1) * EL_GEMM_NR;
      for (size_t j = 0; j < EL_GEMM_NR; j++) line[j] = bias != NULL && j < count ? bias[g * n + first + j] : 0;
      line += EL_GEMM_NR; /* then row i of the panel: column j from weight row first + j (16 read streams) */
      if (count == EL_GEMM_NR) {
        for (size_t i = 0; i < k; i++, line += EL_GEMM_NR)
          for (size_t j = 0; j < EL_GEMM_NR; j++) line[j] = rows[j * k + i];
        continue;
      }
      for (size_t i = 0; i < k; i++, line += EL_GEMM_NR)
        for (size_t j = 0; j < EL_GEMM_NR; j++) line[j] = j < count ? rows[j * k + i] : 0;
    }
}

/* -- int8 channel groups (el_qkernels.h) ------------------------------------------------------- */
/* A group's header for its first `count` channels; channels past `count` are zero (bias,
 * multiplier and shift), with the derived words of shift 0. */
static void write_header(char *header, const int64_t *bias, const int32_t *mult, const int32_t *shift,
                         size_t count) {
  for (size_t c = 0; c < EL_QGROUP; c++) {
    const int32_t b = c < count && bias != NULL ? (int32_t)(uint32_t)(uint64_t)bias[c] : 0;
    const int32_t mu = c < count ? mult[c] : 0, s = c < count ? shift[c] : 0, left = s > 0 ? s : 0;
    memcpy(header + EL_QHDR_BIAS + 4 * c, &b, 4);
    memcpy(header + EL_QHDR_MULT + 4 * c, &mu, 4);
    memcpy(header + EL_QHDR_SHIFT + 4 * c, &s, 4);
    memcpy(header + EL_QHDR_LEFT + 4 * c, &left, 4);
    const uint64_t right = s < 0 ? (uint64_t)-s : 0;
    const uint64_t words[3] = {((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0) + ((uint64_t)1 << 63),
                               31 + right, (uint64_t)1 << (32 - right)};
    const size_t lane = (c % 8) / 2 + (c % 2) * 4, half = c / 8; /* even channels, then odd */
    for (int w = 0; w < 3; w++) memcpy(header + EL_QHDR_ROUND + 128 * w + 64 * half + 8 * lane, &words[w], 8);
  }
}

int el_pack_qgemm_fits_quads(const int8_t *w, size_t count, int weight_zero) {
  if (weight_zero == 0) return 1; /* int8 weights */
  for (size_t i = 0; i < count; i++)
    if (w[i] - weight_zero < -128 || w[i] - weight_zero > 127) return 0;
  return 1;
}

/* The sum of a row of k int8 weights (|sum| <= 128 x 2^24): in blocks of 16, a loop of a fixed
 * count the compiler vectorizes at -O2 (rows are often shorter than 64). */
static int32_t row_sum(const int8_t *w, size_t k) {
  int32_t total = 0;
  size_t i = 0;
  for (; i + 16 <= k; i += 16) {
    int32_t block = 0;
    for (int j = 0; j < 16; j++) block += w[i + j];
    total += block;
  }
  for (; i < k; i++) total += w[i];
  return total;
}

void el_pack_qgemm_bias(const int8_t *w, size_t n, size_t k, int weight_zero, const int32_t *bias, int input_zero,
                        int quads, int64_t *folded) {
  for (size_t c = 0; c < n; c++) {
    int64_t sum = 0;
    if (quads) sum = (int64_t)row_sum(w + c * k, k) - (int64_t)weight_zero * (int64_t)k;
    folded[c] = (bias ? bias[c] : 0) - (int64_t)(input_zero + 128) * sum;
  }
}

static size_t qgemm_group_bytes(size_t k, int quads) {
  return EL_QGROUP_HEADER + (quads ? (k + 3) / 4 * 4 * 16 : (k + (k & 1)) * 32);
}

size_t el_pack_qgemm_bytes(size_t n, size_t k, int quads) {
  return (n + EL_QGROUP - 1) / EL_QGROUP * qgemm_group_bytes(k, quads);
}

void el_pack_qgemm(const int8_t *w, size_t n, size_t k, int weight_zero, const int64_t *bias, const int32_t *mult,
                   const int32_t *shift, int quads, char *out) {
  const size_t groups = (n + EL_QGROUP - 1) / EL_QGROUP, group_bytes = qgemm_group_bytes(k, quads);
  for (size_t g = 0; g < groups; g++) {
    char *group = out + g * group_bytes;
    const size_t first = g * EL_QGROUP, count = n - first < EL_QGROUP ? n - first : EL_QGROUP;
    write_header(group, bias ? bias + first : NULL, mult + first, shift + first, count);
    for (size_t c = 0; c < count; c++) {
      const int8_t *src = w + (first + c) * k;
      size_t i = 0;
      if (quads) { /* 4 weights a store: w[c][4q .. 4q + 3] at 64 q + 4 c */
        int8_t *body = (int8_t *)(group + EL_QGROUP_HEADER) + 4 * c;
        for (; i + 4 <= k; i += 4) {
          int8_t quad[4];
          for (int j = 0; j < 4; j++) quad[j] = (int8_t)(src[i + j] - weight_zero);
          memcpy(body + i * 16, quad, 4);
        }
        for (; i < k; i++) body[(i / 4) * 64 + (i & 3)] = (int8_t)(src[i] - weight_zero);
      } else { /* 2 weights a store: w[c][2p], w[c][2p + 1] at 32 p + 2 c */
        int16_t *body = (int16_t *)(group + EL_QGROUP_HEADER) + 2 * c;
        for (; i + 2 <= k; i += 2) {
          const int16_t pair[2] = {(int16_t)(src[i] - weight_zero), (int16_t)(src[i + 1] - weight_zero)};
          memcpy(body + i * 16, pair, 4);
        }
        if (i < k) body[(i / 2) * 32] = (int16_t)(src[i] - weight_zero);
      }
    }
  }
}

/* Channel of each int32 lane pair of the qdwconv body (its own inverse). */
static const int dw_slots[EL_QGROUP] = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15};

void el_pack_qdwconv_bias(const int8_t *w, size_t taps, size_t c, const int32_t *bias, int input_zero, int quads,
                          int64_t *folded) {
  for (size_t ch = 0; ch < c; ch++) folded[ch] = bias ? bias[ch] : 0;
  const int64_t offset = input_zero + (quads ? 128 : 0);
  for (size_t t = 0; t < taps; t++)
    for (size_t ch = 0; ch < c; ch++) folded[ch] -= offset * w[t * c + ch];
}

static size_t qdwconv_group_bytes(size_t taps, int quads) {
  return EL_QGROUP_HEADER + (quads ? (taps + 3) / 4 : (taps + 1) / 2) * 64;
}

size_t el_pack_qdwconv_bytes(size_t taps, size_t c, int quads) {
  return (c + EL_QGROUP - 1) / EL_QGROUP * qdwconv_group_bytes(taps, quads);
}

void el_pack_qdwconv(const int8_t *w, size_t taps, size_t c, const int64_t *bias, const int32_t *mult,
                     const int32_t *shift, int quads, char *out) {
  const size_t groups = (c + EL_QGROUP - 1) / EL_QGROUP, group_bytes = qdwconv_group_bytes(taps, quads);
  for (size_t g = 0; g < groups; g++) {
    char *group = out + g * group_bytes;
    const size_t first = g * EL_QGROUP, count = c - first < EL_QGROUP ? c - first : EL_QGROUP;
    write_header(group, bias + first, mult + first, shift + first, count);
    for (size_t t = 0; t < taps; t++)
      for (size_t local = 0; local < count; local++) {
        const int8_t value = w[t * c + first + local];
        if (quads)
          ((int8_t *)(group + EL_QGROUP_HEADER))[(t / 4) * 64 + local * 4 + (t & 3)] = value;
        else
          ((int16_t *)(group + EL_QGROUP_HEADER))[(t / 2) * 32 + (size_t)dw_slots[local] * 2 + (t & 1)] = value;
      }
  }
}

/* -- hybrid groups (el_hkernels.h) ------------------------------------------------------------- */
size_t el_pack_hgemm_bytes(size_t n, size_t k) {
  return (n + EL_HGROUP - 1) / EL_HGROUP * (EL_HGROUP_HEADER + (k + (k & 1)) * 32);
}

void el_pack_hgemm(const int8_t *w, size_t n, size_t k, const uint32_t *scales, size_t n_scales,
                   const uint32_t *bias, char *out) {
  const size_t group_bytes = EL_HGROUP_HEADER + (k + (k & 1)) * 32;
  for (size_t ch = 0; ch < n; ch++) {
    char *group = out + ch / EL_HGROUP * group_bytes;
    const size_t local = ch % EL_HGROUP;
    memcpy(group + 4 * local, &scales[n_scales == 1 ? 0 : ch], 4);
    if (bias != NULL) memcpy(group + 4 * (EL_HGROUP + local), &bias[ch], 4);
    int16_t *body = (int16_t *)(group + EL_HGROUP_HEADER) + 2 * local;
    for (size_t i = 0; i < k; i++) body[(i / 2) * 32 + (i & 1)] = w[ch * k + i];
  }
}
