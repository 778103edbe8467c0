"""Reading a binary ONNX file without holding its bytes and the parsed model at once.

``onnx.load`` reads the whole file into one bytes object and parses it: the weights are held
twice until it returns. Here the file is walked at the protobuf wire level: the top-level
graph's initializers (the weights) are read and parsed one at a time, everything else (nodes,
inputs, metadata ...) is gathered and parsed in one go. Parsing concatenated pieces merges them
exactly like parsing the whole message (protobuf's merge semantics), so the result equals
``ModelProto.ParseFromString(file bytes)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from google.protobuf.message import DecodeError
from onnx import ModelProto

_GRAPH_FIELD = 7  # ModelProto.graph
_INITIALIZER_FIELD = 5  # GraphProto.initializer
_LENGTH_DELIMITED = 2


class _Reader:
    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream, self.size, self.offset = stream, size, 0

    def read(self, count: int) -> bytes:
        if count < 0 or self.offset + count > self.size:
            raise DecodeError("truncated message")
        data = self.stream.read(count)
        if len(data) != count:
            raise DecodeError("truncated message")
        self.offset += count
        return data

    def varint(self) -> tuple[int, bytes]:
        """The value of a varint and its bytes."""
        raw = bytearray()
        value, shift = 0, 0
        while True:
            byte = self.read(1)[0]
            raw.append(byte)
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value, bytes(raw)
            shift += 7
            if shift >= 64:
                raise DecodeError("varint too long")

    def field(self) -> tuple[int, int, bytes]:
        """(field number, wire type, tag bytes) of the next field."""
        tag, raw = self.varint()
        return tag >> 3, tag & 7, raw

    def payload(self, wire_type: int) -> bytes:
        """The raw bytes of a field's value (length prefix included for length-delimited ones)."""
        if wire_type == 0:
            return self.varint()[1]
        if wire_type == 1:
            return self.read(8)
        if wire_type == 5:
            return self.read(4)
        if wire_type == _LENGTH_DELIMITED:
            length, raw = self.varint()
            return raw + self.read(length)
        raise DecodeError(f"unsupported wire type {wire_type}")  # groups: left to onnx.load


def read_binary_model(path: Path) -> ModelProto:
    """Parse the binary ModelProto in ``path`` (DecodeError when it is not one)."""
    model = ModelProto()
    size = path.stat().st_size
    with open(path, "rb") as stream:
        reader = _Reader(stream, size)
        rest = bytearray()
        while reader.offset < size:
            number, wire_type, tag = reader.field()
            if number == _GRAPH_FIELD and wire_type == _LENGTH_DELIMITED:
                length, _ = reader.varint()
                _read_graph(reader, reader.offset + length, model)
            else:
                rest += tag + reader.payload(wire_type)
        model.MergeFromString(bytes(rest))
    return model


def _read_graph(reader: _Reader, end: int, model: ModelProto) -> None:
    graph = model.graph
    graph.SetInParent()  # an empty graph field still makes the graph present
    rest = bytearray()
    while reader.offset < end:
        number, wire_type, tag = reader.field()
        if number == _INITIALIZER_FIELD and wire_type == _LENGTH_DELIMITED:
            length, _ = reader.varint()
            if reader.offset + length > end:
                raise DecodeError("truncated message")
            graph.initializer.add().MergeFromString(reader.read(length))
        else:
            rest += tag + reader.payload(wire_type)
    if reader.offset != end:
        raise DecodeError("truncated message")
    graph.MergeFromString(bytes(rest))
