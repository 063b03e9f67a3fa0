/* The .tflite reader's walker: verifies a model flatbuffer and hands model/reader.py its content in
 * bulk (tuples of Python scalars, strings and offsets into the file), see reader.h.
 *
 * Nothing in the file is trusted. Every check model/reader.py's checked Python path makes (tables
 * and vtables as model/_flatbuffer.CheckedTable verifies them, every offset, length and alignment,
 * UTF-8, the decoding budget against aliased vectors, indices, shapes, sizes, constants,
 * quantization) is made here too, on the same fields under the same conditions, so both
 * accept the same files. A defect raises ValueError with a short description; reader.py then runs
 * its Python path, which names the defect for the user. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "include/el_flatbuffer.h"
#include "include/reader.h"

#define MAX_RANK 16
#define CUSTOM_BUILTIN 32
#define GREATER_OP_CODES 127 /* BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES */

enum { TYPE_SIZED = 0, TYPE_STRING = 1, TYPE_UNSIZED = 2 }; /* how a constant's size is checked */
enum { OPT_STRING = 0, OPT_VECTOR = 16 };                    /* option kinds besides scalars */
enum { K_I8 = 1, K_U8, K_I16, K_U16, K_I32, K_U32, K_I64, K_U64, K_F32, K_F64, K_BOOL };

typedef struct {
  Flatbuffer fb; /* the file; fb.failed marks a defect of the file, as opposed to a Python exception */
  PyObject *types; /* per TensorType code: (member, bits per element, TYPE_*) */
  PyObject *options[2];
  PyObject *python_only; /* the metadata name of files left to model/checked_reader.py */
  uint32_t schema_version, buffer_count;
  uint64_t *buffers; /* (start, length) of every buffer's data */
  float *floats;     /* quantization scales, mins and maxs of every tensor */
  int64_t *ints;     /* quantization zero points */
  size_t n_floats, cap_floats, n_ints, cap_ints;
} Reader;

/* A string field decoded (strict UTF-8, as bytes.decode), or `absent` (a new reference to it). */
static PyObject *string(Reader *r, const Table *t, unsigned vtable_offset, PyObject *absent) {
  const uint8_t *bytes;
  uint32_t length;
  if (fb_string_bytes(&r->fb, t, vtable_offset, &bytes, &length) < 0) return NULL;
  if (bytes == NULL) {
    Py_INCREF(absent);
    return absent;
  }
  if (fb_spend(&r->fb, length) < 0) return NULL;
  PyObject *text = PyUnicode_DecodeUTF8((const char *)bytes, length, "strict");
  if (text == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
    PyErr_Clear();
    fb_fail(&r->fb, "a string at %llu is not valid UTF-8", (unsigned long long)(bytes - r->fb.buf));
  }
  return text;
}

static PyObject *empty_string(void) { return PyUnicode_FromStringAndSize(NULL, 0); }

/* An int32 vector field as a tuple of ints, each in [lowest, limit) (tensor indices: [-1 or 0, tensors)). */
static PyObject *int32_tuple(Reader *r, const Table *t, unsigned vtable_offset, int64_t lowest, int64_t limit) {
  uint64_t start;
  uint32_t count;
  if (fb_vector(&r->fb, t, vtable_offset, 4, &start, &count) < 0 || fb_spend(&r->fb, 4ull * count) < 0) return NULL;
  for (uint32_t k = 0; k < count; k++) {
    int32_t value = fb_i32(r->fb.buf + start + 4ull * k);
    if (value < lowest || value >= limit)
      return fb_fail(&r->fb, "element %u of a vector is %d, outside [%lld, %lld)", k, value, (long long)lowest,
                     (long long)limit), NULL;
  }
  PyObject *tuple = PyTuple_New(count);
  for (uint32_t k = 0; tuple && k < count; k++) {
    PyObject *value = PyLong_FromLong(fb_i32(r->fb.buf + start + 4ull * k));
    if (value == NULL) Py_CLEAR(tuple);
    else PyTuple_SET_ITEM(tuple, k, value);
  }
  return tuple;
}

/* A tuple of `n` new references (stolen, also on failure); NULL if any is NULL. */
static PyObject *tuple_of(Py_ssize_t n, ...) {
  va_list args;
  PyObject *tuple = PyTuple_New(n);
  int missing = tuple == NULL;
  va_start(args, n);
  for (Py_ssize_t k = 0; k < n; k++) {
    PyObject *item = va_arg(args, PyObject *);
    if (item == NULL) missing = 1;
    if (tuple != NULL && item != NULL) PyTuple_SET_ITEM(tuple, k, item);
    else Py_XDECREF(item);
  }
  va_end(args);
  if (missing) Py_CLEAR(tuple);
  return tuple;
}

static PyObject *new_ref(PyObject *object) {
  Py_INCREF(object);
  return object;
}

/* A vector of (name: string at slot 4, index: uint32 at slot 6) tables, as ((name, index), ...), each
 * index below `limit`: metadata entries (buffers) and signature maps (tensors). */
