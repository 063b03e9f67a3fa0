/* Slabs: the lowering's large buffers (packed weights, the float16 block, scratch) as a few mapped
 * regions instead of one malloc each, so that a start-up takes few page faults: a region of 2 MiB or
 * more is 2 MiB-aligned and advised MADV_HUGEPAGE (one fault per 2 MiB where the kernel allows it),
 * and a released region goes to a process-wide cache, bounded in bytes, that later start-ups reuse
 * (already faulted in), as glibc reuses freed heap memory. Not thread-safe: the CPython side calls
 * these with the GIL held. */
#ifndef EL_SLAB_H
#define EL_SLAB_H

#include <stddef.h>

typedef struct {
  char *base;
  size_t length; /* bytes mapped (a size class), >= the request */
  int dirty;     /* 1: reused from the cache, content unspecified; 0: fresh, all zero */
  int huge;      /* 1: advised MADV_HUGEPAGE */
} el_region;

/* A region of at least nbytes (> 0): from the cache when one of its class is there, else mapped.
 * Returns 0, or -1 (out of memory). */
int el_region_take(size_t nbytes, el_region *out);
/* Gives the region back: to the cache while the cache stays within its limit, else unmapped. */
void el_region_give(el_region *region);
/* The cache's limit in bytes (new_limit >= 0 sets it, trimming the cache; < 0 leaves it) and the
 * bytes and regions it holds now. */
size_t el_region_cache(long long new_limit, size_t *held_bytes, size_t *held_regions);

#define EL_SLAB_HUGE ((size_t)2 << 20)

#endif
