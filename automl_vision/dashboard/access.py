"""Who may read the dashboard: the ``Host`` names it answers to, and its token.

*Host*: a web page elsewhere can point a name it controls at 127.0.0.1 (DNS rebinding) and
read the dashboard as its own origin; the browser then sends that name as ``Host``. So only the
names of the bound address are answered: 127.0.0.1, localhost and ::1 for a loopback bind, the
bound host for another, any IP address (never a name someone else controls) and this machine's
host name for 0.0.0.0 / ::, each at the bound port; plus the ``--allow-host NAME[:PORT]`` names
(without a port, at any port: the name behind a reverse proxy).

*Token*: a dashboard reachable from other machines needs one. A request shows it as
``?token=`` (the answer then sets an HttpOnly, SameSite=Strict cookie, so the page's own
requests carry it), as that cookie, or as ``Authorization: Bearer``; compared in constant time.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import re
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

__all__ = [
    "Access",
    "Admission",
    "check_allowed_host",
    "check_port",
    "check_token",
    "is_loopback",
    "new_token",
]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::")
TOKEN_MIN_LENGTH = 16
_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")
#: a Host header or an --allow-host entry: a DNS name or an IP address, then an optional port
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")


class Admission(enum.Enum):
    """What the dashboard does with a request."""

    SERVE = "serve"
    SERVE_AND_SET_COOKIE = "serve, and set the token's cookie"
    WRONG_HOST = "its Host is not one of the dashboard's names"
    NO_TOKEN = "it does not show the dashboard's token"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1); a wildcard, another
    address or any other name (which may resolve anywhere) is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(port: int, flag: str = "port") -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"{flag} must be a whole number from 0 to 65535, got {port!r}")
    return port


def check_token(token: str, flag: str = "token") -> str:
    """A token long enough never to be guessed and plain enough for a URL and a cookie."""
    if len(token) < TOKEN_MIN_LENGTH or not _TOKEN.fullmatch(token):
        raise ValueError(
            f"{flag} must be at least {TOKEN_MIN_LENGTH} characters, each a letter, a digit or "
            f"one of . _ ~ - (got {len(token)} characters)"
        )
    return token


def _split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port or None) of a Host header / --allow-host entry, lower case; None if neither."""
    match = _HOST.fullmatch(value.strip().lower())
    if match is None:
        return None
    name = match["v6"] or match["name"]
    if match["v6"]:
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and port > 65535:
        return None
    return name, port


def check_allowed_host(value: str, flag: str = "--allow-host") -> str:
    if _split_host(value) is None:
        raise ValueError(
            f"{flag} takes a host name or address with an optional :PORT "
            f"(dash.example.org, 10.0.0.5:8080, [fe80::1]:8080), got {value!r}"
        )
    return value


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Access:
    """The names a dashboard bound to ``host``:``port`` answers to, and its token (or None)."""

    host: str
    port: int
    token: str | None = None
    allowed: tuple[str, ...] = ()

    @property
    def cookie(self) -> str:
        """The cookie's name: one per port (cookies do not tell ports apart)."""
        return f"automl_vision_dashboard_{self.port}"

    def _names(self) -> set[str]:
        host = self.host.lower()
        names = {host}
        if is_loopback(host) or host in WILDCARDS:
            names.update(LOOPBACK_NAMES)
        if host in WILDCARDS:
            names.add(socket.gethostname().lower())
        return names

    def host_allowed(self, header: str | None) -> bool:
        parsed = _split_host(header or "")
        if parsed is None:
            return False
        name, port = parsed
        for entry in self.allowed:
            allowed_name, allowed_port = _split_host(entry) or ("", None)
            if name == allowed_name and allowed_port in (None, port):
                return True
        at_port = port == self.port or (port is None and self.port == 80)
        known = name in self._names() or (self.host.lower() in WILDCARDS and _is_ip(name))
        return at_port and known

    def _shows(self, presented: str | None) -> bool:
        if self.token is None or not presented:
            return False
        return hmac.compare_digest(presented.encode("utf-8", "replace"), self.token.encode("utf-8"))

    def _cookie_value(self, header: str | None) -> str | None:
        if not header:
            return None
        try:
            jar = SimpleCookie(header)
        except CookieError:
            return None
        morsel = jar.get(self.cookie)
        return morsel.value if morsel is not None else None

    def admit(self, headers: Mapping[str, str], query: str) -> Admission:
        """How to answer a request with these headers and this query string."""
        if not self.host_allowed(headers.get("Host")):
            return Admission.WRONG_HOST
        if self.token is None:
            return Admission.SERVE
        auth = headers.get("Authorization") or ""
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() == "bearer" and self._shows(credentials.strip()):
            return Admission.SERVE
        if self._shows(self._cookie_value(headers.get("Cookie"))):
            return Admission.SERVE
        if any(self._shows(v) for v in _query_tokens(query)):
            return Admission.SERVE_AND_SET_COOKIE
        return Admission.NO_TOKEN

    def set_cookie(self) -> str:
        """The Set-Cookie value that keeps the token for the page's own requests."""
        return f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"


def _query_tokens(query: str) -> Iterable[str]:
    try:
        return parse_qs(query, max_num_fields=20).get("token", [])
    except ValueError:  # more fields than any page of the dashboard sends
        return []
