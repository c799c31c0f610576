"""ros layer of spot_bow_ros: the seam every bridge is written against, whichever middleware runs it.

    node_api.py   `NodeHandle` (what a bridge may ask of its node), stamps and headers
    params.py     `ParamSpec` and parameter files: each node's parameters declared in one place
    qos.py        `QoS` profiles
    names.py      topic/type name rules and their errors
    distro.py     the one table of per-distro details (`PROFILES`) and `ROS_DISTRO`'s reading

No rclpy, cyclonedds or rosbags import here: the backends (`backends/`, `standalone/`) implement it.
"""
