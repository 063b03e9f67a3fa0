/* Runs el_widen_f16 (native/convert.c) on every float16 bit pattern at the dispatch level given as
 * argv[1] (0 scalar, 1 neon) and prints the float32 bit patterns, one hex word a line, for
 * test_dequantize.py to compare with numpy's astype. Built with the aarch64 cross compiler. */
#include <stdio.h>
#include <stdlib.h>

#include "el_convert.h"

static int level;
int el_isa_active(void) { return level; } /* stands in for dispatch.c */

int main(int argc, char **argv) {
  level = argc > 1 ? atoi(argv[1]) : 0;
  static uint16_t src[65536 + 1];
  static uint32_t dst[65536];
  for (int i = 0; i < 65536; i++) src[i + 1] = (uint16_t)i;
  el_widen_f16(src + 1, dst, 65536); /* odd address: unaligned vector loads */
  for (int i = 0; i < 65536; i++) printf("%08x\n", (unsigned)dst[i]);
  return 0;
}
