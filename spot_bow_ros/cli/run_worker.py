"""Entry point of a `spot-bow-ros run --processes 2` worker: the composed node, on the run's session.

    python -m spot_bow_ros.cli.run_worker --ros-args --params-file ... [-r __ns:=...]

Reads what the run process shares over stdin (`spot.session_share`): with `{"share": true}` the
worker's robot connection uses the run process's user token and clock skew (no login and no time
sync of its own); with `{"share": false}`, or nothing within SHARE_WAIT_S, it logs in itself with
the credentials in its environment. Then runs the composed node (`nodes.composed.main`) with the
arguments given. When stdin ends after a share (the run process is gone) the worker stops as
on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

#: seconds to wait for the run process's first line before logging in ourselves
SHARE_WAIT_S = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    from ..nodes.composed import main as composed_main
    from ..spot.connection import SpotConnection
    from ..spot.session_share import SessionShare

    share = SessionShare()
    share.follow(sys.stdin, on_end=lambda: share.shared and os.kill(os.getpid(), signal.SIGINT))
    if share.wait_first(SHARE_WAIT_S) and share.shared:
        SpotConnection.parent_session = share
    return composed_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
