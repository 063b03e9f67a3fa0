/* The CPython side of the weight packers (pack.c, include/el_pack.h): each takes numpy arrays
 * (buffer protocol: C-contiguous, of the stated item type and count), checks every extent and size
 * it is given (ValueError naming it), and returns (bytearray, offset, nbytes[, format]): the packed
 * bytes start 64-byte aligned at `offset` of a zero-initialised bytearray, or, given a Heap as the
 * last argument (_slab.c), of one of its slabs (returned in place of the bytearray). A requantization the
 * kernels cannot run (shift outside [-31, 31], a scale not finite) returns None: the lowering
 * leaves that node on the reference kernels. */
#include "include/el_pack_py.h"

#include <math.h>
#include <string.h>

#include "include/el_engine.h"
#include "include/el_pack.h"
#include "include/el_slab_py.h"

#define EL_PACK_ALIGN 64
#define EL_PACK_MAX_EXTENT ((Py_ssize_t)1 << 24)

typedef struct {
  Py_buffer view;
  int held;
} array_arg;

static void release(array_arg *a, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (a[i].held) { PyBuffer_Release(&a[i].view); a[i].held = 0; }
}

/* A C-contiguous array of `count` items of struct kind `kind` ('b', 'i', 'f'); count < 0 accepts
 * 1 or -count items (per tensor or per channel). None leaves the view unheld when `optional`. */
static int get_array(PyObject *obj, array_arg *a, char kind, Py_ssize_t itemsize, Py_ssize_t count, int optional,
                     const char *what) {
  a->held = 0;
  if (obj == Py_None && optional) return 0;
  if (PyObject_GetBuffer(obj, &a->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s: not a C-contiguous array", what);
    return -1;
  }
  a->held = 1;
  const char *format = a->view.format ? a->view.format : "B";
  const size_t length = strlen(format);
  const Py_ssize_t items = a->view.itemsize ? a->view.len / a->view.itemsize : 0;
  if (length == 0 || format[length - 1] != kind || a->view.itemsize != itemsize) {
    PyErr_Format(PyExc_ValueError, "%s: expected items of type '%c', got '%s'", what, kind, format);
    return -1;
  }
  if (count >= 0 ? items != count : (items != 1 && items != -count)) {
    PyErr_Format(PyExc_ValueError, "%s: expected %zd values, got %zd", what, count >= 0 ? count : -count, items);
    return -1;
  }
  return 0;
}

/* Every extent in [1, 2^24], c from c_min (K of float panels may be 0: a transposed conv's phase
 * of no taps). */
static int check_extents(const char *what, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Py_ssize_t c_min) {
  if (a < 1 || b < 1 || c < c_min || a > EL_PACK_MAX_EXTENT || b > EL_PACK_MAX_EXTENT || c > EL_PACK_MAX_EXTENT ||
      (double)a * (double)b * (double)c > (double)EL_MAX_ELEMENTS) {
    PyErr_Format(PyExc_ValueError, "%s: extents %zd x %zd x %zd out of range", what, a, b, c);
    return -1;
  }
  return 0;
}

static int check_zero(const char *what, int zero) {
  if (zero >= -128 && zero <= 127) return 0;
  PyErr_Format(PyExc_ValueError, "%s: zero point %d outside int8", what, zero);
  return -1;
}

/* A bytearray of nbytes from a 64-byte boundary, zeroed (or, for a packer that writes every byte
 * itself, only outside those bytes): sets *data and *offset. */
static PyObject *aligned_output(size_t nbytes, int zeroed, char **data, Py_ssize_t *offset) {
  PyObject *raw = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)nbytes + EL_PACK_ALIGN);
  if (raw == NULL) return NULL;
  char *base = PyByteArray_AS_STRING(raw);
  if (zeroed) memset(base, 0, nbytes + EL_PACK_ALIGN);
  *offset = (Py_ssize_t)((EL_PACK_ALIGN - (uintptr_t)base % EL_PACK_ALIGN) % EL_PACK_ALIGN);
  *data = base + *offset;
  if (!zeroed) {
    memset(base, 0, (size_t)*offset);
    memset(*data + nbytes, 0, EL_PACK_ALIGN - (size_t)*offset);
  }
  return raw;
}

