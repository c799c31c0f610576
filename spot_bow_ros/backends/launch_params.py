"""Launch-file support (ROS 2 `launch` needed): the bridges' params file under a namespace.

    parameters=[NamespacedParamsFile(LaunchConfiguration("config_file"),
                                     LaunchConfiguration("namespace")), {...}]

rcl applies a section `webcam:` to `/webcam` only; `NamespacedParamsFile` hands the node a copy
whose per-node sections are keyed `/<namespace>/<node>` (see `ros.params.namespaced_params`),
and the file itself when there is no namespace.
"""

from __future__ import annotations

from typing import Any

from launch.substitution import Substitution
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions

from ..ros.params import namespaced_params_file


class NamespacedParamsFile(Substitution):
    """Path of `params_file`, rewritten for `namespace` when that is not empty."""

    def __init__(self, params_file: Any, namespace: Any):
        super().__init__()
        self._params_file = normalize_to_list_of_substitutions(params_file)
        self._namespace = normalize_to_list_of_substitutions(namespace)

    def describe(self) -> str:
        return "NamespacedParamsFile(...)"

    def perform(self, context: Any) -> str:
        return namespaced_params_file(perform_substitutions(context, self._params_file),
                                      perform_substitutions(context, self._namespace))
