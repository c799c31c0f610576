"""Every file the docs (docs/*.md, README.md) name exists: a path such as
`spot_bow_ros/standalone/node.py`, `cli/run_worker.py` (relative to the package), `test/...py`,
`tools/...py` or `config/...yaml` (relative to the repository). A moved module leaves no stale
path behind in a page nobody re-read."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "spot_bow_ros"
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
#: A path with at least one folder, ending in a suffix of the repository's code and data (not .md:
#: spot_facts.md cites the Spot SDK's documentation pages by their paths).
PATH = re.compile(r"(?<![\w/.$-])((?:[A-Za-z_][A-Za-z_0-9.-]*/)+[A-Za-z_0-9-]+(?:\.[a-z]+)*\."
                  r"(?:py|pyi|proto|yaml|urdf|rviz|xml|toml|sh))\b")
#: Paths that are not files of this repository, with the reason.
NOT_OURS = {
    "python/examples/get_image/get_image.py": "the Spot SDK's example (spot_facts.md cites it)",
}
#: Install locations (`share/spot_bow_ros/...`, `$prefix/...`) name no file of the checkout.
INSTALLED = ("share/", "lib/", "install/", "/opt/")
#: Stale paths in pages another branch is rewriting (fixed there; remove when it lands).
KNOWN_STALE: dict[tuple[str, str], str] = {}


def named_paths(text: str) -> set[str]:
    return {m.group(1) for m in PATH.finditer(text)}


def exists(path: str) -> bool:
    return (ROOT / path).exists() or (PACKAGE / path).exists()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_the_doc_names_exists(doc):
    named = named_paths(doc.read_text())
    missing = sorted(p for p in named if not exists(p) and p not in NOT_OURS and not p.startswith(INSTALLED)
                     and (doc.name, p) not in KNOWN_STALE)
    assert missing == [], f"{doc.name} names files that do not exist"


def test_the_docs_name_the_package_modules_and_the_lists_stay_accurate():
    every = set().union(*(named_paths(d.read_text()) for d in DOCS))
    assert {"cli/run_worker.py", "spot/session_share.py", "standalone/transport.py", "cli/wire_cli.py"} <= every
    assert len([p for p in every if p.endswith(".py") and exists(p)]) >= 50
    assert sorted(p for p in NOT_OURS if p not in every) == [], "no longer named: drop it from NOT_OURS"
    for (name, path), _ in KNOWN_STALE.items():
        assert path in named_paths((ROOT / "docs" / name).read_text()) and not exists(path), \
            f"{name} no longer names the stale {path}: drop it from KNOWN_STALE"


def test_named_paths_reads_package_and_repository_paths():
    text = ("`spot_bow_ros/cli/run.py`, `cli/run_worker.py` and test/cli/test_x.py; config/spot_bow.yaml, "
            "$(ros2 pkg prefix x)/share/a/b.xml, https://example.org/a/b.py, urdf/spot_with_arm.urdf, "
            ".../cyclonedds.xml, docs/concepts/about_spot.md")
    assert named_paths(text) == {"spot_bow_ros/cli/run.py", "cli/run_worker.py", "test/cli/test_x.py",
                                 "config/spot_bow.yaml", "urdf/spot_with_arm.urdf"}
    assert exists("cli/run_worker.py") and exists("spot_bow_ros/cli/run.py") and not exists("cli/nope.py")
