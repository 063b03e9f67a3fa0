/* The .tflite reader's walker (_reader.c), bound as _engine.read_model.
 *
 * read_model(data, types, options1, options2, schema_version, python_only) verifies the flatbuffer
 * `data` (any bytes-like object) and returns
 *   (version, buffer spans [start0, length0, ...], operator codes, metadata, subgraphs,
 *    signatures, description, float pool, int pool)
 * in the tuples _reader.c documents per function; `types` holds (TensorType member, bits per
 * element, size-check kind) per type code, options1/options2 the layout of every builtin options
 * table per union code (None where the schema defines none). A defect of the file raises
 * ValueError. It returns None for files left to model/checked_reader.py: those with a metadata
 * entry named `python_only` (TFLM's LUT compression), and any file on a big-endian host. */
#ifndef EL_READER_H
#define EL_READER_H

#include <Python.h>

PyObject *el_read_model(PyObject *self, PyObject *args);

#endif
