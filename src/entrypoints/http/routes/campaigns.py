"""`/api/v1/campaigns`: create a campaign from a template (or text, or a WhatsApp Flow), choose its
recipients (contacts, tags, audiences, phone numbers or a CSV), start or schedule it, pause, resume or cancel
it, and follow it (counts per state, a per-recipient report, CSV export). Listing is in `records.py`."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from pywhatsapp.application.campaigns.manage_campaigns import (
    CampaignDraft,
    CampaignView,
    FlowChoice,
    ListedRecipient,
    ManageCampaigns,
    RecipientsAdded,
)
from pywhatsapp.application.campaigns.ports import AudienceSpec
from pywhatsapp.domain.campaigns.campaign import CampaignRecipient, RecipientState
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.schemas import NO_NUL
from pywhatsapp.entrypoints.http.security import requires

MAX_CSV_BYTES = 20 * 1024 * 1024
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=32, pattern=NO_NUL)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class RecipientEntry(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    name: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None
    fields: dict[str, Annotated[str, msgspec.Meta(max_length=1000, pattern=NO_NUL)]] = {}


class RecipientsBody(msgspec.Struct, forbid_unknown_fields=True):
    """Any mix of these; each person once, opted-out contacts skipped."""

    contact_ids: Annotated[list[UUID], msgspec.Meta(max_length=100_000)] = []
    tags: Annotated[list[Tag], msgspec.Meta(max_length=100)] = []
    audience_ids: Annotated[list[UUID], msgspec.Meta(max_length=100)] = []
    phone_numbers: Annotated[list[Phone | RecipientEntry], msgspec.Meta(max_length=100_000)] = []


class CampaignFlowBody(msgspec.Struct, forbid_unknown_fields=True):
    """A published flow of the tenant, sent as an interactive flow message with `text` as its body."""

    flow_id: UUID
    """The flow's id here (GET /api/v1/flows), not Meta's."""
    cta: Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=NO_NUL)]
    """The button's text."""
    screen: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)] | None = None
    """The first screen (`navigate`); without it, the flow's data endpoint chooses (`data_exchange`)."""
    data: dict[str, Any] = {}
    """The first screen's data."""


class CampaignFlow(msgspec.Struct):
    flow_id: str
    meta_flow_id: str
    name: str
    cta: str
    screen: str | None
    data: dict[str, Any]


class CampaignCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    template_name: Annotated[str, msgspec.Meta(min_length=1, max_length=512, pattern=NO_NUL)] | None = None
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=16, pattern=NO_NUL)] | None = None
    components: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=20)] = []
    """The template's send components, as Meta takes them; `{{contact.name}}`, `{{contact.<attribute>}}`
    (with an optional fallback: `{{contact.city|there}}`) are filled per recipient."""
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=NO_NUL)] | None = None
    """Free text instead of a template (or the body of `flow`): only recipients inside their 24-hour
    window get it."""
    flow: CampaignFlowBody | None = None
    """Send a WhatsApp Flow: each recipient's flow token is `<flow id>.<recipient id>`."""
    channel_id: UUID | None = None
    recipients: RecipientsBody | None = None
    start: bool = False
    """Start right away (after adding the recipients)."""
    scheduled_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """Start at this time instead (with a time zone)."""


class StartBody(msgspec.Struct, forbid_unknown_fields=True):
    scheduled_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class RecipientsReport(msgspec.Struct):
    added: int
    duplicates: int
    skipped: dict[str, int]
    rejected: list[dict[str, Any]]


class CampaignDetail(msgspec.Struct):
    id: UUID
    name: str
    status: str
    channel_id: UUID | None
    template_name: str | None
    language: str | None
    text: str | None
    components: list[dict[str, Any]]
    flow: CampaignFlow | None
    scheduled_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    paused_reason: str | None
    counts: dict[str, int]
    created_at: datetime
    updated_at: datetime
    recipients_report: RecipientsReport | None = None


class RecipientRead(msgspec.Struct):
    id: UUID
    wa_id: str
    contact_id: UUID | None
    state: str
    wamid: str | None
    error_code: int | None
    error_title: str | None
    attempts: int
    updated_at: datetime


