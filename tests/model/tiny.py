"""A tiny ADD model (y = x + c) written field by field, so tests can make any field wrong.

Unlike edgelite's writer, nothing here is checked: every keyword puts its value in the file
as given, which is how the reader tests build files with one specific defect.
"""

from __future__ import annotations

import math
from typing import Any

import flatbuffers
import numpy as np
import tflite

_ALIGN = 16


def tiny_model(*, const_shape: tuple[int, ...] = (1, 4), const_type: int = 0,
               const_data: bytes | None = None, const_buffer: int = 1,
               const_quant: dict[str, Any] | None = None, const_sparsity: dict[str, Any] | None = None,
               const_shape_signature: tuple[int, ...] | None = None, opcode_index: int = 0,
               builtin_code: int = 0, custom_code: str | None = None, op_inputs=(0, 1),
               op_outputs=(2,), graph_inputs=(0,), graph_outputs=(2,), signature_tensor: int = 2,
               signature_subgraph: int = 0, metadata_buffer: int = 3, version: int = 3,
               identifier: bytes = b"TFL3", external: bool = False, options_type: int | None = None,
               custom_options: bytes | None = None) -> bytes:
    """The model's bytes; `external` stores the constant after the flatbuffer (offset/size)."""
    if const_data is None:
        const_data = np.arange(math.prod(const_shape), dtype=np.float32).tobytes()
    if not external:
        return _build(locals(), 0)
    placeholder = _build(locals(), 1)  # offset 1: TFLite's placeholder, same size as the real one
    offset = -(-len(placeholder) // _ALIGN) * _ALIGN
    head = _build(locals(), offset)
    assert len(head) == len(placeholder)
    return head + bytes(offset - len(head)) + const_data


def _build(spec: dict[str, Any], offset: int) -> bytes:
    b = flatbuffers.Builder(1024)
    buffers = [_buffer(b, None), _buffer(b, spec["const_data"], offset), _buffer(b, None),
               _buffer(b, b"meta")]
    tensors = [
        _tensor(b, "x", (1, 4), 0, 0),
        _tensor(b, "c", spec["const_shape"], spec["const_type"], spec["const_buffer"],
                spec["const_quant"], spec["const_sparsity"], spec["const_shape_signature"]),
        _tensor(b, "y", (1, 4), 0, 2),
    ]
    op = _operator(b, spec)
    name = b.CreateString("main")
    tensor_vec, op_vec = _tables(b, tensors), _tables(b, [op])
    inputs, outputs = _ints(b, spec["graph_inputs"]), _ints(b, spec["graph_outputs"])
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensor_vec)
    tflite.SubGraphAddInputs(b, inputs)
    tflite.SubGraphAddOutputs(b, outputs)
    tflite.SubGraphAddOperators(b, op_vec)
    tflite.SubGraphAddName(b, name)
    subgraph = tflite.SubGraphEnd(b)

    custom = b.CreateString(spec["custom_code"]) if spec["custom_code"] is not None else None
    tflite.OperatorCodeStart(b)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(spec["builtin_code"], 127))
    tflite.OperatorCodeAddBuiltinCode(b, spec["builtin_code"])
    tflite.OperatorCodeAddVersion(b, 1)
    if custom is not None:
        tflite.OperatorCodeAddCustomCode(b, custom)
    code = tflite.OperatorCodeEnd(b)

    signature = _signature(b, spec)
    meta_name = b.CreateString("meta")
    tflite.MetadataStart(b)
    tflite.MetadataAddName(b, meta_name)
    tflite.MetadataAddBuffer(b, spec["metadata_buffer"])
    metadata = tflite.MetadataEnd(b)

    vectors = [_tables(b, items) for items in ([code], [subgraph], buffers, [signature], [metadata])]
    description = b.CreateString("tiny")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, spec["version"])
    for add, vector in zip((tflite.ModelAddOperatorCodes, tflite.ModelAddSubgraphs, tflite.ModelAddBuffers,
                            tflite.ModelAddSignatureDefs, tflite.ModelAddMetadata), vectors, strict=True):
        add(b, vector)
    tflite.ModelAddDescription(b, description)
    b.Finish(tflite.ModelEnd(b), file_identifier=spec["identifier"] or None)
    return bytes(b.Output())


def _ints(b: flatbuffers.Builder, values, dtype=np.int32) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype=dtype).reshape(-1))


