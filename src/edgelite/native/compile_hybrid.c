/* STUB (until helper chybrid lands the hybrid family): no hybrid node is compiled. */
#include "include/el_compile.h"

int el_lower_hybrid(el_compiler *c, el_cnode *node) { return el_defer(c, "hybrid node %d", node->index); }
