"""Read an ONNX file's metadata and weight shapes without the ``onnx`` package.

``pixelpainter info`` needs two facts from an export: the ``pixelpainter.width`` metadata entry
and, for files exported elsewhere, the shapes of the 4-D weights. Parsing the protobuf wire
format directly (fields from onnx.proto3: ModelProto.graph = 7, ModelProto.metadata_props = 14,
GraphProto.initializer = 5, TensorProto.dims = 1) keeps the runtime install free of ``onnx``
and of a full model load; tensor bytes are skipped, never copied.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

_MODEL_GRAPH, _MODEL_METADATA = 7, 14
_GRAPH_INITIALIZER = 5
_TENSOR_DIMS = 1
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class OnnxFormatError(ValueError):
    """The bytes are not an ONNX model."""


@dataclass(frozen=True)
class OnnxHeader:
    """What :func:`read_onnx_header` found: ``metadata`` key → value, and each weight's dims."""

    metadata: dict[str, str]
    weight_shapes: list[tuple[int, ...]]


def read_onnx_header(path: str | Path) -> OnnxHeader:
    """Metadata and initializer shapes of the ONNX file at ``path``; raises OnnxFormatError."""
    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            raise OnnxFormatError("the file is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            problem = None
            try:
                header = _read_model(view)
            except OnnxFormatError as err:
                # Raised outside this block: the traceback would pin slices of the map open.
                problem = str(err)
            view.release()
    if problem is not None:
        raise OnnxFormatError(problem)
    return header


def _read_model(model: memoryview) -> OnnxHeader:
    metadata: dict[str, str] = {}
    shapes: list[tuple[int, ...]] = []
    has_graph = False
    for field, value in _fields(model):
        if field == _MODEL_GRAPH and isinstance(value, memoryview):
            has_graph = True
            for g_field, tensor in _fields(value):
                if g_field == _GRAPH_INITIALIZER and isinstance(tensor, memoryview):
                    shapes.append(_dims(tensor))
        elif field == _MODEL_METADATA and isinstance(value, memoryview):
            entry = {
                k: bytes(v).decode("utf-8", "replace")
                for k, v in _fields(value)
                if isinstance(v, memoryview)
            }
            metadata[str(entry.get(1, ""))] = str(entry.get(2, ""))
    if not has_graph:
        raise OnnxFormatError("no graph in the file")
    return OnnxHeader(metadata, shapes)


def _dims(tensor: memoryview) -> tuple[int, ...]:
    dims: list[int] = []
    for field, value in _fields(tensor):
        if field != _TENSOR_DIMS:
            continue
        if isinstance(value, int):
            dims.append(value)
        else:  # packed repeated int64
            pos = 0
            while pos < len(value):
                dim, pos = _varint(value, pos)
                dims.append(dim)
    return tuple(dims)


def _fields(buf: memoryview):
    """Yield (field number, int or memoryview) for each field of one protobuf message."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise OnnxFormatError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
            yield field, value
        elif wire == _BYTES:
            size, pos = _varint(buf, pos)
            if pos + size > end:
                raise OnnxFormatError("a field runs past the end (truncated file?)")
            yield field, buf[pos : pos + size]
            pos += size
        elif wire in (_FIXED64, _FIXED32):
            pos += 8 if wire == _FIXED64 else 4
            if pos > end:
                raise OnnxFormatError("a field runs past the end (truncated file?)")
        else:
            raise OnnxFormatError(f"unknown protobuf wire type {wire}")


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise OnnxFormatError("a number runs past the end (truncated file?)")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
