"""The OpenAPI documents and the interactive docs that show them, offline.

One document per API surface: tidings' own (``/v1`` and the operations endpoints) at
``/openapi.json``, and one per provider dialect at ``/openapi/<dialect>.json``, since each
dialect is another company's contract. Each is valid OpenAPI 3.1 and shows the error bodies its
surface really answers: problem+json for ``/v1`` (``api/problems.py``), the provider's envelope
for a dialect (its ``errors`` module), never FastAPI's ``HTTPValidationError``.

``/docs`` is Swagger UI with a picker of the documents, served from the ``swagger-ui-bundle-v2``
package's files: it works on a machine with no internet.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from tidings.api.dialects.clicksend.errors import OPENAPI_ERROR as CLICKSEND_ERROR
from tidings.api.dialects.smartdialog.errors import OPENAPI_ERROR as SMARTDIALOG_ERROR
from tidings.api.dialects.truedialog.errors import OPENAPI_ERROR as TRUEDIALOG_ERROR
from tidings.api.error_docs import ErrorShape
from tidings.api.problems import NATIVE_ERRORS

Document = dict[str, Any]

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
# What the page loads, and nothing else of the package's directory (its index.html points at a
# demo API on the internet).
ASSETS = MappingProxyType(
    {
        "swagger-ui.css": "text/css",
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui-standalone-preset.js": "text/javascript",
        "favicon-32x32.png": "image/png",
    }
)

_VALIDATION_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
# Parameters naming the account a request acts for (an operator's or a parent's choice): /v1's
# and ClickSend's account_id, SmartDialog's customer headers. The account may not be there.
ACTING_ACCOUNT_PARAMETERS = frozenset({"account_id", "Customer-Id", "CustomerId"})
_WRITES = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True, slots=True)
class Surface:
    name: str
    url: str
    title: str
    description: str
    prefixes: tuple[str, ...]
    errors: ErrorShape


SURFACES = (
    Surface(
        name="native",
        url="/openapi.json",
        title="tidings",
        description="tidings' own API: messages, contacts and lists, campaigns, compliance, "
        "conversations, webhooks, accounts, routes and senders. Authenticate with HTTP Basic "
        "(key id and secret) or a Bearer secret. Errors are RFC 9457 problem details.",
        prefixes=("/v1", "/healthz", "/readyz", "/metrics"),
        errors=NATIVE_ERRORS,
    ),
    Surface(
        name="clicksend",
        url="/openapi/clicksend.json",
        title="tidings: ClickSend v3 dialect",
        description="ClickSend's v3 REST API as tidings answers it: code, SDKs and flows "
        "written for ClickSend change only the host and the credentials (HTTP Basic: key id as "
        "the user name, secret as the API key).",
        prefixes=("/v3",),
        errors=CLICKSEND_ERROR,
    ),
    Surface(
        name="truedialog",
        url="/openapi/truedialog.json",
        title="tidings: TrueDialog v2.1 dialect",
        description="TrueDialog's v2.1 API as tidings answers it (HTTP Basic: key id as the "
        "API key, secret as the secret).",
        prefixes=("/api/v2.1",),
        errors=TRUEDIALOG_ERROR,
    ),
    Surface(
        name="smartdialog",
        url="/openapi/smartdialog.json",
        title="tidings: SmartDialog v1 dialect",
        description="SmartDialog's integration API as tidings answers it (OAuth2 at /oauth2: "
        "key id as client_id, secret as client_secret).",
        prefixes=("/api-integrations/v1",),
        errors=SMARTDIALOG_ERROR,
    ),
)


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item.rsplit("/", 1)[-1]
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield path, method, operation


def _error_response(shape: ErrorShape, status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {
            shape.media_type: {"schema": {"$ref": f"#/components/schemas/{shape.schema_name}"}}
        },
    }
    if status in shape.headers:
        response["headers"] = copy.deepcopy(dict(shape.headers[status]))
    return response


def _statuses(shape: ErrorShape, path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation documents by default: refused credentials and rate
    limits where a key is needed, unknown ids where the path names one, invalid input where
    there is input, conflicts where it changes something."""
    statuses: set[int] = set()
    if operation.get("security"):
        statuses |= {401, 403, 429}
    parameters = {p.get("name") for p in operation.get("parameters", [])}
    if "{" in path or parameters & ACTING_ACCOUNT_PARAMETERS:
        statuses.add(404)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(shape.validation_status)
    if operation.get("requestBody"):
        statuses.add(400)  # a body that does not parse (not JSON, or not the form it declares)
    if method in _WRITES:
        statuses.add(409)
    return {s for s in statuses if s in shape.descriptions}


