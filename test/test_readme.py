"""The README a newcomer follows: its two quick-start commands are real, consistent with CI, and
its links point at files of the repository."""

import re
import shlex
from pathlib import Path

from spot_bow_ros.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
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