def _detail(view: CampaignView, report: RecipientsAdded | None = None) -> CampaignDetail:
    c = view.campaign
    return CampaignDetail(
        id=c.id,
        name=c.name,
        status=c.status.value,
        channel_id=c.channel_id,
        template_name=c.template_name,
        language=c.language,
        text=c.text,
        components=list(c.parameters.get("components", [])),
        flow=msgspec.convert(c.flow, CampaignFlow) if c.flow else None,
        scheduled_at=c.scheduled_at,
        started_at=c.started_at,
        completed_at=c.completed_at,
        paused_reason=c.paused_reason,
        counts=view.counts.as_dict(),
        created_at=c.created_at,
        updated_at=c.updated_at,
        recipients_report=None if report is None else RecipientsReport(**report.__dict__),
    )


def _recipient(r: CampaignRecipient) -> RecipientRead:
    return RecipientRead(
        id=r.id,
        wa_id=r.wa_id,
        contact_id=r.contact_id,
        state=r.state.value,
        wamid=r.wamid,
        error_code=r.error_code,
        error_title=r.error_title,
        attempts=r.attempts,
        updated_at=r.updated_at,
    )


def _audience(body: RecipientsBody) -> tuple[AudienceSpec, list[ListedRecipient]]:
    spec = AudienceSpec(
        contact_ids=tuple(body.contact_ids), tags=tuple(body.tags), audience_ids=tuple(body.audience_ids)
    )
    listed = [
        ListedRecipient(phone=entry)
        if isinstance(entry, str)
        else ListedRecipient(phone=entry.phone, name=entry.name, fields=dict(entry.fields))
        for entry in body.phone_numbers
    ]
    return spec, listed


ADMIN = [requires(Role.ADMIN)]
DEPENDENCY = "manage_campaigns"


