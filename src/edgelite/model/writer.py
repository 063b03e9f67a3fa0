"""Serializes a Model to .tflite bytes with the `tflite` schema builders."""

from __future__ import annotations

from functools import cache

import flatbuffers
import numpy as np
import tflite

from edgelite.errors import ModelError
from edgelite.model import _lut, option_tables
from edgelite.model import options as options_codec
from edgelite.model.ir import (
    UNKNOWN_BUILTIN_PREFIX,
    Model,
    Operator,
    Quantization,
    SignatureDef,
    Sparsity,
    Subgraph,
    Tensor,
)

_BUFFER_ALIGNMENT = 16
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127


@cache
def builtin_codes() -> dict[str, int]:
    """Schema name -> BuiltinOperator code."""
    return {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


@cache
def _union_types() -> dict[str, tuple[str, int]]:
    """Options table name -> ("BuiltinOptions" or "BuiltinOptions2", union type code)."""
    found = {}
    for union in ("BuiltinOptions2", "BuiltinOptions"):
        for name, code in vars(getattr(tflite, union)).items():
            if not name.startswith("_") and name != "NONE":
                found[name] = (union, code)
    return found


def write_model(model: Model) -> bytes:
    """The .tflite bytes of a Model (file identifier TFL3, schema version 3); tensors marked `lut`
    are written in TFLM's LUT-compressed form."""
    model = _lut.for_writing(model)
    builder = flatbuffers.Builder(1024)
    opcodes: dict[tuple[str, str | None, int], int] = {}
    subgraphs = [_subgraph(builder, sg, opcodes) for sg in model.subgraphs]
    codes = [_opcode(builder, *key) for key in opcodes]
    buffers = [_buffer(builder, data) for data in model.buffers]
    signatures = [_signature(builder, sig) for sig in model.signatures]
    metadata = [_metadata(builder, name, index) for name, index in model.metadata.items()]
    description = builder.CreateString(model.description)

    offsets = {
        "OperatorCodes": _table_vector(builder, tflite.ModelStartOperatorCodesVector, codes),
        "Subgraphs": _table_vector(builder, tflite.ModelStartSubgraphsVector, subgraphs),
        "Buffers": _table_vector(builder, tflite.ModelStartBuffersVector, buffers),
        "SignatureDefs": _table_vector(builder, tflite.ModelStartSignatureDefsVector, signatures),
        "Metadata": _table_vector(builder, tflite.ModelStartMetadataVector, metadata),
    }
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, model.version)
    tflite.ModelAddDescription(builder, description)
    for field, offset in offsets.items():
        getattr(tflite, f"ModelAdd{field}")(builder, offset)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _table_vector(builder: flatbuffers.Builder, start, offsets: list[int]) -> int:
    start(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _int_vector(builder: flatbuffers.Builder, values, dtype=np.int32) -> int:
    return builder.CreateNumpyVector(np.asarray(values, dtype=dtype).reshape(-1))


def _opcode(builder: flatbuffers.Builder, opcode: str, custom_code: str | None, version: int) -> int:
    code = builtin_codes().get(opcode)
    suffix = opcode.removeprefix(UNKNOWN_BUILTIN_PREFIX)
    if code is None and suffix != opcode and suffix.isdigit():
        code = int(suffix)
    if code is None:
        raise ModelError(f"unknown builtin operator {opcode!r}; use opcode='CUSTOM' with a custom_code")
    custom = builder.CreateString(custom_code) if custom_code is not None else None
    tflite.OperatorCodeStart(builder)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, _PLACEHOLDER_FOR_GREATER_OP_CODES))
    tflite.OperatorCodeAddBuiltinCode(builder, code)
    tflite.OperatorCodeAddVersion(builder, version)
    if custom is not None:
        tflite.OperatorCodeAddCustomCode(builder, custom)
    return tflite.OperatorCodeEnd(builder)


def _buffer(builder: flatbuffers.Builder, data: np.ndarray | None) -> int:
    vector = None
    if data is not None and data.size:
        raw = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
        builder.StartVector(1, raw.size, _BUFFER_ALIGNMENT)
        builder.head -= raw.size
        builder.Bytes[builder.head:builder.head + raw.size] = raw.tobytes()
        vector = builder.EndVector()
    tflite.BufferStart(builder)
    if vector is not None:
        tflite.BufferAddData(builder, vector)
    return tflite.BufferEnd(builder)


