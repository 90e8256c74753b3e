"""Our own template figures: one GROUP BY over the tenant's outgoing template messages.

Direct sends and campaign sends both store `content["template"]` with the name and `language.code` as Meta
takes them; the session's scoping keeps the statement to the unit of work's tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.models import MessageRow
from pywhatsapp.domain.messaging.message import Direction
from pywhatsapp.domain.templates.analytics import StatusCount


class SqlTemplateSendStats:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def status_counts(
        self, since: datetime, until: datetime, *, name: str | None = None, language: str | None = None
    ) -> Sequence[StatusCount]:
        template = MessageRow.content["template"]
        template_name = template["name"].astext
        template_language = template["language"]["code"].astext
        conditions: list[sa.ColumnElement[bool]] = [
            MessageRow.direction == Direction.OUTGOING,
            MessageRow.type == "template",
            MessageRow.timestamp >= since,
            MessageRow.timestamp < until,
            template_name.is_not(None),
        ]
        if name is not None:
            conditions.append(template_name == name)
        if language is not None:
            conditions.append(template_language == language)
        count = sa.func.count().label("count")
        rows = await self._session.execute(
            sa.select(template_name, template_language, MessageRow.status, MessageRow.error_code, count)
            .where(*conditions)
            .group_by(template_name, template_language, MessageRow.status, MessageRow.error_code)
        )
        return [
            StatusCount(
                name=str(row_name),
                language=str(row_language or ""),
                status=str(status.value if hasattr(status, "value") else status),
                error_code=error_code,
                count=int(total),
            )
            for row_name, row_language, status, error_code, total in rows.all()
        ]
