"""`python -m spot_bow_ros.cli ...` runs the `spot-bow-ros` command."""

import sys

from .command import main

sys.exit(main())
