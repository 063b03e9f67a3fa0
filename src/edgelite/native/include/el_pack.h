/* Weight packers of the lowering (pack.c): whole weight arrays into the layouts the kernels read --
 * float32 gemm panels (ops_conv.c), qgemm / qgemmc4 / qdwconv / qdwconvc4 channel groups with their
 * 640-byte headers (el_qkernels.h), hgemm groups (el_hkernels.h) -- one call per node. Callers
 * (the CPython binding _pack.c) have checked every extent and buffer size; `out` holds the
 * *_bytes() the format needs, zeroed (el_pack_gemm writes every byte itself, padding included). */
#ifndef EL_PACK_H
#define EL_PACK_H

#include <stddef.h>
#include <stdint.h>

/* TFLite's QuantizeMultiplier: real = multiplier x 2^(shift - 31) (ops/_quant.quantize_multiplier);
 * real finite. */
void el_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

/* Per channel multiplier and shift of input_scale x weight_scale / output_scale (n_scales 1 or
 * channels), the product in double or (float_product) in float; -1 when a scale is not finite or a
 * shift falls outside [-31, 31] (the kernels' range). */
int el_pack_multipliers(const float *scales, size_t n_scales, size_t channels, double input_scale,
                        double output_scale, int float_product, int32_t *mult, int32_t *shift);

/* float32 gemm panels: per group, per panel of 16 of the n rows, [bias 16][k x 16] (bits copied). */
size_t el_pack_gemm_bytes(size_t groups, size_t n, size_t k);
void el_pack_gemm(const uint32_t *w, const uint32_t *bias, size_t groups, size_t n, size_t k, uint32_t *out);

/* qgemm pairs (quads = 0) or qgemmc4 quads of w [n][k] - weight_zero; the bias (int64, wrapped to
 * int32 in the header) comes folded by el_pack_qgemm_bias: for quads minus (input_zero + 128) x
 * sum(w - weight_zero) (bias NULL: 0). */
void el_pack_qgemm_bias(const int8_t *w, size_t n, size_t k, int weight_zero, const int32_t *bias, int input_zero,
                        int quads, int64_t *folded);
int el_pack_qgemm_fits_quads(const int8_t *w, size_t count, int weight_zero);
size_t el_pack_qgemm_bytes(size_t n, size_t k, int quads);
void el_pack_qgemm(const int8_t *w, size_t n, size_t k, int weight_zero, const int64_t *bias, const int32_t *mult,
                   const int32_t *shift, int quads, char *out);

/* qdwconv pairs or qdwconvc4 quads of w [taps][c]; el_pack_qdwconv_bias folds the bias minus
 * input_zero x sum(w) (the kernels read raw inputs), for quads also minus 128 x sum(w). */
void el_pack_qdwconv_bias(const int8_t *w, size_t taps, size_t c, const int32_t *bias, int input_zero, int quads,
                          int64_t *folded);
size_t el_pack_qdwconv_bytes(size_t taps, size_t c, int quads);
void el_pack_qdwconv(const int8_t *w, size_t taps, size_t c, const int64_t *bias, const int32_t *mult,
                     const int32_t *shift, int quads, char *out);

/* hgemm groups: [scale 16 | bias 16 (0 when NULL)][k/2 pairs x 16 channels x 2 int16]. */
size_t el_pack_hgemm_bytes(size_t n, size_t k);
void el_pack_hgemm(const int8_t *w, size_t n, size_t k, const uint32_t *scales, size_t n_scales,
                   const uint32_t *bias, char *out);

#endif