static PyObject *named_indices(Reader *r, const Table *t, unsigned vtable_offset, uint32_t limit) {
  uint64_t start;
  uint32_t count;
  if (fb_vector(&r->fb, t, vtable_offset, 4, &start, &count) < 0) return NULL;
  PyObject *entries = PyTuple_New(count);
  for (uint32_t k = 0; entries && k < count; k++) {
    Table item;
    uint32_t index;
    PyObject *name;
    if (fb_table_at(&r->fb, fb_element(&r->fb, start, k), &item) < 0 || (name = string(r, &item, 4, Py_None)) == NULL) goto error;
    if (name == Py_None) {
      Py_DECREF(name);
      if ((name = empty_string()) == NULL) goto error;
    }
    if (fb_get_u32(&r->fb, &item, 6, 0, &index) < 0 || index >= limit) {
      Py_DECREF(name);
      fb_fail(&r->fb, "entry %u refers to index %u of %u", k, index, limit);
      goto error;
    }
    PyObject *entry = Py_BuildValue("(NI)", name, index);
    if (entry == NULL) goto error;
    PyTuple_SET_ITEM(entries, k, entry);
  }
  return entries;
error:
  Py_XDECREF(entries);
  return NULL;
}

/* ---------------------------------------------------------------- buffers, codes, metadata */

static int read_buffers(Reader *r, const Table *root) {
  uint64_t start;
  uint32_t count;
  Table table;
  if (fb_vector(&r->fb, root, 12, 4, &start, &count) < 0) return -1;
  for (uint32_t k = 0; k < count; k++)
    if (fb_table_at(&r->fb, fb_element(&r->fb, start, k), &table) < 0) return -1;
  r->buffer_count = count;
  r->buffers = PyMem_Calloc(count ? 2ull * count : 1, sizeof(uint64_t));
  if (r->buffers == NULL) return PyErr_NoMemory(), -1;
  for (uint32_t k = 0; k < count; k++) {
    uint64_t data, offset, size;
    uint32_t length;
    fb_table_at(&r->fb, fb_element(&r->fb, start, k), &table);
    if (fb_vector(&r->fb, &table, 4, 1, &data, &length) < 0 || fb_get_u64(&r->fb, &table, 6, &offset) < 0 ||
        fb_get_u64(&r->fb, &table, 8, &size) < 0)
      return -1;
    if (offset > 1) { /* stored after the flatbuffer (offset 1 is a placeholder) */
      if (length) return fb_fail(&r->fb, "buffer %u has both inline data and an offset", k);
      if (size > r->fb.size || offset > r->fb.size - size)
        return fb_fail(&r->fb, "buffer %u lies past the end of the file", k);
      data = offset;
      r->buffers[2 * k + 1] = size;
    } else {
      r->buffers[2 * k + 1] = length;
    }
    r->buffers[2 * k] = data;
  }
  return 0;
}

static PyObject *buffer_list(Reader *r) {
  PyObject *list = PyList_New(2 * (Py_ssize_t)r->buffer_count);
  for (Py_ssize_t k = 0; list && k < 2 * (Py_ssize_t)r->buffer_count; k++) {
    PyObject *value = PyLong_FromUnsignedLongLong(r->buffers[k]);
    if (value == NULL) Py_CLEAR(list);
    else PyList_SET_ITEM(list, k, value);
  }
  return list;
}

/* Each operator code as (builtin code, custom code or None, version). */
static PyObject *read_codes(Reader *r, const Table *root) {
  uint64_t start;
  uint32_t count;
  if (fb_vector(&r->fb, root, 6, 4, &start, &count) < 0) return NULL;
  PyObject *codes = PyTuple_New(count);
  for (uint32_t k = 0; codes && k < count; k++) {
    Table t;
    int8_t deprecated;
    int32_t builtin, version;
    if (fb_table_at(&r->fb, fb_element(&r->fb, start, k), &t) < 0 || fb_get_i8(&r->fb, &t, 4, &deprecated) < 0 ||
        fb_get_i32(&r->fb, &t, 10, 0, &builtin) < 0)
      goto error;
    builtin = builtin < GREATER_OP_CODES ? deprecated : builtin;
    if (builtin < 0) {
      fb_fail(&r->fb, "operator code %u has negative builtin code %d", k, builtin);
      goto error;
    }
    PyObject *custom = Py_None;
    Py_INCREF(custom);
    if (builtin == CUSTOM_BUILTIN) {
      Py_DECREF(custom);
      custom = string(r, &t, 6, Py_None);
      if (custom == NULL) goto error;
      if (custom == Py_None) {
        Py_DECREF(custom);
        fb_fail(&r->fb, "operator code %u is a custom operator without a custom_code", k);
        goto error;
      }
    }
    if (fb_get_i32(&r->fb, &t, 8, 1, &version) < 0) {
      Py_DECREF(custom);
      goto error;
    }
    PyObject *entry = Py_BuildValue("(iNi)", builtin, custom, version);
    if (entry == NULL) goto error;
    PyTuple_SET_ITEM(codes, k, entry);
  }
  return codes;
error:
  Py_XDECREF(codes);
  return NULL;
}

/* The metadata entries as ((name, buffer), ...); the legacy metadata_buffer list is checked only. */
static PyObject *read_metadata(Reader *r, const Table *root) {
  uint64_t start;
  uint32_t count;
  if (fb_vector(&r->fb, root, 14, 4, &start, &count) < 0 || fb_spend(&r->fb, 4ull * count) < 0) return NULL;
  for (uint32_t k = 0; k < count; k++) {
    int32_t buffer = fb_i32(r->fb.buf + start + 4ull * k);
    if (buffer < 0 || (uint32_t)buffer >= r->buffer_count)
      return fb_fail(&r->fb, "the model's metadata_buffer refers to buffer %d", buffer), NULL;
  }
  return named_indices(r, root, 16, r->buffer_count);
}

