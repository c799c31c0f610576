"""Tests of spot_bow_ros/convert/ (one file per module)."""
