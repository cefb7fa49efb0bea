"""The folder layout of a split schema, DIR/<schema>/<kind>/<name>.sql, on every engine."""

from __future__ import annotations

import re

# Kind folders, in the order a loader applies them.
FOLDERS = ("types", "sequences", "functions", "procedures", "tables", "views", "events")
TOP_FILES = ("extensions.sql",)


def object_path(schema: str, folder: str, name: str) -> str:
    """DIR-relative path of one object's file; names are made safe for any file system."""
    return f"{_safe(schema)}/{folder}/{_safe(name)}.sql"


def schema_path(schema: str) -> str:
    return f"{_safe(schema)}/schema.sql"


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name) or "_"
