/* STUB (until helper cint8 lands the int8 family): no int8 node is compiled. */
#include "include/el_compile.h"

const el_compile_op el_compile_int8[EL_B_COUNT] = {{0, 0}};
