"""Tests of spot_bow_ros/ros/ (one file per module)."""
