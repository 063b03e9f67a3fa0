/* The arena planner of edgelite/runtime/planner.py in C: the same greedy best-fit placements in the
 * same three orders, so the same offsets, arena size and lower bound. */
#ifndef EL_PLANNER_H
#define EL_PLANNER_H

#include <stddef.h>
#include <stdint.h>

/* Largest aligned size and step magnitude accepted (size x lifetime then fits int64); the Python
 * planner takes anything beyond. */
#define EL_PLAN_MAX_SIZE ((int64_t)1 << 40)
#define EL_PLAN_MAX_STEP ((int64_t)1 << 20)

/* sizes already aligned; first[i] <= last[i]. Fills offsets[count], *arena_size, *lower_bound.
 * Returns 0, or -1 when out of memory. */
int el_plan_arena(size_t count, const int64_t *sizes, const int64_t *first, const int64_t *last,
                  int64_t alignment, int64_t *offsets, int64_t *arena_size, int64_t *lower_bound);

#endif
