"""An in-memory `TemplateSendStats`: the same GROUP BY as the SQL adapter, over the fake store's messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.templates.analytics import StatusCount


class FakeTemplateSendStats:
    def __init__(self, messages: Any) -> None:
        self._messages = messages
        """The unit of work's `FakeTenantRecords[Message]`: confined to its tenant like the real session."""

    async def status_counts(
        self, since: datetime, until: datetime, *, name: str | None = None, language: str | None = None
    ) -> Sequence[StatusCount]:
        counts: Counter[tuple[str, str, str, int | None]] = Counter()
        message: Message
        for message in self._messages._visible():
            template = message.content.get("template") if isinstance(message.content, dict) else None
            if message.direction is not Direction.OUTGOING or message.type != "template":
                continue
            if not isinstance(template, dict) or not template.get("name"):
                continue
            if not since <= message.timestamp < until:
                continue
            code = str((template.get("language") or {}).get("code") or "")
            if (name is not None and template["name"] != name) or (language is not None and code != language):
                continue
            counts[(str(template["name"]), code, message.status.value, message.error_code)] += 1
        return [
            StatusCount(n, lang, status, error, count) for (n, lang, status, error), count in counts.items()
        ]
