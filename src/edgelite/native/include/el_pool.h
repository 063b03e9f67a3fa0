/* A persistent thread pool (pthreads): created once with a Program, n_threads - 1 workers plus the
 * calling thread. el_pool_run hands out `tiles` indices; each tile must write only its own outputs
 * so that results are bitwise the same for any thread count. Running allocates nothing. */
#ifndef EL_POOL_H
#define EL_POOL_H

#include <stddef.h>

#define EL_MAX_THREADS 64

/* One tile of a parallel loop; `thread` < n_threads picks the caller's per-thread scratch. */
typedef void el_task_fn(const void *ctx, size_t tile, size_t thread);

typedef struct el_pool el_pool;

/* NULL for n_threads <= 1 (el_pool_run then runs inline) or when no worker could start. */
el_pool *el_pool_create(size_t n_threads);
void el_pool_destroy(el_pool *pool);
/* Run fn(ctx, t, thread) for every t < tiles; returns when all are done. One run at a time. */
void el_pool_run(el_pool *pool, el_task_fn *fn, const void *ctx, size_t tiles);

#endif
