"""cli/arg_types.py: argparse value types and the "did you mean" option hint."""

import argparse

import pytest

from spot_bow_ros.cli.arg_types import byte_size, format_bytes, non_negative_seconds, option_hint, positive_seconds


@pytest.mark.parametrize("text, value", [("0", 0), ("500M", 500 * 10**6), ("2G", 2 * 10**9), ("1.5GB", 1_500_000_000),
                                         ("64m", 64 * 10**6), ("3kB", 3000), ("1T", 10**12), ("12345", 12345),
                                         ("2GiB", 2 * 10**9)])
def test_byte_size(text, value):
    assert byte_size(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1G", "1X", "nanG", "1e999G"])
def test_byte_size_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError):
        byte_size(text)


def test_seconds():
    assert non_negative_seconds("0") == 0.0 and positive_seconds("2.5") == 2.5
    for bad, kind in (("-1", non_negative_seconds), ("0", positive_seconds), ("inf", non_negative_seconds),
                      ("nan", positive_seconds), ("x", positive_seconds)):
        with pytest.raises(argparse.ArgumentTypeError):
            kind(bad)


def test_format_bytes():
    assert [format_bytes(v) for v in (1487e6, 106e6, 65e6, 4.6e6, 1e9, 999, 12e3)] == [
        "1.5 GB", "106 MB", "65 MB", "4.6 MB", "1.0 GB", "999 B", "12 kB"]


def test_option_hint():
    known = ["--duration", "--demo-motion", "--record", "--help"]
    assert option_hint(["--durration", "3"], known) == "; did you mean --duration?"
    assert option_hint(["--recrod=x"], known) == "; did you mean --record?"
    assert option_hint(["3", "--zzz"], known) == ""
