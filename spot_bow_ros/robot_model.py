"""The robot model without robot_state_publisher: `robot_description`, link TF from joint states.

`RobotModel` holds a URDF (the package's `urdf/spot.urdf` / `urdf/spot_with_arm.urdf`, or a
user file) and its `KinematicModel` (convert/kinematics.py). The proprioception bridge uses it
to publish what robot_state_publisher would: the URDF text on `robot_description`
(std_msgs/String, transient local), the moving joints' link transforms on `/tf` for every
joint state, and the fixed joints on `/tf_static`; frame ids get the bridge's `frame_prefix`
(robot_state_publisher's `frame_prefix`).

`choose_model(setting, joint_names)`: `auto` picks the arm model when the joint states name
arm joints (`arm_*`), else the leg-only one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .convert.kinematics import KinematicModel, UrdfError
from .convert.odometry import Pose
from .share import find_share_file

MODEL_CHOICES = ("auto", "spot", "spot_with_arm", "none")


class RobotModelError(ValueError):
    """The robot model cannot be loaded; the message names the file and the cause."""


def choose_model(setting: str, joint_names: Iterable[str], prefix: str = "") -> str | None:
    """The model to use ('spot' / 'spot_with_arm'), None for 'none'."""
    if setting == "none":
        return None
    if setting != "auto":
        return setting
    n = len(prefix)
    names = [name[n:] if n and name.startswith(prefix) else name for name in joint_names]
    return "spot_with_arm" if any(name.startswith("arm_") for name in names) else "spot"


@dataclass
class RobotModel:
    """A URDF and its kinematics."""

    name: str
    urdf: str
    kinematics: KinematicModel

    @classmethod
    def load(cls, model: str, urdf_file: str = "") -> "RobotModel":
        """The package's model `model` ('spot' | 'spot_with_arm'), or `urdf_file` when given."""
        if urdf_file:
            path: Path | None = Path(urdf_file).expanduser()
        else:
            path = find_share_file(f"urdf/{model}.urdf")
            if path is None:
                raise RobotModelError(f"urdf/{model}.urdf is not installed with the package")
        try:
            text = path.read_text()
        except OSError as err:
            raise RobotModelError(f"cannot read the robot model {path}: {err.strerror or err}") from None
        try:
            kinematics = KinematicModel.from_urdf(text)
        except UrdfError as err:
            raise RobotModelError(f"robot model {path}: {err}") from None
        return cls(model if not urdf_file else path.stem, text, kinematics)

    def moving(self, names: Sequence[str], positions: Sequence[float], prefix: str = ""
               ) -> list[tuple[str, str, Pose]]:
        """(parent, child, pose) of the moving joints in a joint state (names may carry `prefix`)."""
        return self.kinematics.moving_transforms(names, positions, prefix)

    def fixed(self) -> list[tuple[str, str, Pose]]:
        return self.kinematics.fixed_transforms()
