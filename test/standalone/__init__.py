"""Tests of spot_bow_ros/standalone/ (one file per module)."""
