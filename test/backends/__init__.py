"""Tests of spot_bow_ros/backends/ (one file per module)."""
