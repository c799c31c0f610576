"""A PyYAML error as one line: `line 4, column 1: expected ',' or ']', but got '<stream end>'
(while parsing a flow sequence)` instead of PyYAML's multi-line text with a source excerpt."""

from __future__ import annotations

import yaml


def yaml_error_line(exc: yaml.YAMLError) -> str:
    """Where (1-based line and column) and what went wrong, on one line."""
    problem = getattr(exc, "problem", None)
    if not problem:
        return " ".join(str(exc).split())
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"{where}{problem}" + (f" ({context})" if context else "")