/* ---------------------------------------------------------------- tensors */

typedef struct {
  int64_t dims[MAX_RANK];
  uint32_t rank;
} Shape;

static int read_dims(Reader *r, const Table *t, unsigned vtable_offset, int64_t lowest, Shape *shape) {
  uint64_t start;
  uint32_t rank;
  if (fb_vector(&r->fb, t, vtable_offset, 4, &start, &rank) < 0) return -1;
  if (rank > MAX_RANK) return fb_fail(&r->fb, "a shape of rank %u", rank);
  if (fb_spend(&r->fb, 4ull * rank) < 0) return -1;
  shape->rank = rank;
  for (uint32_t d = 0; d < rank; d++) {
    shape->dims[d] = fb_i32(r->fb.buf + start + 4ull * d);
    if (shape->dims[d] < lowest) return fb_fail(&r->fb, "a negative dimension");
  }
  return 0;
}

static PyObject *shape_tuple(const Shape *shape) {
  PyObject *tuple = PyTuple_New(shape->rank);
  for (uint32_t d = 0; tuple && d < shape->rank; d++) {
    PyObject *value = PyLong_FromLongLong(shape->dims[d]);
    if (value == NULL) Py_CLEAR(tuple);
    else PyTuple_SET_ITEM(tuple, d, value);
  }
  return tuple;
}

/* The element count, refusing shapes of more than 2**63 - 1 bytes (saturates at 2**64 + 1). */
static int element_count(Reader *r, const Shape *shape, int64_t bits, unsigned __int128 *count) {
  unsigned __int128 product = 1, cap = ((unsigned __int128)1 << 64) + 1;
  for (uint32_t d = 0; d < shape->rank; d++) {
    if (shape->dims[d] == 0) {
      *count = 0;
      return 0;
    }
    product *= (uint64_t)shape->dims[d];
    if (product > cap) product = cap;
  }
  int64_t bytes = bits < 8 ? 1 : bits / 8;
  if (product * (uint64_t)bytes > (unsigned __int128)INT64_MAX) return fb_fail(&r->fb, "too many elements to address");
  *count = product;
  return 0;
}

static int grow(void **array, size_t *capacity, size_t needed, size_t item) {
  if (needed <= *capacity) return 0;
  size_t capacity2 = *capacity ? *capacity : 256;
  while (capacity2 < needed) capacity2 *= 2;
  void *grown = PyMem_Realloc(*array, capacity2 * item);
  if (grown == NULL) return PyErr_NoMemory(), -1;
  *array = grown;
  *capacity = capacity2;
  return 0;
}

static int push_floats(Reader *r, uint64_t start, uint32_t count) {
  if (count == 0) return 0; /* the pool may still be NULL */
  if (grow((void **)&r->floats, &r->cap_floats, r->n_floats + count, sizeof(float)) < 0) return -1;
  memcpy(r->floats + r->n_floats, r->fb.buf + start, 4ull * count);
  r->n_floats += count;
  return 0;
}

/* The quantization as (quantized_dimension, #scales, #zero points, #mins, #maxs, first float,
 * first int) into the float pool (scales, mins, maxs) and int pool (zero points), or None. */
static PyObject *read_quantization(Reader *r, const Table *tensor, const Shape *shape) {
  Table t;
  int found;
  if (fb_child(&r->fb, tensor, 12, &t, &found) < 0) return NULL;
  if (!found || !(fb_field(&t, 4) || fb_field(&t, 6) || fb_field(&t, 8) || fb_field(&t, 10))) Py_RETURN_NONE;
  uint64_t scale_at, zero_at, min_at, max_at;
  uint32_t scales, zeros, mins, maxs;
  int32_t axis;
  if (fb_vector(&r->fb, &t, 8, 4, &scale_at, &scales) < 0 || fb_spend(&r->fb, 4ull * scales) < 0 ||
      fb_vector(&r->fb, &t, 10, 8, &zero_at, &zeros) < 0 || fb_spend(&r->fb, 8ull * zeros) < 0 ||
      fb_vector(&r->fb, &t, 4, 4, &min_at, &mins) < 0 || fb_spend(&r->fb, 4ull * mins) < 0 ||
      fb_vector(&r->fb, &t, 6, 4, &max_at, &maxs) < 0 || fb_spend(&r->fb, 4ull * maxs) < 0)
    return NULL;
  if (!(scales || zeros || mins || maxs)) Py_RETURN_NONE;
  if (fb_get_i32(&r->fb, &t, 16, 0, &axis) < 0) return NULL;
  if (scales) {
    if (scales != zeros) return fb_fail(&r->fb, "%u quantization scales but %u zero points", scales, zeros), NULL;
    if (axis < 0 || (shape->rank && (uint32_t)axis >= shape->rank))
      return fb_fail(&r->fb, "quantized_dimension %d outside the shape", axis), NULL;
    if (scales != 1 && (!shape->rank || (int64_t)scales != shape->dims[axis]))
      return fb_fail(&r->fb, "%u per-channel scales do not match the shape", scales), NULL;
  }
  size_t first_float = r->n_floats, first_int = r->n_ints;
  if (push_floats(r, scale_at, scales) < 0 || push_floats(r, min_at, mins) < 0 ||
      push_floats(r, max_at, maxs) < 0 ||
      grow((void **)&r->ints, &r->cap_ints, r->n_ints + zeros, sizeof(int64_t)) < 0)
    return NULL;
  if (zeros) memcpy(r->ints + r->n_ints, r->fb.buf + zero_at, 8ull * zeros); /* the pool may still be NULL */
  r->n_ints += zeros;
  return tuple_of(7, PyLong_FromLong(axis), PyLong_FromUnsignedLong(scales), PyLong_FromUnsignedLong(zeros),
                  PyLong_FromUnsignedLong(mins), PyLong_FromUnsignedLong(maxs),
                  PyLong_FromSize_t(first_float), PyLong_FromSize_t(first_int));
}

