"""The /groups pages: the tenant's WhatsApp groups, a new group, and one group's messages, participants,
invite link and settings. Changing a group is for administrators (as on the API); agents look, and read and
write in the group's thread (as in /chat).

The thread is the group's recent messages drawn as /chat draws its bubbles (`chat_view.bubbles`), each
message a participant wrote named by its writer; the composer sends a text through the messages API's own
body → SendRequest conversion and `SendMessage`, as `POST /api/v1/messages` with a `group_id` does. The page
refreshes the thread (`/groups/{id}/thread`) when the socket tells of a message to, from or about the group
(static/admin.js).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.contacts.manage_contacts import ManageContacts
from pywhatsapp.application.groups.group_membership import GroupMembership
from pywhatsapp.application.groups.manage_groups import ManageGroups
from pywhatsapp.application.inbox.read_models import InboxReader, MessageFilters, ThreadMessage
from pywhatsapp.application.messaging.send_message import SendMessage
from pywhatsapp.domain.contacts.group import Group, GroupState
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.chat_view import Bubble, bubbles
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    fragment_or_back,
    go_to,
    is_admin,
    is_htmx,
    read_form,
)
from pywhatsapp.entrypoints.http.routes.messages import SendMessageBody, send_request
from pywhatsapp.entrypoints.http.security import requires

LISTED = 200
THREAD_SIZE = 50
"""The group page shows this many of the group's newest messages; older ones are in the API."""
MAX_TEXT = 4096
ADMIN = [requires(Role.ADMIN)]


@dataclass(frozen=True)
class GroupBubble:
    bubble: Bubble
    sender: str | None
    """Who wrote a message we received: "Alice · +4915…", or the number alone; None for ours."""


async def _names(
    principal: Principal, messages: list[Message], manage_contacts: ManageContacts
) -> dict[UUID, str | None]:
    """The writers' names by contact id (a group has a handful of participants: one look-up each)."""
    names: dict[UUID, str | None] = {}
    for message in messages:
        key = message.contact_id
        if key is None or key in names or message.direction is not Direction.INCOMING:
            continue
        try:
            names[key] = (await manage_contacts.get(principal, key)).name
        except NotFound:
            names[key] = None
    return names


async def _thread(
    principal: Principal, group: Group, reader: InboxReader, manage_contacts: ManageContacts
) -> dict[str, Any]:
    page = await reader.messages(
        principal.tenant_id, MessageFilters(group_id=group.id), limit=THREAD_SIZE, before=None
    )
    by_id = {message.id: message for message in page.items}
    names = await _names(principal, page.items, manage_contacts)
    shown = []
    for one in bubbles([ThreadMessage(message) for message in page.items]):  # oldest first
        message = by_id[one.id]
        sender = None
        if one.incoming:
            name = names.get(message.contact_id) if message.contact_id else None
            sender = f"{name} · +{message.wa_id}" if name else f"+{message.wa_id}"
        shown.append(GroupBubble(bubble=one, sender=sender))
    return {
        "group": group,
        "messages": shown,
        "more": page.next_cursor is not None,
        "can_send": group.state is GroupState.ACTIVE and not group.suspended,
    }


async def _list(principal: Principal, groups: ListRecords[Any], **extra: Any) -> dict[str, Any]:
    page = await groups.execute(principal, limit=LISTED)
    pending = any(group.state is GroupState.PENDING for group in page.items)
    return {"groups": page.items, "total": page.total, "pending": pending, **extra}


@get("/groups", media_type=MediaType.HTML)
async def groups_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_groups: NamedDependency[ListRecords[Any]],
) -> Template:
    listing = await _list(principal, list_groups)
    if is_htmx(request):
        return Template("admin/_group_list.html", context=listing)
    context = await page_context(request, principal, nav="groups", **listing)
    return Template("admin/groups.html", context=context)


