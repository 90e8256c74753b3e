"""The /groups pages: the tenant's WhatsApp groups, a new group, and one group's participants, invite link
and settings. Changing a group is for administrators (as on the API); agents look."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.groups.group_membership import GroupMembership
from pywhatsapp.application.groups.manage_groups import ManageGroups
from pywhatsapp.domain.contacts.group import GroupState
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    fragment_or_back,
    go_to,
    is_admin,
    is_htmx,
    read_form,
)
from pywhatsapp.entrypoints.http.security import requires

LISTED = 200
ADMIN = [requires(Role.ADMIN)]


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
) -> Template:
    details = await manage_groups.get(principal, group_id)
    context = await page_context(
        request, principal, nav="groups", group=details.group, participants=details.participants
    )
    return Template("admin/group.html", context=context)


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
            invite_link,
            group_settings,
            remove_participant,
            delete_group,
        ],
        dependencies={
            "manage_groups": from_container("manage_groups"),
            "group_membership": from_container("group_membership"),
            "list_groups": from_container("list_groups"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
