"""One distro profile table (ros/distro.py) and one default (Jazzy) for every standalone module."""

import pytest

from spot_bow_ros.ros.distro import DEFAULT_DISTRO, KNOWN_DISTROS, PROFILES, profile, ros_distro
from spot_bow_ros.standalone import cyclone_config
from spot_bow_ros.standalone.message_store import RosbagsMessages, messages_for
from spot_bow_ros.standalone.node import InProcessBus
from spot_bow_ros.standalone.recorder import BagRecorder


def test_every_module_defaults_to_the_one_default_distro(tmp_path):
    assert DEFAULT_DISTRO == "jazzy"
    assert ros_distro({})[0] == DEFAULT_DISTRO
    assert RosbagsMessages().distro == messages_for().distro == DEFAULT_DISTRO
    assert InProcessBus().messages.distro == DEFAULT_DISTRO
    assert BagRecorder(tmp_path / "bag").messages.distro == DEFAULT_DISTRO


def test_in_process_bus_uses_jazzy_types():
    # Jazzy's typestore has type_description_interfaces (Iron+); Humble's has not.
    bus = InProcessBus()
    assert bus.messages.type_hash("sensor_msgs/msg/Image").startswith("RIHS01_")
    assert "type_description_interfaces/msg/TypeDescription" in bus.messages.typestore.fielddefs
    assert "type_description_interfaces/msg/TypeDescription" not in messages_for("humble").typestore.fielddefs


def test_profiles_carry_the_wire_differences():
    assert profile("humble").gid_size == 24 and not profile("humble").discovery_range
    assert profile().gid_size == 16 and profile().discovery_range and profile().name == "jazzy"
    assert set(KNOWN_DISTROS) == set(PROFILES)
    assert cyclone_config.discovery_options("humble", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}).ranged is False
    with pytest.raises(ValueError, match="unknown ROS distro 'rolling'"):
        RosbagsMessages("rolling")