def _document_errors(document: Document, shape: ErrorShape) -> None:
    for path, method, operation in _operations(document):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for key, response in list(responses.items()):
            if set(_refs(response)) & set(_VALIDATION_ERROR_SCHEMAS):
                del responses[key]
        for status in sorted(_statuses(shape, path, method, operation)):
            existing = responses.get(str(status))
            described = existing.get("description") if existing else None
            responses[str(status)] = _error_response(
                shape, status, described or shape.descriptions[status]
            )
        for key, response in responses.items():
            if key.isdigit() and int(key) >= 400 and not response.get("content"):
                response["content"] = _error_response(shape, int(key), "")["content"]
            for header in response.get("headers", {}).values():
                header.setdefault("schema", {"type": "string"})
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[shape.schema_name] = copy.deepcopy(dict(shape.schema))
    for name, schema in shape.extra_schemas.items():
        schemas[name] = copy.deepcopy(dict(schema))


def _prune(document: Document) -> None:
    """Keep only the component schemas the paths reach, and the tags they use."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    pending = list(_refs(document["paths"]))
    while pending:
        name = pending.pop()
        if name in reached or name not in schemas:
            continue
        reached.add(name)
        pending.extend(_refs(schemas[name]))
    for name in list(schemas):
        if name not in reached:
            del schemas[name]
    used = {tag for _, _, op in _operations(document) for tag in op.get("tags", ())}
    if "tags" in document:
        document["tags"] = [t for t in document["tags"] if t["name"] in used]


def surface_document(full: Document, surface: Surface) -> Document:
    """The part of the app's generated document that belongs to ``surface``, finished."""
    document = copy.deepcopy(full)
    document["info"] = {**document["info"], "title": surface.title}
    document["info"]["description"] = surface.description
    document["info"].pop("summary", None)
    document["paths"] = {
        path: item for path, item in full["paths"].items() if path.startswith(surface.prefixes)
    }
    document["paths"] = copy.deepcopy(document["paths"])
    _document_errors(document, surface.errors)
    _prune(document)
    return document


def build_documents(app: FastAPI) -> dict[str, Document]:
    """Every surface's document, by surface name."""
    full = FastAPI.openapi(app)
    return {surface.name: surface_document(full, surface) for surface in SURFACES}


def _swagger_page(root: str) -> str:
    config = {
        "urls": [{"url": root + s.url, "name": s.title} for s in SURFACES],
        "urls.primaryName": SURFACES[0].title,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "persistAuthorization": True,
    }
    assets = root + ASSETS_URL
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tidings API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script>
const config = {json.dumps(config)};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
config.layout = "StandaloneLayout";
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve the documents and ``/docs``. ``app.openapi()`` returns the native document."""
    from swagger_ui_bundle import swagger_ui_path

    assets_dir = Path(str(swagger_ui_path))
    documents: dict[str, Document] = {}

    def documents_of() -> dict[str, Document]:
        if not documents:
            documents.update(build_documents(app))
        return documents

    def native() -> Document:
        return documents_of()["native"]

    app.openapi = native  # type: ignore[method-assign]

    def serve(surface: Surface) -> Callable[[], Any]:
        async def document() -> JSONResponse:
            return JSONResponse(documents_of()[surface.name])

        return document

    for surface in SURFACES[1:]:  # the first, the native one, is FastAPI's own openapi_url
        app.add_api_route(surface.url, serve(surface), include_in_schema=False)

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(_swagger_page(request.scope.get("root_path", "").rstrip("/")))

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return FileResponse(
            assets_dir / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )
