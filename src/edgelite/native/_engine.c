/* edgelite.native._engine: the CPython binding (C API only; buffers via the buffer protocol).
 *
 * Program(tensors, nodes, buffers, writable, num_threads=1): copies and validates the lowered tables
 * (raises ValueError naming the bad entry), starts its thread pool; holds a view of every buffer for
 * its lifetime.
 * Program.run(start, end): runs nodes [start, end) without the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "include/el_convert.h"
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_planner.h"

typedef struct {
  PyObject_HEAD
  el_program *program;
  Py_buffer *views;
  Py_ssize_t n_views;
} ProgramObject;

static void program_dealloc(ProgramObject *self) {
  el_program_destroy(self->program);
  for (Py_ssize_t i = 0; i < self->n_views; i++) PyBuffer_Release(&self->views[i]);
  PyMem_Free(self->views);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static int table(PyObject *obj, Py_buffer *view, size_t words, const char *what, size_t *count) {
  if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
  if (view->len % (Py_ssize_t)(words * sizeof(int64_t)) || ((uintptr_t)view->buf) % sizeof(int64_t)) {
    PyErr_Format(PyExc_ValueError, "%s table: %zd bytes is not a whole number of aligned records", what,
                 view->len);
    PyBuffer_Release(view);
    return -1;
  }
  *count = (size_t)view->len / (words * sizeof(int64_t));
  return 0;
}

static PyObject *program_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *names[] = {"tensors", "nodes", "buffers", "writable", "num_threads", NULL};
  PyObject *tensors_obj, *nodes_obj, *buffers_obj, *writable_obj;
  Py_ssize_t num_threads = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO|n", names, &tensors_obj, &nodes_obj, &buffers_obj,
                                   &writable_obj, &num_threads))
    return NULL;
  if (num_threads < 1 || num_threads > EL_MAX_THREADS)
    return PyErr_Format(PyExc_ValueError, "num_threads must be 1..%d, got %zd", EL_MAX_THREADS, num_threads);
  PyObject *buffers = PySequence_Fast(buffers_obj, "buffers must be a sequence");
  if (buffers == NULL) return NULL;
  PyObject *writable = PySequence_Fast(writable_obj, "writable must be a sequence");
  if (writable == NULL) { Py_DECREF(buffers); return NULL; }
  ProgramObject *self = NULL;
  el_buffer *spans = NULL;
  Py_buffer tensors, nodes;
  size_t n_tensors = 0, n_nodes = 0;
  int have_tensors = 0, have_nodes = 0;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(buffers);
  if (PySequence_Fast_GET_SIZE(writable) != n) {
    PyErr_SetString(PyExc_ValueError, "buffers and writable differ in length");
    goto done;
  }
  if (table(tensors_obj, &tensors, EL_TENSOR_WORDS, "tensor", &n_tensors) < 0) goto done;
  have_tensors = 1;
  if (table(nodes_obj, &nodes, EL_NODE_WORDS, "node", &n_nodes) < 0) goto done;
  have_nodes = 1;
  self = (ProgramObject *)type->tp_alloc(type, 0);
  if (self == NULL) goto done;
  self->views = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_buffer));
  spans = PyMem_Calloc((size_t)(n ? n : 1), sizeof(el_buffer));
  if (self->views == NULL || spans == NULL) { PyErr_NoMemory(); Py_CLEAR(self); goto done; }
  for (Py_ssize_t i = 0; i < n; i++) {
    int want_write = PyObject_IsTrue(PySequence_Fast_GET_ITEM(writable, i));
    if (want_write < 0 || PyObject_GetBuffer(PySequence_Fast_GET_ITEM(buffers, i), &self->views[i],
                                             want_write ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
      Py_CLEAR(self);
      goto done;
    }
    self->n_views = i + 1;
    spans[i] = (el_buffer){self->views[i].buf, (size_t)self->views[i].len, want_write};
  }
  char err[256] = {0};
  self->program = el_program_create(tensors.buf, n_tensors, nodes.buf, n_nodes, spans, (size_t)n,
                                    (size_t)num_threads, err, sizeof(err));
  if (self->program == NULL) {
    PyErr_SetString(PyExc_ValueError, err);
    Py_CLEAR(self);
  }
done:
  if (have_tensors) PyBuffer_Release(&tensors);
  if (have_nodes) PyBuffer_Release(&nodes);
  PyMem_Free(spans);
  Py_DECREF(buffers);
  Py_DECREF(writable);
  return (PyObject *)self;
}

static PyObject *program_run(ProgramObject *self, PyObject *args) {
  Py_ssize_t start = 0, end = -1;
  if (!PyArg_ParseTuple(args, "|nn", &start, &end)) return NULL;
  const size_t count = self->program->n_nodes;
  if (end < 0 || (size_t)end > count) end = (Py_ssize_t)count;
  if (start < 0 || start > end) {
    PyErr_SetString(PyExc_IndexError, "node range out of bounds");
    return NULL;
  }
  Py_BEGIN_ALLOW_THREADS
  el_program_run(self->program, (size_t)start, (size_t)end);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *program_len(ProgramObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromSize_t(self->program->n_nodes);
}

static PyMethodDef program_methods[] = {
    {"run", (PyCFunction)program_run, METH_VARARGS, "run(start=0, end=-1): run nodes [start, end)"},
    {"num_nodes", (PyCFunction)program_len, METH_NOARGS, "number of nodes"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgelite.native._engine.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A validated, lowered plan: run(start, end) executes its nodes.",
    .tp_methods = program_methods,
    .tp_new = program_new,
};

static PyObject *mod_isa(PyObject *m, PyObject *unused) {
  (void)m; (void)unused;
  return PyUnicode_FromString(el_isa_name(el_isa_active()));
}

static PyObject *mod_set_isa(PyObject *m, PyObject *arg) {
  (void)m;
  const char *name = PyUnicode_AsUTF8(arg);
  if (name == NULL) return NULL;
  for (int i = 0; i < EL_ISA_COUNT; i++)
    if (strcmp(name, el_isa_name(i)) == 0) {
      el_set_isa_cap(i);
      return PyUnicode_FromString(el_isa_name(el_isa_active()));
    }
  PyErr_Format(PyExc_ValueError, "unknown ISA level %R", arg);
  return NULL;
}

static PyObject *mod_isas(PyObject *m, PyObject *unused) {
  (void)m; (void)unused;
  PyObject *list = PyList_New(0);
  for (int i = 0; list != NULL && i < EL_ISA_COUNT; i++) {
    if (!el_isa_supported(i)) continue;
    PyObject *name = PyUnicode_FromString(el_isa_name(i));
    if (name == NULL || PyList_Append(list, name) < 0) Py_CLEAR(list);
    Py_XDECREF(name);
  }
  return list;
}

static PyObject *mod_ukernels(PyObject *m, PyObject *unused) {
  (void)m; (void)unused;
  PyObject *list = PyList_New(0);
#define EL_UKERNEL(family, dtype, kernel, isa, arg)                                                   \
  if (list != NULL) {                                                                                \
    PyObject *item = Py_BuildValue("(sssssi)", #family, #dtype, #kernel, #isa,                       \
                                   #dtype "-" #kernel "-" #isa, (int)(arg));                         \
    if (item == NULL || PyList_Append(list, item) < 0) Py_CLEAR(list);                               \
    Py_XDECREF(item);                                                                                \
  }
#include "kernels/manifest.inc"
#undef EL_UKERNEL
  return list;
}

static PyObject *mod_ops(PyObject *m, PyObject *unused) {
  (void)m; (void)unused;
  return Py_BuildValue("(" 
#define EL_OP(code, name, lo, hi) "s"
#include "include/ops.inc"
#undef EL_OP
                       ")"
#define EL_OP(code, name, lo, hi) , #code
#include "include/ops.inc"
#undef EL_OP
  );
}

static PyObject *mod_widen_float16(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *src_obj, *dst_obj;
  if (!PyArg_ParseTuple(args, "OO", &src_obj, &dst_obj)) return NULL;
  Py_buffer src, dst;
  if (PyObject_GetBuffer(src_obj, &src, PyBUF_C_CONTIGUOUS) < 0) return NULL;
  if (PyObject_GetBuffer(dst_obj, &dst, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
    PyBuffer_Release(&src);
    return NULL;
  }
  const int fits = src.len % 2 == 0 && dst.len == 2 * src.len && (uintptr_t)src.buf % 2 == 0 &&
                   (uintptr_t)dst.buf % 4 == 0;
  if (fits) {
    Py_BEGIN_ALLOW_THREADS
    el_widen_f16((const uint16_t *)src.buf, (uint32_t *)dst.buf, (size_t)src.len / 2);
    Py_END_ALLOW_THREADS
  } else {
    PyErr_Format(PyExc_ValueError, "widen_float16: a %zd-byte float16 source needs an aligned %zd-byte "
                 "float32 destination, got %zd bytes", src.len, 2 * src.len, dst.len);
  }
  PyBuffer_Release(&src);
  PyBuffer_Release(&dst);
  if (!fits) return NULL;
  Py_RETURN_NONE;
}

static PyObject *mod_widen_float16_into(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *sources_obj, *block_obj, *offsets_obj;
  if (!PyArg_ParseTuple(args, "OOO", &sources_obj, &block_obj, &offsets_obj)) return NULL;
  PyObject *sources = PySequence_Fast(sources_obj, "sources must be a sequence");
  if (sources == NULL) return NULL;
  PyObject *offsets = PySequence_Fast(offsets_obj, "offsets must be a sequence");
  if (offsets == NULL) { Py_DECREF(sources); return NULL; }
  Py_buffer block;
  if (PyObject_GetBuffer(block_obj, &block, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
    Py_DECREF(sources), Py_DECREF(offsets);
    return NULL;
  }
  const Py_ssize_t count = PySequence_Fast_GET_SIZE(sources);
  int ok = PySequence_Fast_GET_SIZE(offsets) == count && (uintptr_t)block.buf % 4 == 0;
  if (!ok) PyErr_SetString(PyExc_ValueError, "widen_float16_into: one offset per source, aligned block");
  for (Py_ssize_t i = 0; ok && i < count; i++) {
    const Py_ssize_t offset = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(offsets, i));
    Py_buffer src;
    if (offset == -1 && PyErr_Occurred()) { ok = 0; break; }
    if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(sources, i), &src, PyBUF_C_CONTIGUOUS) < 0) { ok = 0; break; }
    if (src.len % 2 || (uintptr_t)src.buf % 2 || offset < 0 || offset > block.len / 4 ||
        src.len / 2 > block.len / 4 - offset) {
      PyErr_Format(PyExc_ValueError, "widen_float16_into: source %zd (%zd bytes) does not fit the %zd-byte "
                   "block at element %zd", i, src.len, block.len, offset);
      ok = 0;
    } else {
      el_widen_f16((const uint16_t *)src.buf, (uint32_t *)block.buf + offset, (size_t)src.len / 2);
    }
    PyBuffer_Release(&src);
  }
  PyBuffer_Release(&block);
  Py_DECREF(sources), Py_DECREF(offsets);
  if (!ok) return NULL;
  Py_RETURN_NONE;
}

static int int64_items(PyObject *seq, size_t count, int64_t *out, int64_t low, int64_t high, const char *what) {
  for (size_t i = 0; i < count; i++) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(PySequence_Fast_GET_ITEM(seq, i), &overflow);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (overflow || value < low || value > high) {
      PyErr_Format(PyExc_ValueError, "plan_arena: %s %zu is outside [%lld, %lld]", what, i, (long long)low,
                   (long long)high);
      return -1;
    }
    out[i] = value;
  }
  return 0;
}

static PyObject *mod_plan_arena(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *sizes_obj, *first_obj, *last_obj, *result = NULL;
  long long alignment;
  if (!PyArg_ParseTuple(args, "OOOL", &sizes_obj, &first_obj, &last_obj, &alignment)) return NULL;
  PyObject *sizes = PySequence_Fast(sizes_obj, "sizes must be a sequence");
  PyObject *first = sizes ? PySequence_Fast(first_obj, "firsts must be a sequence") : NULL;
  PyObject *last = first ? PySequence_Fast(last_obj, "lasts must be a sequence") : NULL;
  int64_t *words = NULL;
  if (last == NULL) goto done;
  const size_t count = (size_t)PySequence_Fast_GET_SIZE(sizes);
  if ((size_t)PySequence_Fast_GET_SIZE(first) != count || (size_t)PySequence_Fast_GET_SIZE(last) != count ||
      alignment < 1 || alignment > EL_PLAN_MAX_STEP) {
    PyErr_SetString(PyExc_ValueError, "plan_arena: sizes, firsts and lasts differ in length, or bad alignment");
    goto done;
  }
  words = PyMem_Malloc((4 * count + 1) * sizeof(int64_t));
  if (words == NULL) { PyErr_NoMemory(); goto done; }
  int64_t *size = words, *start = words + count, *end = words + 2 * count, *offsets = words + 3 * count;
  if (int64_items(sizes, count, size, 0, EL_PLAN_MAX_SIZE - alignment, "size") < 0 ||
      int64_items(first, count, start, -EL_PLAN_MAX_STEP, EL_PLAN_MAX_STEP, "first") < 0 ||
      int64_items(last, count, end, -EL_PLAN_MAX_STEP, EL_PLAN_MAX_STEP, "last") < 0)
    goto done;
  for (size_t i = 0; i < count; i++) {
    if (start[i] > end[i]) {
      PyErr_Format(PyExc_ValueError, "plan_arena: allocation %zu ends before it starts", i);
      goto done;
    }
    size[i] = (size[i] + alignment - 1) / alignment * alignment;
  }
  int64_t arena = 0, bound = 0;
  if (el_plan_arena(count, size, start, end, alignment, offsets, &arena, &bound) < 0) {
    PyErr_NoMemory();
    goto done;
  }
  PyObject *list = PyList_New((Py_ssize_t)count);
  for (size_t i = 0; list != NULL && i < count; i++) {
    PyObject *item = PyLong_FromLongLong(offsets[i]);
    if (item == NULL) Py_CLEAR(list);
    else PyList_SET_ITEM(list, (Py_ssize_t)i, item);
  }
  if (list != NULL) result = Py_BuildValue("(NLL)", list, (long long)arena, (long long)bound);
done:
  PyMem_Free(words);
  Py_XDECREF(sizes), Py_XDECREF(first), Py_XDECREF(last);
  return result;
}

static PyMethodDef module_methods[] = {
    {"isa", mod_isa, METH_NOARGS, "the dispatch level in use"},
    {"set_isa", mod_set_isa, METH_O, "cap the dispatch level ('scalar', 'avx2', 'avx512vnni'); returns the level in use"},
    {"supported_isas", mod_isas, METH_NOARGS, "levels this CPU supports, lowest first"},
    {"ukernels", mod_ukernels, METH_NOARGS, "the manifest: (family, dtype, kernel, isa, file stem, arg)"},
    {"ops", mod_ops, METH_NOARGS, "op names in node-table code order"},
    {"plan_arena", mod_plan_arena, METH_VARARGS, "plan_arena(sizes, firsts, lasts, alignment) -> (offsets, arena, lower bound)"},
    {"widen_float16_into", mod_widen_float16_into, METH_VARARGS, "widen_float16_into(sources, block, offsets): each float16 source into block[offset:]"},
    {"widen_float16", mod_widen_float16, METH_VARARGS, "widen_float16(src, dst): float16 -> float32, bits as numpy's"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_engine", "edgelite's native engine", -1,
                                        module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__engine(void) {
  el_dispatch_init();
  if (PyType_Ready(&ProgramType) < 0) return NULL;
  PyObject *m = PyModule_Create(&module_def);
  if (m == NULL) return NULL;
  Py_INCREF(&ProgramType);
  if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0 ||
      PyModule_AddIntConstant(m, "TENSOR_WORDS", EL_TENSOR_WORDS) < 0 ||
      PyModule_AddIntConstant(m, "NODE_WORDS", EL_NODE_WORDS) < 0 ||
      PyModule_AddIntConstant(m, "MAX_INPUTS", EL_MAX_INPUTS) < 0 ||
      PyModule_AddIntConstant(m, "MAX_RANK", EL_MAX_RANK) < 0 ||
      PyModule_AddIntConstant(m, "MAX_THREADS", EL_MAX_THREADS) < 0 ||
      PyModule_AddIntConstant(m, "NODE_PARAMS", EL_NODE_PARAMS) < 0 ||
      PyModule_AddIntConstant(m, "GEMM_NR", EL_GEMM_NR) < 0 ||
      PyModule_AddIntConstant(m, "IM2COL_ROWS", EL_IM2COL_ROWS) < 0 ||
      PyModule_AddIntConstant(m, "DW_MAX_TAPS", EL_DW_MAX_TAPS) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
