"""Who is asking, and whether a post really comes from the console's own pages.

Identity: behind an authenticating proxy (oauth2-proxy, an ALB with OIDC) the proxy names the
user in a header (`ALPHA_WEB_USER_HEADER`, `[web] user_header`); a request without it is
refused (401). With no header configured the console acts as the local user, and is served on
the loopback interface only, so nobody else can reach it.

Cross-site requests: every form carries a token (an HMAC of the user under a key made when the
server starts), and every post must come with an Origin (or, failing that, a Referer) naming
the console itself. A post from another site fails both and changes nothing (403).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from alpha.errors import AlphaError
from alpha.rollout.identity import IdentityError, check_name

__all__ = ["CsrfError", "Identity", "IdentityMissingError", "WebError", "check_bind"]

LOCAL_NAMES = frozenset({"localhost", "ip6-localhost"})


class WebError(AlphaError):
    """The console cannot serve as asked (a setting, a bind address)."""


class IdentityMissingError(WebError):
    """The request names no user (the proxy's header is missing or not a name)."""


class CsrfError(WebError):
    """A post that may come from another site."""


def check_bind(host: str, user_header: str | None) -> None:
    """Without a proxy naming the user, only loopback: anyone who could reach the console
    would act as the local user."""
    if user_header is not None or _loopback(host):
        return
    raise WebError(
        f"--host {host}: without ALPHA_WEB_USER_HEADER ([web] user_header) the console acts as "
        "the local user, so it serves only on loopback (127.0.0.1, ::1, localhost); put it "
        "behind an authenticating proxy and set the header it names the user in to serve on "
        f"{host}"
    )


def _loopback(host: str) -> bool:
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Identity:
    """How the console knows who is asking: `header`'s value, or `local_user` without one."""

    header: str | None
    local_user: str
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def user(self, headers: dict[str, str]) -> str:
        if self.header is None:
            return self.local_user
        value = headers.get(self.header.lower(), "")
        if not value.strip():
            raise IdentityMissingError(f"no user: the request has no {self.header} header")
        try:
            return check_name(_utf8(value), f"user in {self.header}")
        except IdentityError as exc:
            raise IdentityMissingError(str(exc)) from exc

    def token(self, user: str) -> str:
        return hmac.new(self.key, user.encode("utf-8"), hashlib.sha256).hexdigest()

    def check_post(self, user: str, token: str | None, origin: str | None, own: str) -> None:
        """`own`: the console's origin as the request reached it (scheme://host[:port])."""
        if origin is None or _origin(origin) != own.lower():
            raise CsrfError(
                f"refused: the post comes from {origin or 'an unnamed page'}, not from {own}"
            )
        if token is None or not hmac.compare_digest(token, self.token(user)):
            raise CsrfError("refused: the form's token is missing or not this user's; reload")


def _utf8(value: str) -> str:
    """Header values reach the app as Latin-1; a proxy sends a name's UTF-8 bytes."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def request_origin(origin: str | None, referer: str | None) -> str | None:
    """The page a post says it comes from: its Origin, else its Referer's origin."""
    if origin and origin != "null":
        return origin
    return referer or None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
