"""standalone layer of spot_bow_ros: ROS 2 on the wire without ROS (Cyclone DDS + rosbags).

It implements the seam (`ros.node_api.NodeHandle`) as the rclpy backend does, and reads every
per-distro detail from `ros.distro.PROFILES`.

    node.py               `StandaloneNode` (the seam): executor thread, callback groups, services, parameters
    transport.py          `Transport` (what moves messages for a node), `InProcessBus` (one process)
    context.py            several nodes on one transport, optionally recorded
    dds_transport.py      `DdsTransport`: one DDS participant for its nodes, receive thread, discovery reads
    dds_endpoints.py      `DdsWriter`, `DdsReader` (topic endpoints), `TopicInfo`
    dds_domain.py         `ROS_DOMAIN_ID`, the configured Cyclone domain, `DdsError`
    dds_qos.py            ROS QoS <-> Cyclone QoS
    dds_idl.py            ROS names and types as DDS sees them (`rt/...`, `pkg::msg::dds_::T_`, IDL structs)
    dds_serdata.py        Cyclone's serdata C calls: zero-copy write/take of byte blobs
    cdr_encoder.py        rosbags CDR without copying trailing byte blobs (also the rclpy backend's)
    cyclone_config.py     which Cyclone configuration (discovery range, static peers, shipped cyclonedds.xml)
    discovery.py          `ros_discovery_info`: our nodes in `ros2 node list`
    message_store.py      `RosbagsMessages`: message classes and type hashes of one distro
    service_types.py      service request/response types and the rmw_cyclonedds_cpp service header
    service_endpoints.py  `DdsServiceServer`, `DdsServiceClient`
    param_services.py     the six parameter services of a node
    recorder.py           `BagRecorder`: rosbag2 (mcap/sqlite3) from the CDR already on the wire
    foxglove_live.py      live view over the Foxglove WebSocket protocol
"""
