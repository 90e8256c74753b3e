"""The /settings page (administrators): the tenant's WhatsApp channels, and its users with their roles.

Tokens and secrets go in and never come out: the page shows whether a channel has them, not what they are.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pywhatsapp.application.channels.configure_channel import ChannelSettings, ConfigureChannel
from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.identity.manage_members import ManageMembers, parse_role
from pywhatsapp.domain.channels.channel import MAX_MESSAGES_PER_SECOND
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    Form,
    fragment_or_back,
    read_form,
    refusal,
)
from pywhatsapp.entrypoints.http.security import requires

ROLES = [role.value for role in Role]
ADMIN = [requires(Role.ADMIN)]


async def _channels(principal: Principal, channels: ListRecords[Any], **extra: Any) -> dict[str, Any]:
    page = await channels.execute(principal, limit=200)
    return {"channels": page.items, "max_rate": MAX_MESSAGES_PER_SECOND, **extra}


async def _members(principal: Principal, members: ManageMembers, **extra: Any) -> dict[str, Any]:
    grantable = ROLES if principal.role is Role.OWNER else [r for r in ROLES if r != Role.OWNER.value]
    return {
        "members": await members.list(principal),
        "roles": ROLES,
        "grantable": grantable,
        "me": principal.user_id,
        **extra,
    }


@get("/settings", media_type=MediaType.HTML)
async def settings_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_channels: NamedDependency[ListRecords[Any]],
    manage_members: NamedDependency[ManageMembers],
) -> Any:
    if not principal.role.allows(Role.ADMIN):
        # A page, not a bare error: the agent keeps the navigation.
        context = await page_context(
            request, principal, nav="settings", status=403, message="Settings are for administrators"
        )
        return Template("admin/error.html", context=context, status_code=403)
    context = await page_context(
        request,
        principal,
        nav="settings",
        **await _channels(principal, list_channels),
        **await _members(principal, manage_members),
    )
    return Template("admin/settings.html", context=context)


def _channel_settings(form: Form, phone_number_id: str) -> ChannelSettings:
    return ChannelSettings(
        phone_number_id=phone_number_id,
        access_token=form.text("access_token", max_length=1000),
        name=form.text("name", max_length=100),
        waba_id=form.text("waba_id", max_length=64),
        display_phone_number=form.text("display_phone_number", max_length=40),
        app_secret=form.text("app_secret", max_length=200),
        verify_token=form.text("verify_token", max_length=200),
        messages_per_second=form.integer("messages_per_second", low=1, high=MAX_MESSAGES_PER_SECOND),
    )


@post("/settings/channels", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def add_channel(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    configure_channel: NamedDependency[ConfigureChannel],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Response[Any]:
    form = await read_form(request)
    settings = _channel_settings(form, form.required("phone_number_id", max_length=64))
    if not settings.access_token:
        return refusal(request, "A new channel needs its access token", 422)
    await configure_channel.execute(principal.tenant_id, settings)
    context = await _channels(principal, list_channels, saved=True)
    return fragment_or_back(request, "admin/_channels.html", context, "/settings")


@post("/settings/channels/{channel_id:uuid}", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def change_channel(
    request: Request[Any, Any, Any],
    channel_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    configure_channel: NamedDependency[ConfigureChannel],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    form = await read_form(request)
    # An unticked box sends nothing: the form's hidden marker says the box was there.
    settings = replace(_channel_settings(form, ""), is_active=form.checked("is_active"))
    await configure_channel.execute(principal.tenant_id, settings, channel_id)
    context = await _channels(principal, list_channels, saved=True)
    return fragment_or_back(request, "admin/_channels.html", context, "/settings")


@post("/settings/members", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def add_member(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_members: NamedDependency[ManageMembers],
) -> Template | Redirect:
    form = await read_form(request)
    await manage_members.add(
        principal,
        username=form.required("username", max_length=150),
        password=form.required("password", max_length=200),
        role=parse_role(form.required("role", max_length=20)),
        email=form.text("email", max_length=254),
    )
    context = await _members(principal, manage_members, saved=True)
    return fragment_or_back(request, "admin/_members.html", context, "/settings")


@post("/settings/members/{user_id:uuid}/role", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def change_role(
    request: Request[Any, Any, Any],
    user_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_members: NamedDependency[ManageMembers],
) -> Template | Redirect:
    form = await read_form(request)
    await manage_members.change_role(principal, user_id, parse_role(form.required("role", max_length=20)))
    context = await _members(principal, manage_members, saved=True)
    return fragment_or_back(request, "admin/_members.html", context, "/settings")


ROUTES = [
    Router(
        path="/",
        route_handlers=[settings_page, add_channel, change_channel, add_member, change_role],
        dependencies={
            "list_channels": from_container("list_channels"),
            "manage_members": from_container("manage_members"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
