"""Tests of spot_bow_ros/sim/ (one file per module)."""