/* A sparse level's index vector (Int32Vector, Uint16Vector or Uint8Vector) as (kind, start, count). */
static PyObject *index_vector(Reader *r, const Table *dim, unsigned type_offset, unsigned union_offset) {
  static const unsigned item[4] = {0, 4, 2, 1};
  uint8_t kind;
  Table t;
  int found;
  uint64_t start;
  uint32_t count;
  if (fb_get_u8(&r->fb, dim, type_offset, 0, &kind) < 0 || fb_child(&r->fb, dim, union_offset, &t, &found) < 0) return NULL;
  if (!found || kind < 1 || kind > 3) return fb_fail(&r->fb, "a sparse level without valid segments and indices"), NULL;
  if (fb_vector(&r->fb, &t, 4, item[kind], &start, &count) < 0 || fb_spend(&r->fb, (uint64_t)item[kind] * count) < 0)
    return NULL;
  return Py_BuildValue("(iKI)", kind, (unsigned long long)start, count);
}

/* Sparsity as (traversal_order, block_map, ((format, dense_size, segments, indices), ...)) with the
 * index vectors as (kind, start, count) in the file, or None. */
static PyObject *read_sparsity(Reader *r, const Table *tensor) {
  Table t;
  int found;
  if (fb_child(&r->fb, tensor, 16, &t, &found) < 0) return NULL;
  if (!found) Py_RETURN_NONE;
  PyObject *order = NULL, *block_map = NULL, *levels = NULL;
  uint64_t start;
  uint32_t count;
  if ((order = int32_tuple(r, &t, 4, INT32_MIN, INT32_MAX + 1ll)) == NULL ||
      (block_map = int32_tuple(r, &t, 6, INT32_MIN, INT32_MAX + 1ll)) == NULL ||
      fb_vector(&r->fb, &t, 8, 4, &start, &count) < 0 || (levels = PyTuple_New(count)) == NULL)
    goto error;
  for (uint32_t k = 0; k < count; k++) {
    Table dim;
    int8_t format;
    int32_t dense_size;
    PyObject *segments = Py_None, *values = Py_None;
    if (fb_table_at(&r->fb, fb_element(&r->fb, start, k), &dim) < 0 || fb_get_i8(&r->fb, &dim, 4, &format) < 0) goto error;
    if (format != 0 && format != 1) {
      fb_fail(&r->fb, "sparsity level %u of unknown format %d", k, format);
      goto error;
    }
    if (format == 1) {
      if ((segments = index_vector(r, &dim, 8, 10)) == NULL) goto error;
      if ((values = index_vector(r, &dim, 12, 14)) == NULL) {
        Py_DECREF(segments);
        goto error;
      }
    } else {
      Py_INCREF(segments);
      Py_INCREF(values);
    }
    if (fb_get_i32(&r->fb, &dim, 6, 0, &dense_size) < 0) {
      Py_DECREF(segments);
      Py_DECREF(values);
      goto error;
    }
    PyObject *level = Py_BuildValue("(iiNN)", format, dense_size, segments, values);
    if (level == NULL) goto error;
    PyTuple_SET_ITEM(levels, k, level);
  }
  return Py_BuildValue("(NNN)", order, block_map, levels);
error:
  Py_XDECREF(order);
  Py_XDECREF(block_map);
  Py_XDECREF(levels);
  return NULL;
}

/* TFLite strings: int32 count n, n+1 int32 offsets from the header's end to the buffer's end. */
static int check_strings(Reader *r, uint64_t start, uint64_t size, unsigned __int128 count) {
  if (size < 4) return fb_fail(&r->fb, "a string constant of %llu bytes", (unsigned long long)size);
  uint64_t strings = fb_u32(r->fb.buf + start), header = (strings + 2) * 4;
  if (header > size) return fb_fail(&r->fb, "a string constant's header runs past its buffer");
  if (strings != count) return fb_fail(&r->fb, "a string constant's count does not match its shape");
  const uint8_t *offsets = r->fb.buf + start + 4;
  if ((uint64_t)fb_i32(offsets) != header || (int64_t)fb_i32(offsets + 4 * strings) != (int64_t)size)
    return fb_fail(&r->fb, "string offsets that do not span the buffer");
  for (uint64_t k = 0; k < strings; k++)
    if (fb_i32(offsets + 4 * k + 4) < fb_i32(offsets + 4 * k)) return fb_fail(&r->fb, "decreasing string offsets");
  return 0;
}