/* The packers' output: a piece of the Heap `heap` when one is given (the lowering's slabs), else a
 * bytearray of its own (aligned_output). */
static PyObject *output(PyObject *heap, size_t nbytes, int zeroed, char **data, Py_ssize_t *offset) {
  if (heap == NULL || heap == Py_None) return aligned_output(nbytes, zeroed, data, offset);
  if (!el_is_heap(heap)) return PyErr_Format(PyExc_TypeError, "heap: expected an _engine.Heap or None, got %s",
                                            Py_TYPE(heap)->tp_name);
  return el_heap_carve(heap, nbytes, zeroed, data, offset);
}

typedef struct {
  int32_t *mult, *shift;
  int64_t *bias;
} channel_words;

static int alloc_channels(channel_words *cw, Py_ssize_t channels) {
  cw->mult = PyMem_Malloc((size_t)channels * sizeof(int32_t));
  cw->shift = PyMem_Malloc((size_t)channels * sizeof(int32_t));
  cw->bias = PyMem_Calloc((size_t)channels, sizeof(int64_t));
  if (cw->mult == NULL || cw->shift == NULL || cw->bias == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

static void free_channels(channel_words *cw) {
  PyMem_Free(cw->mult);
  PyMem_Free(cw->shift);
  PyMem_Free(cw->bias);
}

/* pack_gemm(weights float32 [groups x n x k], bias float32 [groups x n] | None, groups, n, k)
 * -> (bytearray, offset, nbytes) */
PyObject *el_py_pack_gemm(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *w_obj, *b_obj, *heap = NULL;
  Py_ssize_t groups, n, k;
  if (!PyArg_ParseTuple(args, "OOnnn|O", &w_obj, &b_obj, &groups, &n, &k, &heap)) return NULL;
  if (check_extents("pack_gemm", groups, n, k, 0) < 0) return NULL;
  array_arg a[2] = {{.held = 0}, {.held = 0}};
  PyObject *result = NULL;
  if (get_array(w_obj, &a[0], 'f', 4, groups * n * k, 0, "pack_gemm weights") == 0 &&
      get_array(b_obj, &a[1], 'f', 4, groups * n, 1, "pack_gemm bias") == 0) {
    const size_t nbytes = el_pack_gemm_bytes((size_t)groups, (size_t)n, (size_t)k);
    char *data;
    Py_ssize_t offset;
    PyObject *raw = output(heap, nbytes, 0, &data, &offset);
    if (raw != NULL) {
      el_pack_gemm(a[0].view.buf, a[1].held ? a[1].view.buf : NULL, (size_t)groups, (size_t)n, (size_t)k,
                   (uint32_t *)data);
      result = Py_BuildValue("(Nnn)", raw, offset, (Py_ssize_t)nbytes);
    }
  }
  release(a, 2);
  return result;
}

/* pack_qgemm(weights int8 [n x k], n, k, weight_zero, bias int32 [n] | None, weight scales float32
 * [1 | n], input_scale, output_scale, float_product, input_zero, quads): qgemm pairs of the weights
 * minus weight_zero, or (quads, when every one fits int8) qgemmc4 quads.
 * -> (bytearray, offset, nbytes, format 0 pairs / 1 quads) or None */
PyObject *el_py_pack_qgemm(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *w_obj, *b_obj, *s_obj, *heap = NULL;
  Py_ssize_t n, k;
  int weight_zero, float_product, input_zero, quads;
  double input_scale, output_scale;
  if (!PyArg_ParseTuple(args, "OnniOOddpip|O", &w_obj, &n, &k, &weight_zero, &b_obj, &s_obj, &input_scale,
                        &output_scale, &float_product, &input_zero, &quads, &heap))
    return NULL;
  if (check_extents("pack_qgemm", n, 1, k, 1) < 0 || check_zero("pack_qgemm weights", weight_zero) < 0 ||
      check_zero("pack_qgemm input", input_zero) < 0)
    return NULL;
  array_arg a[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
  channel_words cw = {NULL, NULL, NULL};
  PyObject *result = NULL;
  if (get_array(w_obj, &a[0], 'b', 1, n * k, 0, "pack_qgemm weights") < 0 ||
      get_array(b_obj, &a[1], 'i', 4, n, 1, "pack_qgemm bias") < 0 ||
      get_array(s_obj, &a[2], 'f', 4, -n, 0, "pack_qgemm scales") < 0 || alloc_channels(&cw, n) < 0)
    goto done;
  if (el_pack_multipliers(a[2].view.buf, (size_t)a[2].view.len / 4, (size_t)n, input_scale, output_scale,
                          float_product, cw.mult, cw.shift) < 0) {
    Py_INCREF(Py_None);
    result = Py_None;
    goto done;
  }
  const int8_t *w = a[0].view.buf;
  quads = quads && el_pack_qgemm_fits_quads(w, (size_t)(n * k), weight_zero);
  el_pack_qgemm_bias(w, (size_t)n, (size_t)k, weight_zero, a[1].held ? a[1].view.buf : NULL, input_zero, quads,
                     cw.bias);
  const size_t nbytes = el_pack_qgemm_bytes((size_t)n, (size_t)k, quads);
  char *data;
  Py_ssize_t offset;
  PyObject *raw = output(heap, nbytes, 1, &data, &offset);
  if (raw == NULL) goto done;
  el_pack_qgemm(w, (size_t)n, (size_t)k, weight_zero, cw.bias, cw.mult, cw.shift, quads, data);
  result = Py_BuildValue("(Nnni)", raw, offset, (Py_ssize_t)nbytes, quads);
done:
  release(a, 3);
  free_channels(&cw);
  return result;
}

/* pack_qdwconv(weights int8 [taps x c], taps, c, bias int32 [c] | None, weight scales float32
 * [1 | c], input_scale, output_scale, input_zero, quads): qdwconv pairs or qdwconvc4 quads.
 * -> (bytearray, offset, nbytes, format) or None */
PyObject *el_py_pack_qdwconv(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *w_obj, *b_obj, *s_obj, *heap = NULL;
  Py_ssize_t taps, c;
  int input_zero, quads;
  double input_scale, output_scale;
  if (!PyArg_ParseTuple(args, "OnnOOddip|O", &w_obj, &taps, &c, &b_obj, &s_obj, &input_scale, &output_scale,
                        &input_zero, &quads, &heap))
    return NULL;
  if (check_extents("pack_qdwconv", c, 1, taps, 1) < 0 || check_zero("pack_qdwconv input", input_zero) < 0)
    return NULL;
  array_arg a[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
  channel_words cw = {NULL, NULL, NULL};
  PyObject *result = NULL;
  if (get_array(w_obj, &a[0], 'b', 1, taps * c, 0, "pack_qdwconv weights") < 0 ||
      get_array(b_obj, &a[1], 'i', 4, c, 1, "pack_qdwconv bias") < 0 ||
      get_array(s_obj, &a[2], 'f', 4, -c, 0, "pack_qdwconv scales") < 0 || alloc_channels(&cw, c) < 0)
    goto done;
  if (el_pack_multipliers(a[2].view.buf, (size_t)a[2].view.len / 4, (size_t)c, input_scale, output_scale, 0,
                          cw.mult, cw.shift) < 0) {
    Py_INCREF(Py_None);
    result = Py_None;
    goto done;
  }
  const int8_t *w = a[0].view.buf;
  el_pack_qdwconv_bias(w, (size_t)taps, (size_t)c, a[1].held ? a[1].view.buf : NULL, input_zero, quads, cw.bias);
  const size_t nbytes = el_pack_qdwconv_bytes((size_t)taps, (size_t)c, quads);
  char *data;
  Py_ssize_t offset;
  PyObject *raw = output(heap, nbytes, 1, &data, &offset);
  if (raw == NULL) goto done;
  el_pack_qdwconv(w, (size_t)taps, (size_t)c, cw.bias, cw.mult, cw.shift, quads, data);
  result = Py_BuildValue("(Nnni)", raw, offset, (Py_ssize_t)nbytes, quads);
done:
  release(a, 3);
  free_channels(&cw);
  return result;
}

/* pack_hgemm(weights int8 [n x k], n, k, scales float32 [1 | n], bias float32 [n] | None)
 * -> (bytearray, offset, nbytes) */
PyObject *el_py_pack_hgemm(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *w_obj, *s_obj, *b_obj, *heap = NULL;
  Py_ssize_t n, k;
  if (!PyArg_ParseTuple(args, "OnnOO|O", &w_obj, &n, &k, &s_obj, &b_obj, &heap)) return NULL;
  if (check_extents("pack_hgemm", n, 1, k, 1) < 0) return NULL;
  array_arg a[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
  PyObject *result = NULL;
  if (get_array(w_obj, &a[0], 'b', 1, n * k, 0, "pack_hgemm weights") == 0 &&
      get_array(s_obj, &a[1], 'f', 4, -n, 0, "pack_hgemm scales") == 0 &&
      get_array(b_obj, &a[2], 'f', 4, n, 1, "pack_hgemm bias") == 0) {
    const size_t nbytes = el_pack_hgemm_bytes((size_t)n, (size_t)k);
    char *data;
    Py_ssize_t offset;
    PyObject *raw = output(heap, nbytes, 1, &data, &offset);
    if (raw != NULL) {
      el_pack_hgemm(a[0].view.buf, (size_t)n, (size_t)k, a[1].view.buf, (size_t)a[1].view.len / 4,
                    a[2].held ? a[2].view.buf : NULL, data);
      result = Py_BuildValue("(Nnn)", raw, offset, (Py_ssize_t)nbytes);
    }
  }
  release(a, 3);
  return result;
}

/* quantize_multiplier(real) -> (multiplier, shift), real finite. */
PyObject *el_py_quantize_multiplier(PyObject *m, PyObject *arg) {
  (void)m;
  const double real = PyFloat_AsDouble(arg);
  if (real == -1.0 && PyErr_Occurred()) return NULL;
  if (!isfinite(real)) return PyErr_Format(PyExc_ValueError, "quantize_multiplier: %R is not finite", arg);
  int32_t multiplier, shift;
  el_quantize_multiplier(real, &multiplier, &shift);
  return Py_BuildValue("(ii)", (int)multiplier, (int)shift);
}

/* -- lowered tables --------------------------------------------------------------------------- */
/* Write the ints of `seq` (a list or tuple of at most `limit` ints) to out[0..]; -1 with ValueError. */
static int put_ints(PyObject *seq, int64_t *out, Py_ssize_t limit, const char *what, Py_ssize_t row) {
  PyObject *fast = PySequence_Fast(seq, "a table row must be a sequence");
  if (fast == NULL) return -1;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  int status = 0;
  if (n > limit) {
    PyErr_Format(PyExc_ValueError, "row %zd: %zd %s, at most %zd", row, n, what, limit);
    status = -1;
  }
  for (Py_ssize_t i = 0; status == 0 && i < n; i++) {
    const long long value = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
    if (value == -1 && PyErr_Occurred()) {
      PyErr_Format(PyExc_ValueError, "row %zd: %s %zd is not an int64", row, what, i);
      status = -1;
    }
    out[i] = value;
  }
  Py_DECREF(fast);
  return status;
}

static PyObject *table_bytes(Py_ssize_t rows, Py_ssize_t words, int64_t **data) {
  PyObject *raw = PyByteArray_FromStringAndSize(NULL, rows * words * 8);
  if (raw == NULL) return NULL;
  memset(PyByteArray_AS_STRING(raw), 0, (size_t)(rows * words * 8));
  *data = (int64_t *)PyByteArray_AS_STRING(raw);
  if ((uintptr_t)*data % 8) { /* bytearrays are at least 8-byte aligned; checked all the same */
    Py_DECREF(raw);
    PyErr_SetString(PyExc_MemoryError, "table buffer is not 8-byte aligned");
    return NULL;
  }
  return raw;
}

/* int64_rows(rows, words): each row a sequence of at most `words` ints, zero-padded
 * -> (bytearray, len(rows) x words int64 from offset 0) */
PyObject *el_py_int64_rows(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *rows_obj;
  Py_ssize_t words;
  if (!PyArg_ParseTuple(args, "On", &rows_obj, &words)) return NULL;
  if (words < 1 || words > 1024) return PyErr_Format(PyExc_ValueError, "int64_rows: %zd words", words);
  PyObject *rows = PySequence_Fast(rows_obj, "int64_rows: rows must be a sequence");
  if (rows == NULL) return NULL;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(rows);
  int64_t *data;
  PyObject *raw = table_bytes(n, words, &data);
  for (Py_ssize_t r = 0; raw != NULL && r < n; r++)
    if (put_ints(PySequence_Fast_GET_ITEM(rows, r), data + r * words, words, "words", r) < 0) Py_CLEAR(raw);
  Py_DECREF(rows);
  return raw;
}

/* node_rows(records): each record (op, inputs, output, params) -> (bytearray of node table rows:
 * [op, len(inputs), inputs (EL_MAX_INPUTS), output, params (EL_NODE_PARAMS)], zero-padded) */
PyObject *el_py_node_rows(PyObject *m, PyObject *arg) {
  (void)m;
  PyObject *records = PySequence_Fast(arg, "node_rows: records must be a sequence");
  if (records == NULL) return NULL;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(records);
  int64_t *data;
  PyObject *raw = table_bytes(n, EL_NODE_WORDS, &data);
  for (Py_ssize_t r = 0; raw != NULL && r < n; r++) {
    int64_t *row = data + r * EL_NODE_WORDS;
    PyObject *op, *inputs, *output, *params;
    PyObject *record = PySequence_Fast_GET_ITEM(records, r);
    if (!PyTuple_Check(record) || !PyArg_ParseTuple(record, "OOOO", &op, &inputs, &output, &params)) {
      PyErr_Clear();
      PyErr_Format(PyExc_ValueError, "node_rows: record %zd is not (op, inputs, output, params) of ints", r);
      Py_CLEAR(raw);
      break;
    }
    row[0] = PyLong_AsLongLong(op);
    row[2 + EL_MAX_INPUTS] = PyLong_AsLongLong(output);
    const Py_ssize_t count = PySequence_Size(inputs);
    row[1] = count;
    if (PyErr_Occurred() || put_ints(inputs, row + 2, EL_MAX_INPUTS, "inputs", r) < 0 ||
        put_ints(params, row + 3 + EL_MAX_INPUTS, EL_NODE_PARAMS, "params", r) < 0) {
      if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "node_rows: record %zd is not (op, inputs, output, params) of ints", r);
      }
      Py_CLEAR(raw);
    }
  }
  Py_DECREF(records);
  return raw;
}

/* aligned_copy(array, heap=None): the bytes of a C-contiguous array copied to a 64-byte boundary
 * of a new bytearray, or of the Heap's slabs -> (bytearray | Slab, offset) (engine-owned tables, pad
 * rows and writable buffers). */
PyObject *el_py_aligned_copy(PyObject *m, PyObject *args) {
  (void)m;
  PyObject *arg, *heap = NULL;
  if (!PyArg_ParseTuple(args, "O|O", &arg, &heap)) return NULL;
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_C_CONTIGUOUS) < 0) {
    PyErr_Clear();
    return PyErr_Format(PyExc_ValueError, "aligned_copy: not a C-contiguous array");
  }
  char *data;
  Py_ssize_t offset;
  PyObject *raw = output(heap, (size_t)view.len, 0, &data, &offset);
  if (raw != NULL) memcpy(data, view.buf, (size_t)view.len);
  PyBuffer_Release(&view);
  return raw == NULL ? NULL : Py_BuildValue("(Nn)", raw, offset);
}
