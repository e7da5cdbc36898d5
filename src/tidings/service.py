"""The running service: HTTP API, dispatcher and (optionally) the embedded SMSC simulator in one
process, started and stopped in the right order.

``tidings serve --role api|dispatcher|all`` picks the halves. Several API and dispatcher
processes may share one PostgreSQL database; on SQLite run one ``all`` process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client import CollectorRegistry

from tidings.api import create_app
from tidings.api.auth import operations
from tidings.config import Role, Settings
from tidings.console import install_console
from tidings.core import console_users, idempotency_pruning, inbound_references, routing
from tidings.core.accounts import create_account, create_api_key, get_account
from tidings.core.campaigns import CampaignRunner
from tidings.core.hooks import INBOUND_HOOKS, status_hooks
from tidings.core.media import collect_periodically, media_library
from tidings.core.mms import MM7_KIND, ensure_mms_simulator_route
from tidings.core.routing import ensure_embedded_route, ensure_phone_simulator_route
from tidings.core.secrets import SecretSource, secret_source
from tidings.core.setup import prepare_database
from tidings.core.whatsapp import (
    WHATSAPP_KIND,
    WHATSAPP_SIMULATOR_ROUTE,
    ensure_whatsapp_simulator_route,
)
from tidings.dispatch import Dispatcher, DispatcherConfig
from tidings.dispatch.transport import TransportRegistry
from tidings.dispatch.transports import default_transports
from tidings.dispatch.transports.fax_smtp import FAX_SMTP_KIND, FaxReportReception
from tidings.dispatch.transports.ipp import IPP_KIND
from tidings.dispatch.transports.sftp import SFTP_KIND
from tidings.errors import AlreadyExists, NotFound, listening
from tidings.events.delivery import OutboxWorker
from tidings.http_server import EmbeddedHttpServer, HttpTimeouts
from tidings.net.admission import default_limits
from tidings.net.mm7 import BasicAuth
from tidings.simulator import Simulator, SimulatorConfig
from tidings.simulator.control import control_router
from tidings.simulator.fax_gateway import FaxGatewayConfig
from tidings.simulator.mmsc import MmscConfig
from tidings.simulator.phones import PhoneNetworkConfig
from tidings.simulator.print_house import PrintHouseConfig
from tidings.simulator.printer import PrinterConfig
from tidings.simulator.whatsapp import BusinessNumber, CloudApi, CloudApiConfig
from tidings.simulator.whatsapp_control import whatsapp_router
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.ids import random_token
from tidings.store.records import RouteRecord

log = structlog.get_logger("tidings.service")

DEMO_CREDENTIALS_FILE = "demo-credentials.json"
# The embedded Cloud API's business number, registered as a sender of the demo account.
DEMO_WHATSAPP_NUMBER = BusinessNumber(
    phone_number_id="109876543210001", display_phone_number="+358409990100"
)
# The demo account's own number: a handset's reply to it arrives in the demo account's inbound
# messages (`tidings simulator inbound --to` it), as a registered number's would.
DEMO_NUMBER = "+358405550100"
# What the API's port was for, when it cannot be listened on (``PortUnavailable.listener``).
HTTP_LISTENER = "HTTP API"
FAX_REPORT_LISTENER = "fax report listener (SMTP)"
# The routes to the simulator's fax gateway, printer and print-and-mail house.
FAX_SIMULATOR_ROUTE = "fax"
POST_SIMULATOR_ROUTE = "post"
PRINT_HOUSE_SIMULATOR_ROUTE = "house"


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    account_id: str
    key_id: str
    secret: str


async def ensure_demo_account(
    database: Database, data_dir: Path, secrets: SecretSource | None = None
) -> DemoCredentials:
    """The demo account ``make run`` prints. Its secret is hashed in the database like any other;
    the plain copy lives only in ``<data_dir>/demo-credentials.json`` (mode 0600), so that every
    start shows the same credentials (``tidings serve`` also saves them for the CLI)."""
    path = data_dir / DEMO_CREDENTIALS_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        credentials = DemoCredentials(saved["account_id"], saved["key_id"], saved["secret"])
    else:
        account = await create_account(database, "Demo", region="FI", timezone="Europe/Helsinki")
        key = await create_api_key(database, account.id, name="demo", secrets=secrets)
        credentials = DemoCredentials(account.id, key.key.id, key.secret)
        await asyncio.to_thread(_write_private_json, path, credentials)
    await _own_demo_number(database, credentials.account_id)
    return credentials


async def _own_demo_number(database: Database, account_id: str) -> None:
    """Register :data:`DEMO_NUMBER` for the demo account, unless some account owns it already
    (the demo's, or one an operator gave it to)."""
    if await routing.owner_of_number(database, DEMO_NUMBER) is not None:
        return
    with contextlib.suppress(AlreadyExists, NotFound):
        account = await get_account(database, account_id)
        await routing.add_sender(database, account, DEMO_NUMBER)


def _write_private_json(path: Path, credentials: DemoCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(
            {
                "account_id": credentials.account_id,
                "key_id": credentials.key_id,
                "secret": credentials.secret,
            },
            file,
            indent=2,
        )


DEMO_CONSOLE_FILE = "demo-console.json"
DEMO_CONSOLE_EMAIL = "demo@example.com"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str


async def ensure_demo_console_user(
    database: Database, data_dir: Path, account_id: str
) -> DemoLogin:
    """The console user ``make run`` prints: the operator, in the demo account, so a person
    trying tidings sees every page (routes, the simulator). Like the API secret,
    its password is hashed in the database and kept in plain only in
    ``<data_dir>/demo-console.json`` (mode 0600)."""
    path = data_dir / DEMO_CONSOLE_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        return DemoLogin(saved["email"], saved["password"])
    password = console_users.generate_password()
    if await console_users.find_user(database, DEMO_CONSOLE_EMAIL) is None:
        await console_users.create_user(
            database,
            account_id,
            DEMO_CONSOLE_EMAIL,
            password,
            role=console_users.ConsoleRole.OPERATOR,
            name="Demo",
        )
    else:  # the file was removed: a new password, so the printed one works
        await console_users.reset_password(database, DEMO_CONSOLE_EMAIL, password)
    login = DemoLogin(DEMO_CONSOLE_EMAIL, password)
    await asyncio.to_thread(
        _write_private, path, {"email": login.email, "password": login.password}
    )
    return login


def _write_private(path: Path, content: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(content, file, indent=2)


async def ensure_demo_whatsapp_sender(database: Database, account_id: str) -> None:
    """The embedded Cloud API's business number as a sender of the demo account, on the
    ``whatsapp`` route (SMS from it still go by the default SMS route)."""
    account = await get_account(database, account_id)
    with contextlib.suppress(AlreadyExists):
        await routing.add_sender(
            database,
            account,
            DEMO_WHATSAPP_NUMBER.display_phone_number,
            route_name=WHATSAPP_SIMULATOR_ROUTE,
        )


def _mmsc_config(route: RouteRecord | None, port: int) -> MmscConfig | None:
    """The embedded MMSC, with the credentials its route keeps (see core.mms)."""
    if route is None or route.kind != MM7_KIND:
        return None
    password = route.secrets.get("password")
    return MmscConfig(
        host="127.0.0.1",
        port=port,
        username=route.settings.get("username"),
        password=None if password is None else str(password),
    )


class Service:
    """One process of tidings. ``start`` returns once every part is listening."""

    def __init__(
        self,
        settings: Settings,
        *,
        role: Role | None = None,
        transports: TransportRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.role = role or settings.role
        # The route kinds this process serves: the built-in transports unless given.
        self.transports = default_transports() if transports is None else transports
        self.database = Database.from_url(
            settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
        )
        self.registry = CollectorRegistry(auto_describe=True)
        self.simulator: Simulator | None = None
        self.dispatcher: Dispatcher | None = None
        self.outbox: OutboxWorker | None = None
        self.campaigns: CampaignRunner | None = None
        self._media_collection: asyncio.Task[None] | None = None
        self._reference_pruning: asyncio.Task[None] | None = None
        self._idempotency_pruning: asyncio.Task[None] | None = None
        self.http_port: int | None = None
        self.demo: DemoCredentials | None = None
        self.demo_login: DemoLogin | None = None
        self._http: EmbeddedHttpServer | None = None
        self._app: FastAPI | None = None
        self.secrets = secret_source(self.database, settings)
        self._mms_route: RouteRecord | None = None
        self.fax_reports: FaxReportReception | None = None
        # The embedded WhatsApp Cloud API (with the simulator) and the route that reaches it.
        self.cloud_api: CloudApi | None = None
        self._whatsapp_route: RouteRecord | None = None

    @property
    def runs_api(self) -> bool:
        return self.role in (Role.API, Role.ALL)

    @property
    def runs_dispatcher(self) -> bool:
        return self.role in (Role.DISPATCHER, Role.ALL)

    async def start(self, *, demo_account: bool = False) -> None:
        """Start every part; if one cannot start (a port in use), stop those already started."""
        try:
            await self._start(demo_account=demo_account)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, *, demo_account: bool) -> None:
        settings = self.settings
        await prepare_database(self.database, settings, self.transports)
        if demo_account:
            self.demo = await ensure_demo_account(self.database, settings.data_dir, self.secrets)
            if settings.console:
                self.demo_login = await ensure_demo_console_user(
                    self.database, settings.data_dir, self.demo.account_id
                )
        mms_route: RouteRecord | None = None
        if self.runs_dispatcher:
            # Before the simulator: its fax gateway mails its reports here.
            self.fax_reports = FaxReportReception(
                settings.fax_report_host,
                settings.fax_report_port,
                lambda: None if self.dispatcher is None else self.dispatcher.reception,
            )
            with listening(FAX_REPORT_LISTENER, settings.fax_report_host, settings.fax_report_port):
                await self.fax_reports.start()
        if settings.simulator and self.runs_dispatcher:
            mms_route = await ensure_mms_simulator_route(
                self.database,
                self.transports,
                url=f"http://127.0.0.1:{settings.simulator_mms_port}/mm7",
            )
            self.simulator = Simulator(
                SimulatorConfig(
                    host="127.0.0.1",
                    smpp_port=settings.simulator_port,
                    control_port=settings.simulator_control_port,
                    phones=PhoneNetworkConfig(
                        host="127.0.0.1", sip_port=settings.simulator_sip_port
                    ),
                    strict=not settings.simulator_lenient,
                    mmsc=_mmsc_config(mms_route, settings.simulator_mms_port),
                    fax=None
                    if self.fax_reports is None
                    else FaxGatewayConfig(
                        port=settings.simulator_fax_port,
                        report_host=settings.fax_report_host,
                        report_port=self.fax_reports.port,
                    ),
                    printer=PrinterConfig(port=settings.simulator_printer_port),
                    print_house=PrintHouseConfig(port=settings.simulator_print_house_port),
                    bind_timeout_s=settings.smpp_bind_timeout_seconds,
                    inactivity_timeout_s=settings.smpp_inactivity_timeout_seconds,
                    max_connections=settings.smpp_max_connections,
                    max_connections_per_address=settings.smpp_max_connections_per_address,
                )
            )
            await self.simulator.start()
            if self.simulator.mmsc is not None:
                # The route follows the MMSC's port (a free one when 0 was asked for).
                self._mms_route = await ensure_mms_simulator_route(
                    self.database, self.transports, url=self.simulator.mmsc.url
                )
            if self.simulator.phones is not None:
                await ensure_phone_simulator_route(
                    self.database, self.transports, port=self.simulator.phones.sip_port
                )
            await self._ensure_document_routes(self.simulator)
            await self._start_cloud_api()
            if self.cloud_api is not None:
                # Handsets' WhatsApp from `tidings simulator whatsapp`, like their SMS.
                self.simulator.mount_control(whatsapp_router(self.cloud_api))
        if self.runs_dispatcher:
            media = media_library(self.database, settings, self.secrets)
            # Callbacks (dlr_url, webhooks) are rows written with the status change that causes
            # them, then delivered by the outbox worker with retries.
            self.outbox = OutboxWorker(self.database, settings)
            self.outbox.start()
            self.dispatcher = Dispatcher(
                self.database,
                DispatcherConfig(
                    shared_database=self.database.dialect == "postgresql",
                    max_write_batch=settings.status_write_batch,
                    receipt_deadline=timedelta(
                        seconds=settings.receipt_validity_seconds + settings.receipt_grace_seconds
                    ),
                    inbound_references_kept_for=settings.inbound_references_kept_for,
                ),
                registry=self.registry,
                status_hooks=status_hooks(media, self._public_base_url),
                inbound_hooks=INBOUND_HOOKS,
                transports=self.transports,
                media=media,
            )
            await self.dispatcher.start()
            # Campaign expansion writes to the queue the dispatcher reads, so it lives here.
            self.campaigns = CampaignRunner(
                self.database,
                shared_database=self.database.dialect == "postgresql",
                on_stored=self.dispatcher.notify,
                receipt_wait=timedelta(seconds=self.settings.campaign_receipt_wait_seconds),
            )
            await self.campaigns.start()
            # Media no message uses goes after the retention period; any dispatching process
            # may collect it (a collection is idempotent, so several on PostgreSQL agree).
            self._media_collection = asyncio.create_task(
                collect_periodically(
                    media, interval_seconds=settings.media_collect_interval_seconds
                )
            )
            # So do carriers' references of inbound messages, once no carrier sends those
            # messages again (core.inbound_references).
            self._reference_pruning = asyncio.create_task(
                inbound_references.prune_periodically(
                    self.database,
                    retention=settings.inbound_references_kept_for,
                    interval_seconds=settings.inbound_reference_prune_interval_seconds,
                )
            )
            # And idempotency records past their window (core.idempotency_pruning).
            self._idempotency_pruning = asyncio.create_task(
                idempotency_pruning.prune_periodically(
                    self.database,
                    window=timedelta(days=settings.idempotency_days),
                    interval_seconds=settings.idempotency_prune_interval_seconds,
                )
            )
        if self.runs_api:
            await self._start_api()
        self._point_mmsc_at_us()
        self._point_cloud_api_at_us()

    async def _start_cloud_api(self) -> None:
        """The embedded WhatsApp Cloud API with the credentials of its route (made with new
        ones the first time), and the demo business number."""
        async with self.database.read() as connection:
            route = await route_store.find_route_by_name(connection, WHATSAPP_SIMULATOR_ROUTE)
        kept = {} if route is None else route.secrets
        config = CloudApiConfig(
            host="127.0.0.1",
            port=self.settings.simulator_whatsapp_port,
            access_token=str(kept.get("access_token") or random_token(24)),
            app_secret=str(kept.get("app_secret") or random_token(24)),
            verify_token=str(kept.get("verify_token") or random_token(12)),
            numbers=(DEMO_WHATSAPP_NUMBER,),
        )
        self.cloud_api = CloudApi(config)
        await self.cloud_api.start()
        assert config.access_token is not None
        self._whatsapp_route = await ensure_whatsapp_simulator_route(
            self.database,
            self.transports,
            base_url=self.cloud_api.base_url,
            waba_id=config.waba_id,
            phone_number_id=DEMO_WHATSAPP_NUMBER.phone_number_id,
            access_token=config.access_token,
            app_secret=config.app_secret,
            verify_token=config.verify_token,
            app_id=config.app_id,
        )
        if self.demo is not None:
            await ensure_demo_whatsapp_sender(self.database, self.demo.account_id)

    def _point_cloud_api_at_us(self) -> None:
        """The embedded Cloud API sends its webhooks to our endpoint for its route."""
        route = self._whatsapp_route
        if self.cloud_api is None or route is None or route.kind != WHATSAPP_KIND:
            return
        self.cloud_api.set_webhook(f"{self._callback_base()}/carriers/{WHATSAPP_KIND}/{route.name}")

    def _callback_base(self) -> str:
        """Where simulated far ends reach this service: this process when it serves the API,
        else the public URL (an API process elsewhere)."""
        if self.http_port is not None:
            return f"http://127.0.0.1:{self.http_port}"
        return self.settings.public_base_url()

    async def _ensure_document_routes(self, simulator: Simulator) -> None:
        """The ``fax`` route to the simulator's fax gateway, the ``post`` route to its printer
        and the ``house`` route to its print-and-mail house's SFTP drop, following their ports
        (and the house's host key)."""
        if simulator.fax is not None and self.transports.find(FAX_SMTP_KIND) is not None:
            await ensure_embedded_route(
                self.database,
                self.transports,
                name=FAX_SIMULATOR_ROUTE,
                kind=FAX_SMTP_KIND,
                settings={
                    "security": "none",
                    "gateway_domain": simulator.fax.config.domain,
                    # Any domain: the simulator's gateway mails reports to the listener.
                    "sender": "fax@reports.tidings.localhost",
                },
                follows={"host": "127.0.0.1", "port": simulator.fax.port},
            )
        if simulator.printer is not None and self.transports.find(IPP_KIND) is not None:
            await ensure_embedded_route(
                self.database,
                self.transports,
                name=POST_SIMULATOR_ROUTE,
                kind=IPP_KIND,
                settings={},
                follows={"printer_uri": simulator.printer.uri},
            )
        house = simulator.print_house
        if house is not None and self.transports.find(SFTP_KIND) is not None:
            await ensure_embedded_route(
                self.database,
                self.transports,
                name=PRINT_HOUSE_SIMULATOR_ROUTE,
                kind=SFTP_KIND,
                settings={
                    "username": house.config.username,
                    "password": house.config.password,
                    "directory": house.config.directory,
                    "collection_poll_seconds": 1,
                },
                # The house makes its host key at each start: the route pins the current one.
                follows={"host": "127.0.0.1", "port": house.port, "host_key": house.host_key},
            )

    def _public_base_url(self) -> str:
        """Where links to this service point (TIDINGS_PUBLIC_URL, else its own address)."""
        return self.settings.public_base_url(self.http_port)

    def _point_mmsc_at_us(self) -> None:
        """The embedded MMSC sends reports and inbound MMS to our MM7 endpoint: this process's
        when it serves the API, else the public URL (an API process elsewhere)."""
        mmsc = None if self.simulator is None else self.simulator.mmsc
        route = self._mms_route
        if mmsc is None or route is None or route.kind != MM7_KIND:
            return
        base = self._callback_base()
        secrets = route.secrets
        auth = None
        if route.settings.get("inbound_username") and secrets.get("inbound_password"):
            auth = BasicAuth(
                str(route.settings["inbound_username"]), str(secrets["inbound_password"])
            )
        mmsc.set_vasp(f"{base}/carriers/{MM7_KIND}/{route.name}", auth)

    async def _start_api(self) -> None:
        routers: list[APIRouter] = []
        if self.simulator is not None:
            # Anyone reaching the API could otherwise read every handset and inject traffic.
            simulator_router = APIRouter(
                prefix="/v1/simulator", tags=["simulator"], dependencies=[Depends(operations)]
            )
            simulator_router.include_router(control_router(self.simulator))
            if self.cloud_api is not None:
                simulator_router.include_router(whatsapp_router(self.cloud_api))
            routers.append(simulator_router)
        notify: Callable[[], None] | None = (
            self.dispatcher.notify if self.dispatcher is not None else None
        )
        app = create_app(
            self.settings,
            database=self.database,
            migrate=False,
            registry=self.registry,
            on_accepted=notify,
            routers=routers,
            transports=self.transports,
            # With a dispatcher here, far ends that call over HTTP share its status writer.
            reception=None if self.dispatcher is None else self.dispatcher.reception,
        )
        if self.settings.console:
            install_console(app, simulator=self.simulator, whatsapp=self.cloud_api)
        self._app = app
        settings = self.settings
        host, port = settings.http_host, settings.http_port
        with listening(HTTP_LISTENER, host, port):
            self._http = await EmbeddedHttpServer.start(
                app,
                host,
                port,
                timeouts=HttpTimeouts(
                    header=settings.http_header_timeout_seconds,
                    body=settings.http_body_timeout_seconds,
                    keep_alive=settings.http_keepalive_seconds,
                ),
                limits=default_limits(
                    0.5,
                    max_total=settings.http_max_connections,
                    max_per_address=settings.http_max_connections_per_address,
                ),
                trusted_proxies=settings.trusted_proxies,
            )
        self.http_port = self._http.port

    async def stop(self) -> None:
        """API first (no new work), then the dispatcher (finishes and records in-flight work),
        then the simulator, then the database."""
        console = None if self._app is None else getattr(self._app.state, "console", None)
        if console is not None:
            # Live streams never end by themselves; the HTTP server would wait for them.
            await console.close()
        if self._http is not None:
            await self._http.stop()
        if self.campaigns is not None:
            await self.campaigns.stop()
        for periodic in (
            self._media_collection,
            self._reference_pruning,
            self._idempotency_pruning,
        ):
            if periodic is not None:
                periodic.cancel()
                await asyncio.gather(periodic, return_exceptions=True)
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.outbox is not None:
            await self.outbox.stop()
        # Nothing is left to feed these listeners; they stop side by side (each HTTP server
        # takes a few tenths of a second to wind down).
        stopping: list[Awaitable[None]] = []
        if self.simulator is not None:
            stopping.append(self.simulator.stop())
        if self.fax_reports is not None:
            stopping.append(self.fax_reports.stop())
        if self.cloud_api is not None:
            stopping.append(self.cloud_api.stop())
        await asyncio.gather(*stopping)
        await self.database.close()


async def serve_forever(service: Service, on_started: Callable[[Service], None]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start(demo_account=service.runs_api)
    try:
        on_started(service)
        await stop.wait()
    finally:
        log.info("stopping")
        await service.stop()
