"""`python -m spot_bow_ros.sim`: same as `spot-bow-ros sim`."""

import sys

from .cli import main

sys.exit(main())
