"""spot_bow_ros: Boston Dynamics Spot and BOW data messages on ROS 2.

Layers (imports point downwards only)::

    cli                 the `spot-bow-ros` command
    nodes               one module per bridge (+ its own helpers: webcam_capture, motion_recording)
    ros, spot, sim      middleware seam (rclpy | standalone DDS), bosdyn side, simulated Spot
    convert             pure conversions (no I/O, no threads)
    bow                 BOW schema and BOW <-> ROS axis/unit conventions
"""

__version__ = "0.1.0"
