"""Shared test setup: every test session gets its own DDS domain so parallel runs never mix."""

import os
import random

if "ROS_DOMAIN_ID" not in os.environ or os.environ.get("SPOT_BOW_ROS_TEST_RANDOM_DOMAIN", "1") == "1":
    os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(1, 200))
