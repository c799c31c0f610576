"""Tests of spot_bow_ros/bow/ (one file per module)."""