def _subgraph(builder: flatbuffers.Builder, subgraph: Subgraph, opcodes: dict) -> int:
    tensors = [_tensor(builder, t) for t in subgraph.tensors]
    operators = [_operator(builder, op, opcodes) for op in subgraph.operators]
    name = builder.CreateString(subgraph.name)
    tensors_vec = _table_vector(builder, tflite.SubGraphStartTensorsVector, tensors)
    ops_vec = _table_vector(builder, tflite.SubGraphStartOperatorsVector, operators)
    inputs, outputs = _int_vector(builder, subgraph.inputs), _int_vector(builder, subgraph.outputs)
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensors_vec)
    tflite.SubGraphAddInputs(builder, inputs)
    tflite.SubGraphAddOutputs(builder, outputs)
    tflite.SubGraphAddOperators(builder, ops_vec)
    tflite.SubGraphAddName(builder, name)
    return tflite.SubGraphEnd(builder)


def _tensor(builder: flatbuffers.Builder, tensor: Tensor) -> int:
    name = builder.CreateString(tensor.name)
    shape = _int_vector(builder, tensor.shape)
    signature = None if tensor.shape_signature is None else _int_vector(builder, tensor.shape_signature)
    quant = None if tensor.quantization is None else _quantization(builder, tensor.quantization)
    sparsity = None if tensor.sparsity is None else _sparsity(builder, tensor.sparsity)
    tflite.TensorStart(builder)
    tflite.TensorAddShape(builder, shape)
    tflite.TensorAddType(builder, int(tensor.type))
    tflite.TensorAddBuffer(builder, tensor.buffer)
    tflite.TensorAddName(builder, name)
    if quant is not None:
        tflite.TensorAddQuantization(builder, quant)
    tflite.TensorAddIsVariable(builder, tensor.is_variable)
    if sparsity is not None:
        tflite.TensorAddSparsity(builder, sparsity)
    if signature is not None:
        tflite.TensorAddShapeSignature(builder, signature)
    tflite.TensorAddHasRank(builder, tensor.has_rank)
    return tflite.TensorEnd(builder)


def _quantization(builder: flatbuffers.Builder, quant: Quantization) -> int:
    scale = _int_vector(builder, quant.scale, np.float32)
    zero_point = _int_vector(builder, quant.zero_point, np.int64)
    qmin = None if quant.min is None else _int_vector(builder, quant.min, np.float32)
    qmax = None if quant.max is None else _int_vector(builder, quant.max, np.float32)
    tflite.QuantizationParametersStart(builder)
    if qmin is not None:
        tflite.QuantizationParametersAddMin(builder, qmin)
    if qmax is not None:
        tflite.QuantizationParametersAddMax(builder, qmax)
    tflite.QuantizationParametersAddScale(builder, scale)
    tflite.QuantizationParametersAddZeroPoint(builder, zero_point)
    tflite.QuantizationParametersAddQuantizedDimension(builder, quant.quantized_dimension)
    return tflite.QuantizationParametersEnd(builder)


def _sparsity(builder: flatbuffers.Builder, sparsity: Sparsity) -> int:
    dims = []
    for dim in sparsity.dim_metadata:
        segments = indices = None
        if dim.array_segments is not None:
            segments = _index_vector(builder, dim.array_segments)
            indices = _index_vector(builder, dim.array_indices)
        tflite.DimensionMetadataStart(builder)
        tflite.DimensionMetadataAddFormat(builder, dim.format)
        tflite.DimensionMetadataAddDenseSize(builder, dim.dense_size)
        if segments is not None:
            tflite.DimensionMetadataAddArraySegmentsType(builder, segments[0])
            tflite.DimensionMetadataAddArraySegments(builder, segments[1])
            tflite.DimensionMetadataAddArrayIndicesType(builder, indices[0])
            tflite.DimensionMetadataAddArrayIndices(builder, indices[1])
        dims.append(tflite.DimensionMetadataEnd(builder))
    order = _int_vector(builder, sparsity.traversal_order)
    block_map = _int_vector(builder, sparsity.block_map)
    dims_vec = _table_vector(builder, tflite.SparsityParametersStartDimMetadataVector, dims)
    tflite.SparsityParametersStart(builder)
    tflite.SparsityParametersAddTraversalOrder(builder, order)
    tflite.SparsityParametersAddBlockMap(builder, block_map)
    tflite.SparsityParametersAddDimMetadata(builder, dims_vec)
    return tflite.SparsityParametersEnd(builder)


