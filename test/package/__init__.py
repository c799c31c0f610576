"""Tests of what ships besides the modules: package.xml, the colcon build, launch files, config, README."""
