"""The `bow_messages` parameter of every BOW-facing bridge, and what v1 adapters share.

`bow_messages: documented` (default) keeps the published BOW schema on the `bow/...` topics;
`sdk_v1` switches the same topics to the BOW SDK's messages v1 (`bow.sdk_v1`). Set it once for
the whole run in the params file's `/**` section (or `-p bow_messages:=sdk_v1`). Selecting
`sdk_v1` without the `bow-api` package installed stops the node with one line (exit code 2).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..bow.sdk_v1 import DOCUMENTED, MESSAGE_SETS, SDK_V1, load_v1
from ..ros.node_api import NodeHandle
from ..ros.params import ParamSpec

BOW_PARAMS: list[ParamSpec] = [
    ParamSpec("bow_messages", DOCUMENTED, "BOW message set on the bow/... topics: documented (the published BOW "
              "schema) or sdk_v1 (BOW SDK messages v1 from the bow-api package); one value for the run",
              choices=MESSAGE_SETS, read_only=True),
]


def bow_message_set(node: NodeHandle, values: dict[str, Any] | None = None) -> ModuleType | None:
    """Declare `bow_messages` (unless `values` already holds it) and load the chosen set: None for
    `documented`, the BOW SDK's `bow_data` module for `sdk_v1` (BowSdkMissing if not installed)."""
    if values is not None and "bow_messages" in values:
        choice = values["bow_messages"]
    else:
        choice = node.declare_parameters(BOW_PARAMS)["bow_messages"]
    return load_v1() if choice == SDK_V1 else None


class WarnOnce:
    """Log each distinct text once at warning level (v1 fields the bridge does not use)."""

    def __init__(self, log: Any, prefix: str = ""):
        self.log, self.prefix, self.seen = log, prefix, set()

    def __call__(self, texts: Any) -> None:
        for text in texts:
            if text not in self.seen:
                self.seen.add(text)
                self.log.warning(f"{self.prefix}{text} (warned once)")
