#!/usr/bin/env python3
"""Write urdf/spot.urdf and urdf/spot_with_arm.urdf from spot_bow_ros/convert/urdf.py.

    python tools/gen_urdf.py          # rewrite the URDF files
    python tools/gen_urdf.py --check  # exit 1 if a file would change
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spot_bow_ros.convert.urdf import URDF_FILES, spot_urdf  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are current")
    args = parser.parse_args(argv)
    stale = []
    for relative, arm in URDF_FILES.items():
        path = ROOT / relative
        text = spot_urdf(arm)
        if path.exists() and path.read_text() == text:
            continue
        stale.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run python tools/gen_urdf.py)", file=sys.stderr)
        return 1
    for relative in stale:
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
