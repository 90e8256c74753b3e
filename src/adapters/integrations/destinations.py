"""Where event webhooks may be sent: public internet addresses only, unless the operator allows private ones.

A tenant administrator chooses the URL, and the server makes the request: without this check, an event
webhook could reach the database, the cloud metadata service (169.254.169.254) or anything else on the
server's own network (server-side request forgery). The host is resolved and every address it resolves to
must be global; the check runs when the URL is registered and again before each delivery, because DNS
answers can change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from pywhatsapp.domain.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (CGNAT), reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class PublicDestinations:
    def __init__(self, allow_private: bool = False) -> None:
        self._allow_private = allow_private

    async def check(self, url: str) -> None:
        """Raise InvalidInput unless every address of the URL's host is public (or private ones are
        allowed)."""
        if self._allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            raise InvalidInput("url has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError, UnicodeError) as error:
            raise InvalidInput(f"url: the host {host!r} cannot be resolved") from error
        for *_, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if not is_public(address):
                raise InvalidInput(
                    f"url: {host} resolves to {address}, a loopback, private or link-local address; "
                    "event webhooks go to public addresses only (EVENT_WEBHOOKS_ALLOW_PRIVATE=true allows it)"
                )
