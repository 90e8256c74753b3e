"""Meta's template analytics (`GET /{waba-id}/template_analytics`) through PyWA's client.

PyWA 4.5 has no method for this endpoint, so it goes through the client's own Graph API request method
(`client.api._request`): the same session, base URL, version and token as every other call of the channel.
Meta's answer, per its docs: `{"data": [{"granularity": "DAILY", "data_points": [{"template_id", "start",
"end", "sent", "delivered", "read", "clicked": [{"type", "button_content", "count"}]}]}], "paging": {...}}`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pywa.errors import WhatsAppError

from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.application.templates.analytics_ports import META_IDS_PER_CALL, MetaAnalyticsUnavailable
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.templates.analytics import (
    AnalyticsPeriod,
    ButtonClicks,
    MetaDay,
    MetaFigures,
    sum_clicks,
)

logger = logging.getLogger(__name__)

METRIC_TYPES = ("SENT", "DELIVERED", "READ", "CLICKED")
MAX_PAGES = 50
"""Daily points of ten templates over a year fit in far fewer pages; a guard against a cursor loop."""


def request_params(meta_template_ids: Sequence[str], period: AnalyticsPeriod) -> dict[str, str]:
    """The query string as Meta documents it: UNIX seconds, and JSON arrays for the lists."""
    return {
        "start": str(int(period.since.timestamp())),
        "end": str(int(period.until.timestamp())),
        "granularity": "DAILY",
        "metric_types": json.dumps(list(METRIC_TYPES)),
        "template_ids": json.dumps([int(i) if i.isdigit() else i for i in meta_template_ids]),
    }


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _clicks(value: Any) -> list[ButtonClicks]:
    if not isinstance(value, list):
        return []
    return [
        ButtonClicks(
            type=str(item.get("type") or "button"),
            button_content=str(item.get("button_content") or ""),
            count=_count(item.get("count")),
        )
        for item in value
        if isinstance(item, dict)
    ]


def _moment(value: Any) -> datetime:
    return datetime.fromtimestamp(_count(value), UTC)


def fold_points(points: Sequence[dict[str, Any]], meta_template_ids: Sequence[str]) -> dict[str, MetaFigures]:
    """Meta's daily points, summed per template; a template Meta has no point for gets zeros."""
    days: dict[str, list[MetaDay]] = {str(i): [] for i in meta_template_ids}
    clicks: dict[str, list[ButtonClicks]] = {str(i): [] for i in meta_template_ids}
    for point in points:
        template_id = str(point.get("template_id") or "")
        if template_id not in days:
            continue
        clicked = _clicks(point.get("clicked"))
        clicks[template_id] += clicked
        days[template_id].append(
            MetaDay(
                start=_moment(point.get("start")),
                end=_moment(point.get("end")),
                sent=_count(point.get("sent")),
                delivered=_count(point.get("delivered")),
                read=_count(point.get("read")),
                clicked=sum(c.count for c in clicked),
            )
        )
    return {
        template_id: MetaFigures(
            meta_template_id=template_id,
            sent=sum(d.sent for d in series),
            delivered=sum(d.delivered for d in series),
            read=sum(d.read for d in series),
            clicks=sum_clicks(clicks[template_id]),
            days=tuple(sorted(series, key=lambda d: d.start)),
        )
        for template_id, series in days.items()
    }


class PywaTemplateAnalytics:
    def __init__(self, gateway: PywaGateway) -> None:
        self._gateway = gateway

    async def figures(
        self, channel: Channel, meta_template_ids: Sequence[str], period: AnalyticsPeriod
    ) -> dict[str, MetaFigures]:
        if not meta_template_ids:
            return {}
        if len(meta_template_ids) > META_IDS_PER_CALL:
            raise ValueError(f"Meta takes at most {META_IDS_PER_CALL} template ids per request")
        if not channel.waba_id:
            raise MetaAnalyticsUnavailable("the channel has no WhatsApp Business Account id (waba_id)")
        api = self._gateway.client_for(channel).api
        params: dict[str, str] = request_params(meta_template_ids, period)
        points: list[dict[str, Any]] = []
        try:
            for _ in range(MAX_PAGES):
                answer = await api._request(
                    method="GET", endpoint=f"/{channel.waba_id}/template_analytics", params=params
                )
                for block in answer.get("data") or [] if isinstance(answer, dict) else []:
                    if isinstance(block, dict):
                        points += [p for p in block.get("data_points") or [] if isinstance(p, dict)]
                paging = answer.get("paging") if isinstance(answer, dict) else None
                after = ((paging or {}).get("cursors") or {}).get("after")
                if not (isinstance(paging, dict) and paging.get("next") and after):
                    break
                params = {**params, "after": str(after)}
        except WhatsAppError as error:
            detail = error.user_msg or error.details or error.message
            raise MetaAnalyticsUnavailable(
                f"Meta refused template analytics: ({error.code}) {detail}"
            ) from None
        except httpx.HTTPError as error:
            logger.warning("Meta did not answer template analytics", extra={"error": type(error).__name__})
            raise MetaAnalyticsUnavailable("Meta did not answer the template analytics request") from None
        except (AttributeError, TypeError, ValueError) as error:  # an answer not shaped as documented
            raise MetaAnalyticsUnavailable(
                f"Meta's template analytics answer was not understood: {error}"
            ) from None
        return fold_points(points, meta_template_ids)
