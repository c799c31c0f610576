"""Launch-file support (ROS 2 `launch` needed): the bridges' params file under a namespace, and
the parameters the launch sets (`NodeOverridesFile`) in a params file after it.

    parameters=[NamespacedParamsFile(LaunchConfiguration("config_file"), LaunchConfiguration("namespace")),
                NodeOverridesFile({"robot_model": "none"}, LaunchConfiguration("config_file"),
                                  LaunchConfiguration("namespace"))]

rcl applies a section `webcam:` to `/webcam` only; `NamespacedParamsFile` hands the node a copy
whose per-node sections are keyed `/<namespace>/<node>` (see `ros.params.namespaced_params`),
and the file itself when there is no namespace.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from launch.substitution import Substitution
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions

from ..ros.params import namespaced_params, namespaced_params_file
from .launch_actions import overrides_by_section

if TYPE_CHECKING:  # ROS 2 `launch` has no type information: these names are Any to mypy
    from launch.launch_context import LaunchContext
    from launch.some_substitutions_type import SomeSubstitutionsType


class NamespacedParamsFile(Substitution):  # type: ignore[misc]  # launch is untyped: Substitution is Any
    """Path of `params_file`, rewritten for `namespace` when that is not empty."""

    def __init__(self, params_file: SomeSubstitutionsType, namespace: SomeSubstitutionsType):
        super().__init__()
        self._params_file = normalize_to_list_of_substitutions(params_file)
        self._namespace = normalize_to_list_of_substitutions(namespace)

    def describe(self) -> str:
        return "NamespacedParamsFile(...)"

    def perform(self, context: LaunchContext) -> str:
        return namespaced_params_file(perform_substitutions(context, self._params_file),
                                      perform_substitutions(context, self._namespace))


class NodeOverridesFile(Substitution):  # type: ignore[misc]  # launch is untyped: Substitution is Any
    """Path of a new params file giving `overrides` to `/**` and to the per-node sections of
    `config_file` that set them (`launch_actions.overrides_by_section`), keyed under `namespace`
    as `ros.params.namespaced_params` keys the config file's. Listed after the config file, the
    launch's values win over its per-node sections, which a launch `{...}` dict (`/**`) does
    not; and no node gets a parameter it does not declare from the launch (no warning)."""

    def __init__(self, overrides: Mapping[str, Any], config_file: SomeSubstitutionsType,
                 namespace: SomeSubstitutionsType):
        super().__init__()
        self._overrides = dict(overrides)
        self._config_file = normalize_to_list_of_substitutions(config_file)
        self._namespace = normalize_to_list_of_substitutions(namespace)

    def describe(self) -> str:
        return f"NodeOverridesFile({sorted(self._overrides)})"

    def perform(self, context: LaunchContext) -> str:
        try:
            config = yaml.safe_load(Path(perform_substitutions(context, self._config_file)).read_text()) or {}
        except (OSError, yaml.YAMLError):  # the bridges report a bad config_file themselves
            config = {}
        values = {k: _Text(v) if isinstance(v, str) else v for k, v in self._overrides.items()}
        sections = overrides_by_section(values, config if isinstance(config, dict) else {})
        doc = namespaced_params({key: {"ros__parameters": params} for key, params in sections.items()},
                                perform_substitutions(context, self._namespace))
        target = Path(tempfile.mkdtemp(prefix="spot_bow_ros_launch_")) / "launch_overrides.yaml"
        target.write_text(yaml.dump(doc, Dumper=_OverridesDumper, sort_keys=False))
        return str(target)


class _Text(str):
    """A string parameter value: written quoted, so rcl keeps it a string ('1234', 'none')."""


class _OverridesDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML is untyped (no stubs installed)
    """Writes every mapping in full: rcl's parser knows no YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_OverridesDumper.add_representer(_Text, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", str(value), style="'"))
