"""cv_bridge (Jazzy's) agrees byte for byte with the package's image conversions
(spot_bow_ros/convert/images.py): `imgmsg_to_cv2` of the package's own image topics (camera
image, mono and colour, 16UC1 depth) equals `array_from_image_msg`, and `cv2_to_imgmsg` of known
arrays equals `image_msg_from_array`'s fields (encoding, step, is_bigendian, data).

cv_bridge's Python side needs OpenCV 4.x: it runs on /usr/bin/python3 with Debian's
python3-opencv (4.6) and numpy (.ci/run installs python3-opencv), never in the ROS venv
(numpy 2, no cv2) nor a venv with pip's OpenCV 5."""

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ros2_real.ros2_tier import CLEARED_ENV, ENV_SH, UNUSED_BRIDGES, describe, ns_run, values, write_config
from spot_bow_ros.convert.images import array_from_image_msg, image_msg_from_array

pytestmark = pytest.mark.timeout(900)
PEERS = Path(__file__).with_name("peers")
TOPICS = ("/spot/camera/frontleft/image", "/spot/camera/hand/image", "/spot/depth/frontleft/image")

SCRIPT = f"""
bg NODE "$SPOT_BOW_ROS" run --config cfg.yaml --no-status > node.log 2>&1
wait_for 150 bash -c 'ros2 topic list --no-daemon | grep -qx /spot/depth/frontleft/image'
python3 {PEERS}/image_dump.py dumps 2 {" ".join(TOPICS)}
"""

def _make(_type: str, **fields) -> SimpleNamespace:
    """Message factory of plain objects (the fields are all the comparison needs)."""
    return SimpleNamespace(**fields)


def known_arrays() -> dict[str, tuple[np.ndarray, str]]:
    rng = np.random.default_rng(23)
    return {"bgr8": (rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), "bgr8"),
            "mono8": (rng.integers(0, 256, (37, 53), dtype=np.uint8), "mono8"),
            "depth16": (rng.integers(0, 65536, (37, 53), dtype=np.uint16), "16UC1"),
            "passthrough": (rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), "passthrough")}


def cv_bridge_run(dumps: Path, out: Path, known: Path) -> subprocess.CompletedProcess:
    """cv_bridge_convert.py on /usr/bin/python3 (Debian's numpy and OpenCV 4) in the sourced Jazzy."""
    env = dict(os.environ, ROS_ENV_SH=str(ENV_SH))
    for var in CLEARED_ENV:
        env.pop(var, None)
    script = (f'source "$ROS_ENV_SH" >/dev/null && deactivate && '
              f'/usr/bin/python3 {PEERS}/cv_bridge_convert.py {dumps} {out} {known}')
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300)


def test_cv_bridge_equals_the_package_image_conversions(ros_env, tmp_path):
    probe = subprocess.run(["/usr/bin/python3", "-c", "import cv2; print(cv2.__version__)"],
                           capture_output=True, text=True)
    assert probe.returncode == 0 and probe.stdout.startswith("4."), (
        f"cv_bridge needs Debian's python3-opencv (OpenCV 4) for /usr/bin/python3 (.ci/run installs it): "
        f"{probe.stdout.strip()} {probe.stderr.strip()[-300:]}")
    write_config(tmp_path / "cfg.yaml", disable=UNUSED_BRIDGES,
                 spot_cameras={"cameras": "[frontleft, hand]", "depth": "true"})
    out = ns_run(SCRIPT, tmp_path, timeout=400)
    detail = describe(out, tmp_path, "node.log")
    assert values(out.stdout).get("DUMPED") == str(2 * len(TOPICS)), detail

    arrays = known_arrays()
    known = tmp_path / "known.npz"
    np.savez(known, **{k: a for k, (a, _) in arrays.items()}, **{f"{k}_encoding": e for k, (_, e) in arrays.items()})
    conv = cv_bridge_run(tmp_path / "dumps", tmp_path / "cvb", known)
    conv_detail = f"exit {conv.returncode}\n{conv.stdout[-2000:]}\n{conv.stderr[-3000:]}"
    assert conv.returncode == 0 and values(conv.stdout).get("CONVERTED") == str(2 * len(TOPICS) + len(arrays)), conv_detail
    assert values(conv.stdout)["CV2"].startswith("4."), conv_detail

    # imgmsg_to_cv2 of the package's messages == the package's own decode, byte for byte
    encodings = set()
    for path in sorted((tmp_path / "dumps").glob("*.npz")):
        d = np.load(path)
        msg = SimpleNamespace(height=int(d["height"]), width=int(d["width"]), encoding=str(d["encoding"]),
                              is_bigendian=int(d["is_bigendian"]), step=int(d["step"]), data=d["data"].tobytes())
        encodings.add(msg.encoding)
        ours, theirs = array_from_image_msg(msg), np.load(tmp_path / "cvb" / path.name)["array"]
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (path.name, ours.shape, theirs.shape)
        assert ours.tobytes() == theirs.tobytes(), path.name
    assert {"bgr8", "mono8", "16UC1"} <= encodings, encodings

    # cv2_to_imgmsg of known arrays == image_msg_from_array's fields
    for name, (array, encoding) in arrays.items():
        theirs = np.load(tmp_path / "cvb" / f"to_msg_{name}.npz")
        ours = image_msg_from_array(_make, array, encoding)
        assert (ours.encoding, ours.height, ours.width, ours.step, bool(ours.is_bigendian)) == (
            str(theirs["encoding"]), int(theirs["height"]), int(theirs["width"]), int(theirs["step"]),
            bool(theirs["is_bigendian"])), name
        assert bytes(ours.data) == theirs["data"].tobytes(), name
