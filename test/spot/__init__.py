"""Tests of spot_bow_ros/spot/ (one file per module)."""
