/* Mapped regions for the lowering's large buffers, with a bounded cache of released ones
 * (include/el_slab.h). */
#define _GNU_SOURCE
#include "include/el_slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define EL_SLAB_PAGE ((size_t)4096)
#define EL_SLAB_CACHE_SLOTS 32
#define EL_SLAB_DEFAULT_LIMIT ((size_t)64 << 20)

static el_region cache[EL_SLAB_CACHE_SLOTS];
static size_t cached_count, cached_bytes;
static size_t cache_limit = EL_SLAB_DEFAULT_LIMIT;
static int limit_read;
static int hugepages = 1;

/* The size class of a request: whole pages up to 512 KiB (untouched pages of a fresh mapping cost
 * nothing), then whole 2 MiB hugepages: one fault of a 2 MiB hugepage takes about as long as 30 of
 * 4 KiB (measured: 47 us vs 1.6 us each), so from 512 KiB on the rounding pays for itself. */
static size_t size_class(size_t nbytes) {
  if (nbytes >= EL_SLAB_HUGE / 4) return (nbytes + EL_SLAB_HUGE - 1) & ~(EL_SLAB_HUGE - 1);
  return (nbytes + EL_SLAB_PAGE - 1) & ~(EL_SLAB_PAGE - 1);
}

/* EDGELITE_SLAB_CACHE (bytes) sets the limit, EDGELITE_SLAB_HUGEPAGES=0 turns the hugepage advice
 * off, when the first region is taken. */
static void read_limit(void) {
  if (limit_read) return;
  limit_read = 1;
  const char *huge = getenv("EDGELITE_SLAB_HUGEPAGES");
  if (huge != NULL && huge[0] == '0' && huge[1] == '\0') hugepages = 0;
  const char *text = getenv("EDGELITE_SLAB_CACHE");
  if (text == NULL || *text == '\0') return;
  char *end;
  const unsigned long long value = strtoull(text, &end, 10);
  if (*end == '\0') cache_limit = (size_t)value;
}

static int map_region(size_t length, el_region *out) {
  const int huge = hugepages && length >= EL_SLAB_HUGE;
  const size_t slack = huge ? EL_SLAB_HUGE : 0;
  char *raw = mmap(NULL, length + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return -1;
  char *base = raw;
  if (huge) { /* keep the 2 MiB-aligned part: hugepages only back aligned 2 MiB ranges */
    base = (char *)(((uintptr_t)raw + EL_SLAB_HUGE - 1) & ~(uintptr_t)(EL_SLAB_HUGE - 1));
    if (base > raw) munmap(raw, (size_t)(base - raw));
    if (raw + length + slack > base + length) munmap(base + length, (size_t)(raw + length + slack - (base + length)));
#ifdef MADV_HUGEPAGE
    madvise(base, length, MADV_HUGEPAGE); /* advice only: refused (THP off) is fine */
#endif
  }
  *out = (el_region){base, length, 0, huge};
  return 0;
}

int el_region_take(size_t nbytes, el_region *out) {
  read_limit();
  const size_t length = size_class(nbytes ? nbytes : 1);
  for (size_t i = 0; i < cached_count; i++) {
    if (cache[i].length != length) continue;
    *out = cache[i];
    out->dirty = 1;
    cached_bytes -= length;
    cache[i] = cache[--cached_count];
    return 0;
  }
  return map_region(length, out);
}

static void trim(void) {
  while (cached_bytes > cache_limit && cached_count > 0) {
    el_region *oldest = &cache[0];
    munmap(oldest->base, oldest->length);
    cached_bytes -= oldest->length;
    for (size_t i = 1; i < cached_count; i++) cache[i - 1] = cache[i];
    cached_count--;
  }
}

void el_region_give(el_region *region) {
  if (region->base == NULL) return;
  read_limit();
  if (region->length <= cache_limit) {
    if (cached_count == EL_SLAB_CACHE_SLOTS) { /* full: the oldest goes */
      munmap(cache[0].base, cache[0].length);
      cached_bytes -= cache[0].length;
      for (size_t i = 1; i < cached_count; i++) cache[i - 1] = cache[i];
      cached_count--;
    }
    cache[cached_count++] = *region;
    cached_bytes += region->length;
    trim();
  } else {
    munmap(region->base, region->length);
  }
  region->base = NULL;
}

size_t el_region_cache(long long new_limit, size_t *held_bytes, size_t *held_regions) {
  read_limit();
  if (new_limit >= 0) {
    cache_limit = (size_t)new_limit;
    trim();
  }
  *held_bytes = cached_bytes;
  *held_regions = cached_count;
  return cache_limit;
}
