/* Slab and Heap (include/el_slab_py.h) over the regions of slab.c.
 *
 * A Slab owns one region and exports it (writable bytes) through the buffer protocol: numpy views
 * (np.frombuffer) keep it alive, and it goes back to slab.c (cache or munmap) only when the last
 * view is gone. A Heap hands out 64-byte-aligned pieces: from one slab of the lowering's estimated
 * size, then from further slabs; a piece larger than what is left gets its own slab. */
#include "include/el_slab_py.h"

#include <string.h>

#include "include/el_slab.h"

#define EL_SLAB_ALIGN 64
#define EL_SLAB_MAX ((size_t)1 << 40)
#define EL_HEAP_CHUNK ((size_t)2 << 20) /* the size of further slabs (one hugepage) */

typedef struct {
  PyObject_HEAD
  el_region region;
  size_t used; /* bytes carved by a Heap */
} SlabObject;

typedef struct {
  PyObject_HEAD
  SlabObject *current;
  size_t first; /* the estimate: the first slab's size */
} HeapObject;

static void slab_dealloc(SlabObject *self) {
  el_region_give(&self->region);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static int slab_getbuffer(SlabObject *self, Py_buffer *view, int flags) {
  return PyBuffer_FillInfo(view, (PyObject *)self, self->region.base, (Py_ssize_t)self->region.length, 0, flags);
}

static PyBufferProcs slab_as_buffer = {(getbufferproc)slab_getbuffer, NULL};

static PyObject *slab_nbytes(SlabObject *self, void *unused) {
  (void)unused;
  return PyLong_FromSize_t(self->region.length);
}

static PyObject *slab_huge(SlabObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->region.huge);
}

static PyObject *slab_reused(SlabObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->region.dirty);
}

static PyObject *slab_address(SlabObject *self, void *unused) {
  (void)unused;
  return PyLong_FromVoidPtr(self->region.base);
}

