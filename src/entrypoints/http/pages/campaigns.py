"""The /campaigns pages: the list, a new campaign (template or text, recipients from audiences, tags or
numbers, started now or scheduled), and one campaign's live progress, controls and per-recipient report.

The new-campaign form refuses what it can tell is wrong before anything is saved: a number it cannot read
is named, and nothing is created. Whether a campaign can start depends on its recipients once added (opted
out, outside the 24-hour window...): when starting is refused then, the campaign stays saved as a draft
and the form says so, with the reason, what was skipped and a link to the draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Response, Template

from pywhatsapp.application.campaigns.manage_campaigns import (
    CampaignDraft,
    CampaignView,
    FlowChoice,
    ListedRecipient,
    ManageCampaigns,
    RecipientsAdded,
)
from pywhatsapp.application.campaigns.ports import AudienceSpec
from pywhatsapp.application.common.list_records import MAX_OFFSET, ListRecords
from pywhatsapp.application.contacts.manage_audiences import ManageAudiences
from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.domain.campaigns.campaign import Campaign, CampaignStatus, RecipientState
from pywhatsapp.domain.contacts.phone import normalize_phone
from pywhatsapp.domain.errors import DomainError, InvalidInput
from pywhatsapp.domain.flows.flow import PUBLISHED
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import PAGE_ERRORS, Form, go_to, is_admin, json_object, read_form
from pywhatsapp.entrypoints.http.pages.templates import send_components
from pywhatsapp.entrypoints.http.security import requires
from pywhatsapp.entrypoints.settings import Settings

LISTED = 25
REPORT_PAGE = 100
STATES = [state.value for state in RecipientState]
ACTIONS = {"start", "pause", "resume", "cancel"}
NAMED = 10
"""A refusal names at most this many unreadable numbers (and counts the rest)."""


def _percent(view: CampaignView) -> int:
    total = view.counts.total
    return 0 if total == 0 else (total - view.counts.open) * 100 // total


def _summary(principal: Principal, view: CampaignView) -> dict[str, Any]:
    status = view.campaign.status
    return {
        "campaign": view.campaign,
        "counts": view.counts.as_dict(),
        "percent": _percent(view),
        "is_admin": is_admin(principal),
        "can": {
            "start": status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
            "pause": status in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED),
            "resume": status is CampaignStatus.PAUSED,
            "cancel": status
            not in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.FAILED),
        },
    }


@get("/campaigns", media_type=MediaType.HTML)
async def campaigns_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
    list_campaigns: NamedDependency[ListRecords[Any]],
    manage_templates: NamedDependency[ManageTemplates],
    manage_audiences: NamedDependency[ManageAudiences],
    manage_flows: NamedDependency[ManageFlows],
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> Template:
    page = await list_campaigns.execute(principal, limit=LISTED, offset=offset)
    views = [await manage_campaigns.get(principal, campaign.id) for campaign in page.items]
    extra: dict[str, Any] = {}
    if is_admin(principal):
        approved = await manage_templates.list(principal, TemplateFilter(status="APPROVED"), limit=200)
        published = await manage_flows.list(principal, FlowFilter(status=PUBLISHED), limit=200)
        extra = {
            "templates": approved.items,
            "flows": published.items,
            "audiences": (await manage_audiences.page(principal, limit=200)).items,
        }
    context = await page_context(
        request,
        principal,
        nav="campaigns",
        campaigns=[_summary(principal, view) for view in views],
        total=page.total,
        offset=offset,
        page_size=LISTED,
        **extra,
    )
    return Template("admin/campaigns.html", context=context)


def _scheduled_at(form: Form) -> datetime | None:
    text = form.text("scheduled_at", max_length=40)
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("scheduled_at must be a date and time") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # the form says the time is UTC


def _flow_choice(form: Form) -> FlowChoice | None:
    chosen = form.text("flow", max_length=100)
    if not chosen:
        return None
    try:
        flow_id = UUID(chosen)
    except ValueError:
        raise InvalidInput("Choose one of the published flows") from None
    return FlowChoice(
        flow_id=flow_id,
        cta=form.text("flow_cta", max_length=30) or "Open",
        screen=form.text("flow_screen", max_length=200),
        data=json_object(form.text("flow_data", max_length=20_000), "The first screen's data"),
    )


async def _draft(form: Form, principal: Principal, templates: ManageTemplates) -> CampaignDraft:
    name = form.required("name", max_length=200)
    text = form.text("text", max_length=4096)
    chosen = form.text("template", max_length=600)
    flow = _flow_choice(form)
    if text and chosen:
        raise InvalidInput("Choose a template or write a text, not both")
    if flow is not None and not text:
        raise InvalidInput("A flow goes out with a text: write the message the flow's button sits under")
    if not chosen:
        return CampaignDraft(name=name, text=text, flow=flow)
    template_name, _, language = chosen.partition("|")
    lines = form.lines("parameters")
    stored = (
        await templates.list(principal, TemplateFilter(name=template_name, language=language), limit=50)
    ).items
    template = next((t for t in stored if t.name == template_name and t.language == language), None)
    if template is not None:
        components = send_components(template, {"body": lines}) if lines else []
    else:
        parameters = [{"type": "text", "text": line} for line in lines]
        components = [{"type": "body", "parameters": parameters}] if parameters else []
    return CampaignDraft(
        name=name, template_name=template_name, language=language or None, components=components
    )


def _numbers(form: Form, region: str) -> list[ListedRecipient]:
    """The numbers typed in the form, each one readable (as the campaign reads them: the same parser and
    default region), else InvalidInput naming those that are not."""
    typed = form.listed("phone_numbers", max_length=100_000)
    unreadable = []
    for number in typed:
        try:
            normalize_phone(number, region)
        except InvalidInput:
            unreadable.append(number)
    if unreadable:
        named = ", ".join(f"“{number[:40]}”" for number in unreadable[:NAMED])
        more = f" and {len(unreadable) - NAMED} more" if len(unreadable) > NAMED else ""
        plural = len(unreadable) > 1
        raise InvalidInput(
            f"{'These numbers' if plural else 'This number'} could not be read: {named}{more}. "
            f"Correct {'them' if plural else 'it'} (with the country code, such as +49 151 1234567) "
            f"or remove {'them' if plural else 'it'}; nothing was saved."
        )
    return [ListedRecipient(phone=number) for number in typed]


def _skipped(report: RecipientsAdded) -> str:
    count = sum(report.skipped.values())
    if not count:
        return ""
    reasons = "; ".join(f"{reason} ({n})" for reason, n in report.skipped.items())
    return f" {count} recipient{'s were' if count > 1 else ' was'} skipped: {reasons}."


def _saved_as_draft(
    request: Request[Any, Any, Any], campaign: Campaign, reason: str, report: RecipientsAdded
) -> Response[Any]:
    """Starting was refused once the recipients were in: the campaign is kept as a draft (its report says
    why each recipient was skipped); the form says so, links to it and is emptied (a second click would
    make a second draft). A plain post goes to the draft's page."""
    if request.headers.get("hx-request") != "true":
        return go_to(request, f"/campaigns/{campaign.id}")
    notice = (
        '<p class="notice warning" role="status" data-testid="saved-as-draft">'
        f"Saved as a draft, not started: {escape(reason.rstrip('.'))}.{escape(_skipped(report))} "
        f'<a href="/campaigns/{campaign.id}">Open the draft “{escape(campaign.name)}”</a></p>'
    )
    return Response(
        content=notice,
        media_type=MediaType.HTML,
        status_code=200,
        headers={"HX-Retarget": "#campaign-form [data-errors]", "HX-Reswap": "innerHTML"},
    )