/* A constant's buffer holds exactly its elements (_validate.check_constant; sparse tensors are
 * checked in Python: *python_check = 1). */
static int check_constant(Reader *r, uint32_t buffer, int kind, int64_t bits, int sparse,
                          unsigned __int128 count, int *python_check) {
  *python_check = 0;
  if (buffer == 0 || buffer >= r->buffer_count || r->buffers[2 * buffer + 1] == 0) return 0;
  uint64_t start = r->buffers[2 * buffer], size = r->buffers[2 * buffer + 1];
  if (kind == TYPE_STRING) return check_strings(r, start, size, count);
  if (kind == TYPE_UNSIZED) return 0;
  if (sparse) {
    *python_check = 1;
    return 0;
  }
  if ((count * (uint64_t)bits + 7) / 8 != size)
    return fb_fail(&r->fb, "a constant's buffer has %llu bytes", (unsigned long long)size);
  return 0;
}

/* A tensor as Tensor's arguments (name, shape, type, buffer, quantization, sparsity, shape_signature,
 * is_variable, has_rank) with quantization and sparsity in the walker's tuples; *raw says whether
 * either is set, *python_check whether _validate checks the constant (a sparse one). */
static PyObject *read_tensor(Reader *r, uint64_t pos, int *raw, int *python_check) {
  Table t;
  Shape shape, signature;
  int8_t code;
  uint32_t buffer;
  uint8_t is_variable, has_rank;
  int has_signature;
  unsigned __int128 count;
  PyObject *name, *quant = NULL, *sparsity = NULL, *signature_tuple = Py_None;
  if (fb_table_at(&r->fb, pos, &t) < 0 || (name = string(r, &t, 10, Py_None)) == NULL) return NULL;
  if (name == Py_None) {
    Py_DECREF(name);
    if ((name = empty_string()) == NULL) return NULL;
  }
  if (read_dims(r, &t, 4, 0, &shape) < 0 || fb_get_i8(&r->fb, &t, 6, &code) < 0) goto error;
  if (code < 0 || code >= PyTuple_GET_SIZE(r->types)) {
    fb_fail(&r->fb, "a tensor of type %d", code);
    goto error;
  }
  PyObject *info = PyTuple_GET_ITEM(r->types, code);
  int64_t bits = PyLong_AsLongLong(PyTuple_GET_ITEM(info, 1));
  int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(info, 2));
  if (element_count(r, &shape, bits, &count) < 0) goto error;
  has_signature = fb_field(&t, 18) != 0;
  if (has_signature) {
    if (read_dims(r, &t, 18, -1, &signature) < 0) goto error;
    if (signature.rank != shape.rank) {
      fb_fail(&r->fb, "a shape_signature of another rank");
      goto error;
    }
  }
  if (fb_get_u32(&r->fb, &t, 8, 0, &buffer) < 0) goto error;
  if (buffer && buffer >= r->buffer_count) {
    fb_fail(&r->fb, "a tensor refers to buffer %u of %u", buffer, r->buffer_count);
    goto error;
  }
  if ((quant = read_quantization(r, &t, &shape)) == NULL || (sparsity = read_sparsity(r, &t)) == NULL ||
      fb_get_u8(&r->fb, &t, 14, 0, &is_variable) < 0 || fb_get_u8(&r->fb, &t, 20, 0, &has_rank) < 0 ||
      check_constant(r, buffer, kind, bits, sparsity != Py_None, count, python_check) < 0)
    goto error;
  PyObject *dims = shape_tuple(&shape);
  if (dims == NULL) goto error;
  if (has_signature && (signature_tuple = shape_tuple(&signature)) == NULL) {
    Py_DECREF(dims);
    goto error;
  }
  if (!has_signature) Py_INCREF(signature_tuple);
  *raw = quant != Py_None || sparsity != Py_None;
  return tuple_of(9, name, dims, new_ref(PyTuple_GET_ITEM(info, 0)), PyLong_FromUnsignedLong(buffer), quant,
                  sparsity, signature_tuple, PyBool_FromLong(is_variable), PyBool_FromLong(has_rank || shape.rank));
error:
  Py_DECREF(name);
  Py_XDECREF(quant);
  Py_XDECREF(sparsity);
  return NULL;
}

/* ---------------------------------------------------------------- operators */

static PyObject *number(int kind, const uint8_t *p) {
  switch (kind) {
    case K_I8: return PyLong_FromLong((int8_t)p[0]);
    case K_U8: return PyLong_FromLong(p[0]);
    case K_I16: return PyLong_FromLong((int16_t)fb_u16(p));
    case K_U16: return PyLong_FromLong(fb_u16(p));
    case K_I32: return PyLong_FromLong(fb_i32(p));
    case K_U32: return PyLong_FromUnsignedLong(fb_u32(p));
    case K_I64: return PyLong_FromLongLong((int64_t)fb_u64(p));
    case K_U64: return PyLong_FromUnsignedLongLong(fb_u64(p));
    case K_F32: {
      float v;
      memcpy(&v, p, 4);
      return PyFloat_FromDouble(v);
    }
    case K_F64: {
      double v;
      memcpy(&v, p, 8);
      return PyFloat_FromDouble(v);
    }
    default: return PyBool_FromLong(p[0] != 0);
  }
}

