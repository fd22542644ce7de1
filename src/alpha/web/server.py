"""`create_app`: the console's FastAPI application over an `alpha.app.Application`.

Pages (`alpha.web.pages`) and the JSON API (`alpha.web.api`, documented at /docs and
/openapi.json) call the same application methods the command line calls, on one worker thread
(`alpha.web.worker`), as the user the request names (`alpha.web.security`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from alpha import __version__
from alpha.app import Application
from alpha.app.held_store import HeldStoreBackends
from alpha.app.org_report_file import ORG_REPORT_NAME
from alpha.errors import AlphaError
from alpha.store.errors import ProposalNotFoundError
from alpha.store.summaries import SummaryQuery
from alpha.web.security import CsrfError, Identity, IdentityMissingError
from alpha.web.worker import Worker

__all__ = ["Console", "console_of", "create_app", "open_before_serving"]

HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Console:
    worker: Worker
    identity: Identity
    templates: Jinja2Templates
    org_report: Path  # the organisation report `alpha scan --org --save` keeps

    def user(self, request: Request) -> str:
        return self.identity.user(dict(request.headers))

    def own_origin(self, request: Request) -> str:
        """The console's origin as the browser sees it (behind a proxy: its scheme)."""
        scheme = request.url.scheme
        if self.identity.header is not None:
            scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        return f"{scheme}://{request.headers.get('host', request.url.netloc)}"


def console_of(request: Request) -> Console:
    return console_of_app(request.app)


def create_app(application: Application, org_report: Path | None = None) -> FastAPI:
    """The console over `application`, its store held open from the first request on. The
    user comes from `settings.web_user_header`'s header, else is `settings.user`. The /org
    page shows `org_report` (by default the store's folder's org-report.json)."""
    from alpha.web import api, pages

    backends = HeldStoreBackends(application.backends)
    held = Application(application.settings, backends)
    settings = application.settings
    console = Console(
        Worker(held, backends.close),
        Identity(settings.web_user_header, settings.user),
        Jinja2Templates(directory=str(HERE / "templates")),
        org_report or settings.store.parent / ORG_REPORT_NAME,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await console.worker.run(_open)  # at once if `open_before_serving` did it
        yield
        console.worker.close()

    app = FastAPI(
        title="ALPHA console",
        version=__version__,
        description="Least-privilege proposals: list, show, diff, approve, reject, roll out, "
        "roll back, status. The same decisions as the `alpha` command line.",
        lifespan=lifespan,
    )
    app.state.console = console
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    _handle_errors(app, console)
    return app


def _open(app: Application) -> None:
    """Open and check the store and read the proposals' summaries, before serving: on a big
    store that takes a while, better spent before the first user waits."""
    app.summaries(SummaryQuery(limit=0))


def open_before_serving(app: FastAPI) -> None:
    """Open the console's store now (an `AlphaError` if it cannot be), before a server runs
    the app; the server closes it when it stops, this closes it if it cannot be opened."""
    console = console_of_app(app)
    try:
        console.worker.call(_open)
    except BaseException:
        console.worker.close()
        raise


def console_of_app(app: FastAPI) -> Console:
    console: Console = app.state.console
    return console


def _handle_errors(app: FastAPI, console: Console) -> None:
    @app.exception_handler(IdentityMissingError)
    async def no_identity(request: Request, exc: IdentityMissingError) -> Response:
        return _error(console, request, 401, str(exc))

    @app.exception_handler(CsrfError)
    async def cross_site(request: Request, exc: CsrfError) -> Response:
        return _error(console, request, 403, str(exc))

    @app.exception_handler(ProposalNotFoundError)
    async def not_found(request: Request, exc: ProposalNotFoundError) -> Response:
        return _error(console, request, 404, str(exc))

    @app.exception_handler(AlphaError)
    async def refused(request: Request, exc: AlphaError) -> Response:
        return _error(console, request, 409, str(exc))


def _error(console: Console, request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    page = console.templates.get_template("error.html").render(
        request=request, status=status, message=message, user=None
    )
    return HTMLResponse(page, status_code=status)
