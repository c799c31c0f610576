"""bow layer of spot_bow_ros."""
