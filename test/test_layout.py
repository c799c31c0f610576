"""The tests mirror the package (test/README.md): test/<pkg>/test_<module>[_<aspect>].py tests
spot_bow_ros/<pkg>/<module>.py. A test file whose module was renamed or removed, a test of a
mirrored package left in test/ itself, or a test folder that is no package fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_ROOT = Path(__file__).resolve().parent
PACKAGE_ROOT = TEST_ROOT.parent / "spot_bow_ros"

#: Test folders that mirror no package folder, and what they hold.
UNMIRRORED_FOLDERS = {
    "package": "what ships besides the modules: package.xml, colcon, launch files, config, README",
    "ros2_real": "the opt-in real-ROS tier",
}
#: Files in mirrored folders that name no module, each with the reason (relative to test/).
EXCEPTIONS: dict[str, str] = {}


def module_names(package_dir: Path) -> set[str]:
    """Names a test file in the mirror of `package_dir` may start with: its modules, its
    subpackages and its schema files (bow/bow_data.proto)."""
    names = {p.stem for p in package_dir.glob("*.py") if p.name != "__init__.py"}
    names |= {p.stem for p in package_dir.glob("*.proto")}
    names |= {p.name for p in package_dir.iterdir() if (p / "__init__.py").is_file()}
    return names


def names_a_module(stem: str, modules: set[str]) -> bool:
    """True when the test stem (`test_` stripped) is a module or `<module>_<aspect>`."""
    return any(stem == m or stem.startswith(m + "_") for m in modules)


def layout_errors(test_root: Path, package_root: Path, exceptions: dict[str, str] | None = None,
                  unmirrored: dict[str, str] | None = None) -> list[str]:
    """Every way `test_root` does not mirror `package_root`, one line each (empty when it does)."""
    exceptions = EXCEPTIONS if exceptions is None else exceptions
    unmirrored = UNMIRRORED_FOLDERS if unmirrored is None else unmirrored
    errors = []
    folders = sorted(p for p in test_root.iterdir() if p.is_dir() and any(p.glob("test_*.py")))
    mirrored = {p.name for p in folders if (package_root / p.name / "__init__.py").is_file()}
    for folder in folders:
        rel = folder.relative_to(test_root)
        if not (folder / "__init__.py").is_file():
            errors.append(f"{rel}/ has no __init__.py: equal test file names in two folders would clash")
        if folder.name not in mirrored and folder.name not in unmirrored:
            errors.append(f"{rel}/ mirrors no folder of {package_root.name}/ and is not in UNMIRRORED_FOLDERS")
    for name in sorted(mirrored):
        modules = module_names(package_root / name)
        for path in sorted((test_root / name).glob("test_*.py")):
            rel = str(path.relative_to(test_root))
            stem = path.stem[len("test_"):]
            if stem.endswith("_e2e") or rel in exceptions or names_a_module(stem, modules):
                continue
            errors.append(f"{rel} names no module of {package_root.name}/{name}/ "
                          f"(test_<module>[_<aspect>].py, _e2e.py, or an entry in EXCEPTIONS)")
    for path in sorted(test_root.glob("test_*.py")):
        pkg = next((n for n in mirrored if path.stem.startswith(f"test_{n}_")), None)
        if pkg is not None:
            errors.append(f"{path.name} tests {package_root.name}/{pkg}/: it belongs in {pkg}/")
    errors += [f"EXCEPTIONS names {rel}, which does not exist" for rel in exceptions
               if not (test_root / rel).is_file()]
    return errors


def test_the_tests_mirror_the_package():
    assert layout_errors(TEST_ROOT, PACKAGE_ROOT) == []


def test_the_mirror_covers_the_main_packages():
    folders = {p.name for p in TEST_ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert {"bow", "cli", "convert", "nodes", "sim", "spot"} <= folders


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


@pytest.fixture
def trees(tmp_path):
    """A small package (convert/imu.py, convert/motion.py, bow/bow_data.proto) and its tests."""
    package, tests = tmp_path / "spot_bow_ros", tmp_path / "test"
    _tree(package, ["__init__.py", "convert/__init__.py", "convert/imu.py", "convert/motion.py",
                    "bow/__init__.py", "bow/bow_data.proto"])
    _tree(tests, ["convert/__init__.py", "convert/test_imu.py", "convert/test_motion_limits.py",
                  "convert/test_odometry_e2e.py", "bow/__init__.py", "bow/test_bow_data.py",
                  "test_layout.py"])
    return tests, package


def test_a_true_mirror_has_no_errors(trees):
    assert layout_errors(*trees, exceptions={}, unmirrored={}) == []


def test_a_test_of_a_missing_module_fails(trees):
    tests, package = trees
    (package / "convert" / "imu.py").rename(package / "convert" / "imu_msgs.py")
    (tests / "convert" / "test_imus.py").write_text("")
    assert layout_errors(tests, package, exceptions={}, unmirrored={}) == [
        "convert/test_imu.py names no module of spot_bow_ros/convert/ "
        "(test_<module>[_<aspect>].py, _e2e.py, or an entry in EXCEPTIONS)",
        "convert/test_imus.py names no module of spot_bow_ros/convert/ "
        "(test_<module>[_<aspect>].py, _e2e.py, or an entry in EXCEPTIONS)"]
    assert layout_errors(tests, package, exceptions={"convert/test_imu.py": "why",
                                                     "convert/test_imus.py": "why"}, unmirrored={}) == []


def test_a_misplaced_test_an_unknown_folder_and_a_stale_exception_fail(trees):
    tests, package = trees
    _tree(tests, ["test_convert_imu.py", "stray/test_x.py"])
    assert layout_errors(tests, package, exceptions={"convert/test_gone.py": "why"}, unmirrored={}) == [
        "stray/ has no __init__.py: equal test file names in two folders would clash",
        "stray/ mirrors no folder of spot_bow_ros/ and is not in UNMIRRORED_FOLDERS",
        "test_convert_imu.py tests spot_bow_ros/convert/: it belongs in convert/",
        "EXCEPTIONS names convert/test_gone.py, which does not exist"]
    assert layout_errors(tests, package, exceptions={}, unmirrored={"stray": "why"})[:1] == [
        "stray/ has no __init__.py: equal test file names in two folders would clash"]
