"""spot_bow_ros: Boston Dynamics Spot and BOW data messages on ROS 2.

Layers (imports point downwards only)::

    cli                 the `spot-bow-ros` command (run, sim, topic, service, record)
    nodes               one module per bridge (+ its own helpers: webcam_capture, motion_recording)
    backends            backend chooser (run_node), the rclpy backend, ROS arguments, launch helpers
    standalone          ROS 2 on the wire without ROS: Cyclone DDS, discovery, messages, services, recorder
    ros, spot, sim      middleware seam (node_api, params, qos, names, distro), bosdyn side, simulated Spot
    convert             pure conversions (no I/O, no threads)
    bow                 BOW schema and BOW <-> ROS axis/unit conventions
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"


def _quiet_native_logs() -> None:
    """Keep gRPC's and OpenCV's C++ loggers quiet (before either is imported): their lines
    (e.g. one `CERTIFICATE_VERIFY_FAILED` per TLS retry, an ffmpeg warning per frame) would
    bury our one-line errors. Variables the user set win; `--log-level debug` keeps them on."""
    if any(a.lower().endswith("debug") for a in _sys.argv[1:]) and "--log-level" in " ".join(_sys.argv):
        return
    for name, value in (("GRPC_VERBOSITY", "NONE"), ("OPENCV_LOG_LEVEL", "SILENT"),
                        ("OPENCV_FFMPEG_LOGLEVEL", "-8"), ("OPENCV_VIDEOIO_DEBUG", "0")):
        _os.environ.setdefault(name, value)


_quiet_native_logs()