@post(
    "/api/v1/campaigns",
    tags=["campaigns"],
    status_code=HTTP_201_CREATED,
    guards=ADMIN,
    summary="Create a campaign (admin role), optionally with its recipients and started or scheduled",
)
async def create_campaign(
    data: JSONBody[CampaignCreate],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Envelope[CampaignDetail]:
    campaign = await manage_campaigns.create(
        principal,
        CampaignDraft(
            name=data.name,
            template_name=data.template_name,
            language=data.language,
            components=data.components,
            text=data.text,
            channel_id=data.channel_id,
            flow=FlowChoice(
                flow_id=data.flow.flow_id, cta=data.flow.cta, screen=data.flow.screen, data=data.flow.data
            )
            if data.flow is not None
            else None,
        ),
    )
    report = None
    if data.recipients is not None:
        spec, listed = _audience(data.recipients)
        report = await manage_campaigns.add_recipients(principal, campaign.id, spec, listed)
    if data.start or data.scheduled_at is not None:
        view = await manage_campaigns.start(principal, campaign.id, data.scheduled_at)
    else:
        view = await manage_campaigns.get(principal, campaign.id)
    return ok(_detail(view, report), message="Campaign created")


@get("/api/v1/campaigns/{campaign_id:uuid}", tags=["campaigns"], summary="A campaign with its counts")
async def get_campaign(
    campaign_id: UUID,
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Envelope[CampaignDetail]:
    return ok(_detail(await manage_campaigns.get(principal, campaign_id)))


@post(
    "/api/v1/campaigns/{campaign_id:uuid}/recipients",
    tags=["campaigns"],
    status_code=200,
    guards=ADMIN,
    summary="Add recipients to a draft campaign (contacts, tags, audiences, phone numbers)",
)
async def add_recipients(
    campaign_id: UUID,
    data: JSONBody[RecipientsBody],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Envelope[CampaignDetail]:
    spec, listed = _audience(data)
    report = await manage_campaigns.add_recipients(principal, campaign_id, spec, listed)
    return ok(_detail(await manage_campaigns.get(principal, campaign_id), report))


@post(
    "/api/v1/campaigns/{campaign_id:uuid}/recipients/csv",
    tags=["campaigns"],
    status_code=200,
    guards=ADMIN,
    request_max_body_size=MAX_CSV_BYTES,
    summary="Add recipients from a CSV file (a phone column; other columns fill {{contact.<column>}})",
)
async def add_recipients_csv(
    campaign_id: UUID,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
    phone_column: Annotated[str, QueryParameter(min_length=1, max_length=100)] = "phone",
    name_column: Annotated[str, QueryParameter(min_length=1, max_length=100)] = "name",
) -> Envelope[CampaignDetail]:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("Send the CSV as a multipart form field named 'file'")
    listed = _csv_rows(await upload.read(), phone_column, name_column)
    report = await manage_campaigns.add_recipients(principal, campaign_id, None, listed)
    return ok(_detail(await manage_campaigns.get(principal, campaign_id), report))


def _csv_rows(raw: bytes, phone_column: str, name_column: str) -> list[ListedRecipient]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("The CSV must be UTF-8 text") from error
    if "\x00" in text:
        raise InvalidInput("The CSV contains NUL characters")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or phone_column not in reader.fieldnames:
        columns = ", ".join(reader.fieldnames or []) or "none"
        raise InvalidInput(
            f"The CSV has no '{phone_column}' column (its columns: {columns}); set phone_column"
        )
    rows = []
    for row in reader:
        fields = {str(k): str(v or "") for k, v in row.items() if k not in (None, phone_column)}
        rows.append(
            ListedRecipient(
                phone=str(row.get(phone_column) or ""),
                name=(row.get(name_column) or None) if name_column in reader.fieldnames else None,
                fields=fields,
            )
        )
    return rows


def _control(action: str, summary: str) -> Any:
    async def control(
        campaign_id: UUID,
        principal: NamedDependency[Principal],
        manage_campaigns: NamedDependency[ManageCampaigns],
        data: JSONBody[StartBody | None] = None,
    ) -> Envelope[CampaignDetail]:
        if action == "start":
            view = await manage_campaigns.start(principal, campaign_id, data.scheduled_at if data else None)
        else:
            view = await getattr(manage_campaigns, action)(principal, campaign_id)
        return ok(_detail(view), message=f"Campaign {view.campaign.status.value}")

    control.__name__ = f"{action}_campaign"
    return post(
        f"/api/v1/campaigns/{{campaign_id:uuid}}/{action}",
        tags=["campaigns"],
        status_code=200,
        guards=ADMIN,
        summary=summary,
        operation_id=f"{action}_campaign",
        name=f"{action}_campaign",
    )(control)


@get(
    "/api/v1/campaigns/{campaign_id:uuid}/recipients",
    tags=["campaigns"],
    summary="The campaign's recipients with their state, wamid and Meta's error",
)
async def list_recipients(
    campaign_id: UUID,
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
    recipient_state: Annotated[
        RecipientState | None, QueryParameter(query="state", description="Only recipients in this state")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
) -> Envelope[ListPage[RecipientRead]]:
    page, counts = await manage_campaigns.recipients(
        principal, campaign_id, state=recipient_state, limit=limit, offset=offset
    )
    total = counts.by_state.get(recipient_state.value, 0) if recipient_state else counts.total
    return ok(ListPage(items=[_recipient(r) for r in page], total=total, limit=limit, offset=offset))


REPORT_COLUMNS = ["wa_id", "state", "wamid", "error_code", "error_title", "attempts", "updated_at"]
REPORT_PAGE = 1000


@get(
    "/api/v1/campaigns/{campaign_id:uuid}/report.csv",
    tags=["campaigns"],
    summary="The per-recipient report as CSV",
    media_type="text/csv",
)
async def recipients_report_csv(
    campaign_id: UUID,
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Response[Any]:
    await manage_campaigns.get(principal, campaign_id)  # 404 before the stream starts

    async def lines() -> AsyncIterator[str]:
        yield ",".join(REPORT_COLUMNS) + "\r\n"
        offset = 0
        while True:
            page, _ = await manage_campaigns.recipients(
                principal, campaign_id, limit=REPORT_PAGE, offset=offset
            )
            if not page:
                return
            out = io.StringIO()
            writer = csv.writer(out)
            for r in page:
                writer.writerow(
                    [
                        r.wa_id,
                        r.state.value,
                        r.wamid or "",
                        r.error_code or "",
                        r.error_title or "",
                        r.attempts,
                        r.updated_at.isoformat(),
                    ]
                )
            yield out.getvalue()
            offset += len(page)

    return Stream(
        lines(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
    )


ROUTES = [
    create_campaign,
    get_campaign,
    add_recipients,
    add_recipients_csv,
    _control("start", "Start the campaign now, or schedule it (scheduled_at)"),
    _control("pause", "Pause a running or scheduled campaign"),
    _control("resume", "Resume a paused campaign"),
    _control("cancel", "Cancel the campaign: unsent recipients are skipped"),
    list_recipients,
    recipients_report_csv,
]