@post("/campaigns", status_code=200, guards=[requires(Role.ADMIN)], media_type=MediaType.HTML)
async def create_campaign(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
    manage_templates: NamedDependency[ManageTemplates],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    form = await read_form(request)
    draft = await _draft(form, principal, manage_templates)
    spec = AudienceSpec(
        audience_ids=tuple(form.uuids("audience_ids")),
        tags=tuple(form.listed("tags", max_length=1000)),
    )
    numbers = _numbers(form, settings.DEFAULT_PHONE_REGION)
    if not (spec.audience_ids or spec.tags or numbers):
        raise InvalidInput("Choose who receives it: an audience, tags or numbers")
    when = form.text("when", max_length=20) or "draft"
    at = _scheduled_at(form) if when == "schedule" else None
    if when == "schedule" and at is None:
        raise InvalidInput("Give the date and time to schedule it for")
    campaign = await manage_campaigns.create(principal, draft)
    report = await manage_campaigns.add_recipients(principal, campaign.id, spec, numbers)
    if when in ("start", "schedule"):
        try:
            await manage_campaigns.start(principal, campaign.id, at)
        except DomainError as refused:
            return _saved_as_draft(request, campaign, refused.message, report)
    return go_to(request, f"/campaigns/{campaign.id}")


async def _report(
    principal: Principal, campaigns: ManageCampaigns, campaign_id: UUID, state: str, offset: int
) -> dict[str, Any]:
    if state and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}")
    recipients, counts = await campaigns.recipients(
        principal,
        campaign_id,
        state=RecipientState(state) if state else None,
        limit=REPORT_PAGE,
        offset=offset,
    )
    return {
        "campaign_id": campaign_id,
        "recipients": recipients,
        "state": state,
        "states": STATES,
        "offset": offset,
        "page_size": REPORT_PAGE,
        "shown_total": counts.by_state.get(state, 0) if state else counts.total,
    }


