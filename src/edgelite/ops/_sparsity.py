"""TFLite's sparse tensor format (SparsityParameters), both ways.

A sparse tensor is stored as a tree walked in `traversal_order`: one level per dimension of the
dense tensor, blocked dimensions split in two (the outer part keeps the dimension's index, the
block part is dimension rank + k, k indexing `block_map`). A DENSE level has `dense_size`
children per node; a SPARSE_CSR level lists, per node of the level above, the children that
hold a non-zero: `array_indices[array_segments[p]:array_segments[p + 1]]`. The values are the
leaves in traversal order. `decode` follows FormatConverter::SparseToDense and `encode`
FormatConverter::DenseToSparse (tensorflow/lite/kernels/internal/utils/sparsity_format_converter.cc),
vectorized one level at a time instead of one element at a time.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import DimensionMetadata, Sparsity

DENSE, SPARSE_CSR = 0, 1


def decode(values: np.ndarray, shape: Sequence[int], sparsity: Sparsity) -> np.ndarray:
    """The dense array of `shape` that the stored `values` and `sparsity` describe.

    Raises ModelError where TFLite would read or write out of bounds (malformed metadata).
    """
    shape = tuple(int(d) for d in shape)
    order, block_map = [int(i) for i in sparsity.traversal_order], [int(i) for i in sparsity.block_map]
    levels, rank = sparsity.dim_metadata, len(shape)
    _check_layout(order, block_map, len(levels), rank)
    total = int(np.prod(shape, dtype=np.int64))
    # As TFLite: block k's size is the dense_size of level traversal_order[rank + k], and only
    # an ascending block_map gets every size (the others stay 0).
    block_size, k = [0] * len(block_map), 0
    for dim in range(rank):
        if k < len(block_map) and block_map[k] == dim:
            block_size[k] = int(levels[order[rank + k]].dense_size)
            k += 1

    parents = np.zeros(1, dtype=np.int64)  # each node's position within its level's arrays
    coords: list[np.ndarray] = []  # per level walked so far: each node's coordinate there
    for level, meta in enumerate(levels):
        if meta.format == DENSE:
            size = int(meta.dense_size)
            if size < 0 or parents.size * size > max(total, 1):
                raise ModelError(f"sparsity level {level}: dense_size {size} does not fit shape {shape}")
            coords = [np.repeat(c, size) for c in coords]
            coords.append(np.tile(np.arange(size, dtype=np.int64), parents.size))
            parents = (parents[:, None] * size + np.arange(size)).reshape(-1)
        elif meta.format == SPARSE_CSR:
            parents, node_of = _csr_children(level, meta, parents)
            coords = [c[node_of] for c in coords]
            coords.append(np.asarray(meta.array_indices, dtype=np.int64)[parents])
        else:
            raise ModelError(f"sparsity level {level}: unknown dimension format {meta.format}")

    count = parents.size
    if count > values.size:
        raise ModelError(f"sparse tensor holds {values.size} values but its metadata addresses {count}")
    index = [np.zeros(count, dtype=np.int64) for _ in range(rank)]
    for level, coord in enumerate(coords):
        if level < rank:
            index[order[level]] = coord
        else:
            k = order[level] - rank
            index[block_map[k]] = index[block_map[k]] * block_size[k] + coord
    for dim, coord in enumerate(index):
        if coord.size and (coord.min() < 0 or coord.max() >= shape[dim]):
            raise ModelError(f"sparse tensor indexes dimension {dim} outside its size {shape[dim]}")
    flat = np.ravel_multi_index(index, shape) if rank else np.zeros(count, dtype=np.int64)
    dense = np.zeros(total, dtype=values.dtype)
    # A position written twice keeps the later value, as the element-by-element walk does.
    unique, last = np.unique(flat[::-1], return_index=True)
    dense[unique] = values[:count][count - 1 - last]
    return dense.reshape(shape)


def _csr_children(level: int, meta: DimensionMetadata, parents: np.ndarray):
    """(children's positions in array_indices, index of each child's parent) for a CSR level.

    Parents past the end of array_segments and children past the end of array_indices are
    skipped, as TFLite's Populate does.
    """
    segments = np.asarray(meta.array_segments if meta.array_segments is not None else (),
                          dtype=np.int64)
    indices_size = 0 if meta.array_indices is None else len(meta.array_indices)
    if segments.size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    valid = parents + 1 < segments.size
    safe = np.where(valid, parents, 0)
    starts = np.where(valid, segments[safe], 0)
    counts = np.where(valid, np.maximum(segments[np.minimum(safe + 1, segments.size - 1)] - starts, 0), 0)
    node_of = np.repeat(np.arange(parents.size), counts)
    first = np.cumsum(counts) - counts
    children = starts[node_of] + np.arange(node_of.size) - first[node_of]
    if children.size and children.min() < 0:
        raise ModelError(f"sparsity level {level}: negative array_segments")
    keep = children < indices_size
    return children[keep], node_of[keep]


def _check_layout(order: list[int], block_map: list[int], num_levels: int, rank: int) -> None:
    blocks = len(block_map)
    if num_levels != len(order) or len(order) != rank + blocks:
        raise ModelError(f"sparsity: {len(order)} traversal entries and {num_levels} dimension "
                         f"metadata for a rank-{rank} tensor with {blocks} block dimensions; "
                         f"both must be {rank + blocks}")
    if sorted(order[:rank]) != list(range(rank)) or sorted(order[rank:]) != list(range(rank, rank + blocks)):
        raise ModelError(f"sparsity: traversal_order {order} must permute the {rank} dimensions, "
                         "then the block dimensions")
    if any(not 0 <= d < rank for d in block_map):
        raise ModelError(f"sparsity: block_map {block_map} names a dimension outside rank {rank}")


def encode(dense: np.ndarray, traversal_order: Sequence[int] | None = None,
           formats: Sequence[int] | None = None, block_size: Sequence[int] = (),
           block_map: Sequence[int] = ()) -> tuple[np.ndarray, Sparsity]:
    """(values, Sparsity) storing `dense` in TFLite's sparse format.

    formats: DENSE or SPARSE_CSR per dimension of `dense` (default: the last one CSR); block
    dimensions are always DENSE. block_map (ascending) names the blocked dimensions and
    block_size their block extents. traversal_order defaults to the identity.

    decode inverts this except where TFLite's own decoder does not: a traversal of three or
    more block dimensions that is not its own inverse (see decode). An all-zero tensor may
    store no values at all, which a .tflite constant cannot hold (an empty buffer means none).
    """
    dense = np.asarray(dense)
    rank, blocks = dense.ndim, len(block_map)
    block_map, block_size = [int(d) for d in block_map], [int(b) for b in block_size]
    order = list(range(rank + blocks)) if traversal_order is None else [int(i) for i in traversal_order]
    formats = [DENSE] * (rank - 1) + [SPARSE_CSR] if formats is None else [int(f) for f in formats]
    if len(block_size) != blocks or len(formats) != rank or block_map != sorted(set(block_map)):
        raise ValueError("encode: one format per dimension, one block size per block_map entry, "
                         "and block_map ascending without repeats")
    _check_layout(order, block_map, len(order), rank)
    if any(b <= 0 or dense.shape[d] % b for d, b in zip(block_map, block_size, strict=True)):
        raise ValueError(f"encode: block sizes {block_size} must divide dimensions {block_map} "
                         f"of shape {dense.shape}")

    # Expanded tensor: blocked outer dimensions 0..rank-1, then block dimensions, then traversal.
    split, outer = [], []
    for d, size in enumerate(dense.shape):
        outer.append(len(split))
        split += [size // block_size[block_map.index(d)], block_size[block_map.index(d)]] \
            if d in block_map else [size]
    inner = [outer[d] + 1 for d in block_map]
    expanded = dense.reshape(split).transpose(outer + inner).transpose(order)
    level_format = [formats[order[level]] if level < rank else DENSE for level in range(len(order))]

    # has_value[l]: does the subtree under each node of level l hold a non-zero?
    has_value = [expanded != 0]
    for _ in range(len(order) - 1):
        has_value.insert(0, has_value[0].any(axis=-1))
    kept = np.ones((), dtype=bool)  # the nodes each level stores, over its leading coordinates
    dim_metadata = []
    for level, size in enumerate(expanded.shape):
        parent_kept = kept
        kept = np.broadcast_to(parent_kept[..., None], parent_kept.shape + (size,))
        if level_format[level] == DENSE:
            dim_metadata.append(DimensionMetadata(DENSE, size))
            continue
        kept = kept & has_value[level]
        children = kept.sum(axis=-1)[parent_kept]
        segments = np.concatenate([[0], np.cumsum(children)])
        indices = np.nonzero(kept)[level]
        dim_metadata.append(DimensionMetadata(SPARSE_CSR, 0, _narrow(segments), _narrow(indices)))
    values = expanded[kept] if expanded.ndim else expanded.reshape(1)
    return values, Sparsity(tuple(order), tuple(block_map), dim_metadata)


def _narrow(values: np.ndarray) -> np.ndarray:
    """Index arrays in the narrowest SparseIndexVector type that holds them (uint8/uint16/int32)."""
    values = np.asarray(values, dtype=np.int64)
    top = int(values.max()) if values.size else 0
    dtype = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32
    return values.astype(dtype)


# -- sparse execution ------------------------------------------------------------------------------
class SparseMatrix:
    """A [rows, cols] weight matrix as block-CSR: row r's blocks are j in [row_ptr[r], row_ptr[r+1]),
    block j holds values[j] (`block` values) at columns cols[j] .. cols[j] + block - 1.

    Built once from a sparse constant (blocks of the file's block size along the columns, else
    single values); products skip every all-zero block (the reference's sparse kernel)."""

    def __init__(self, dense: np.ndarray, block: int) -> None:
        rows, cols = dense.shape
        self.shape, self.block = (int(rows), int(cols)), int(block)
        blocks = dense.reshape(rows, cols // block, block)
        keep = blocks.any(axis=-1)
        self.row_ptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
        self.cols = (np.nonzero(keep)[1] * block).astype(np.int64)
        self.values = np.ascontiguousarray(blocks[keep])  # [blocks, block], the weights' dtype
        self.dense_dtype = dense.dtype

    @property
    def nnz_blocks(self) -> int:
        return int(self.cols.size)

    def dense(self) -> np.ndarray:
        """The dense [rows, cols] matrix (for the paths that have no sparse kernel)."""
        out = np.zeros(self.shape, self.dense_dtype)
        row_of = np.repeat(np.arange(self.shape[0]), np.diff(self.row_ptr))
        for b in range(self.block):
            out[row_of, self.cols + b] = self.values[:, b]
        return out

    def times_transposed(self, x: np.ndarray, dtype: type = np.float32) -> np.ndarray:
        """x [m, cols] @ self.T -> [m, rows] in `dtype` (float32 products and sums, or int64
        exactly), gathering only the columns of stored blocks."""
        m = x.shape[0]
        out = np.zeros((m, self.shape[0]), dtype)
        rows = np.flatnonzero(np.diff(self.row_ptr))  # rows with at least one block
        if rows.size == 0 or m == 0:
            return out
        starts = self.row_ptr[rows]
        columns = (self.cols[:, None] + np.arange(self.block)).reshape(-1)
        weights = self.values.reshape(-1).astype(dtype)
        chunk = max(1, (1 << 22) // max(columns.size, 1))  # keep the gathered block under ~4M values
        for first in range(0, m, chunk):
            part = x[first:first + chunk].astype(dtype, copy=False)[:, columns] * weights
            per_block = part.reshape(part.shape[0], -1, self.block).sum(axis=-1, dtype=dtype)
            out[first:first + chunk, rows] = np.add.reduceat(per_block, starts, axis=1, dtype=dtype)
        return out


SPARSE_BLOCKS = (4, 16)  # block widths the sparse kernels keep (others run as single values)


def block_width(sparsity: Sparsity, rank: int, axis: int) -> int:
    """The block size of `sparsity` along dense dimension `axis` (1 when that axis is not blocked)."""
    block_map = [int(d) for d in sparsity.block_map]
    if axis not in block_map:
        return 1
    level = sparsity.traversal_order[rank + block_map.index(axis)]
    return int(sparsity.dim_metadata[level].dense_size)


# (id of the tensor, transposed) -> (weak refs to the tensor and its raw values, the matrix); an
# entry leaves with its tensor.
_MATRICES: dict[tuple[int, bool], tuple[weakref.ref, weakref.ref, SparseMatrix]] = {}


def weight_matrix(node, index: int, transpose: bool = False) -> SparseMatrix | None:
    """Input `index` of the node as a SparseMatrix [output channels, depth] when it is a sparse
    constant (None otherwise). Its dense shape is flattened to [first dim, rest], or (transpose)
    to [last dim, rest] for a BATCH_MATMUL rhs [.., k, n]. Built once per tensor and kept."""
    tensor, raw = node.input_tensors[index], node.inputs[index]
    if tensor is None or tensor.sparsity is None or raw is None:
        return None
    key = (id(tensor), transpose)
    cached = _MATRICES.get(key)
    if cached is not None and cached[0]() is tensor and cached[1]() is raw:
        return cached[2]
    shape = tuple(node.input_shapes[index])
    _check_segments(node, tensor)
    raw_bytes = np.ascontiguousarray(raw).reshape(-1).view(np.uint8)
    if raw_bytes.size % tensor.dtype.itemsize:
        raise ModelError(f"{node.describe()}: sparse buffer of {raw_bytes.size} bytes is not a whole "
                         f"number of {tensor.type.name} values")
    try:
        dense = decode(raw_bytes.view(tensor.dtype), shape, tensor.sparsity)
    except ModelError as error:
        raise ModelError(f"{node.describe()}: input {tensor.name!r}: {error}") from None
    rank = len(shape)
    if transpose:
        matrix = np.moveaxis(dense, -1, 0).reshape(shape[-1], -1)
        axis = rank - 2
    else:
        matrix = dense.reshape(shape[0], -1)
        axis = rank - 1
    block = block_width(tensor.sparsity, rank, axis)
    if block not in SPARSE_BLOCKS or matrix.shape[1] % block or (rank > 2 and not transpose
                                                                   and shape[1:-1] != (1,) * (rank - 2)):
        block = 1
    result = SparseMatrix(np.ascontiguousarray(matrix), block)
    if key not in _MATRICES:
        weakref.finalize(tensor, _MATRICES.pop, key, None)
    _MATRICES[key] = (weakref.ref(tensor), weakref.ref(raw), result)
    return result


def _check_segments(node, tensor) -> None:
    """Row pointers a sparse kernel can trust: every CSR level's array_segments starts at 0, never
    decreases and ends inside its array_indices (the decoder alone skips what lies outside)."""
    for level, meta in enumerate(tensor.sparsity.dim_metadata):
        if meta.format != SPARSE_CSR:
            continue
        segments = np.asarray(meta.array_segments if meta.array_segments is not None else (), np.int64)
        size = 0 if meta.array_indices is None else len(meta.array_indices)
        if segments.size == 0 or segments[0] != 0 or np.any(np.diff(segments) < 0) or segments[-1] > size:
            raise ModelError(f"{node.describe()}: sparse weights {tensor.name!r}, level {level}: "
                             f"array_segments must start at 0, never decrease and end within the "
                             f"{size} array_indices; the file's sparsity metadata is corrupt, re-export it")


def dense_input(node, index: int) -> np.ndarray:
    """Input `index` as a dense array: decoded once when it is a sparse constant."""
    tensor = node.input_tensors[index]
    if tensor is None or tensor.sparsity is None:
        return node.inputs[index]
    shape = tuple(node.input_shapes[index])
    rank = len(shape)
    matrix = weight_matrix(node, index).dense()
    return matrix.reshape(shape) if rank else matrix


# Consumers that read a sparse constant directly: op -> input index of its weights.
SPARSE_CONSUMERS = {"FULLY_CONNECTED": 1, "CONV_2D": 1, "BATCH_MATMUL": 1}


def reads_sparse(opcode: str, input_position: int, weight_shape: Sequence[int],
                 input_shape: Sequence[int]) -> bool:
    """Whether `opcode` runs sparse weights of `weight_shape` at that input in place of DENSIFY's
    output (its sparse kernels take them: any FULLY_CONNECTED, an ungrouped 1x1 CONV_2D, a 2-D
    BATCH_MATMUL rhs); elsewhere DENSIFY stays and folds to a dense constant."""
    if SPARSE_CONSUMERS.get(opcode) != input_position:
        return False
    if opcode == "CONV_2D":
        return len(weight_shape) == 4 and tuple(weight_shape[1:3]) == (1, 1) and \
            len(input_shape) == 4 and input_shape[3] == weight_shape[3]
    return opcode == "FULLY_CONNECTED" or len(weight_shape) == 2
