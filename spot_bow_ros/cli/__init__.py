"""cli layer of spot_bow_ros: the `spot-bow-ros` command (top layer; imports nodes, ros, sim).

    command.py     argument parsing, subcommand dispatch (`spot-bow-ros = spot_bow_ros.cli:main`)
    run.py         `spot-bow-ros run`: all bridges in one process
    run_status.py  the live status table of `run`
    share.py       where the package's data files (config/, launch/) are installed
"""

from .command import build_parser, main

__all__ = ["build_parser", "main"]
