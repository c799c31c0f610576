"""The real-ROS tier: spot_bow_ros against a real ROS 2 Jazzy (rclpy, ros2cli, launch, rosbag2,
rmw_cyclonedds_cpp), every process of a test inside a private network namespace.

It runs when SPOT_BOW_ROS2_REAL=1 (`.ci/run` sets it after installing ../shared/ros2-jazzy with
its setup.sh) and a Jazzy is installed at SPOT_BOW_ROS2_PREFIX (default /opt/ros2-jazzy);
otherwise every test here is skipped with one line saying why:

    SPOT_BOW_ROS2_REAL=1 python -m pytest -q test/ros2_real

The tests run from the project's venv (its python is the standalone runtime); ROS 2 commands run
in bash scripts that source the Jazzy environment, inside `unshare -n` (root) with loopback
and, where the host matters, a veth "host interface" 10.254.0.2/24 that leads nowhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFIX = Path(os.environ.get("SPOT_BOW_ROS2_PREFIX", "/opt/ros2-jazzy"))
ENV_SH = PREFIX / "env.sh"
#: The standalone runtime's python (the project venv running these tests).
PY = sys.executable
SPOT_BOW_ROS = str(Path(PY).with_name("spot-bow-ros"))


def _why_skipped() -> str | None:
    if os.environ.get("SPOT_BOW_ROS2_REAL", "") != "1":
        where = "found" if (PREFIX / ".complete").exists() else "not installed"
        return (f"real-ROS tier not requested (ROS 2 Jazzy {where} at {PREFIX}): "
                "SPOT_BOW_ROS2_REAL=1 python -m pytest test/ros2_real runs it (.ci/run does when "
                "../shared/ros2-jazzy exists)")
    if not ENV_SH.exists():
        return f"real-ROS tier: no ROS 2 Jazzy at {PREFIX} (bash ../shared/ros2-jazzy/setup.sh installs it)"
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return "real-ROS tier: needs root, unshare and ip (private network namespaces)"
    return None


SKIP_REASON = _why_skipped()


def pytest_collection_modifyitems(config, items):
    if SKIP_REASON is None:
        return
    mark = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(mark)


def pytest_terminal_summary(terminalreporter):
    if SKIP_REASON is not None:
        terminalreporter.write_line(SKIP_REASON)


# -- running scripts in a private network namespace -----------------------------------------
NS_SETUP = """\
set +u
ip link set lo up; ip link set lo multicast on
if [ "${VETH:-0}" = 1 ]; then
  ip link add eth9 type veth peer name eth9p
  ip addr add 10.254.0.2/24 dev eth9; ip link set eth9 up; ip link set eth9p up
fi
source "$ROS_ENV_SH" >/dev/null
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-17}
unset CYCLONEDDS_URI ROS_STATIC_PEERS ROS_LOCALHOST_ONLY
export ROS_AUTOMATIC_DISCOVERY_RANGE=${RANGE:-SUBNET}
export PY SPOT_BOW_ROS
cleanup() { ros2 daemon stop >/dev/null 2>&1; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
# bg NAME CMD...: start CMD in the background (SIGINT honoured), its pid in $NAME
bg() { local n=$1; shift; setsid bash -c 'trap - INT; exec "$@"' _ "$@" & eval "$n=$!"; }
# wait_for SECONDS CMD...: poll CMD until it succeeds
wait_for() { local end=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do
  [ $SECONDS -ge $end ] && return 1; sleep 0.5; done; }
"""


def ns_run(script: str, tmp_path: Path, *, veth: bool = False, timeout: float = 180.0,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """Run bash `script` (after NS_SETUP) in a new network namespace; stdout/stderr captured.
    The whole process group is killed afterwards (only processes this test started)."""
    path = tmp_path / f"ns_{abs(hash(script)) % 10**8}.sh"
    path.write_text(NS_SETUP + script)
    full_env = dict(os.environ, ROS_ENV_SH=str(ENV_SH), PY=PY, SPOT_BOW_ROS=SPOT_BOW_ROS,
                    VETH="1" if veth else "0", PYTHONUNBUFFERED="1", **(env or {}))
    for var in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        full_env.pop(var, None)
    proc = subprocess.Popen(["unshare", "-n", "bash", str(path)], cwd=tmp_path, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        raise AssertionError(f"namespace script timed out after {timeout} s\n--- stdout\n{out[-4000:]}\n"
                             f"--- stderr\n{err[-4000:]}") from None
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def describe(out: subprocess.CompletedProcess, tmp_path: Path, *logs: str) -> str:
    """A failure message: the script's output and the tails of its log files."""
    text = f"exit {out.returncode}\n--- stdout\n{out.stdout[-3000:]}\n--- stderr\n{out.stderr[-3000:]}"
    for name in logs:
        path = tmp_path / name
        text += f"\n--- {name}\n" + (path.read_text(errors="replace")[-2000:] if path.exists() else "(none)")
    return text


def values(out: str) -> dict[str, str]:
    """`KEY=value` lines of a script's stdout (the last one of each key wins)."""
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and line.split("=", 1)[0].isupper())


@pytest.fixture(scope="session")
def ros_env() -> dict:
    """Just a guard: the tier's tests need the checks above to have passed."""
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    return {"prefix": str(PREFIX)}
