"""Tests of spot_bow_ros/nodes/ (one file per module; _e2e files run the bridges against the simulated Spot)."""
