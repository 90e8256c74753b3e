"""The ports of template analytics: our own send counts (in a unit of work) and Meta's template analytics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import DomainError
from pywhatsapp.domain.templates.analytics import AnalyticsPeriod, MetaFigures, StatusCount

META_IDS_PER_CALL = 10
"""Meta takes at most ten template ids per template analytics request."""


class TemplateSendStats(Protocol):
    """Counts of the tenant's outgoing template messages (direct and campaign sends)."""

    async def status_counts(
        self, since: datetime, until: datetime, *, name: str | None = None, language: str | None = None
    ) -> Sequence[StatusCount]:
        """Messages sent in [since, until) per template name, language, status and error code."""
        ...


class MetaAnalyticsUnavailable(DomainError):
    """Meta gave no template analytics (not enabled for the WABA, refused, or no answer); never fatal."""


class MetaTemplateAnalytics(Protocol):
    async def figures(
        self, channel: Channel, meta_template_ids: Sequence[str], period: AnalyticsPeriod
    ) -> dict[str, MetaFigures]:
        """Meta's figures by Meta template id (at most META_IDS_PER_CALL ids); raises
        `MetaAnalyticsUnavailable` with Meta's words when there are none."""
        ...
