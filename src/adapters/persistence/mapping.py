"""Rows and domain entities carry the same field names; these move values between them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

E = TypeVar("E")
R = TypeVar("R")


def to_entity(row: Any, entity_type: type[E]) -> E:
    return entity_type(**{f.name: getattr(row, f.name) for f in fields(entity_type)})  # type: ignore[arg-type]


def to_row(entity: Any, row_type: type[R]) -> R:
    return row_type(**{f.name: getattr(entity, f.name) for f in fields(entity)})


def column_values(entity: Any, row_type: Any) -> dict[str, Any]:
    """The entity's values for the row type's columns, for Core INSERT statements."""
    names = set(row_type.__table__.columns.keys())
    return {name: value for name, value in vars(entity).items() if name in names}


def copy_onto(row: Any, entity: Any) -> None:
    for f in fields(entity):
        if f.name not in ("id", "created_at"):
            setattr(row, f.name, getattr(entity, f.name))