@post("/groups", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def create_group(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    list_groups: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    form = await read_form(request)
    await manage_groups.create(
        principal,
        subject=form.required("subject", max_length=200),
        description=form.text("description", max_length=2048),
        approval_mode="approval_required" if form.checked("approval_required") else "auto_approve",
    )
    listing = await _list(principal, list_groups, created=True)
    return fragment_or_back(request, "admin/_group_list.html", listing, "/groups")


@post("/groups/sync", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def sync_groups(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    list_groups: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    report = await manage_groups.sync(principal)
    listing = await _list(principal, list_groups, report=report)
    return fragment_or_back(request, "admin/_group_list.html", listing, "/groups")


@get("/groups/{group_id:uuid}", media_type=MediaType.HTML)
async def group_page(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    manage_contacts: NamedDependency[ManageContacts],
    inbox_reader: NamedDependency[InboxReader],
) -> Template:
    details = await manage_groups.get(principal, group_id)
    thread = await _thread(principal, details.group, inbox_reader, manage_contacts)
    context = await page_context(
        request, principal, nav="groups", participants=details.participants, **thread
    )
    return Template("admin/group.html", context=context)


@get("/groups/{group_id:uuid}/thread", media_type=MediaType.HTML)
async def group_thread(
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    manage_contacts: NamedDependency[ManageContacts],
    inbox_reader: NamedDependency[InboxReader],
) -> Template:
    """The thread alone, as the page refreshes it when a message of the group comes or changes."""
    details = await manage_groups.get(principal, group_id)  # 404 for a group of another tenant
    thread = await _thread(principal, details.group, inbox_reader, manage_contacts)
    return Template("admin/_group_thread.html", context=thread)


@post("/groups/{group_id:uuid}/send", status_code=200, media_type=MediaType.HTML)
async def send_to_group(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    manage_contacts: NamedDependency[ManageContacts],
    inbox_reader: NamedDependency[InboxReader],
    send_message: NamedDependency[SendMessage],
) -> Template | Redirect:
    """A text to the group from the composer: the body `POST /api/v1/messages` takes, by its conversion,
    sent by the same use case. A refusal (the group suspended, Meta's error) shows beside the form."""
    details = await manage_groups.get(principal, group_id)  # 404 for a group of another tenant
    form = await read_form(request)
    body = form.required("body", max_length=MAX_TEXT)
    try:
        parsed = msgspec.convert(
            {"group_id": str(group_id), "type": "text", "text": {"body": body}}, SendMessageBody
        )
    except msgspec.ValidationError as error:
        raise InvalidInput(f"The message is not valid: {error}") from error
    await send_message.execute(principal, send_request(parsed))
    thread = await _thread(principal, details.group, inbox_reader, manage_contacts)
    return fragment_or_back(request, "admin/_group_thread.html", thread, f"/groups/{group_id}")


@post("/groups/{group_id:uuid}/invite-link", status_code=200, media_type=MediaType.HTML)
async def invite_link(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    group_membership: NamedDependency[GroupMembership],
) -> Template | Redirect:
    """The link from Meta; a new one (`reset`) only for administrators, as it stops the old one."""
    form = await read_form(request)
    reset = form.checked("reset")
    if reset:
        principal.require(Role.ADMIN)
    link = await group_membership.invite_link(principal, group_id, reset=reset)
    context = {"link": link, "reset": reset, "group_id": group_id, "is_admin": is_admin(principal)}
    return fragment_or_back(request, "admin/_invite_link.html", context, f"/groups/{group_id}")


@post("/groups/{group_id:uuid}/settings", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def group_settings(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
) -> Response[Any]:
    form = await read_form(request)
    await manage_groups.update_settings(
        principal,
        group_id,
        subject=form.text("subject", max_length=200),
        description=form.text("description", max_length=2048),
    )
    return go_to(request, f"/groups/{group_id}")


@post("/groups/{group_id:uuid}/participants/remove", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def remove_participant(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    group_membership: NamedDependency[GroupMembership],
) -> Response[Any]:
    form = await read_form(request)
    await group_membership.remove_participants(principal, group_id, [form.required("wa_id", max_length=32)])
    if is_htmx(request):
        return Response(content="", media_type="text/html")  # the participant's row goes
    return Redirect(path=f"/groups/{group_id}", status_code=303)


@post("/groups/{group_id:uuid}/delete", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def delete_group(
    request: Request[Any, Any, Any],
    group_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
) -> Response[Any]:
    await manage_groups.delete(principal, group_id)
    return go_to(request, "/groups")


ROUTES = [
    Router(
        path="/",
        route_handlers=[
            groups_page,
            create_group,
            sync_groups,
            group_page,
            group_thread,
            send_to_group,
            invite_link,
            group_settings,
            remove_participant,
            delete_group,
        ],
        dependencies={
            "manage_groups": from_container("manage_groups"),
            "group_membership": from_container("group_membership"),
            "list_groups": from_container("list_groups"),
            "manage_contacts": from_container("manage_contacts"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
