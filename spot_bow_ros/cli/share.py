"""Where the package's data files (config/, launch/) are: ROS share dir, pip prefix, or checkout."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = "spot_bow_ros"


def share_dirs() -> list[Path]:
    """Candidate share directories, most specific first."""
    dirs: list[Path] = []
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(PACKAGE)))
    except Exception:  # noqa: BLE001 - not a ROS install, or the package is not in the ament index
        pass
    dirs.append(Path(sys.prefix) / "share" / PACKAGE)           # pip install (data_files)
    dirs.append(Path(__file__).resolve().parents[2])             # source checkout
    return dirs


def find_share_file(relative: str) -> Path | None:
    """First existing `<share>/<relative>` (e.g. `config/spot_bow.yaml`), or None."""
    for base in share_dirs():
        path = base / relative
        if path.exists():
            return path
    return None
