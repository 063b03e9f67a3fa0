/* The thread pool (see include/el_pool.h). The caller publishes a task (fn, ctx, tiles) under a new
 * generation number; workers spin on it for up to EL_SPIN_NS, then sleep on a condition variable.
 * The tiles are split into one contiguous range per participant (so consecutive ops that tile the
 * same rows keep their data in the same core's cache); each takes tiles from its own range, then
 * steals from the others. A tile is claimed with a CAS on its range's `claim` word (generation << 32
 * | next index), so a worker that wakes late finds the generation changed and claims nothing: the
 * caller never waits for a worker that has not started, only for claimed tiles (counted in `done`),
 * and runs every tile itself when no worker gets a core. ctx may live on the caller's stack. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "include/el_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EL_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define EL_PAUSE() __asm__ __volatile__("yield")
#else
#define EL_PAUSE() ((void)0)
#endif

/* How long an idle worker polls before it sleeps: longer than the gap between two ops, short enough
 * that on a busy machine a polling worker does not take the core its caller needs (with 1 ms, 2
 * threads ran MobileNetV2 1.7x slower than 1 thread when 10 threads shared 2 cores; now 1.1x, as
 * LiteRT). */
#define EL_SPIN_NS 50000L
#define EL_WAIT_SPINS 4096  /* pauses before the caller sleeps while claimed tiles finish */

typedef struct {
  el_pool *pool;
  size_t index;
} el_worker;

typedef struct {
  _Alignas(64) _Atomic uint64_t claim; /* generation << 32 | next tile index of this range */
} el_range;

struct el_pool {
  size_t n_started; /* workers running (n_threads - 1 unless pthread_create failed) */
  pthread_t threads[EL_MAX_THREADS];
  el_worker workers[EL_MAX_THREADS];
  el_range ranges[EL_MAX_THREADS]; /* range r: tiles [r * tiles / n, (r + 1) * tiles / n), n = n_started + 1 */
  pthread_mutex_t lock;            /* guards sleeping on `wake` and `finished` */
  pthread_cond_t wake, finished;
  pthread_mutex_t run_lock; /* serialises el_pool_run */
  _Atomic uint32_t generation_word; /* the published generation (what idle workers watch) */
  _Atomic uint64_t task;            /* generation << 32 | tile count */
  atomic_size_t done;               /* tiles of the current generation finished */
  atomic_int stop;
  uint32_t generation; /* the caller's copy */
  el_task_fn *fn;
  const void *ctx;
};

static uint32_t generation_of(uint64_t word) { return (uint32_t)(word >> 32); }

/* Claim and run the tiles of range r of generation `gen` until it is empty; 0 once the generation
 * has moved on (then no field of the task may be read). */
static int work_range(el_pool *pool, uint32_t gen, size_t r, size_t thread) {
  _Atomic uint64_t *claim = &pool->ranges[r].claim;
  for (;;) {
    uint64_t c = atomic_load_explicit(claim, memory_order_acquire);
    do {
      if (generation_of(c) != gen) return 0;
    } while (!atomic_compare_exchange_weak_explicit(claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire));
    /* Index (uint32_t)c of range r is ours. If it is a tile, the caller cannot publish another task
     * before we finish it, so the task fields stay valid. */
    const uint64_t task = atomic_load_explicit(&pool->task, memory_order_acquire);
    if (generation_of(task) != gen) return 0;
    const size_t tiles = (uint32_t)task, n = pool->n_started + 1;
    const size_t end = (r + 1) * tiles / n, tile = r * tiles / n + (uint32_t)c;
    if (tile >= end) return 1;
    pool->fn(pool->ctx, tile, thread);
    if (atomic_fetch_add_explicit(&pool->done, 1, memory_order_acq_rel) + 1 == tiles && thread != 0) {
      pthread_mutex_lock(&pool->lock); /* the caller may be asleep on `finished` */
      pthread_cond_signal(&pool->finished);
      pthread_mutex_unlock(&pool->lock);
    }
  }
}

/* Own range first, then the others'. */
static void work(el_pool *pool, uint32_t gen, size_t thread) {
  const size_t n = pool->n_started + 1;
  for (size_t k = 0; k < n; k++)
    if (!work_range(pool, gen, (thread + k) % n, thread)) return;
}

