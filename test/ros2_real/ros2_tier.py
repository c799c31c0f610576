"""Helpers of the real-ROS tier (see conftest.py): gating, namespace scripts, the workspace."""


from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

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
# every background process group started by bg, stopped (TERM, then KILL) when the script ends
BG_PIDS=()
cleanup() { ros2 daemon stop >/dev/null 2>&1; local p
  for p in "${BG_PIDS[@]}"; do kill -TERM -- -$p 2>/dev/null; done; sleep 1
  for p in "${BG_PIDS[@]}"; do kill -KILL -- -$p 2>/dev/null; done; }
trap cleanup EXIT
# bg NAME CMD...: start CMD in the background with SIGINT honoured (a non-interactive shell
# starts background jobs with SIGINT ignored, and bash cannot un-ignore it), its pid in $NAME
bg() { local n=$1; shift; /usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' "$@" &
  BG_PIDS+=($!); eval "$n=$!"; }
# wait_for SECONDS CMD...: poll CMD until it succeeds
wait_for() { local end=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do
  [ $SECONDS -ge $end ] && return 1; sleep 0.5; done; }
"""


#: Not passed to the scripts: the project venv's, and the normal suite's pinned standalone backend
#: (test/conftest.py), which would make the rclpy route fall back to the standalone runtime.
CLEARED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "SPOT_BOW_ROS_BACKEND")


def ns_run(script: str, tmp_path: Path, *, veth: bool = False, timeout: float = 180.0,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """Run bash `script` (after NS_SETUP) in a new network namespace; stdout/stderr captured.
    The whole process group is killed afterwards (only processes this test started)."""
    path = tmp_path / f"ns_{abs(hash(script)) % 10**8}.sh"
    path.write_text(NS_SETUP + script)
    full_env = dict(os.environ, ROS_ENV_SH=str(ENV_SH), PY=PY, SPOT_BOW_ROS=SPOT_BOW_ROS,
                    VETH="1" if veth else "0", PYTHONUNBUFFERED="1", **(env or {}))
    for var in CLEARED_ENV:
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


# -- the shipped config with a few parameters changed ----------------------------------------
#: Bridges the comparison scripts do not need: left off, so the loaded machine runs only what is compared.
UNUSED_BRIDGES = ("bow_vision", "image_service", "webcam")
SHIPPED_CONFIG = REPO / "config" / "spot_bow.yaml"


def write_config(path: Path, *, disable: Iterable[str] = (), **changes: dict[str, str]) -> Path:
    """Write config/spot_bow.yaml to `path` with the bridges in `disable` off (`spot_bow:
    enable_<name>: false`) and `changes` applied: per node section, parameter -> YAML value
    (`spot_cameras={"cameras": "[frontleft]"}`). Each parameter must occur once in its section
    of the shipped file, so a renamed parameter fails here instead of running with its default."""
    todo = {("spot_bow", f"enable_{name}"): "false" for name in disable}
    todo.update({(node, key): value for node, params in changes.items() for key, value in params.items()})
    section, done, lines = None, set(), []
    for line in SHIPPED_CONFIG.read_text().splitlines(keepends=True):
        header = re.match(r"([^\s#][^:]*):\s*$", line)
        param = re.match(r" {4}(\w+): ", line)
        if header:
            section = header.group(1)
        elif param and (section, param.group(1)) in todo:
            assert (section, param.group(1)) not in done, f"{SHIPPED_CONFIG}: {section}.{param.group(1)} twice"
            done.add((section, param.group(1)))
            line = f"    {param.group(1)}: {todo[section, param.group(1)]}\n"
        lines.append(line)
    missing = sorted(f"{node}.{key}" for node, key in todo.keys() - done)
    assert not missing, f"{SHIPPED_CONFIG} has no parameter {', '.join(missing)}"
    path.write_text("".join(lines))
    return path


# -- the package built with colcon, the README's ROS-route way ---------------------------------
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "install", "log", "__pycache__", "*.egg-info",
                                ".pytest_cache", ".hypothesis", "spot_bow_bag*")

#: The README's ROS route in a venv, as written there (rosdep and apt are not available here:
#: colcon comes from pip instead of Ubuntu's python3-colcon-common-extensions).
README_ROUTE = """\
set -e
source "$ROS_ENV_SH" >/dev/null
cd "$WS"
python3 -m venv --system-site-packages "$WS/venv" && touch "$WS/venv/COLCON_IGNORE"
. "$WS/venv/bin/activate" && pip install -q --disable-pip-version-check bosdyn-client==5.2.0 colcon-common-extensions
python -m colcon build --packages-select spot_bow_ros $COLCON_ARGS
"""


def build_workspace(ws: Path, venv_from: Path | None = None, colcon_args: str = "") -> subprocess.CompletedProcess:
    """Copy this checkout to ws/src/spot_bow_ros and build it as the README says (the venv of
    `venv_from` is reused when given)."""
    shutil.copytree(REPO, ws / "src" / "spot_bow_ros", ignore=IGNORE)
    script = README_ROUTE
    if venv_from is not None:
        script = script.replace('python3 -m venv --system-site-packages "$WS/venv" && touch "$WS/venv/COLCON_IGNORE"\n',
                                f'ln -s {venv_from}/venv "$WS/venv"\n').replace(
            "&& pip install -q --disable-pip-version-check bosdyn-client==5.2.0 colcon-common-extensions", "")
    env = dict(os.environ, ROS_ENV_SH=str(ENV_SH), WS=str(ws), COLCON_ARGS=colcon_args)
    for var in CLEARED_ENV:
        env.pop(var, None)
    return subprocess.run(["bash", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=900)


def pip_in_workspace(ws: Path, *packages: str) -> None:
    """`pip install` into the workspace venv: what rosdep installs on Ubuntu (python3-opencv, ...)."""
    out = subprocess.run([str(ws / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          *packages], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