static unsigned kind_width(int kind) {
  static const unsigned widths[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 1};
  return kind >= K_I8 && kind <= K_BOOL ? widths[kind] : 0;
}

/* One options table's fields per its layout ((vtable offset, kind, default), ...) from
 * model/_schema.py's FIELDS: scalars and vectors (tuples) in layout order; strings checked only. */
static PyObject *read_option_values(Reader *r, const Table *t, PyObject *layout) {
  Py_ssize_t n = PyTuple_GET_SIZE(layout), kept = 0;
  PyObject *values = PyTuple_New(n);
  uint64_t vector_items = 0;
  if (values == NULL) return NULL;
  for (Py_ssize_t k = 0; k < n; k++) {
    PyObject *entry = PyTuple_GET_ITEM(layout, k);
    unsigned offset = (unsigned)PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
    int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
    PyObject *value = NULL;
    if (kind == OPT_STRING) {
      const uint8_t *bytes;
      uint32_t length;
      if (fb_string_bytes(&r->fb, t, offset, &bytes, &length) < 0) goto error;
      continue;
    }
    if (kind > OPT_VECTOR) {
      uint64_t start;
      uint32_t count;
      unsigned width = kind_width(kind - OPT_VECTOR);
      if (fb_vector(&r->fb, t, offset, width, &start, &count) < 0) goto error;
      vector_items += count;
      value = PyTuple_New(count);
      for (uint32_t j = 0; value && j < count; j++) {
        PyObject *item = number(kind - OPT_VECTOR, r->fb.buf + start + (uint64_t)width * j);
        if (item == NULL) Py_CLEAR(value);
        else PyTuple_SET_ITEM(value, j, item);
      }
    } else {
      uint64_t raw;
      int present = fb_scalar(&r->fb, t, offset, kind_width(kind), &raw);
      if (present < 0) goto error;
      if (present) {
        value = number(kind, (const uint8_t *)&raw);
      } else {
        value = PyTuple_GET_ITEM(entry, 2);
        Py_INCREF(value);
      }
    }
    if (value == NULL) goto error;
    PyTuple_SET_ITEM(values, kept++, value);
  }
  if (fb_spend(&r->fb, 4 * vector_items) < 0) goto error;
  if (_PyTuple_Resize(&values, kept) < 0) return NULL;
  return values;
error:
  Py_DECREF(values);
  return NULL;
}

/* An operator's builtin options as (union 1 or 2, type code, values) or None. */
static PyObject *read_options(Reader *r, const Table *op) {
  uint8_t first, second;
  if (fb_get_u8(&r->fb, op, 10, 0, &first) < 0 || fb_get_u8(&r->fb, op, 26, 0, &second) < 0) return NULL;
  if (first && second) return fb_fail(&r->fb, "both builtin_options and builtin_options_2"), NULL;
  if (!(first || second)) Py_RETURN_NONE;
  int which = first ? 0 : 1;
  unsigned code = first ? first : second;
  PyObject *layouts = r->options[which];
  PyObject *layout = (Py_ssize_t)code < PyTuple_GET_SIZE(layouts) ? PyTuple_GET_ITEM(layouts, code) : Py_None;
  if (layout == Py_None) return fb_fail(&r->fb, "builtin options of undefined type %u", code), NULL;
  Table t;
  int found;
  if (fb_child(&r->fb, op, first ? 12 : 28, &t, &found) < 0) return NULL;
  if (!found) return fb_fail(&r->fb, "declared builtin options without a table"), NULL;
  PyObject *values = read_option_values(r, &t, layout);
  return values ? tuple_of(3, PyLong_FromLong(which + 1), PyLong_FromUnsignedLong(code), values) : NULL;
}

static PyObject *read_custom_options(Reader *r, const Table *op) {
  uint64_t offset, size, start;
  uint32_t count;
  if (fb_get_u64(&r->fb, op, 22, &offset) < 0 || fb_get_u64(&r->fb, op, 24, &size) < 0) return NULL;
  if (offset > 1) {
    if (size > r->fb.size || offset > r->fb.size - size) return fb_fail(&r->fb, "custom options past the end of the file"), NULL;
    if (fb_spend(&r->fb, size) < 0) return NULL;
    return PyBytes_FromStringAndSize((const char *)r->fb.buf + offset, (Py_ssize_t)size);
  }
  if (!fb_field(op, 14)) Py_RETURN_NONE;
  if (fb_vector(&r->fb, op, 14, 1, &start, &count) < 0 || fb_spend(&r->fb, count) < 0) return NULL;
  return PyBytes_FromStringAndSize((const char *)r->fb.buf + start, count);
}

