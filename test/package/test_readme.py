"""The README a newcomer follows: its two quick-start commands are real, consistent with CI, and
its links point at files of the repository."""

import re
import shlex
from pathlib import Path

from spot_bow_ros.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _quick_start_blocks():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def test_quick_start_is_the_main_job_and_the_tests_as_ci_runs_them():
    blocks = _quick_start_blocks()
    main_job = next(line for b in blocks for line in b.splitlines() if line.startswith("spot-bow-ros run"))
    args = build_parser().parse_args(shlex.split(main_job)[1:])
    assert args.record and args.duration > 0 and args.hostname == ""  # the built-in simulated Spot
    assert "python -m pytest -q" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython -m pytest -q\n" in ci and "'.[test]'" in ci and "pip install '.[test]'" in blocks[0]


def test_readme_says_what_a_newcomer_must_know_first():
    first = README.split("## Quick start", 1)[0]
    for must in ("docs.bow.software", "E-Stop", "docs/estop.md", "ROS_DOMAIN_ID", "docs/dds.md", "GB"):
        assert must in first, must
    assert "Spot" in first and "DDS" in first and "tablet" in first  # the data-flow diagram


def test_local_links_exist():
    links = set(re.findall(r"\]\(((?:docs/)?[A-Za-z_./-]+\.md|LICENSE)\)", README))
    assert {"docs/parameters.md", "docs/dds.md", "LICENSE"} <= links
    for link in links & {"docs/parameters.md", "docs/dds.md", "LICENSE"}:
        assert (ROOT / link).is_file(), link


def test_readme_says_how_to_run_everything_ci_runs():
    """Every package .ci/run installs (quoted spec) is in the README's quick start, so a
    newcomer's suite can run what CI runs instead of skipping it."""
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text()
    specs = re.findall(r"pip install [^\n]*?'([^']+)'", ci)
    assert "bow-api==4.3.0.2831" in specs
    for spec in specs:
        assert spec in quick_start, spec
    assert "--no-deps 'bow-api==4.3.0.2831'" in quick_start and ".ci/run" in quick_start


def test_recording_rates_the_commands_state_are_the_readmes():
    from spot_bow_ros.cli.arg_types import format_bytes
    from spot_bow_ros.cli.disk_space import (
        DEFAULT_MIN_FREE_BYTES,
        RUN_ALL_TOPICS_BYTES_PER_S,
        RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S,
    )

    first = README.split("## Quick start", 1)[0]
    assert f"**{format_bytes(RUN_ALL_TOPICS_BYTES_PER_S)}/s**" in first
    twenty_s_bag = 20 * RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S  # the run's bag spans about 23 s
    # 90 MB in 22.3 s of bag with /tf at its 50 Hz default: ~4.0 MB/s, what the commands state
    assert "**90 MB**" in first and 1.0 <= 90e6 / twenty_s_bag < 1.3
    assert f"default {format_bytes(DEFAULT_MIN_FREE_BYTES).replace('.0 ', ' ')}" in first