@get("/campaigns/{campaign_id:uuid}", media_type=MediaType.HTML)
async def campaign_page(
    request: Request[Any, Any, Any],
    campaign_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Template:
    view = await manage_campaigns.get(principal, campaign_id)
    report = await _report(principal, manage_campaigns, campaign_id, "", 0)
    context = await page_context(
        request, principal, nav="campaigns", **_summary(principal, view), report=report
    )
    return Template("admin/campaign.html", context=context)


@get("/campaigns/{campaign_id:uuid}/summary", media_type=MediaType.HTML)
async def campaign_summary(
    campaign_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Template:
    view = await manage_campaigns.get(principal, campaign_id)
    return Template("admin/_campaign_summary.html", context=_summary(principal, view))


@get("/campaigns/{campaign_id:uuid}/recipients", media_type=MediaType.HTML)
async def campaign_recipients(
    campaign_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
    recipient_state: Annotated[str, QueryParameter(query="state", max_length=20)] = "",
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> Template:
    report = await _report(principal, manage_campaigns, campaign_id, recipient_state, offset)
    return Template("admin/_campaign_recipients.html", context={"report": report})


@post(
    "/campaigns/{campaign_id:uuid}/{action:str}",
    status_code=200,
    guards=[requires(Role.ADMIN)],
    media_type=MediaType.HTML,
)
async def control_campaign(
    request: Request[Any, Any, Any],
    campaign_id: FromPath[UUID],
    action: FromPath[str],
    principal: NamedDependency[Principal],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Response[Any]:
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(sorted(ACTIONS))}")
    view = await getattr(manage_campaigns, action)(principal, campaign_id)
    if request.headers.get("hx-request") != "true":
        return go_to(request, f"/campaigns/{campaign_id}")
    return Template("admin/_campaign_summary.html", context=_summary(principal, view))


ROUTES = [
    Router(
        path="/",
        route_handlers=[
            campaigns_page,
            create_campaign,
            campaign_page,
            campaign_summary,
            campaign_recipients,
            control_campaign,
        ],
        dependencies={
            "manage_campaigns": from_container("manage_campaigns"),
            "list_campaigns": from_container("list_campaigns"),
            "manage_templates": from_container("manage_templates"),
            "manage_audiences": from_container("manage_audiences"),
            "manage_flows": from_container("manage_flows"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
