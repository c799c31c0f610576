"""Forward kinematics on a URDF: joint positions -> link transforms (what robot_state_publisher does).

`KinematicModel.from_urdf(xml_text)` reads the joints of any URDF (revolute, continuous,
prismatic, fixed; `origin` xyz/rpy, `axis`). Then

- `moving_transforms(names, positions)`: `(parent_link, child_link, parent_tform_child)` for
  every non-fixed joint named in a JointState (joints the model lacks are ignored) -> `/tf`;
- `fixed_transforms()`: the same for the fixed joints -> `/tf_static`;
- `forward(positions)`: `root_tform_link` for every link (4x4 numpy), for checks and tools.

Poses are `(position (x, y, z) m, rotation (x, y, z, w))` as in `convert/odometry.py`; angles
rad, prismatic positions m. URDF `rpy` is fixed-axis roll, pitch, yaw: R = Rz(yaw) Ry(pitch) Rx(roll).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..bow.frames import quaternion_multiply
from .odometry import Pose

MOVING_TYPES = ("revolute", "continuous", "prismatic")


class UrdfError(ValueError):
    """A URDF that cannot be used for forward kinematics; the message says why."""


def quat_from_rpy(roll: float, pitch: float, yaw: float) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) of URDF fixed-axis rpy (Rz(yaw) Ry(pitch) Rx(roll))."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy)


def matrix_from_pose(pose: Pose) -> np.ndarray:
    """4x4 homogeneous matrix of a pose."""
    (px, py, pz), (x, y, z, w) = pose
    m = np.eye(4)
    m[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    m[:3, 3] = (px, py, pz)
    return m


@dataclass(frozen=True)
class Joint:
    """One URDF joint; `origin` = parent_tform_joint at position 0."""

    name: str
    type: str
    parent: str
    child: str
    origin: Pose
    axis: tuple[float, float, float] = (1.0, 0.0, 0.0)
    lower: float | None = None
    upper: float | None = None

    @property
    def moving(self) -> bool:
        return self.type in MOVING_TYPES

    def transform(self, position: float = 0.0) -> Pose:
        """parent_tform_child at joint `position` (rad or m)."""
        (ox, oy, oz), q = self.origin
        ax, ay, az = self.axis
        if self.type == "prismatic":
            from .odometry import rotate
            d = rotate(q, (ax * position, ay * position, az * position))
            return ((ox + d[0], oy + d[1], oz + d[2]), q)
        if self.type in ("revolute", "continuous"):
            s = math.sin(position / 2)
            return ((ox, oy, oz), quaternion_multiply(q, (ax * s, ay * s, az * s, math.cos(position / 2))))
        return self.origin


def _floats(text: str | None, n: int, default: float, where: str) -> tuple[float, ...]:
    if text is None:
        return (default,) * n
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        raise UrdfError(f"{where}: '{text}' is not {n} numbers") from None
    if len(values) != n:
        raise UrdfError(f"{where}: '{text}' is not {n} numbers")
    return values


class KinematicModel:
    """The joints of a URDF, ready for forward kinematics."""

    def __init__(self, name: str, joints: Sequence[Joint], links: Sequence[str]):
        self.name = name
        self.joints = list(joints)
        self.links = list(links)
        self.by_name = {j.name: j for j in self.joints}
        self.by_child = {j.child: j for j in self.joints}
        roots = [link for link in self.links if link not in self.by_child]
        if len(roots) != 1:
            raise UrdfError(f"URDF must have exactly one root link, found {', '.join(roots) or 'none'}")
        self.root = roots[0]

    @classmethod
    def from_urdf(cls, xml_text: str) -> KinematicModel:
        try:
            robot = ET.fromstring(xml_text)
        except ET.ParseError as exc:
            raise UrdfError(f"not valid URDF XML: {exc}") from None
        if robot.tag != "robot":
            raise UrdfError(f"the root element is <{robot.tag}>, not <robot>")
        links = [link.get("name", "") for link in robot.findall("link")]
        joints = []
        for el in robot.findall("joint"):
            name = el.get("name", "")
            kind = el.get("type", "")
            if kind not in MOVING_TYPES + ("fixed",):
                raise UrdfError(f"joint {name}: type '{kind}' is not supported (revolute, continuous, "
                                "prismatic, fixed)")
            parent, child = el.find("parent"), el.find("child")
            if parent is None or child is None:
                raise UrdfError(f"joint {name}: needs <parent> and <child>")
            origin = el.find("origin")
            xyz = _floats(origin.get("xyz") if origin is not None else None, 3, 0.0, f"joint {name} origin xyz")
            rpy = _floats(origin.get("rpy") if origin is not None else None, 3, 0.0, f"joint {name} origin rpy")
            axis_el = el.find("axis")
            axis = _floats(axis_el.get("xyz") if axis_el is not None else None, 3, 0.0, f"joint {name} axis")
            if axis_el is None:
                axis = (1.0, 0.0, 0.0)
            norm = math.sqrt(sum(a * a for a in axis))
            if kind != "fixed" and not norm > 0:
                raise UrdfError(f"joint {name}: zero axis")
            unit = (axis[0] / norm, axis[1] / norm, axis[2] / norm) if norm > 0 else (axis[0], axis[1], axis[2])
            limit = el.find("limit")
            lower_text = limit.get("lower") if limit is not None else None
            upper_text = limit.get("upper") if limit is not None else None
            lower = float(lower_text) if lower_text else None
            upper = float(upper_text) if upper_text else None
            joints.append(Joint(name, kind, parent.get("link", ""), child.get("link", ""),
                                ((xyz[0], xyz[1], xyz[2]), quat_from_rpy(*rpy)), unit, lower, upper))
        return cls(robot.get("name", ""), joints, links)

    # -- transforms ---------------------------------------------------------------------------
    def fixed_transforms(self) -> list[tuple[str, str, Pose]]:
        """(parent, child, parent_tform_child) of every fixed joint."""
        return [(j.parent, j.child, j.origin) for j in self.joints if not j.moving]

    def moving_transforms(self, names: Iterable[str], positions: Iterable[float],
                          prefix: str = "") -> list[tuple[str, str, Pose]]:
        """(parent, child, parent_tform_child) of the model's moving joints among `names`
        (JointState names, `prefix` stripped from them); unknown names are skipped."""
        out = []
        by_name = self.by_name
        n = len(prefix)
        for name, position in zip(names, positions):
            joint = by_name.get(name[n:] if n and name.startswith(prefix) else name)
            if joint is not None and joint.moving:
                out.append((joint.parent, joint.child, joint.transform(float(position))))
        return out

    def forward(self, positions: Mapping[str, float]) -> dict[str, np.ndarray]:
        """root_tform_link (4x4) of every link; joints missing from `positions` are at 0."""
        out = {self.root: np.eye(4)}
        pending = list(self.joints)
        while pending:
            rest = []
            for j in pending:
                if j.parent in out:
                    out[j.child] = out[j.parent] @ matrix_from_pose(j.transform(positions.get(j.name, 0.0)))
                else:
                    rest.append(j)
            if len(rest) == len(pending):
                raise UrdfError(f"links not connected to {self.root}: {', '.join(j.child for j in rest)}")
            pending = rest
        return out

    def has_joints(self, names: Iterable[str]) -> bool:
        return all(n in self.by_name for n in names)
