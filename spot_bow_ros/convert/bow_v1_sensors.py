"""BOW messages v1 (the BOW SDK's `bow_data`, see `bow.sdk_v1`) for robot state and images. Pure.

Spot -> v1: `ProprioceptionSample.RawJoints` (URDF names, limits from `convert.spot_urdf`) and the
arm in `Effectors`, `ExteroceptionSample.Imu`, `InteroceptionSample.battery`. v1 from any BOW
robot -> `sensor_msgs/JointState` and `sensor_msgs/Imu`. `ImageSample` between the documented
and the v1 set (same fields, other field numbers). The v1 module is passed in as `v1`; axes and
angles: `frames.SDK_V1_CONVENTION` (REP 103, radians, roll/pitch/yaw Euler angles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np
from google.protobuf.message import Message

from ..bow import bow_data_pb2 as bow
from ..bow import frames
from ..bow.frames import SDK_V1_CONVENTION
from .bow_v1 import vector3_tuple
from .imu import imu_msg
from .joints import JointArrays, ProprioceptionError, friendly_joint_name, joint_state_msg
from .spot_urdf import joint_facts

MessageFactory = Callable[..., Any]


# ---------------------------------------------------------------------------------------------
# Spot -> v1 samples
# ---------------------------------------------------------------------------------------------

def proprioception_v1_from_spot(v1: ModuleType, names: Sequence[str], positions: Sequence[float],
                                velocities: Sequence[float], loads: Sequence[float],
                                prefix: str = "") -> Message:
    """Spot joint states (rad, rad/s, N·m) -> v1 ProprioceptionSample.RawJoints: URDF joint
    names (with `prefix`), REVOLUTE, position/velocity/torque and the URDF limits (`Min`/`Max`
    rad, `MaxVelocity` rad/s, `MaxTorque` N·m where documented)."""
    out = v1.ProprioceptionSample()
    revolute = v1.Joint.REVOLUTE
    for i, name in enumerate(names):
        j = out.RawJoints.add()
        j.Name = friendly_joint_name(name, prefix)
        j.Type = revolute
        j.Position = float(positions[i])
        if i < len(velocities):
            j.Velocity = float(velocities[i])
        if i < len(loads):
            j.Torque = float(loads[i])
        j.Healthy = True
        facts = joint_facts(name)
        if facts is not None:
            j.Min, j.Max = facts.lower, facts.upper
            if facts.max_velocity is not None:
                j.MaxVelocity = facts.max_velocity
            if facts.max_effort is not None:
                j.MaxTorque = facts.max_effort
    return out


#: Spot arm reach (m), arm_specification.md.
SPOT_ARM_REACH = 0.984


def add_arm_effector_v1(sample: Message, v1: ModuleType, body_tform_hand: Any, prefix: str = "") -> None:
    """Append Spot's arm to a v1 ProprioceptionSample's `Effectors`, so BOW apps find the name
    their `Objectives` address: `EffectorLinkName` "hand" (`prefix` + "hand"), `EndTransform` the
    hand pose in the body frame (m; EulerAngles roll/pitch/yaw rad, `Transform.Part` "body"),
    `Reach` m, controllable, GOTO. `body_tform_hand`: ((x, y, z), (qx, qy, qz, qw))."""
    eff = sample.Effectors.add()
    eff.EffectorLinkName = prefix + "hand"
    eff.Type = v1.EFFECTOR
    eff.Reach = SPOT_ARM_REACH
    eff.IsControllable = True
    eff.AvailableActions.append(v1.GOTO)
    position, rotation = body_tform_hand
    t = eff.EndTransform
    t.Position.X, t.Position.Y, t.Position.Z = frames.position_ros_to_bow(position, SDK_V1_CONVENTION)
    t.EulerAngles.X, t.EulerAngles.Y, t.EulerAngles.Z = frames.rpy_from_quaternion(rotation)
    t.LinkName = prefix + "hand"
    t.Part = "body"


def exteroception_v1_from_imu(v1: ModuleType, acceleration: Sequence[float] | None,
                              angular_velocity: Sequence[float] | None,
                              odom_rot_link: Sequence[float] | None, link_name: str = "body",
                              position_imu_rt_link: Sequence[float] = (0.0, 0.0, 0.0)) -> Message:
    """One Spot IMU reading (REP 103 axes of the mounting link) -> v1 ExteroceptionSample.Imu[0].

    `Gyro` rad/s, `Acc` m/s² (specific force; unset with `HasAcc` false when unknown),
    `Orientation` (roll, pitch, yaw) rad of the link relative to gravity-aligned odom,
    `Transform.Position` m of the IMU in the link, `Transform.LinkName` the link, `Source` too.
    """
    out = v1.ExteroceptionSample()
    imu = out.Imu.add()
    imu.Source = link_name
    if angular_velocity is not None:
        imu.Gyro.X, imu.Gyro.Y, imu.Gyro.Z = frames.angular_velocity_ros_to_bow(angular_velocity, SDK_V1_CONVENTION)
        imu.HasGyro = True
    if acceleration is not None:
        imu.Acc.X, imu.Acc.Y, imu.Acc.Z = frames.position_ros_to_bow(acceleration, SDK_V1_CONVENTION)
        imu.HasAcc = True
    if odom_rot_link is not None:
        imu.Orientation.X, imu.Orientation.Y, imu.Orientation.Z = frames.rpy_from_quaternion(odom_rot_link)
    imu.Transform.LinkName = link_name
    p = frames.position_ros_to_bow(position_imu_rt_link, SDK_V1_CONVENTION)
    imu.Transform.Position.X, imu.Transform.Position.Y, imu.Transform.Position.Z = p
    return out


#: bosdyn BatteryState.Status number -> v1 Battery.SupplyStatusEnum name.
_BATTERY_STATUS = {2: "Charging", 3: "Discharging"}  # else Unknown (0 UNKNOWN, 1 MISSING, 4 BOOTING)


def interoception_v1_from_battery(v1: ModuleType, percentage: float | None, voltage: float | None,
                                  current: float | None, status: int = 0) -> Message:
    """Spot battery -> v1 InteroceptionSample.battery: `Percentage` 0..100 %, `Voltage` V,
    `Current` A (negative = discharging, as Spot reports it), `SupplyStatus` from bosdyn's
    `BatteryState.Status` (1 MISSING -> Present false)."""
    out = v1.InteroceptionSample()
    b = out.battery
    b.Present = status != 1
    if percentage is not None:
        b.Percentage = float(percentage)
    if voltage is not None:
        b.Voltage = float(voltage)
    if current is not None:
        b.Current = float(current)
    b.SupplyStatus = v1.Battery.SupplyStatusEnum.Value(_BATTERY_STATUS.get(int(status), "Unknown"))
    return out


# ---------------------------------------------------------------------------------------------
# v1 samples -> ROS
# ---------------------------------------------------------------------------------------------

def joint_arrays_from_v1(sample: Any) -> JointArrays:
    """v1 ProprioceptionSample.RawJoints -> JointArrays (rad, rad/s, N·m); FIXED joints skipped.
    Raises ProprioceptionError for unnamed or duplicate joints."""
    joints = [j for j in sample.RawJoints if j.Type != 0]  # 0 = FIXED: no joint state
    names = [j.Name for j in joints]
    if any(not n for n in names):
        raise ProprioceptionError("a RawJoints entry has no Name")
    if len(set(names)) != len(names):
        raise ProprioceptionError("RawJoints names contain duplicates")
    n = len(joints)
    position = np.fromiter((j.Position for j in joints), dtype=np.float64, count=n)
    velocity = np.fromiter((j.Velocity for j in joints), dtype=np.float64, count=n)
    effort = np.fromiter((j.Torque for j in joints), dtype=np.float64, count=n)
    for label, arr in (("Position", position), ("Velocity", velocity), ("Torque", effort)):
        if not np.all(np.isfinite(arr)):
            raise ProprioceptionError(f"RawJoints {label} holds NaN or infinity")
    return JointArrays(names, position, velocity, effort)


def joint_state_from_v1(make: MessageFactory, sample: Any, stamp: tuple[int, int], prefix: str = "") -> Any:
    """v1 ProprioceptionSample -> sensor_msgs/JointState (`prefix` + RawJoints names)."""
    arrays = joint_arrays_from_v1(sample)
    if prefix:
        arrays.names = [prefix + n for n in arrays.names]
    return joint_state_msg(make, arrays, stamp)


def imu_vectors_from_v1(imu: Any) -> tuple[Any, Any, Any]:
    """v1 IMU -> (orientation (x, y, z, w) | None, angular velocity | None, acceleration | None)
    in ROS axes. Orientation counts when the `Orientation` message is present."""
    orientation = angular = linear = None
    if imu.HasField("Orientation"):
        roll, pitch, yaw = vector3_tuple(imu.Orientation)
        orientation = frames.quaternion_from_rpy(roll, pitch, yaw)
    if imu.HasGyro or imu.HasField("Gyro"):
        angular = frames.angular_velocity_bow_to_ros(vector3_tuple(imu.Gyro), SDK_V1_CONVENTION)
    if imu.HasAcc or imu.HasField("Acc"):
        linear = frames.position_bow_to_ros(vector3_tuple(imu.Acc), SDK_V1_CONVENTION)
    values = [c for v in (orientation, angular, linear) if v is not None for c in v]
    if not all(math.isfinite(c) for c in values):
        raise ProprioceptionError("IMU holds NaN or infinity")
    return orientation, angular, linear


def imu_name_v1(imu: Any) -> str:
    """The mounting link / name of a v1 IMU: Transform.LinkName, else Source ('' if neither)."""
    return (imu.Transform.LinkName if imu.HasField("Transform") else "") or imu.Source


def imu_msgs_from_v1(make: MessageFactory, sample: Any, stamp: tuple[int, int], prefix: str = "",
                     default_frame: str = "body") -> list[tuple[str, Any]]:
    """v1 ExteroceptionSample.Imu -> [(topic, sensor_msgs/Imu)]: `imu` for the first, `imu/<name>`
    for further ones; frame id `prefix` + the IMU's link name (else `default_frame`)."""
    out = []
    for i, imu in enumerate(sample.Imu):
        name = imu_name_v1(imu)
        orientation, angular, linear = imu_vectors_from_v1(imu)
        msg = imu_msg(make, stamp, prefix + (name or default_frame), orientation, angular, linear)
        out.append((_imu_topic(i, name), msg))
    return out