static PyGetSetDef slab_getset[] = {
    {"nbytes", (getter)slab_nbytes, NULL, "bytes mapped", NULL},
    {"huge", (getter)slab_huge, NULL, "advised MADV_HUGEPAGE (2 MiB or more, 2 MiB-aligned)", NULL},
    {"reused", (getter)slab_reused, NULL, "taken from the process-wide cache of released slabs", NULL},
    {"address", (getter)slab_address, NULL, "the region's first byte", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject SlabType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgelite.native._engine.Slab",
    .tp_basicsize = sizeof(SlabObject),
    .tp_dealloc = (destructor)slab_dealloc,
    .tp_as_buffer = &slab_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A mapped region for the lowering's buffers (see _engine.slab).",
    .tp_getset = slab_getset,
};

static void heap_dealloc(HeapObject *self) {
  Py_XDECREF(self->current);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *heap_take(HeapObject *self, PyObject *args);

static PyMethodDef heap_methods[] = {
    {"take", (PyCFunction)heap_take, METH_VARARGS,
     "take(nbytes, zeroed=False) -> (slab, offset): nbytes 64-byte aligned at slab[offset:]"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject HeapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgelite.native._engine.Heap",
    .tp_basicsize = sizeof(HeapObject),
    .tp_dealloc = (destructor)heap_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Aligned pieces of slabs for one lowering (see _engine.heap).",
    .tp_methods = heap_methods,
};

static int ready(void) {
  static int done;
  if (done) return 0;
  if (PyType_Ready(&SlabType) < 0 || PyType_Ready(&HeapType) < 0) return -1;
  done = 1;
  return 0;
}

static SlabObject *new_slab(size_t nbytes) {
  if (nbytes == 0 || nbytes > EL_SLAB_MAX) {
    PyErr_Format(PyExc_ValueError, "slab: %zu bytes, expected 1 to 2**40", nbytes);
    return NULL;
  }
  if (ready() < 0) return NULL;
  SlabObject *slab = PyObject_New(SlabObject, &SlabType);
  if (slab == NULL) return NULL;
  slab->used = 0;
  if (el_region_take(nbytes, &slab->region) < 0) {
    slab->region.base = NULL;
    Py_DECREF(slab);
    return (SlabObject *)PyErr_NoMemory();
  }
  return slab;
}

int el_is_heap(PyObject *obj) { return ready() == 0 && Py_TYPE(obj) == &HeapType; }

PyObject *el_heap_carve(PyObject *heap_obj, size_t nbytes, int zeroed, char **data, Py_ssize_t *offset) {
  HeapObject *heap = (HeapObject *)heap_obj;
  if (nbytes > EL_SLAB_MAX) return PyErr_Format(PyExc_ValueError, "heap: %zu bytes, expected at most 2**40", nbytes);
  const size_t need = nbytes + EL_SLAB_ALIGN; /* the packers' 64 zeroed bytes after the data */
  SlabObject *slab = heap->current;
  size_t start = slab ? (slab->used + EL_SLAB_ALIGN - 1) & ~(size_t)(EL_SLAB_ALIGN - 1) : 0;
  if (slab == NULL || start + need > slab->region.length) {
    const size_t left = slab ? slab->region.length - (start < slab->region.length ? start : slab->region.length) : 0;
    size_t size = heap->current == NULL && heap->first > need ? heap->first : need;
    if (heap->current != NULL && need < EL_HEAP_CHUNK) size = EL_HEAP_CHUNK;
    slab = new_slab(size);
    if (slab == NULL) return NULL;
    start = 0;
    if (heap->current == NULL || need < EL_HEAP_CHUNK || left < EL_HEAP_CHUNK) { /* else: a piece of its own */
      Py_XDECREF(heap->current);
      Py_INCREF(slab);
      heap->current = slab;
    }
  } else {
    Py_INCREF(slab);
  }
  slab->used = start + need;
  *data = slab->region.base + start;
  *offset = (Py_ssize_t)start;
  if (slab->region.dirty) memset(*data + (zeroed ? 0 : nbytes), 0, zeroed ? need : EL_SLAB_ALIGN);
  return (PyObject *)slab;
}

static PyObject *heap_take(HeapObject *self, PyObject *args) {
  Py_ssize_t nbytes;
  int zeroed = 0;
  if (!PyArg_ParseTuple(args, "n|p", &nbytes, &zeroed)) return NULL;
  if (nbytes < 0) return PyErr_Format(PyExc_ValueError, "heap.take: %zd bytes", nbytes);
  char *data;
  Py_ssize_t offset;
  PyObject *slab = el_heap_carve((PyObject *)self, (size_t)nbytes, zeroed, &data, &offset);
  return slab == NULL ? NULL : Py_BuildValue("(Nn)", slab, offset);
}

/* slab(nbytes, zeroed=True) -> Slab, its first nbytes zero when `zeroed` (else unspecified) */
PyObject *el_py_slab(PyObject *m, PyObject *args) {
  (void)m;
  Py_ssize_t nbytes;
  int zeroed = 1;
  if (!PyArg_ParseTuple(args, "n|p", &nbytes, &zeroed)) return NULL;
  if (nbytes < 1) return PyErr_Format(PyExc_ValueError, "slab: %zd bytes, expected 1 to 2**40", nbytes);
  SlabObject *slab = new_slab((size_t)nbytes);
  if (slab != NULL && zeroed && slab->region.dirty) memset(slab->region.base, 0, (size_t)nbytes);
  return (PyObject *)slab;
}

/* heap(estimate) -> Heap whose first slab holds `estimate` bytes */
PyObject *el_py_heap(PyObject *m, PyObject *args) {
  (void)m;
  Py_ssize_t estimate;
  if (!PyArg_ParseTuple(args, "n", &estimate)) return NULL;
  if (estimate < 0 || (size_t)estimate > EL_SLAB_MAX)
    return PyErr_Format(PyExc_ValueError, "heap: estimate of %zd bytes, expected 0 to 2**40", estimate);
  if (ready() < 0) return NULL;
  HeapObject *heap = PyObject_New(HeapObject, &HeapType);
  if (heap == NULL) return NULL;
  heap->current = NULL;
  heap->first = (size_t)estimate;
  return (PyObject *)heap;
}

/* slab_cache([limit]) -> (limit, bytes held, regions held); limit >= 0 sets the cache's bound */
PyObject *el_py_slab_cache(PyObject *m, PyObject *args) {
  (void)m;
  long long limit = -1;
  if (!PyArg_ParseTuple(args, "|L", &limit)) return NULL;
  if (limit < -1) return PyErr_Format(PyExc_ValueError, "slab_cache: limit %lld, expected bytes >= 0", limit);
  size_t held, regions;
  const size_t now = el_region_cache(limit, &held, &regions);
  return Py_BuildValue("(nnn)", (Py_ssize_t)now, (Py_ssize_t)held, (Py_ssize_t)regions);
}
