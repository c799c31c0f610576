"""The package's structure rules, checked on the source (ast only, nothing imported):

- imports point downwards only, in the layer order written in `spot_bow_ros/__init__.py`;
- no import cycle between modules (Tarjan's strongly connected components);
- no private name (`_x`) imported from another module;
- no module over 600 lines.

Every import counts: module level, function-local and under `if TYPE_CHECKING:`. Tolerated
violations would be listed in KNOWN_PHASE2 (empty since phase 2 of issue 22), and the list must
stay accurate: an entry that no longer fails must be removed, so a fix cannot go unnoticed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "spot_bow_ros"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 600

#: Known violations still to fix, each with its reason. Empty since phase 2 of issue 22; a new
#: violation is fixed, not listed. The mechanism stays so that a rule tightened later (a lower
#: MAX_LINES, a new rule) can land with its backlog listed, and the list must stay accurate
#: (test_known_phase2_list_is_accurate).
KNOWN_PHASE2: frozenset[tuple[str, ...]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str      # importing module, relative to the package ("sim.robot")
    target: str      # imported module ("sim.physics"); "" = the package root
    name: str        # the imported name when it is not a module ("Snapshot"), else ""
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _strip(dotted: str) -> str | None:
    """`spot_bow_ros.sim.robot` -> `sim.robot`; None outside the package."""
    if dotted == PACKAGE:
        return ""
    if dotted.startswith(PACKAGE + "."):
        return dotted[len(PACKAGE) + 1:]
    return None


def _existing_module(dotted: str) -> str:
    """The longest prefix of `dotted` that is a module of the package."""
    parts = dotted.split(".") if dotted else []
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def imports_of(module: str) -> list[Import]:
    """Every import statement of `module` that reaches into the package, wherever it stands."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                inner = _strip(alias.name)
                if inner is not None:
                    out.append(Import(module, _existing_module(inner), "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = [PACKAGE] + (package.split(".") if package else [])
                base = base[:len(base) - node.level + 1]
                dotted = ".".join(base + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            inner = _strip(dotted)
            if inner is None:
                continue
            for alias in node.names:
                sub = f"{inner}.{alias.name}" if inner else alias.name
                if sub in MODULES:   # `from . import webcam`: the module itself
                    out.append(Import(module, sub, "", node.lineno))
                else:
                    out.append(Import(module, _existing_module(inner), alias.name, node.lineno))
    return out


ALL_IMPORTS: list[Import] = [imp for m in MODULES for imp in imports_of(m)]


def layer_rows() -> list[set[str]]:
    """The rows of the layer table in `spot_bow_ros/__init__.py`'s docstring, top (cli) first."""
    doc = ast.get_docstring(ast.parse((ROOT / "__init__.py").read_text())) or ""
    lines = doc.split("Layers", 1)[1].split("::", 1)[1].splitlines()
    rows: list[set[str]] = []
    for line in lines[1:]:
        if not line.strip():
            if rows:
                break
            continue
        if not line.startswith("    "):
            break
        names = re.split(r"\s{2,}", line.strip())[0]
        rows.append({n.strip() for n in names.split(",")})
    return rows


def layer_rank() -> dict[str, int]:
    """Top-level subpackage -> row index (0 = cli, the top); the package root ranks below all."""
    rows = layer_rows()
    rank = {name: i for i, row in enumerate(rows) for name in row}
    rank[""] = len(rows)
    return rank


def _layer(module: str) -> str:
    return module.split(".")[0] if module else ""


def upward_imports(imports: list[Import]) -> list[str]:
    rank = layer_rank()
    return [f"{i.source} (line {i.line}) imports {i.target or PACKAGE}: "
            f"{_layer(i.source)} is below {_layer(i.target)}"
            for i in imports if rank[_layer(i.target)] < rank[_layer(i.source)]]


def import_cycles(imports: list[Import]) -> set[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in imports:
        if imp.target != imp.source:
            edges.setdefault(imp.source, set()).add(imp.target)
            edges.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()

    def connect(v: str) -> None:   # recursion depth <= number of modules (~140)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def private_imports(imports: list[Import]) -> set[tuple[str, str]]:
    """(importer, `module._name`) for every `_name` (not dunder) imported from another module."""
    return {(i.source, f"{i.target}.{i.name}") for i in imports
            if i.name.startswith("_") and not i.name.startswith("__") and i.target != i.source}


def oversized_modules() -> set[str]:
    return {m for m, p in MODULES.items() if len(p.read_text().splitlines()) > MAX_LINES}


def violations() -> set[tuple[str, ...]]:
    return ({("cycle", *c) for c in import_cycles(ALL_IMPORTS)}
            | {("private", *p) for p in private_imports(ALL_IMPORTS)}
            | {("size", m) for m in oversized_modules()})


# ---------------------------------------------------------------------------------------------


def test_layer_table_is_parsed_from_the_package_docstring():
    rows = layer_rows()
    assert rows == [{"cli"}, {"nodes"}, {"backends"}, {"standalone"}, {"ros", "spot", "sim"}, {"convert"}, {"bow"}]
    subpackages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set().union(*rows), "every subpackage has a row in the layer table"


def test_the_import_walk_sees_function_local_and_type_checking_imports():
    """The walker is the rules' foundation: it must see the imports tools usually miss."""
    composed = {i.target for i in imports_of("nodes.composed")}
    assert {"nodes.webcam", "nodes.motor_command", "spot.connection_config"} <= composed   # function-local
    assert {"sim.body", "sim.physics", "convert.spot_catalogue"} <= {i.target for i in imports_of("sim.commands")}
    assert {"cli.run", "cli.topic", "cli.service"} <= {i.target for i in imports_of("cli.command")}   # lazy
    assert any(i.name == "__version__" and i.target == "" for i in imports_of("cli.command"))
    assert any(i.name == "SimRobot" and i.target == "sim.robot" for i in imports_of("sim.server"))


def test_no_upward_import():
    assert upward_imports(ALL_IMPORTS) == []


def test_the_rules_fire_on_a_violation():
    """Synthetic imports: an upward one, a cycle through a lazy import, a private name."""
    rank = layer_rank()
    assert rank["cli"] < rank["nodes"] < rank["backends"] < rank["standalone"] < rank["ros"]
    assert rank["ros"] == rank["spot"] == rank["sim"] < rank["convert"] < rank["bow"]
    up = Import("convert.motion", "nodes.motor_command", "MotorCommandBridge", 1)
    assert len(upward_imports([up])) == 1 and upward_imports([Import("nodes.webcam", "convert.images", "", 1)]) == []
    # the seam never reaches up into a backend; the standalone runtime never into the chooser
    assert len(upward_imports([Import("ros.node_api", "standalone.node", "StandaloneNode", 1)])) == 1
    assert len(upward_imports([Import("standalone.node", "backends.lifecycle", "BackendError", 1)])) == 1
    assert upward_imports([Import("backends.rclpy_backend", "standalone.cdr_encoder", "CdrEncoder", 1)]) == []
    lazy_back = Import("sim.physics", "sim.robot", "SimRobot", 99)
    assert any({"sim.physics", "sim.robot"} <= set(c) for c in import_cycles(ALL_IMPORTS + [lazy_back]))
    assert not any("sim.robot" in c for c in import_cycles(ALL_IMPORTS))
    private = Import("spot.state", "convert.joints", "_LEGS", 1)
    assert private_imports([private]) == {("spot.state", "convert.joints._LEGS")}


@pytest.mark.parametrize("kind", ["cycle", "private", "size"])
def test_no_violation_beyond_the_phase2_list(kind):
    new = sorted(v for v in violations() - KNOWN_PHASE2 if v[0] == kind)
    assert new == [], f"new {kind} violations (fix them; do not add them to KNOWN_PHASE2)"


def test_known_phase2_list_is_accurate():
    fixed = sorted(KNOWN_PHASE2 - violations())
    assert fixed == [], f"fixed, so remove from KNOWN_PHASE2: {fixed}"


def test_the_root_package_imports_nothing_of_its_own():
    assert [i for i in imports_of("") if i.target] == []


#: Named in docs/architecture.md before they exist: they arrive from branches in flight.
ARRIVING: set[str] = set()


def test_architecture_doc_names_files_and_tables_that_exist():
    """Every `pkg/module.py` in docs/architecture.md exists (or is arriving), and every table named
    beside it, `pkg/module.py` (`NAME`, ...), is defined in that module."""
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:cli|nodes|backends|standalone|ros|spot|sim|convert|bow)/[a-z_0-9]+\.py)`", doc))
    assert len(named) >= 15
    missing = sorted(p for p in named - ARRIVING if not (ROOT / p).is_file())
    assert missing == []
    for path, names in re.findall(r"`((?:cli|nodes|backends|standalone|ros|spot|sim|convert|bow)/[a-z_0-9]+\.py)` \(([^)]*)\)", doc):
        if path in ARRIVING:
            continue
        source = (ROOT / path).read_text()
        for name in re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)`", names):
            assert re.search(rf"^(?:\s*(?:def|class)\s+{name}\b|{name}\b\s*[:=])", source, re.M), \
                f"{name} is not defined in {path}"
    assert sorted(ARRIVING - named) == [], "an arriving file is no longer mentioned: drop it from ARRIVING"


def test_the_seam_imports_no_middleware():
    """`ros/` is what bridges are written against: no rclpy, cyclonedds or rosbags import in it
    (function-local ones included), so both backends implement it and a bridge never needs either."""
    middleware = {"rclpy", "rcl_interfaces", "cyclonedds", "rosbags"}
    found = []
    for module, path in MODULES.items():
        if module.split(".")[0] != "ros":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{module}: {n}" for n in names if n.split(".")[0] in middleware]
    assert found == []
    assert {"ros.node_api", "ros.params", "ros.qos", "ros.names", "ros.distro"} <= set(MODULES)
