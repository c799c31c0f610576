"""The real-ROS tier (a package, so its conftest does not shadow test/conftest.py)."""
