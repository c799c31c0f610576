"""The BOW schema (spot_bow_ros/bow/bow_data.proto and its Python module).

- Every message round-trips through binary and JSON with every field set.
- The published documentation (../shared/seeds/bow-data-message.txt) is parsed table by table
  and every documented message, field (name, type, label, number in documented order) and enum
  value exists in the schema, and the schema has nothing undocumented.
- `optional` (explicit presence) is wire compatible with the plain documented proto3 schema.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf.descriptor import FieldDescriptor

from spot_bow_ros.bow import bow_data_pb2 as bow

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "bow-data-message.txt"
PACKAGE = "bow.data"

def is_repeated(field: FieldDescriptor) -> bool:
    """`FieldDescriptor.label` is gone in protobuf 7 (`is_repeated` is new in 5.x); support both."""
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return field.label == FieldDescriptor.LABEL_REPEATED


MESSAGES = [bow.DESCRIPTOR.message_types_by_name[n] for n in sorted(bow.DESCRIPTOR.message_types_by_name)]

# -------------------------------------------------------------------------------------------
# generic fully-populated messages


def _scalar_value(field: FieldDescriptor, i: int):
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return f"{field.name}-{i}-ü"
    if t == FieldDescriptor.TYPE_BYTES:
        return bytes([i % 256, 0, 255, 7])
    if t == FieldDescriptor.TYPE_BOOL:
        return True
    if t == FieldDescriptor.TYPE_FLOAT:
        return 1.5 + i  # exactly representable in float32
    if t in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        return -(2 ** 40) - i if t == FieldDescriptor.TYPE_INT64 else -7 - i
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_UINT32):
        return 2 ** 40 + i if t == FieldDescriptor.TYPE_UINT64 else 7 + i
    if t == FieldDescriptor.TYPE_ENUM:
        values = field.enum_type.values
        return values[-1].number  # a non-default value
    raise AssertionError(f"unhandled type {t} of {field.full_name}")


def populate(msg, depth: int = 0):
    """Set every field of `msg` to a non-default value (messages recursively, 2 levels deep)."""
    for field in msg.DESCRIPTOR.fields:
        repeated = is_repeated(field)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2:
                continue
            if repeated:
                for _ in range(2):
                    populate(getattr(msg, field.name).add(), depth + 1)
            else:
                populate(getattr(msg, field.name), depth + 1)
        elif repeated:
            getattr(msg, field.name).extend([_scalar_value(field, i) for i in range(3)])
        else:
            setattr(msg, field.name, _scalar_value(field, 0))
    return msg


@pytest.mark.parametrize("desc", MESSAGES, ids=[d.name for d in MESSAGES])
def test_every_message_round_trips_binary_and_json(desc):
    cls = getattr(bow, desc.name)
    msg = populate(cls())
    for field in desc.fields:  # every field is really set
        if is_repeated(field):
            assert len(getattr(msg, field.name)) > 0, field.name
        elif field.type == FieldDescriptor.TYPE_MESSAGE and msg.HasField(field.name) is False:
            pytest.fail(f"{field.name} not set")
    data = msg.SerializeToString()
    assert cls.FromString(data) == msg
    text = json_format.MessageToJson(msg)
    assert json_format.Parse(text, cls()) == msg
    # documented field names are accepted in JSON too (and map to the same message)
    text_names = json_format.MessageToJson(msg, preserving_proto_field_name=True)
    assert json_format.Parse(text_names, cls()) == msg


def test_module_exposes_documented_python_names():
    assert bow.AngleTypeEnum.RADIANS == bow.RADIANS == 1
    assert bow.DEGREES == 2 and bow.UNKNOWN_ANGLE_UNITS == 0
    assert bow.ImageSample.CompressionFormatEnum.JPG == bow.ImageSample.JPG == 3
    assert bow.ImageSample.ImageTypeEnum.DEPTH == 1
    assert bow.AudioSample.CompressionFormatEnum.SPEEX == 1
    assert bow.TactileSample.TactileTypeEnum.TRIAXIAL == 5
    assert bow.TorqueTypeEnum.Name(2) == "NEWTON_METRES"
    assert bow.ProprioceptionSample.DESCRIPTOR.full_name == f"{PACKAGE}.ProprioceptionSample"
    assert bow.MotorSample.__module__ == bow.__name__


def test_unset_scalar_fields_are_distinguishable_from_zero():
    """`optional` fields: 'not sent' differs from 'sent as 0' (MotorSample: unset = no change)."""
    m = bow.MotorSample()
    assert not m.HasField("OperatingHeight")
    m.OperatingHeight = 0.0
    m.Head.X = 0.0
    back = bow.MotorSample.FromString(m.SerializeToString())
    assert back.HasField("OperatingHeight") and back.OperatingHeight == 0.0
    assert back.Head.HasField("X") and not back.Head.HasField("Y")
    ee = bow.EndEffector(Enabled=False)
    assert bow.EndEffector.FromString(ee.SerializeToString()).HasField("Enabled")
    assert not bow.EndEffector().HasField("Enabled")
    # JSON keeps presence as well
    j = json_format.Parse('{"OperatingHeight": 0}', bow.MotorSample())
    assert j.HasField("OperatingHeight")


def _plain_proto3_pool():
    """The same schema without `optional` (exactly the documented proto3 schema), own pool."""
    fdp = descriptor_pb2.FileDescriptorProto.FromString(bow.DESCRIPTOR.serialized_pb)
    fdp.name = "plain_bow_data.proto"
    fdp.package = "plain.bow.data"

    def strip(msg):
        for f in msg.field:
            f.ClearField("proto3_optional")
            f.ClearField("oneof_index")
            if f.type_name.startswith(f".{PACKAGE}."):
                f.type_name = ".plain." + f.type_name[1:]
        del msg.oneof_decl[:]
        for nested in msg.nested_type:
            strip(nested)

    for m in fdp.message_type:
        strip(m)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return pool


def _message_class(pool, full_name):
    from google.protobuf import message_factory

    desc = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)  # protobuf < 4.21


@pytest.mark.parametrize("name", ["MotorSample", "ProprioceptionSample", "ImageSample", "TimeSync"])
def test_optional_presence_is_wire_compatible_with_plain_proto3(name):
    pool = _plain_proto3_pool()
    plain_cls = _message_class(pool, f"plain.{PACKAGE}.{name}")
    ours = populate(getattr(bow, name)())
    plain = plain_cls.FromString(ours.SerializeToString())
    assert plain.SerializeToString(deterministic=True) == ours.SerializeToString(deterministic=True)
    assert getattr(bow, name).FromString(plain.SerializeToString()) == ours
    assert json_format.MessageToDict(plain) == json_format.MessageToDict(ours)


# -------------------------------------------------------------------------------------------
# the published documentation, parsed

_SCALARS = {
    "double": FieldDescriptor.TYPE_DOUBLE, "float": FieldDescriptor.TYPE_FLOAT,
    "int32": FieldDescriptor.TYPE_INT32, "int64": FieldDescriptor.TYPE_INT64,
    "uint32": FieldDescriptor.TYPE_UINT32, "uint64": FieldDescriptor.TYPE_UINT64,
    "sint32": FieldDescriptor.TYPE_SINT32, "sint64": FieldDescriptor.TYPE_SINT64,
    "fixed32": FieldDescriptor.TYPE_FIXED32, "fixed64": FieldDescriptor.TYPE_FIXED64,
    "sfixed32": FieldDescriptor.TYPE_SFIXED32, "sfixed64": FieldDescriptor.TYPE_SFIXED64,
    "bool": FieldDescriptor.TYPE_BOOL, "string": FieldDescriptor.TYPE_STRING,
    "bytes": FieldDescriptor.TYPE_BYTES,
}


def parse_seed(text: str):
    """Return ({message: [(field, type, label)]}, {enum: [(value, number)]}) from the doc text.

    The doc's tables lost their cell separators: rows read `SourcestringSource indicates ...`.
    A table is a section name line, a description line, a header line, then rows up to a blank
    line. Message rows split as field name (shortest identifier), type (a scalar or a documented
    message/enum name, longest first), optional `repeated`, description. Enum rows are
    NAME + number; numbers in the doc are 0, 1, 2, ... in row order.
    """
    lines = [ln.rstrip() for ln in text.splitlines()]
    tables = []  # (kind, name, rows)
    for i, line in enumerate(lines):
        if line.strip() in ("FieldTypeLabelDescription", "NameNumberDescription"):
            above = [ln for ln in lines[:i] if ln.strip()]
            name = above[-2].strip()  # name line, description line, header
            rows = []
            for row in lines[i + 1:]:
                if not row.strip():
                    break
                rows.append(row.strip())
            tables.append(("message" if line.startswith("Field") else "enum", name, rows))
    names = [n for _, n, _ in tables]
    types = sorted(set(names) | set(_SCALARS), key=len, reverse=True)
    row_re = re.compile(r"^(?P<field>[A-Za-z][A-Za-z0-9_]*?)(?P<type>" + "|".join(map(re.escape, types))
                        + r")(?P<label>repeated)?(?P<desc>.*)$")
    messages, enums = {}, {}
    for kind, name, rows in tables:
        if kind == "message":
            parsed = []
            for row in rows:
                m = row_re.match(row)
                assert m, f"cannot parse row of {name}: {row!r}"
                parsed.append((m["field"], m["type"], "repeated" if m["label"] else ""))
            messages[name] = parsed
        else:
            parsed = []
            for number, row in enumerate(rows):
                value = _enum_row(row, number)
                assert value, f"cannot parse row {number} of enum {name}: {row!r}"
                parsed.append((value, number))
            enums[name] = parsed
    return messages, enums


def _enum_row(row: str, number: int) -> str | None:
    digits = str(number)
    for pos in range(1, len(row)):
        if row.startswith(digits, pos) and re.fullmatch(r"[A-Z][A-Z0-9_]*", row[:pos]):
            rest = row[pos + len(digits):]
            if not rest[:1].isdigit():
                return row[:pos]
    return None


@pytest.fixture(scope="module")
def seed():
    if not SEED.exists():
        pytest.skip(f"seed document not found at {SEED} (expected ../shared/seeds beside the repository)")
    return parse_seed(SEED.read_text(encoding="utf-8"))


def test_seed_parser_sees_the_whole_document(seed):
    messages, enums = seed
    assert len(messages) == 22 and len(enums) == 12
    assert messages["TimeSync"][0] == ("TOrigin_0", "int64", "")
    assert messages["ProprioceptionSample"][10] == ("Imu", "IMU", "repeated")
    assert enums["ImageSample.CompressionFormatEnum"] == [
        ("H264", 0), ("VP8", 1), ("VP9", 2), ("JPG", 3), ("RAW", 4), ("H265", 5)]


def test_every_documented_message_and_field_is_in_the_schema(seed):
    messages, enums = seed
    schema_messages = set(bow.DESCRIPTOR.message_types_by_name)
    assert set(messages) == schema_messages, "messages differ from the documentation"
    for mname, fields in messages.items():
        desc = bow.DESCRIPTOR.message_types_by_name[mname]
        assert [f.name for f in desc.fields] == [f for f, _, _ in fields], mname
        for number, (fname, ftype, label) in enumerate(fields, start=1):
            field = desc.fields_by_name[fname]
            where = f"{mname}.{fname}"
            assert field.number == number, f"{where}: number {field.number}, documented position {number}"
            assert is_repeated(field) == bool(label), where
            if ftype in _SCALARS:
                assert field.type == _SCALARS[ftype], where
            elif ftype in enums:
                assert field.type == FieldDescriptor.TYPE_ENUM, where
                assert field.enum_type.full_name == f"{PACKAGE}.{ftype}", where
            else:
                assert ftype in messages, where
                assert field.type == FieldDescriptor.TYPE_MESSAGE, where
                assert field.message_type.full_name == f"{PACKAGE}.{ftype}", where


def test_every_documented_enum_value_is_in_the_schema(seed):
    _, enums = seed
    schema_enums = set(bow.DESCRIPTOR.enum_types_by_name) | {
        f"{m.name}.{e.name}" for m in MESSAGES for e in m.enum_types}
    assert set(enums) == schema_enums, "enums differ from the documentation"
    for ename, values in enums.items():
        if "." in ename:
            outer, inner = ename.split(".")
            desc = bow.DESCRIPTOR.message_types_by_name[outer].enum_types_by_name[inner]
        else:
            desc = bow.DESCRIPTOR.enum_types_by_name[ename]
        assert [(v.name, v.number) for v in desc.values] == values, ename