static long elapsed_ns(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

static uint32_t current_generation(el_pool *pool) {
  return atomic_load_explicit(&pool->generation_word, memory_order_acquire);
}

/* The first generation other than `seen` (or any value once stop is set). */
static uint32_t wait_for_task(el_pool *pool, uint32_t seen) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned spins = 1;; spins++) {
    const uint32_t gen = current_generation(pool);
    if (gen != seen || atomic_load_explicit(&pool->stop, memory_order_relaxed)) return gen;
    EL_PAUSE();
    if (spins % 1024 == 0 && elapsed_ns(&start) > EL_SPIN_NS) break;
  }
  uint32_t gen;
  pthread_mutex_lock(&pool->lock);
  while ((gen = current_generation(pool)) == seen && !atomic_load_explicit(&pool->stop, memory_order_relaxed))
    pthread_cond_wait(&pool->wake, &pool->lock);
  pthread_mutex_unlock(&pool->lock);
  return gen;
}

static void *worker_main(void *arg) {
  el_worker *self = arg;
  el_pool *pool = self->pool;
  uint32_t seen = 0;
  for (;;) {
    seen = wait_for_task(pool, seen);
    if (atomic_load_explicit(&pool->stop, memory_order_acquire)) return NULL;
    work(pool, seen, self->index);
  }
}

el_pool *el_pool_create(size_t n_threads) {
  if (n_threads <= 1) return NULL;
  if (n_threads > EL_MAX_THREADS) n_threads = EL_MAX_THREADS;
  const size_t size = (sizeof(el_pool) + 63) / 64 * 64; /* the ranges are cache-line aligned */
  el_pool *pool = aligned_alloc(64, size);
  if (pool == NULL) return NULL;
  memset(pool, 0, size);
  pthread_mutex_init(&pool->lock, NULL);
  pthread_mutex_init(&pool->run_lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->finished, NULL);
  for (size_t r = 0; r < EL_MAX_THREADS; r++) atomic_init(&pool->ranges[r].claim, 0);
  atomic_init(&pool->generation_word, 0);
  atomic_init(&pool->task, 0);
  atomic_init(&pool->done, 0);
  atomic_init(&pool->stop, 0);
  for (size_t i = 1; i < n_threads; i++) {
    el_worker *w = &pool->workers[pool->n_started];
    *w = (el_worker){pool, pool->n_started + 1};
    if (pthread_create(&pool->threads[pool->n_started], NULL, worker_main, w) != 0) break;
    pool->n_started++;
  }
  if (pool->n_started == 0) {
    el_pool_destroy(pool);
    return NULL;
  }
  return pool;
}

void el_pool_destroy(el_pool *pool) {
  if (pool == NULL) return;
  pthread_mutex_lock(&pool->lock);
  atomic_store_explicit(&pool->stop, 1, memory_order_release);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (size_t i = 0; i < pool->n_started; i++) pthread_join(pool->threads[i], NULL);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->finished);
  pthread_mutex_destroy(&pool->lock);
  pthread_mutex_destroy(&pool->run_lock);
  free(pool);
}

void el_pool_run(el_pool *pool, el_task_fn *fn, const void *ctx, size_t tiles) {
  if (pool == NULL || tiles <= 1 || tiles > UINT32_MAX) {
    for (size_t t = 0; t < tiles; t++) fn(ctx, t, 0);
    return;
  }
  pthread_mutex_lock(&pool->run_lock);
  const uint32_t gen = ++pool->generation;
  pool->fn = fn;
  pool->ctx = ctx;
  atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
  atomic_store_explicit(&pool->task, (uint64_t)gen << 32 | tiles, memory_order_relaxed);
  for (size_t r = 0; r <= pool->n_started; r++)
    atomic_store_explicit(&pool->ranges[r].claim, (uint64_t)gen << 32, memory_order_release);
  pthread_mutex_lock(&pool->lock);
  atomic_store_explicit(&pool->generation_word, gen, memory_order_release);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  work(pool, gen, 0);
  /* Spin briefly for tiles other threads still hold, then sleep until the last one is done: a
   * worker preempted mid-tile may need this core (sched_yield would hand it to any busy process). */
  for (unsigned spins = 0; atomic_load_explicit(&pool->done, memory_order_acquire) < tiles; spins++) {
    if (spins < EL_WAIT_SPINS) {
      EL_PAUSE();
      continue;
    }
    pthread_mutex_lock(&pool->lock);
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < tiles) pthread_cond_wait(&pool->finished, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
  }
  pthread_mutex_unlock(&pool->run_lock);
}
