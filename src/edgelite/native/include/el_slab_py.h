/* The CPython side of the slabs (_slab.c): Slab (a mapped region exporting the buffer protocol),
 * Heap (64-byte-aligned pieces carved from slabs, for one lowering) and their module_methods. */
#ifndef EL_SLAB_PY_H
#define EL_SLAB_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A new reference to the slab holding nbytes (plus 64 zeroed bytes after them) at *offset, 64-byte
 * aligned, zeroed when `zeroed`; *data points at them. NULL with an exception set. */
PyObject *el_heap_carve(PyObject *heap, size_t nbytes, int zeroed, char **data, Py_ssize_t *offset);
/* Whether obj is a Heap. */
int el_is_heap(PyObject *obj);

PyObject *el_py_slab(PyObject *m, PyObject *args);
PyObject *el_py_heap(PyObject *m, PyObject *args);
PyObject *el_py_slab_cache(PyObject *m, PyObject *args);

#define EL_SLAB_METHODS                                                                                  \
  {"slab", el_py_slab, METH_VARARGS, "slab(nbytes, zeroed=True) -> Slab: a mapped region (_slab.c)"},      \
  {"heap", el_py_heap, METH_VARARGS, "heap(estimate) -> Heap: aligned pieces of slabs (_slab.c)"},    \
  {"slab_cache", el_py_slab_cache, METH_VARARGS, "slab_cache([limit]) -> (limit, bytes, regions)"},

#endif
