"""A small model of the rolemodel.v1 descriptors, with their comments.

The schema and field-table generators read messages, fields, enums and the
comments written above them from a FileDescriptorSet built with source info.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pb2

PACKAGE = "rolemodel.v1"

# Field numbers inside descriptor.proto, used to read source-code locations.
_FILE_MESSAGE_TYPE = 4
_FILE_ENUM_TYPE = 5
_FILE_SERVICE = 6
_MESSAGE_FIELD = 2
_MESSAGE_ONEOF = 8
_ENUM_VALUE = 2
_SERVICE_METHOD = 2


@dataclass
class FieldInfo:
    name: str
    number: int
    type_name: str  # scalar name ("string") or a full message/enum name without the leading dot
    is_message: bool
    is_enum: bool
    repeated: bool
    map_entry: tuple[FieldInfo, FieldInfo] | None
    optional: bool
    oneof: str | None
    comment: str


@dataclass
class MessageInfo:
    full_name: str
    file: str
    comment: str
    fields: list[FieldInfo] = field(default_factory=list)


@dataclass
class EnumValueInfo:
    name: str
    number: int
    comment: str


@dataclass
class EnumInfo:
    full_name: str
    file: str
    comment: str
    values: list[EnumValueInfo] = field(default_factory=list)


@dataclass
class MethodInfo:
    name: str
    input_type: str
    output_type: str
    server_streaming: bool
    comment: str


@dataclass
class ServiceInfo:
    full_name: str
    file: str
    comment: str
    methods: list[MethodInfo] = field(default_factory=list)


@dataclass
class ProtoModel:
    messages: dict[str, MessageInfo]
    enums: dict[str, EnumInfo]
    services: dict[str, ServiceInfo]
    file_order: list[str]


_SCALARS = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: "double",
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: "float",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: "uint64",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: "uint32",
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: "bool",
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
}


def _clean(comment: str) -> str:
    lines = [line.strip() for line in comment.strip().splitlines()]
    return " ".join(line for line in lines if line)


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {
        tuple(loc.path): _clean(loc.leading_comments) for loc in file.source_code_info.location if loc.leading_comments
    }


def load_descriptor_set(path: Path) -> ProtoModel:
    fds = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    all_messages: dict[str, descriptor_pb2.DescriptorProto] = {}
    for file in fds.file:
        for msg in file.message_type:
            _index_nested(f"{file.package}.{msg.name}", msg, all_messages)

    model = ProtoModel(messages={}, enums={}, services={}, file_order=[])
    for file in fds.file:
        if file.package != PACKAGE:
            continue
        model.file_order.append(file.name)
        comments = _comments(file)
        for i, msg in enumerate(file.message_type):
            info = MessageInfo(f"{PACKAGE}.{msg.name}", file.name, comments.get((_FILE_MESSAGE_TYPE, i), ""))
            for j, fld in enumerate(msg.field):
                info.fields.append(
                    _field_info(fld, msg, all_messages, comments.get((_FILE_MESSAGE_TYPE, i, _MESSAGE_FIELD, j), ""))
                )
            model.messages[info.full_name] = info
        for i, enum in enumerate(file.enum_type):
            e = EnumInfo(f"{PACKAGE}.{enum.name}", file.name, comments.get((_FILE_ENUM_TYPE, i), ""))
            for j, value in enumerate(enum.value):
                e.values.append(
                    EnumValueInfo(value.name, value.number, comments.get((_FILE_ENUM_TYPE, i, _ENUM_VALUE, j), ""))
                )
            model.enums[e.full_name] = e
        for i, svc in enumerate(file.service):
            s = ServiceInfo(f"{PACKAGE}.{svc.name}", file.name, comments.get((_FILE_SERVICE, i), ""))
            for j, method in enumerate(svc.method):
                s.methods.append(
                    MethodInfo(
                        method.name,
                        method.input_type.lstrip("."),
                        method.output_type.lstrip("."),
                        method.server_streaming,
                        comments.get((_FILE_SERVICE, i, _SERVICE_METHOD, j), ""),
                    )
                )
            model.services[s.full_name] = s
    return model


def _index_nested(
    name: str, msg: descriptor_pb2.DescriptorProto, out: dict[str, descriptor_pb2.DescriptorProto]
) -> None:
    out[name] = msg
    for nested in msg.nested_type:
        _index_nested(f"{name}.{nested.name}", nested, out)


def _field_info(
    fld: descriptor_pb2.FieldDescriptorProto,
    owner: descriptor_pb2.DescriptorProto,
    all_messages: dict[str, descriptor_pb2.DescriptorProto],
    comment: str,
) -> FieldInfo:
    label_repeated = fld.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    is_message = fld.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
    is_enum = fld.type == descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
    type_name = fld.type_name.lstrip(".") if (is_message or is_enum) else _SCALARS[fld.type]
    map_entry = None
    if is_message and label_repeated:
        entry = all_messages.get(type_name)
        if entry is not None and entry.options.map_entry:
            key = _field_info(entry.field[0], entry, all_messages, "")
            value = _field_info(entry.field[1], entry, all_messages, "")
            map_entry = (key, value)
    oneof = None
    if fld.HasField("oneof_index") and not fld.proto3_optional:
        oneof = owner.oneof_decl[fld.oneof_index].name
    return FieldInfo(
        name=fld.name,
        number=fld.number,
        type_name=type_name,
        is_message=is_message and map_entry is None,
        is_enum=is_enum,
        repeated=label_repeated and map_entry is None,
        map_entry=map_entry,
        optional=fld.proto3_optional,
        oneof=oneof,
        comment=comment,
    )
