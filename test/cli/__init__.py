"""Tests of spot_bow_ros/cli/ (one file per module; _e2e files run the installed command against the simulated Spot)."""