def _tables(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _buffer(b: flatbuffers.Builder, data: bytes | None, offset: int = 0) -> int:
    vector = None
    if data is not None and not offset:
        b.StartVector(1, len(data), _ALIGN)
        b.head -= len(data)
        b.Bytes[b.head:b.head + len(data)] = data
        vector = b.EndVector()
    tflite.BufferStart(b)
    if vector is not None:
        tflite.BufferAddData(b, vector)
    if offset:
        tflite.BufferAddOffset(b, offset)
        tflite.BufferAddSize(b, len(data))
    return tflite.BufferEnd(b)


def _tensor(b: flatbuffers.Builder, name: str, shape, tensor_type: int, buffer: int, quant=None,
            sparsity=None, shape_signature=None) -> int:
    name_offset, shape_offset = b.CreateString(name), _ints(b, shape)
    signature = None if shape_signature is None else _ints(b, shape_signature)
    quant = None if quant is None else _quantization(b, **quant)
    sparsity = None if sparsity is None else _sparsity(b, **sparsity)
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape_offset)
    tflite.TensorAddType(b, tensor_type)
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name_offset)
    if quant is not None:
        tflite.TensorAddQuantization(b, quant)
    if sparsity is not None:
        tflite.TensorAddSparsity(b, sparsity)
    if signature is not None:
        tflite.TensorAddShapeSignature(b, signature)
    tflite.TensorAddHasRank(b, True)
    return tflite.TensorEnd(b)


def _quantization(b: flatbuffers.Builder, scale=(), zero_point=(), quantized_dimension=0) -> int:
    scale, zero_point = _ints(b, scale, np.float32), _ints(b, zero_point, np.int64)
    tflite.QuantizationParametersStart(b)
    tflite.QuantizationParametersAddScale(b, scale)
    tflite.QuantizationParametersAddZeroPoint(b, zero_point)
    tflite.QuantizationParametersAddQuantizedDimension(b, quantized_dimension)
    return tflite.QuantizationParametersEnd(b)


def _sparsity(b: flatbuffers.Builder, traversal_order, block_map, dims) -> int:
    """dims: (format, dense_size, segments, indices) per level; CSR arrays as Int32Vector."""
    levels = []
    for fmt, dense_size, segments, indices in dims:
        unions = []
        for values in (segments, indices):
            if values is None:
                unions.append(None)
                continue
            data = _ints(b, values)
            tflite.Int32VectorStart(b)
            tflite.Int32VectorAddValues(b, data)
            unions.append(tflite.Int32VectorEnd(b))
        tflite.DimensionMetadataStart(b)
        tflite.DimensionMetadataAddFormat(b, fmt)
        tflite.DimensionMetadataAddDenseSize(b, dense_size)
        if unions[0] is not None:
            tflite.DimensionMetadataAddArraySegmentsType(b, tflite.SparseIndexVector.Int32Vector)
            tflite.DimensionMetadataAddArraySegments(b, unions[0])
        if unions[1] is not None:
            tflite.DimensionMetadataAddArrayIndicesType(b, tflite.SparseIndexVector.Int32Vector)
            tflite.DimensionMetadataAddArrayIndices(b, unions[1])
        levels.append(tflite.DimensionMetadataEnd(b))
    order, blocks, dim_vec = _ints(b, traversal_order), _ints(b, block_map), _tables(b, levels)
    tflite.SparsityParametersStart(b)
    tflite.SparsityParametersAddTraversalOrder(b, order)
    tflite.SparsityParametersAddBlockMap(b, blocks)
    tflite.SparsityParametersAddDimMetadata(b, dim_vec)
    return tflite.SparsityParametersEnd(b)


def _operator(b: flatbuffers.Builder, spec: dict[str, Any]) -> int:
    inputs, outputs = _ints(b, spec["op_inputs"]), _ints(b, spec["op_outputs"])
    custom = None if spec["custom_options"] is None else _ints(b, list(spec["custom_options"]), np.uint8)
    options = None
    if spec["options_type"] != 0:
        tflite.AddOptionsStart(b)
        tflite.AddOptionsAddFusedActivationFunction(b, 0)
        options = tflite.AddOptionsEnd(b)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, spec["opcode_index"])
    tflite.OperatorAddInputs(b, inputs)
    tflite.OperatorAddOutputs(b, outputs)
    if options is not None:
        kind = tflite.BuiltinOptions.AddOptions if spec["options_type"] is None else spec["options_type"]
        tflite.OperatorAddBuiltinOptionsType(b, kind)
        tflite.OperatorAddBuiltinOptions(b, options)
    if custom is not None:
        tflite.OperatorAddCustomOptions(b, custom)
    return tflite.OperatorEnd(b)


def _signature(b: flatbuffers.Builder, spec: dict[str, Any]) -> int:
    maps = []
    for name, index in (("x", 0), ("y", spec["signature_tensor"])):
        name_offset = b.CreateString(name)
        tflite.TensorMapStart(b)
        tflite.TensorMapAddName(b, name_offset)
        tflite.TensorMapAddTensorIndex(b, index)
        maps.append(tflite.TensorMapEnd(b))
    inputs, outputs = _tables(b, maps[:1]), _tables(b, maps[1:])
    key = b.CreateString("serving_default")
    tflite.SignatureDefStart(b)
    tflite.SignatureDefAddInputs(b, inputs)
    tflite.SignatureDefAddOutputs(b, outputs)
    tflite.SignatureDefAddSignatureKey(b, key)
    tflite.SignatureDefAddSubgraphIndex(b, spec["signature_subgraph"])
    return tflite.SignatureDefEnd(b)
