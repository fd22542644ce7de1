"""The web console, `alpha serve`: server-rendered pages and a JSON API over `alpha.app`.
Names load on first use."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.web.security import WebError, check_bind
    from alpha.web.server import create_app

lazy_exports(
    __name__,
    {"alpha.web.security": ("WebError", "check_bind"), "alpha.web.server": ("create_app",)},
)

__all__ = ["WebError", "check_bind", "create_app"]
