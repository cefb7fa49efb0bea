"""The model as JSON (versioned, stable key order) and back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from dbfleet.errors import DbfleetError
from dbfleet.schema.model import (
    Column,
    Constraint,
    Event,
    Extension,
    Index,
    Model,
    Policy,
    Privilege,
    Routine,
    Schema,
    Sequence,
    Table,
    Trigger,
    UserType,
    View,
)

FORMAT = 1

# Which fields hold lists of nested objects, per class.
_NESTED: dict[type, dict[str, type]] = {
    Model: {
        "schemas": Schema,
        "extensions": Extension,
        "types": UserType,
        "sequences": Sequence,
        "tables": Table,
        "views": View,
        "routines": Routine,
        "events": Event,
        "grants": Privilege,
        "owners": Privilege,
    },
    Table: {
        "columns": Column,
        "constraints": Constraint,
        "indexes": Index,
        "triggers": Trigger,
        "policies": Policy,
    },
    View: {"indexes": Index, "triggers": Trigger},
}


def to_json(model: Model) -> str:
    """Deterministic JSON: same model, same bytes. Defaults are left out to keep it readable."""
    body = {"format": FORMAT, **_plain(model)}
    body.pop("warnings", None)
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def object_data(obj: Any) -> Any:
    """One model object (a table, column, index, ...) as it reads in the model's JSON."""
    return _plain(obj)


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value == f.default or (value == () and f.default_factory is not dataclasses.MISSING):
                continue
            if f.name == "attrs":
                out[f.name] = {k: _plain(v) for k, v in value}
            else:
                out[f.name] = _plain(value)
        return out
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj


def from_json(text: str, *, source: str = "model") -> Model:
    """Load a model written by to_json; another format version is an error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DbfleetError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "format" not in data:
        raise DbfleetError(f'{source}: not a dbfleet model (no "format" key)')
    if data["format"] != FORMAT:
        raise DbfleetError(
            f"{source}: model format {data['format']} is not supported (this dbfleet reads "
            f"format {FORMAT})",
            hint="write it again with this dbfleet version: dbfleet inspect ... --format json",
        )
    try:
        model: Model = _build(Model, {k: v for k, v in data.items() if k != "format"})
    except (TypeError, KeyError, ValueError) as exc:
        raise DbfleetError(f"{source}: malformed model ({exc})") from None
    return model


def _build(cls: type, data: dict[str, Any]) -> Any:
    nested = _NESTED.get(cls, {})
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in nested:
            values[key] = tuple(_build(nested[key], item) for item in value)
        elif key == "attrs":
            values[key] = tuple(sorted((k, _frozen(v)) for k, v in value.items()))
        else:
            values[key] = _frozen(value)
    return cls(**values)


def _frozen(value: Any) -> Any:
    """JSON lists back to the tuples the model uses."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
