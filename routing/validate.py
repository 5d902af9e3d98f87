"""Shape validation: YAML data -> schema models, every problem with its place.

Each part (the center, 115, every tenant, topic, queue and department) is
validated on its own, so that one broken tenant does not hide the problems of
the others; the ids of broken parts are remembered, so that references to them
are not reported a second time as unknown.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError

from routing import fields, schema
from routing.problems import Path, did_you_mean
from routing.yamlsource import Source

M = TypeVar("M", bound=BaseModel)

SECTIONS: dict[str, type[BaseModel]] = {
    "tenants": schema.Tenant,
    "topics": schema.Topic,
    "queues": schema.Queue,
    "departments": schema.Department,
}
REQUIRED = ("center", "tenants", "queues")
_PLAIN_MESSAGES = {
    "int_parsing": "'{}' is not a whole number",
    "int_from_float": "'{}' is not a whole number",
    "float_parsing": "'{}' is not a number",
    "bool_parsing": "'{}' is not true or false",
    "date_from_datetime_parsing": "'{}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24",
    "date_parsing": "'{}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24",
    "string_type": "expected a text, got {}",
    "list_type": "expected a list, e.g. [a, b], got {}",
}


@dataclass
class Parts:
    """The parts that passed shape validation, and the ids of those that did not."""

    center: schema.Center | None = None
    service_115: schema.Service115 | None = None
    tenants: dict[str, schema.Tenant] = field(default_factory=dict)
    topics: dict[str, schema.Topic] = field(default_factory=dict)
    queues: dict[str, schema.Queue] = field(default_factory=dict)
    departments: dict[str, schema.Department] = field(default_factory=dict)
    broken: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SECTIONS})


def validate_parts(source: Source) -> Parts:
    parts = Parts()
    data = source.data
    allowed = list(schema.Config.model_fields)
    for key in data:
        if key not in allowed:
            source.error((key,), f"unknown section '{key}'", did_you_mean(key, allowed), key=True)
    for key in REQUIRED:
        if key not in data:
            source.error((), f"the '{key}' section is missing", f"add '{key}:' to one of the files")
    if "center" in data:
        parts.center = validate_model(source, schema.Center, data["center"], ("center",))
    if data.get("service_115") is not None:
        parts.service_115 = validate_model(source, schema.Service115, data["service_115"], ("service_115",))
    for section, model in SECTIONS.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, dict):
            source.error((section,), f"'{section}' must be a mapping of ids to entries", f"write '{section}:' then 'id:' lines")
            continue
        if not items and section in REQUIRED:
            source.error((section,), f"'{section}' is empty", "define at least one")
        valid: dict[str, Any] = getattr(parts, section)
        for item_id, item in items.items():
            path: Path = (section, item_id)
            try:
                fields.check_id(item_id)
            except ValueError as exc:
                source.error(path, str(exc), key=True)
                parts.broken[section].add(item_id)
                continue
            result = validate_model(source, model, item, path)
            if result is None:
                parts.broken[section].add(item_id)
            else:
                valid[item_id] = result
    return parts


def validate_model(source: Source, model: type[M], value: Any, path: Path) -> M | None:
    """``model`` from ``value``, or None with every error added to ``source``."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            _report(source, model, value, path, error)
        return None


def _report(source: Source, model: type[BaseModel], value: Any, path: Path, error: Any) -> None:
    loc = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if loc and loc[-1] == "[key]":
        source.error((*path, *loc[:-1]), message, key=True)
        return
    full = (*path, *loc)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        fields = _fields_at(model, loc[:-1])
        source.error(full, f"unknown key '{name}'", did_you_mean(name, fields), key=True)
    elif kind == "missing":
        source.error(full[:-1], f"'{loc[-1]}' is required here", f"add '{loc[-1]}:'")
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        source.error(full, f"expected a mapping of keys, got {_describe(error.get('input'))}")
    elif kind in _PLAIN_MESSAGES:
        source.error(full, _PLAIN_MESSAGES[kind].format(error.get("input")))
    else:
        given = error.get("input")
        shown = f" (given: {given!r})" if isinstance(given, str | int | float) and kind != "value_error" else ""
        source.error(full, f"{message}{shown}")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` inside ``model``, for did-you-mean."""
    current: Any = model
    remaining = list(loc)
    while True:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not remaining:
                return [f.alias or name for name, f in current.model_fields.items()]
            name = remaining.pop(0)
            field_info = next((f for n, f in current.model_fields.items() if name in (n, f.alias)), None)
            if field_info is None:
                return []
            current = field_info.annotation
            continue
        origin = typing.get_origin(current)
        if origin in (dict, list, tuple) and remaining:
            remaining.pop(0)
            args = typing.get_args(current)
            current = args[-1] if args else Any
            continue
        return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional and Annotated; keep the first model or container."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp
