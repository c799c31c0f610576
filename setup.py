"""ament_python package setup for spot_bow_ros (colcon build) that also installs with pip."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "spot_bow_ros"


def _launcher_nodes() -> dict:
    """NODES of spot_bow_ros/launcher.py, read without importing the package."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parent / PACKAGE / "launcher.py").read_text())
    return next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "NODES")


# The executables (`ros2 run spot_bow_ros <name>`) and their guarded entry points live in
# spot_bow_ros/launcher.py (a missing optional module is one line there, not a traceback).
NODES = _launcher_nodes()

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*", "bench"]),
    package_data={PACKAGE: ["bow/*.proto", "bow/*.pyi", "standalone/*.xml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml", "LICENSE"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/urdf", glob("urdf/*.urdf")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz") + glob("config/*.xml")
         + glob("spot_bow_ros/standalone/cyclonedds*.xml")),
    ],
    install_requires=[
        "setuptools",
        "numpy>=1.21",
        "opencv-python-headless>=4.5",
        "protobuf>=3.19",
        "grpcio>=1.43",
        "PyYAML>=5.4",
        "cryptography>=3.4",
        "bosdyn-client>=4.0",
        "bosdyn-api>=4.0",
        "bosdyn-core>=4.0",
        "cyclonedds>=0.10.5",
        "rosbags>=0.10",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "pytest-timeout>=2", "foxglove-sdk>=0.10", "ruff>=0.6", "mypy>=1.10",
                 "colcon-core>=0.15", "colcon-ros>=0.4"],  # colcon: test/package/test_colcon.py
        "foxglove": ["foxglove-sdk>=0.10"],
        # BOW SDK messages v1 (bow_messages: sdk_v1) come from `bow-api`, installed with
        # `pip install --no-deps bow-api` (.ci/run does): its pins (protobuf~=4.21, numpy<=1.24.4)
        # must not replace ours, and pip cannot express --no-deps per requirement.
    },
    zip_safe=True,
    maintainer="spot_bow_ros maintainers",
    maintainer_email="maintainers@spot-bow-ros.invalid",
    description="Boston Dynamics Spot and BOW data messages on ROS 2",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": ["spot-bow-ros = spot_bow_ros.launcher:cli"]
        + [f"{name} = spot_bow_ros.launcher:{name}" for name in NODES],
    },
)
