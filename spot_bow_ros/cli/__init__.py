"""cli layer of spot_bow_ros: the `spot-bow-ros` command (top layer; imports nodes, ros, sim).

    command.py     argument parsing, subcommand dispatch (`spot-bow-ros = spot_bow_ros.cli:main`)
    run.py         `spot-bow-ros run`: all bridges in one process
    run_status.py  the live status table of `run`
    run_processes.py, run_worker.py  `run --processes 2`: the worker process and its entry point
    topic.py       `topic list|echo|hz|pub` and `record`
    service.py     `service list|call`
    wire_cli.py    what topic, record and service share (guarded run, DDS transport, messages as text)
    share.py       where the package's data files (config/, launch/) are installed
"""

from .command import build_parser, main

__all__ = ["build_parser", "main"]
