"""BOW messages v1: the message classes of the BOW SDK (`bow-api` on PyPI, module `bow_data`).

The package speaks two BOW message sets, chosen per run with the parameter `bow_messages`:

- `documented` (default): the published BOW data message schema, built into this package
  (`bow_data_pb2`, loaded in a private protobuf descriptor pool);
- `sdk_v1`: the messages of today's BOW SDK ("BOW messages v1"): `MotorSample{ControlMode,
  Locomotion, Objectives, RawJoints, GazeTarget, GripperObjective, ...}`,
  `ProprioceptionSample{Parts, Effectors, RawJoints}`, `ExteroceptionSample{Imu, ...}`,
  `InteroceptionSample{battery, ...}`, `ImageSamples`.

The v1 classes are never copied into this repository: they come from the installed `bow-api`
wheel and are imported only when `sdk_v1` is selected (only its protobuf modules, never its
native client `bow_api`). Both schemas declare the protobuf package `bow.data`; ours lives in a
private descriptor pool, so both load in one process in either order.
"""

from __future__ import annotations

from types import ModuleType

#: Values of the `bow_messages` parameter.
DOCUMENTED = "documented"
SDK_V1 = "sdk_v1"
MESSAGE_SETS = (DOCUMENTED, SDK_V1)

INSTALL_HINT = "pip install --no-deps bow-api"


class BowSdkMissing(ValueError):
    """`bow_messages: sdk_v1` was selected but the BOW SDK's `bow_data` module is not installed
    (a user error: the nodes exit with code 2 and this one line)."""


def load_v1() -> ModuleType:
    """The BOW SDK's message module `bow_data` (all v1 classes at its top level).

    Raises BowSdkMissing with a one-line, actionable message when `bow-api` is not installed
    (or a different module named `bow_data` shadows it).
    """
    try:
        import bow_data
    except ImportError as exc:
        raise BowSdkMissing(f"bow_messages: sdk_v1 needs the BOW SDK's message classes (module bow_data "
                            f"of the bow-api package), which cannot be imported ({exc}); install them "
                            f"with: {INSTALL_HINT}") from None
    sample = getattr(bow_data, "MotorSample", None)
    if sample is None or "RawJoints" not in sample.DESCRIPTOR.fields_by_name:
        raise BowSdkMissing(f"bow_messages: sdk_v1: the module bow_data at {getattr(bow_data, '__file__', '?')} "
                            f"is not the BOW SDK's v1 message set; install it with: {INSTALL_HINT}")
    return bow_data


def check_message_set(value: str) -> str:
    """A `bow_messages` value, validated ('documented' | 'sdk_v1'); ValueError otherwise."""
    text = str(value).strip().lower()
    if text not in MESSAGE_SETS:
        raise ValueError(f"bow_messages {value!r}: expected one of {', '.join(MESSAGE_SETS)}")
    return text
