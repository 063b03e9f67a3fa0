/* edgelite.native._engine: the CPython binding (C API only; buffers via the buffer protocol).
 *
 * Program(tensors, nodes, buffers, writable, num_threads=1): copies and validates the lowered tables
 * (raises ValueError naming the bad entry), starts its thread pool; holds a view of every buffer for
 * its lifetime.
 * Program.run(start, end): runs nodes [start, end) without the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "include/el_compile.h"
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_pack_py.h"
#include "include/el_slab_py.h"
#include "include/reader.h"

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

static PyObject *NodeRefused; /* ValueError with `node`: the node-table index the engine refused */

static void set_refused(const char *message, long long node) {
  PyObject *error = PyObject_CallFunction(NodeRefused, "s", message);
  PyObject *index = error == NULL ? NULL : PyLong_FromLongLong(node);
  if (index != NULL && PyObject_SetAttrString(error, "node", index) == 0) PyErr_SetObject(NodeRefused, error);
  Py_XDECREF(index);
  Py_XDECREF(error);
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
  long long refused;
  self->program = el_program_create(tensors.buf, n_tensors, nodes.buf, n_nodes, spans, (size_t)n,
                                    (size_t)num_threads, err, sizeof(err), &refused);
  if (self->program == NULL) {
    if (refused >= 0) set_refused(err, refused);
    else PyErr_SetString(PyExc_ValueError, err);
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

#include "_engine_plan.inc" /* widen_float16, widen_float16_into, plan_arena */

static PyMethodDef module_methods[] = {
    {"isa", mod_isa, METH_NOARGS, "the dispatch level in use"},
    {"set_isa", mod_set_isa, METH_O, "cap the dispatch level ('scalar', 'avx2', 'avx512vnni'); returns the level in use"},
    {"supported_isas", mod_isas, METH_NOARGS, "levels this CPU supports, lowest first"},
    {"ukernels", mod_ukernels, METH_NOARGS, "the manifest: (family, dtype, kernel, isa, file stem, arg)"},
    {"ops", mod_ops, METH_NOARGS, "op names in node-table code order"},
    EL_PACK_METHODS
    EL_SLAB_METHODS
    {"compile", el_py_compile, METH_VARARGS, "plan and lower a whole subgraph in one pass (compile.c), or defer"},
    {"plan_arena", mod_plan_arena, METH_VARARGS, "plan_arena(sizes, firsts, lasts, alignment) -> (offsets, arena, lower bound)"},
    {"widen_float16_into", mod_widen_float16_into, METH_VARARGS, "widen_float16_into(sources, block, offsets): each float16 source into block[offset:]"},
    {"widen_float16", mod_widen_float16, METH_VARARGS, "widen_float16(src, dst): float16 -> float32, bits as numpy's"},
    {"read_model", el_read_model, METH_VARARGS, "verify a .tflite flatbuffer, return its content (reader.h)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_engine", "edgelite's native engine", -1,
                                        module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__engine(void) {
  el_dispatch_init();
  if (PyType_Ready(&ProgramType) < 0) return NULL;
  PyObject *m = PyModule_Create(&module_def);
  if (m == NULL) return NULL;
  Py_INCREF(&ProgramType);
  NodeRefused = PyErr_NewExceptionWithDoc("edgelite.native._engine.NodeRefused",
                                          "A node the engine's validation refused; `node` is its node-table index.",
                                          PyExc_ValueError, NULL);
  Py_XINCREF(NodeRefused);
  if (NodeRefused == NULL || PyModule_AddObject(m, "NodeRefused", NodeRefused) < 0 ||
      PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0 ||
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