def _imu_topic(index: int, name: str) -> str:
    if index == 0:
        return "imu"
    token = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_")
    if not token:
        token = f"imu{index}"
    elif token[0].isdigit():
        token = f"imu_{token}"
    return f"imu/{token}"



# ---------------------------------------------------------------------------------------------
# ImageSample: documented <-> v1 (same fields, different field numbers on the wire)
# ---------------------------------------------------------------------------------------------

#: ImageSample fields both message sets have, with the same meaning and enum values.
_IMAGE_FIELDS = ("Source", "Data", "Compression", "ImageType", "FrameNumber", "Designation", "HFOV", "VFOV",
                 "NewDataFlag")


def v1_image_from_documented(sample: Message, v1: ModuleType) -> Message:
    """A documented `ImageSample` (see `convert.bow_image`) as a v1 `ImageSample`."""
    out = v1.ImageSample()
    for name in _IMAGE_FIELDS:
        if sample.HasField(name):
            setattr(out, name, getattr(sample, name))
    out.DataShape.extend(sample.DataShape)
    return out


def documented_image_from_v1(sample: Message) -> Message:
    """A v1 `ImageSample` as a documented one, for `convert.bow_image.ros_image_from_sample`.

    v1 scalars have no presence: zero `FrameNumber`/`HFOV`/`VFOV` count as not given.
    """
    out = bow.ImageSample(Source=sample.Source, Data=sample.Data, Compression=sample.Compression,
                          ImageType=sample.ImageType, Designation=sample.Designation,
                          NewDataFlag=sample.NewDataFlag)
    out.DataShape.extend(sample.DataShape)
    if sample.FrameNumber:
        out.FrameNumber = sample.FrameNumber
    if sample.HFOV and sample.VFOV:
        out.HFOV, out.VFOV = sample.HFOV, sample.VFOV
    return out
