"""The security headers of every page, set in one place (an ASGI middleware) rather than by each route.

Every answer gets `X-Content-Type-Options: nosniff` (a script or style is never sniffed into something else).
Every HTML answer also gets a Content-Security-Policy chosen by its path, `X-Frame-Options: DENY` and
`Referrer-Policy: no-referrer`; a page added later is covered without anyone remembering to. The policies
allow this server only: no inline script anywhere (the pages' configuration is a JSON `<script>` element,
which is data), no CDN. tests/web/test_page_headers.py walks every HTML route of the app and checks them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = (
    "default-src 'self'; script-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'"
)

POLICIES = {
    # The clerk console, the manager's, county's and city's dashboards: inline style attributes (charts), canvas
    # images as blobs.
    "console": _COMMON + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'",
    # The boards on the hall's TVs: inline style attributes (the layout fits rows and names to the screen),
    # websockets named by scheme too (older TV browsers do not match them with 'self'), the spoken calls from
    # this server and the silent clip that unlocks sound (a data: URL).
    "board": _COMMON
    + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'self' ws: wss:",
    # The citizen's phone pages (tracking, booking): no inline style at all.
    "phone": _COMMON + "; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:",
    # FastAPI's /docs and /redoc: their own inline start-up script and their scripts from jsdelivr (an
    # administrator's browser with internet; the API itself needs none).
    "docs": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
        " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com;"
        " img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly;"
        " font-src 'self' https://fonts.gstatic.com;"
        " worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}
#: The policy of a path, by its first segment; any other HTML page gets the console's.
BY_PREFIX = {"board": "board", "t": "phone", "rate": "phone", "book": "phone", "docs": "docs", "redoc": "docs"}

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_HTML_HEADERS = [(b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the HTML page at `path`."""
    first = path.lstrip("/").split("/", 1)[0]
    return POLICIES[BY_PREFIX.get(first, "console")]


class PageHeaders:
    """Adds the headers above to each HTTP answer as it starts (websockets are left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                added = [_NOSNIFF]
                content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    added += [(b"content-security-policy", policy_for(scope.get("path", "")).encode()), *_HTML_HEADERS]
                headers += [(name, value) for name, value in added if name not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
