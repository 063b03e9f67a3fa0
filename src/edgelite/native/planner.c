/* Greedy best-fit arena planning (see edgelite/runtime/planner.py, whose results this matches bit
 * for bit): buffers placed one at a time, each in the smallest gap between the already-placed
 * buffers whose lifetimes overlap its own, else above the highest of them; three orders tried, the
 * first smallest arena kept. */
#include "include/el_planner.h"

#include <stdlib.h>
#include <string.h>

/* qsort has no context argument in C11: the keys go through a file-level pointer, so callers hold
 * the GIL (the binding does) and planning never runs in two threads at once. */
static int64_t *g_cmp_keys;

static int by_keys(const void *a, const void *b) {
  const int64_t *x = g_cmp_keys + 3 * (size_t)(*(const int32_t *)a);
  const int64_t *y = g_cmp_keys + 3 * (size_t)(*(const int32_t *)b);
  for (int k = 0; k < 3; k++)
    if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
  return 0;
}

static void sort_by(int32_t *items, size_t count, int64_t *keys) {
  g_cmp_keys = keys;
  qsort(items, count, sizeof(int32_t), by_keys);
}

typedef struct {
  int64_t start, end;
} span;

static int by_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* Offsets from placing in `order`, each buffer in the best-fitting gap among its placed overlaps. */
static void place(size_t count, const int64_t *sizes, const int32_t *order, const size_t *adj_start,
                  const int32_t *adj, int64_t *offsets, unsigned char *placed, span *scratch) {
  memset(placed, 0, count);
  for (size_t i = 0; i < count; i++) offsets[i] = 0;
  for (size_t k = 0; k < count; k++) {
    const int32_t index = order[k];
    const int64_t size = sizes[index];
    if (size == 0) continue;
    size_t n = 0;
    for (size_t a = adj_start[index]; a < adj_start[index + 1]; a++) {
      const int32_t j = adj[a];
      if (placed[j]) scratch[n++] = (span){offsets[j], offsets[j] + sizes[j]};
    }
    qsort(scratch, n, sizeof(span), by_span);
    int64_t best_offset = -1, best_gap = 0, gap_start = 0;
    for (size_t s = 0; s < n; s++) {
      const int64_t gap = scratch[s].start - gap_start;
      if (gap >= size && (best_offset < 0 || gap < best_gap)) {
        best_offset = gap_start;
        best_gap = gap;
      }
      if (scratch[s].end > gap_start) gap_start = scratch[s].end;
    }
    offsets[index] = best_offset < 0 ? gap_start : best_offset;
    placed[index] = 1;
  }
}

static int64_t lower_bound_of(size_t count, const int64_t *sizes, const int64_t *first, const int64_t *last,
                              int32_t *events, int64_t *keys) {
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    if (sizes[i] == 0) continue;
    keys[3 * n] = first[i], keys[3 * n + 1] = sizes[i], keys[3 * n + 2] = 0;
    events[n] = (int32_t)n, n++;
    keys[3 * n] = last[i] + 1, keys[3 * n + 1] = -sizes[i], keys[3 * n + 2] = 0;
    events[n] = (int32_t)n, n++;
  }
  sort_by(events, n, keys); /* at equal steps frees (negative) come first */
  int64_t alive = 0, best = 0;
  for (size_t e = 0; e < n; e++) {
    alive += keys[3 * (size_t)events[e] + 1];
    if (alive > best) best = alive;
  }
  return best;
}

int el_plan_arena(size_t count, const int64_t *sizes, const int64_t *first, const int64_t *last,
                  int64_t alignment, int64_t *offsets, int64_t *arena_size, int64_t *lower_bound) {
  (void)alignment;
  const size_t n = count ? count : 1;
  /* one allocation for the per-buffer arrays, widest element type first */
  char *work = calloc(1, n * (6 * sizeof(int64_t) + sizeof(int64_t) + sizeof(span) + 2 * sizeof(size_t) +
                              3 * sizeof(int32_t) + 1) + sizeof(size_t));
  int64_t *keys = (int64_t *)work, *trial = keys + 6 * n;
  span *scratch = (span *)(trial + n);
  size_t *adj_start = (size_t *)(scratch + n), *fill = adj_start + n + 1;
  int32_t *order = (int32_t *)(fill + n), *events = order + n;
  unsigned char *placed = (unsigned char *)(events + 2 * n);
  int32_t *adj = NULL;
  int status = -1;
  if (work == NULL) goto done;

  /* overlaps: one sweep of the non-empty buffers in order of first use (ties: index) */
  size_t live = 0;
  for (size_t i = 0; i < count; i++)
    if (sizes[i]) {
      keys[3 * i] = first[i], keys[3 * i + 1] = (int64_t)i, keys[3 * i + 2] = 0;
      order[live++] = (int32_t)i;
    }
  sort_by(order, live, keys);
  size_t pairs = 0;
  for (size_t p = 0; p < live; p++)
    for (size_t q = p + 1; q < live && first[order[q]] <= last[order[p]]; q++) {
      adj_start[order[p] + 1]++, adj_start[order[q] + 1]++;
      pairs++;
    }
  for (size_t i = 0; i < count; i++) adj_start[i + 1] += adj_start[i];
  adj = malloc((pairs ? 2 * pairs : 1) * sizeof(int32_t));
  if (!adj) goto done;
  for (size_t p = 0; p < live; p++) /* each list in sweep order, as the Python lists are built */
    for (size_t q = p + 1; q < live && first[order[q]] <= last[order[p]]; q++) {
      const int32_t i = order[p], j = order[q];
      adj[adj_start[i] + fill[i]++] = j;
      adj[adj_start[j] + fill[j]++] = i;
    }

  int64_t best = -1;
  for (int which = 0; which < 3; which++) {
    for (size_t i = 0; i < count; i++) {
      const int64_t life = last[i] - first[i] + 1;
      int64_t *key = keys + 3 * i;
      if (which == 0) key[0] = -sizes[i], key[1] = first[i];
      else if (which == 1) key[0] = -sizes[i] * life, key[1] = first[i];
      else key[0] = first[i], key[1] = -sizes[i];
      key[2] = (int64_t)i;
      order[i] = (int32_t)i;
    }
    sort_by(order, count, keys);
    place(count, sizes, order, adj_start, adj, trial, placed, scratch);
    int64_t arena = 0;
    for (size_t i = 0; i < count; i++)
      if (trial[i] + sizes[i] > arena) arena = trial[i] + sizes[i];
    if (best < 0 || arena < best) {
      best = arena;
      memcpy(offsets, trial, count * sizeof(int64_t));
    }
  }
  *arena_size = best < 0 ? 0 : best;
  *lower_bound = lower_bound_of(count, sizes, first, last, events, keys);
  status = 0;
done:
  free(work), free(adj);
  return status;
}