_INDEX_VECTORS = {
    np.dtype(np.int32): ("Int32Vector", tflite.SparseIndexVector.Int32Vector),
    np.dtype(np.uint16): ("Uint16Vector", tflite.SparseIndexVector.Uint16Vector),
    np.dtype(np.uint8): ("Uint8Vector", tflite.SparseIndexVector.Uint8Vector),
}


def _index_vector(builder: flatbuffers.Builder, values: np.ndarray) -> tuple[int, int]:
    """A SparseIndexVector union member holding `values` in their own width."""
    values = np.asarray(values)
    table, code = _INDEX_VECTORS.get(values.dtype, _INDEX_VECTORS[np.dtype(np.int32)])
    dtype = {"Int32Vector": np.int32, "Uint16Vector": np.uint16, "Uint8Vector": np.uint8}[table]
    data = builder.CreateNumpyVector(values.astype(dtype))
    getattr(tflite, f"{table}Start")(builder)
    getattr(tflite, f"{table}AddValues")(builder, data)
    return code, getattr(tflite, f"{table}End")(builder)


def _operator(builder: flatbuffers.Builder, op: Operator, opcodes: dict) -> int:
    key = (op.opcode, op.custom_code if op.opcode == "CUSTOM" else None, op.version)
    index = opcodes.setdefault(key, len(opcodes))
    union = options = None
    if op.options is not None:
        table, values = options_codec.options_values(op.options)
        if table not in _union_types():
            raise ModelError(f"{op.name}: options table {table!r} is not in the schema")
        union = _union_types()[table]
        options = option_tables.write_table(builder, table, values)
    custom = None
    if op.custom_options is not None:
        custom = builder.CreateNumpyVector(np.frombuffer(bytes(op.custom_options), dtype=np.uint8))
    inputs, outputs = _int_vector(builder, op.inputs), _int_vector(builder, op.outputs)
    intermediates = _int_vector(builder, op.intermediates) if op.intermediates else None
    tflite.OperatorStart(builder)
    tflite.OperatorAddOpcodeIndex(builder, index)
    tflite.OperatorAddInputs(builder, inputs)
    tflite.OperatorAddOutputs(builder, outputs)
    if union is not None:
        kind, code = union
        getattr(tflite, f"OperatorAdd{kind}Type")(builder, code)
        getattr(tflite, f"OperatorAdd{kind}")(builder, options)
    if custom is not None:
        tflite.OperatorAddCustomOptions(builder, custom)
    if intermediates is not None:
        tflite.OperatorAddIntermediates(builder, intermediates)
    return tflite.OperatorEnd(builder)


def _signature(builder: flatbuffers.Builder, signature: SignatureDef) -> int:
    def tensor_maps(mapping: dict[str, int], start) -> int:
        maps = []
        for name, index in mapping.items():
            name_offset = builder.CreateString(name)
            tflite.TensorMapStart(builder)
            tflite.TensorMapAddName(builder, name_offset)
            tflite.TensorMapAddTensorIndex(builder, index)
            maps.append(tflite.TensorMapEnd(builder))
        return _table_vector(builder, start, maps)

    inputs = tensor_maps(signature.inputs, tflite.SignatureDefStartInputsVector)
    outputs = tensor_maps(signature.outputs, tflite.SignatureDefStartOutputsVector)
    key = builder.CreateString(signature.key)
    tflite.SignatureDefStart(builder)
    tflite.SignatureDefAddInputs(builder, inputs)
    tflite.SignatureDefAddOutputs(builder, outputs)
    tflite.SignatureDefAddSignatureKey(builder, key)
    tflite.SignatureDefAddSubgraphIndex(builder, signature.subgraph_index)
    return tflite.SignatureDefEnd(builder)


def _metadata(builder: flatbuffers.Builder, name: str, buffer_index: int) -> int:
    name_offset = builder.CreateString(name)
    tflite.MetadataStart(builder)
    tflite.MetadataAddName(builder, name_offset)
    tflite.MetadataAddBuffer(builder, buffer_index)
    return tflite.MetadataEnd(builder)
