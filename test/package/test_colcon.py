"""The package as ROS 2 builds it: a real `colcon build` (colcon-core + colcon-ros from PyPI).

No ROS install is needed for colcon to build an ament_python package; this checks the layout
`ros2 run`, `ros2 launch` and `ros2 pkg prefix` rely on: the ament index marker, package.xml,
node executables in lib/<package>, launch and config files in share/<package>, and an
importable package whose shipped Cyclone configuration is found.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from setup_nodes import NODES  # setup.py's console scripts

pytest.importorskip("colcon_ros", reason="colcon-ros not installed (pip install '.[test]')")

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "spot_bow_ros"


@pytest.fixture(scope="module", params=["copy", "symlink"])
def install(request, tmp_path_factory):
    """`colcon build` of this repository into a fresh workspace: (install base, build output)."""
    ws = tmp_path_factory.mktemp(f"colcon_{request.param}")
    cmd = [sys.executable, "-m", "colcon", "build", "--base-paths", str(REPO),
           "--build-base", str(ws / "build"), "--install-base", str(ws / "install")]
    if request.param == "symlink":
        cmd.append("--symlink-install")
    env = dict(os.environ, COLCON_LOG_PATH=str(ws / "log"), COLCON_HOME=str(ws / "colcon_home"))
    done = subprocess.run(cmd, cwd=ws, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Finished <<< {PACKAGE}" in done.stdout
    return ws / "install" / PACKAGE


def test_ament_index_and_package_xml(install):
    assert (install / "share/ament_index/resource_index/packages" / PACKAGE).is_file()
    package_xml = (install / "share" / PACKAGE / "package.xml").read_text()
    assert f"<name>{PACKAGE}</name>" in package_xml and "<build_type>ament_python</build_type>" in package_xml


def test_node_executables_where_ros2_run_looks(install):
    lib = install / "lib" / PACKAGE
    for node in [*NODES, "spot-bow-ros"]:
        assert os.access(lib / node, os.X_OK), f"{node} not executable in {lib}"


def test_launch_and_config_files_in_share(install):
    share = install / "share" / PACKAGE
    launch = sorted(p.name for p in (share / "launch").iterdir())
    assert launch == ["image_service.launch.py", "spot_bow.launch.py", "webcam.launch.py"]
    config = {p.name for p in (share / "config").iterdir()}
    assert {"spot_bow.rviz", "cyclonedds.xml", "spot_bow.yaml"} <= config
    assert {f"{n}.yaml" for n in NODES if n != "spot_bow"} <= config
    # the robot model that robot_state_publisher (launch) and the proprioception bridge load
    assert sorted(p.name for p in (share / "urdf").iterdir()) == ["spot.urdf", "spot_with_arm.urdf"]
    assert (share / "urdf" / "spot.urdf").read_text() == (REPO / "urdf" / "spot.urdf").read_text()


def test_installed_package_imports_after_sourcing_the_workspace(install, tmp_path):
    """What sourcing the workspace's setup script gives a shell: the package importable (from the install
    space, or from the build space with --symlink-install), its Cyclone config and BOW schema."""
    probe = ("import spot_bow_ros, spot_bow_ros.standalone.cyclone_config as d, spot_bow_ros.bow.bow_data_pb2 as b; "
             "print(spot_bow_ros.__file__); print(d.SHIPPED_CONFIG.is_file()); print(b.DESCRIPTOR.name)")
    setup = install.parent / "local_setup.sh"  # colcon-core's; setup.bash needs colcon-bash
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AMENT_PREFIX_PATH")}
    out = subprocess.run(["sh", "-c", f'. "{setup}" && "{sys.executable}" -c "{probe}"'], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    module_file, config_found, proto_name = out.stdout.split()
    workspace = install.parents[1].resolve()
    assert Path(module_file).resolve().is_relative_to(workspace) or \
        Path(module_file).resolve().is_relative_to(REPO)  # symlink install links back to the source
    assert config_found == "True"
    assert proto_name.endswith("bow_data.proto")