/* An operator as (opcode index, inputs, outputs, intermediates, options, custom options). */
static PyObject *read_operator(Reader *r, uint64_t pos, uint32_t code_count, int64_t tensor_count) {
  Table t;
  uint32_t opcode;
  PyObject *inputs = NULL, *outputs = NULL, *intermediates = NULL, *options = NULL, *custom = NULL;
  if (fb_table_at(&r->fb, pos, &t) < 0 || fb_get_u32(&r->fb, &t, 4, 0, &opcode) < 0) return NULL;
  if (opcode >= code_count) return fb_fail(&r->fb, "an operator uses operator code %u of %u", opcode, code_count), NULL;
  if ((inputs = int32_tuple(r, &t, 6, -1, tensor_count)) == NULL ||
      (outputs = int32_tuple(r, &t, 8, 0, tensor_count)) == NULL ||
      (intermediates = int32_tuple(r, &t, 20, 0, tensor_count)) == NULL || (options = read_options(r, &t)) == NULL ||
      (custom = read_custom_options(r, &t)) == NULL) {
    Py_XDECREF(inputs);
    Py_XDECREF(outputs);
    Py_XDECREF(intermediates);
    Py_XDECREF(options);
    return NULL;
  }
  return tuple_of(6, PyLong_FromUnsignedLong(opcode), inputs, outputs, intermediates, options, custom);
}

/* ---------------------------------------------------------------- subgraphs, signatures, model */

static PyObject *table_vector(Reader *r, const Table *t, unsigned vtable_offset, uint64_t *start,
                              uint32_t *count) {
  Table check;
  if (fb_vector(&r->fb, t, vtable_offset, 4, start, count) < 0) return NULL;
  for (uint32_t k = 0; k < *count; k++)
    if (fb_table_at(&r->fb, fb_element(&r->fb, *start, k), &check) < 0) return NULL;
  return PyTuple_New(*count);
}

/* Appends `index` to *list (created on first use). */
static int note(PyObject **list, uint32_t index) {
  if (*list == NULL && (*list = PyList_New(0)) == NULL) return -1;
  PyObject *value = PyLong_FromUnsignedLong(index);
  int status = value == NULL ? -1 : PyList_Append(*list, value);
  Py_XDECREF(value);
  return status;
}

/* A subgraph as (name, tensors, inputs, outputs, operators, raw, checks): `raw` lists the tensors
 * whose quantization or sparsity is still the walker's tuple, `checks` the sparse constants. */
static PyObject *read_subgraph(Reader *r, uint64_t pos, uint32_t code_count, uint32_t *tensor_count) {
  Table t;
  uint64_t start;
  uint32_t count;
  PyObject *name, *tensors = NULL, *inputs = NULL, *outputs = NULL, *operators = NULL, *raw = NULL, *checks = NULL;
  if (fb_table_at(&r->fb, pos, &t) < 0 || (name = string(r, &t, 12, Py_None)) == NULL) return NULL;
  if (name == Py_None) {
    Py_DECREF(name);
    if ((name = empty_string()) == NULL) return NULL;
  }
  if ((tensors = table_vector(r, &t, 4, &start, &count)) == NULL) goto error;
  *tensor_count = count;
  for (uint32_t k = 0; k < count; k++) {
    int is_raw = 0, python_check = 0;
    PyObject *tensor = read_tensor(r, fb_element(&r->fb, start, k), &is_raw, &python_check);
    if (tensor == NULL) goto error;
    PyTuple_SET_ITEM(tensors, k, tensor);
    if ((is_raw && note(&raw, k) < 0) || (python_check && note(&checks, k) < 0)) goto error;
  }
  if ((inputs = int32_tuple(r, &t, 6, 0, count)) == NULL || (outputs = int32_tuple(r, &t, 8, 0, count)) == NULL ||
      (operators = table_vector(r, &t, 10, &start, &count)) == NULL)
    goto error;
  for (uint32_t k = 0; k < count; k++) {
    PyObject *op = read_operator(r, fb_element(&r->fb, start, k), code_count, *tensor_count);
    if (op == NULL) goto error;
    PyTuple_SET_ITEM(operators, k, op);
  }
  if ((raw == NULL && (raw = PyList_New(0)) == NULL) || (checks == NULL && (checks = PyList_New(0)) == NULL))
    goto error;
  return tuple_of(7, name, tensors, inputs, outputs, operators, raw, checks);
error:
  Py_DECREF(name);
  Py_XDECREF(raw);
  Py_XDECREF(checks);
  Py_XDECREF(tensors);
  Py_XDECREF(inputs);
  Py_XDECREF(outputs);
  Py_XDECREF(operators);
  return NULL;
}

/* The signature defs as ((key, subgraph, inputs, outputs), ...). */
static PyObject *read_signatures(Reader *r, const Table *root, const uint32_t *tensor_counts, uint32_t subgraphs) {
  uint64_t start;
  uint32_t count;
  if (fb_vector(&r->fb, root, 18, 4, &start, &count) < 0) return NULL;
  PyObject *signatures = PyTuple_New(count);
  for (uint32_t k = 0; signatures && k < count; k++) {
    Table t;
    uint32_t subgraph;
    PyObject *key, *inputs, *outputs;
    if (fb_table_at(&r->fb, fb_element(&r->fb, start, k), &t) < 0 || (key = string(r, &t, 8, Py_None)) == NULL) goto error;
    if (key == Py_None) {
      Py_DECREF(key);
      if ((key = empty_string()) == NULL) goto error;
    }
    if (fb_get_u32(&r->fb, &t, 12, 0, &subgraph) < 0 || subgraph >= subgraphs) {
      Py_DECREF(key);
      fb_fail(&r->fb, "a signature refers to subgraph %u of %u", subgraph, subgraphs);
      goto error;
    }
    if ((inputs = named_indices(r, &t, 4, tensor_counts[subgraph])) == NULL) {
      Py_DECREF(key);
      goto error;
    }
    if ((outputs = named_indices(r, &t, 6, tensor_counts[subgraph])) == NULL) {
      Py_DECREF(key);
      Py_DECREF(inputs);
      goto error;
    }
    PyObject *entry = Py_BuildValue("(NINN)", key, subgraph, inputs, outputs);
    if (entry == NULL) goto error;
    PyTuple_SET_ITEM(signatures, k, entry);
  }
  return signatures;
error:
  Py_XDECREF(signatures);
  return NULL;
}

