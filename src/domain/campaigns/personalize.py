"""Per-recipient template parameters: `{{contact.name}}`, `{{contact.city|there}}` filled from the
recipient's contact (its name, number, tags and custom attributes, or the columns of a CSV row)."""

from __future__ import annotations

import re
from typing import Any

FIELD = re.compile(r"\{\{\s*contact\.([A-Za-z0-9_.\- ]+?)\s*(?:\|([^}]*))?\}\}")


class MissingField(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def contact_fields(
    *, wa_id: str, name: str | None, attributes: dict[str, Any], tags: list[str] | None = None
) -> dict[str, str]:
    fields = {str(key): "" if value is None else str(value) for key, value in attributes.items()}
    fields |= {"wa_id": wa_id, "phone": "+" + wa_id}
    if name:
        fields["name"] = name
    if tags:
        fields["tags"] = ", ".join(tags)
    return fields


def uses_fields(value: Any) -> bool:
    if isinstance(value, str):
        return FIELD.search(value) is not None
    if isinstance(value, dict):
        return any(uses_fields(item) for item in value.values())
    if isinstance(value, list):
        return any(uses_fields(item) for item in value)
    return False


def personalize(value: Any, fields: dict[str, str]) -> Any:
    """`value` with every contact field filled in; MissingField when one is unknown and has no fallback."""
    if isinstance(value, str):
        return FIELD.sub(lambda match: _field(match, fields), value)
    if isinstance(value, dict):
        return {key: personalize(item, fields) for key, item in value.items()}
    if isinstance(value, list):
        return [personalize(item, fields) for item in value]
    return value


def _field(match: re.Match[str], fields: dict[str, str]) -> str:
    name, fallback = match.group(1).strip(), match.group(2)
    value = fields.get(name, "")
    if value.strip():
        return value
    if fallback is not None:
        return fallback.strip()
    raise MissingField(name)
