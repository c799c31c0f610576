"""backends layer of spot_bow_ros: what runs a bridge on a middleware.

    chooser.py         `run_node`/`run_nodes`: rclpy when it imports, else the standalone runtime
    ros_args.py        `--ros-args ...` as `ros2 run` passes them
    lifecycle.py       what both backends share: start-up errors, log lines, SIGINT/SIGTERM
    rclpy_backend.py   the seam (`ros.node_api.NodeHandle`) on real rclpy nodes
    log_routing.py     library log lines (bosdyn, root logger) under the node's logger
    launch_actions.py, launch_params.py   helpers of the ROS 2 launch files (launch/)

Sits above `standalone/` (the chooser starts it; the rclpy backend reuses its message store and
CDR encoder for serialized publishing) and below `nodes/`.
"""