static PyObject *read_model(Reader *r) {
  PyObject *buffers = NULL, *codes = NULL, *metadata = NULL, *subgraphs = NULL, *signatures = NULL;
  PyObject *description = NULL, *floats = NULL, *ints = NULL;
  uint32_t *tensor_counts = NULL, version, count;
  uint64_t start;
  Table root;
  const uint8_t *identifier = r->fb.buf + 4;
  if (r->fb.size < 8) return fb_fail(&r->fb, "too few bytes for a TFLite model"), NULL;
  if (memcmp(identifier, "TFL3", 4) != 0) {
    int printable = 1;
    for (int k = 0; k < 4; k++) printable &= identifier[k] >= 32 && identifier[k] < 127;
    if (printable) return fb_fail(&r->fb, "the file identifier is not TFL3"), NULL;
  }
  if (fb_table_at(&r->fb, fb_u32(r->fb.buf), &root) < 0 || fb_get_u32(&r->fb, &root, 4, 0, &version) < 0) return NULL;
  if (version > r->schema_version) return fb_fail(&r->fb, "schema version %u", version), NULL;
  if (read_buffers(r, &root) < 0 || (codes = read_codes(r, &root)) == NULL ||
      (metadata = read_metadata(r, &root)) == NULL || fb_vector(&r->fb, &root, 8, 4, &start, &count) < 0)
    goto done;
  for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(metadata); k++) {
    int same = PyUnicode_Compare(PyTuple_GET_ITEM(PyTuple_GET_ITEM(metadata, k), 0), r->python_only);
    if (same == 0) { /* TFLM's LUT-compressed tensors: reader.py reads (and expands) them */
      Py_DECREF(codes);
      Py_DECREF(metadata);
      Py_RETURN_NONE;
    }
  }
  if (count == 0) {
    fb_fail(&r->fb, "the model has no subgraphs");
    goto done;
  }
  if ((tensor_counts = PyMem_Calloc(count, sizeof(uint32_t))) == NULL) {
    PyErr_NoMemory();
    goto done;
  }
  if ((subgraphs = PyTuple_New(count)) == NULL) goto done;
  for (uint32_t k = 0; k < count; k++) {
    uint32_t codes_count = (uint32_t)PyTuple_GET_SIZE(codes);
    PyObject *subgraph = read_subgraph(r, fb_element(&r->fb, start, k), codes_count, &tensor_counts[k]);
    if (subgraph == NULL) goto done;
    PyTuple_SET_ITEM(subgraphs, k, subgraph);
  }
  if ((signatures = read_signatures(r, &root, tensor_counts, count)) == NULL ||
      (description = string(r, &root, 10, Py_None)) == NULL || (buffers = buffer_list(r)) == NULL ||
      (floats = PyByteArray_FromStringAndSize((const char *)r->floats, (Py_ssize_t)(4 * r->n_floats))) == NULL ||
      (ints = PyByteArray_FromStringAndSize((const char *)r->ints, (Py_ssize_t)(8 * r->n_ints))) == NULL)
    goto done;
  PyMem_Free(tensor_counts);
  return Py_BuildValue("(INNNNNNNN)", version, buffers, codes, metadata, subgraphs, signatures, description,
                       floats, ints);
done:
  PyMem_Free(tensor_counts);
  Py_XDECREF(buffers);
  Py_XDECREF(codes);
  Py_XDECREF(metadata);
  Py_XDECREF(subgraphs);
  Py_XDECREF(signatures);
  Py_XDECREF(description);
  Py_XDECREF(floats);
  return NULL;
}

PyObject *el_read_model(PyObject *self, PyObject *args) {
  (void)self;
  Py_buffer view;
  Reader r;
  PyObject *types, *options1, *options2, *python_only;
  unsigned int schema_version;
  if (!PyArg_ParseTuple(args, "y*O!O!O!IU", &view, &PyTuple_Type, &types, &PyTuple_Type, &options1,
                        &PyTuple_Type, &options2, &schema_version, &python_only))
    return NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  PyBuffer_Release(&view);
  Py_RETURN_NONE; /* the walker reads little-endian words in place: model/checked_reader.py reads */
#endif
  memset(&r, 0, sizeof r);
  r.fb.buf = view.buf;
  r.fb.size = (uint64_t)view.len;
  r.fb.budget = 4 * (int64_t)view.len + (1 << 20);
  r.types = types;
  r.options[0] = options1;
  r.options[1] = options2;
  r.schema_version = schema_version;
  r.python_only = python_only;
  PyObject *result = read_model(&r);
  PyBuffer_Release(&view);
  PyMem_Free(r.buffers);
  PyMem_Free(r.floats);
  PyMem_Free(r.ints);
  if (result == NULL && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, r.fb.failed ? r.fb.err : "malformed model");
  return result;
}
