"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from tidings import __version__
from tidings.api.auth import ServicesDep, operations
from tidings.api.dialects import clicksend, smartdialog, truedialog
from tidings.api.limits import BodySizeLimit, RateLimiter
from tidings.api.metrics import ServiceMetrics
from tidings.api.openapi import install_docs
from tidings.api.problems import install_problem_handlers, problem
from tidings.api.shortcuts import ShortcutApp
from tidings.api.state import Services
from tidings.api.v1 import (
    admin,
    campaigns,
    compliance,
    contacts,
    conversations,
    media,
    messages,
    return_addresses,
    services,
    voice,
    webhooks,
    whatsapp,
)
from tidings.config import Settings
from tidings.core.accounts import Authenticator
from tidings.core.hooks import INBOUND_HOOKS, status_hooks
from tidings.core.intake import Intake
from tidings.core.media import media_library
from tidings.core.secrets import secret_source
from tidings.core.setup import prepare_database
from tidings.dispatch.reception import Reception
from tidings.dispatch.transport import TransportRegistry
from tidings.dispatch.transports import default_transports
from tidings.dispatch.transports.whatsapp import TemplateSync
from tidings.store.engine import Database


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    migrate: bool = True,
    registry: CollectorRegistry | None = None,
    on_accepted: Callable[[], None] | None = None,
    routers: Sequence[APIRouter] = (),
    transports: TransportRegistry | None = None,
    reception: Reception | None = None,
) -> FastAPI:
    """Build the HTTP app.

    The lifespan opens the database from ``settings`` (or uses ``database``, which the caller
    then owns and closes), migrates it unless ``migrate`` is false, and builds the per-app
    authenticator, rate limiter and metrics registry (or uses ``registry``, shared with a
    dispatcher in the same process). ``on_accepted`` is called after new messages are stored;
    ``routers`` are mounted as they are (the embedded simulator's endpoints); the web console
    is added by whoever wants it (``console.install_console``, as the service does).
    ``transports`` are the route kinds it knows (the built-in ones by default); each one's
    callback endpoints are mounted under ``/carriers/<kind>`` and write through ``reception``
    (or the app's own, started at its first use and stopped with the app).
    """
    registry_of_transports = default_transports() if transports is None else transports

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = (
            Database.from_url(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
            if database is None
            else database
        )
        try:
            if migrate:
                await prepare_database(db, settings, registry_of_transports)
            metrics_registry = registry or CollectorRegistry(auto_describe=True)
            intake = Intake(db, on_stored=on_accepted)
            intake.start()
            secrets = secret_source(db, settings)
            media = media_library(db, settings, secrets)
            own_reception: Reception | None = None
            active_reception = reception
            if active_reception is None:
                active_reception = own_reception = Reception(
                    db,
                    registry=metrics_registry,
                    status_hooks=status_hooks(media, settings.public_base_url),
                    inbound_hooks=INBOUND_HOOKS,
                    reference_variants=registry_of_transports.reference_variants(),
                    after_inbound=on_accepted,
                    references_kept_for=settings.inbound_references_kept_for,
                )
            rate_limiter = RateLimiter(settings.rate_limit, redis_url=settings.redis_url)
            authenticator = Authenticator(
                db, cache_seconds=settings.auth_cache_seconds, secrets=secrets
            )
            authenticator.start()
            app.state.services = Services(
                settings=settings,
                database=db,
                authenticator=authenticator,
                secrets=secrets,
                rate_limiter=rate_limiter,
                metrics=metrics_registry,
                intake=intake,
                media=media,
                transports=registry_of_transports,
                reception=active_reception,
                whatsapp_templates=TemplateSync(settings.whatsapp_template_sync_seconds),
            )
            app.state.service_metrics = ServiceMetrics(metrics_registry)
            try:
                yield
            finally:
                await authenticator.close()
                await intake.close()
                rate_limiter.close()
                if own_reception is not None:
                    await own_reception.stop()
        finally:
            if owned:
                await db.close()

    app = ShortcutApp(
        max_body_bytes=settings.max_body_bytes,
        title="tidings",
        version=__version__,
        summary="Self-hosted business messaging over SMPP 3.4",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # api/openapi.py serves /docs from local files
        redoc_url=None,
    )
    install_problem_handlers(app)
    install_docs(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(messages.router)
    app.include_router(voice.router)
    app.add_shortcut("POST", "/v1/messages", messages.answer_common_send)
    app.include_router(admin.router)
    app.include_router(webhooks.router)
    app.include_router(contacts.router)
    app.include_router(compliance.router)
    app.include_router(conversations.router)
    app.include_router(truedialog.router)
    app.include_router(services.router)
    app.include_router(whatsapp.router)
    app.include_router(smartdialog.build_router())
    app.include_router(smartdialog.build_oauth_router())
    app.include_router(clicksend.router)
    app.include_router(campaigns.router)
    app.include_router(return_addresses.router)
    app.include_router(media.router)
    for router in routers:
        app.include_router(router)

    def current_reception() -> Reception:
        found: Services = app.state.services
        return found.reception

    for transport in registry_of_transports.transports():
        callbacks = transport.callback_router(current_reception)
        if callbacks is not None:
            app.include_router(callbacks, prefix=f"/carriers/{transport.kind}", tags=["carriers"])

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        """Answers while the process runs: a liveness probe. It does not touch the database."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database answers",
        response_model=None,
        responses={503: {"description": "The database does not answer."}},
    )
    async def readyz(found: ServicesDep) -> dict[str, str] | JSONResponse:
        """Answers 200 while the database answers, 503 otherwise: a readiness probe."""
        try:
            await found.database.ping()
        except Exception as error:  # any failure means "not ready"; the reason goes in the answer
            return problem(503, f"database unreachable: {type(error).__name__}")
        return {"status": "ready"}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        dependencies=[Depends(operations)],
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus's text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics(request: Request, found: ServicesDep) -> Response:
        """This process's metrics in Prometheus's text format: messages by status, queue depth,
        submits, receipts, binds and windows per route. For an operator key, or a client in
        ``TIDINGS_OPERATIONS_NETWORKS``."""
        service_metrics: ServiceMetrics = request.app.state.service_metrics
        await service_metrics.refresh(found.database)
        return Response(generate_latest(found.metrics), media_type=CONTENT_TYPE_LATEST)

    return app
