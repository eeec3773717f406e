"""GraphiQL without internet: the page and every asset it loads are served by the app itself.

strawberry's own page loads React and GraphiQL from a CDN, which a developer on a closed network or behind
the Great Firewall never reaches ("Loading..." for ever). The assets come from the npm registry at install
time (`npm ci` in api/graphiql_assets, pinned by its package-lock.json; `make graphiql`, `make run`, .ci/run),
so no minified megabytes are committed and an upgrade is one lock-file change. Only the files listed in
ASSETS are served, by name, never a path from the request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger("palmtrade.api.graphiql")

ROOT: Final = Path(__file__).resolve().parent / "graphiql_assets"
MODULES: Final = ROOT / "node_modules"
PAGE: Final = ROOT / "index.html"
PREFIX: Final = "/graphiql/assets"

# name served -> (file under node_modules, media type)
ASSETS: Final[dict[str, tuple[str, str]]] = {
    "react.js": ("react/umd/react.production.min.js", "text/javascript"),
    "react-dom.js": ("react-dom/umd/react-dom.production.min.js", "text/javascript"),
    "graphiql.js": ("graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.css": ("graphiql/graphiql.min.css", "text/css"),
    "explorer.js": ("@graphiql/plugin-explorer/dist/index.umd.js", "text/javascript"),
    "explorer.css": ("@graphiql/plugin-explorer/dist/style.css", "text/css"),
}


def missing_assets() -> list[str]:
    """The asset files not installed (npm ci in api/graphiql_assets not run)."""
    return [path for path, _ in ASSETS.values() if not (MODULES / path).is_file()]


def page() -> HTMLResponse:
    """The GraphiQL page; it names only /graphiql/assets/... and the endpoint itself."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"), headers={"cache-control": "no-cache"})


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    found = ASSETS.get(name)
    if found is None or not (MODULES / found[0]).is_file():
        return JSONResponse({"error": "not_found", "asset": name}, status_code=404)
    return FileResponse(MODULES / found[0], media_type=found[1], headers={"cache-control": "public, max-age=86400"})


def routes(enabled: bool) -> list[Route]:
    """The asset routes when GraphiQL is on; a warning when its assets are not installed."""
    if not enabled:
        return []
    if missing := missing_assets():
        log.warning("GraphiQL assets not installed (%s): run `make graphiql`", ", ".join(missing))
    return [Route(PREFIX + "/{name:str}", asset, methods=["GET", "HEAD"])]
