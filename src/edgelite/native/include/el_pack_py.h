/* The CPython functions of the weight packers (_pack.c) and their module_methods entries. */
#ifndef EL_PACK_PY_H
#define EL_PACK_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *el_py_quantize_multiplier(PyObject *m, PyObject *arg);
PyObject *el_py_pack_gemm(PyObject *m, PyObject *args);
PyObject *el_py_pack_qgemm(PyObject *m, PyObject *args);
PyObject *el_py_pack_qdwconv(PyObject *m, PyObject *args);
PyObject *el_py_pack_hgemm(PyObject *m, PyObject *args);
PyObject *el_py_int64_rows(PyObject *m, PyObject *args);
PyObject *el_py_node_rows(PyObject *m, PyObject *arg);
PyObject *el_py_aligned_copy(PyObject *m, PyObject *args);

#define EL_PACK_METHODS                                                                               \
  {"quantize_multiplier", el_py_quantize_multiplier, METH_O, "(real) -> (multiplier, shift)"},       \
  {"pack_gemm", el_py_pack_gemm, METH_VARARGS, "float32 gemm panels (_pack.c)"},                     \
  {"pack_qgemm", el_py_pack_qgemm, METH_VARARGS, "int8 qgemm / qgemmc4 channel groups (_pack.c)"},  \
  {"pack_qdwconv", el_py_pack_qdwconv, METH_VARARGS, "int8 qdwconv / qdwconvc4 groups (_pack.c)"},  \
  {"pack_hgemm", el_py_pack_hgemm, METH_VARARGS, "hybrid hgemm channel groups (_pack.c)"},        \
  {"int64_rows", el_py_int64_rows, METH_VARARGS, "(rows, words) -> zero-padded int64 table"},       \
  {"node_rows", el_py_node_rows, METH_O, "(op, inputs, output, params) records -> node table"},     \
  {"aligned_copy", el_py_aligned_copy, METH_VARARGS, "(array, heap=None) -> (buffer, offset of its 64-aligned copy)"},

#endif
