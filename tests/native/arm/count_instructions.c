/* Dynamic instruction counts of Arm kernels against the scalar ones under qemu (a proxy for speed
 * where no Arm machine is at hand: it counts instructions, not cycles). Not a test; run with
 *   sh tests/native/arm/count_instructions.sh
 * which builds this file with aarch64-linux-gnu-gcc and counts the instructions each case executes
 * (qemu-aarch64 -singlestep -d exec,nochain) minus a run that calls no kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/edgelite/native/include/el_kernels.h"

enum { M = 48, NC = 64, K = 144, C = 96, PIXELS = 32 }; /* gemm M x NC x K; depthwise 3x3 over C channels */
#define QGROUP_BYTES (EL_QGROUP_HEADER + K * 32)
#define QDW_BYTES (EL_QGROUP_HEADER + 5 * 64)
static _Alignas(64) float a[M * K], w[(NC / 16) * 16 * (K + 1)], c[M * NC];
static _Alignas(64) float dx[PIXELS * 9 * C], dw[10 * C], dout[PIXELS * C];
static _Alignas(64) int16_t qa[M * K];
static _Alignas(64) char qw[(NC / 16) * QGROUP_BYTES], qdw[(C / 16) * QDW_BYTES];
static _Alignas(64) int8_t qc[M * NC], qx[PIXELS * 9 * C], qout[PIXELS * C];

static void header(char *group) {
  for (int j = 0; j < 16; j++) {
    const int32_t m = 1 << 30, s = -5, l = 0;
    memcpy(group + EL_QHDR_MULT + 4 * j, &m, 4);
    memcpy(group + EL_QHDR_SHIFT + 4 * j, &s, 4);
    memcpy(group + EL_QHDR_LEFT + 4 * j, &l, 4);
  }
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "";
  for (int i = 0; i < M * K; i++) a[i] = (float)(i % 7), qa[i] = (int16_t)(i % 200 - 100);
  for (size_t i = 0; i < sizeof(qw) / 2; i++) ((int16_t *)(void *)qw)[i] = (int16_t)(i % 50 - 25);
  for (size_t i = 0; i < sizeof(qdw) / 2; i++) ((int16_t *)(void *)qdw)[i] = (int16_t)(i % 50 - 25);
  for (int g = 0; g < NC / 16; g++) header(qw + g * QGROUP_BYTES);
  for (int g = 0; g < C / 16; g++) header(qdw + g * QDW_BYTES);
  for (size_t i = 0; i < sizeof(qx); i++) qx[i] = (int8_t)(i % 255 - 127), dx[i] = (float)(i % 9);
  const float *find[PIXELS * 9];
  const int8_t *qind[PIXELS * 9];
  for (int i = 0; i < PIXELS * 9; i++) find[i] = dx + i * C, qind[i] = qx + i * C;
  const el_qout q = {0, -128, 127};
  if (argc > 2) {
#define ROWS(mr, call) for (size_t m = 0; m < M; m += mr) call
    if (!strcmp(which, "f32-gemm-scalar")) ROWS(4, el_f32_gemm4x16_scalar(4, NC, K, a + m * K, K, w, c + m * NC, NC, -1e9f, 1e9f));
    if (!strcmp(which, "f32-gemm-neon")) ROWS(6, el_f32_gemm6x16_neon(6, NC, K, a + m * K, K, w, c + m * NC, NC, -1e9f, 1e9f));
    if (!strcmp(which, "qs8-gemm-scalar"))
      ROWS(4, el_qs8_gemm4x16_scalar(4, NC, K, qa + m * K, K, qw, QGROUP_BYTES, qc + m * NC, NC, &q));
    if (!strcmp(which, "qs8-gemm-neon"))
      ROWS(4, el_qs8_gemm4x16_neon(4, NC, K, qa + m * K, K, qw, QGROUP_BYTES, qc + m * NC, NC, &q));
    if (!strcmp(which, "qs8-gemm-neondot"))
      ROWS(16, el_qs8_gemm16x16_neondot(16, NC, K, qa + m * K, K, qw, QGROUP_BYTES, qc + m * NC, NC, &q));
    if (!strcmp(which, "f32-dwconv9-scalar")) el_f32_dwconv9_scalar(9, C, PIXELS, find, 0, dw, dout, -1e9f, 1e9f);
    if (!strcmp(which, "f32-dwconv9-neon")) el_f32_dwconv9_neon(9, C, PIXELS, find, 0, dw, dout, -1e9f, 1e9f);
    if (!strcmp(which, "qs8-dwconv-scalar")) el_qs8_dwconv_scalar(9, C, PIXELS, qind, qdw, QDW_BYTES, qout, &q, C);
    if (!strcmp(which, "qs8-dwconv-neon")) el_qs8_dwconv_neon(9, C, PIXELS, qind, qdw, QDW_BYTES, qout, &q, C);
  }
  printf("%d %d %d %d\n", (int)c[5], qc[7], (int)dout[3], qout[9]);
  return 0;
}
