"""Service settings, read once from ``TIDINGS_*`` environment variables and passed explicitly."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Role(StrEnum):
    """Which halves of the service a process runs (``tidings serve --role``)."""

    API = "api"
    DISPATCHER = "dispatcher"
    ALL = "all"


class LogFormat(StrEnum):
    """How a long-running process writes its logs (``--log-format``)."""

    # Readable lines when standard error is a terminal, JSON lines otherwise.
    AUTO = "auto"
    HUMAN = "human"
    JSON = "json"


class SqliteSynchronous(StrEnum):
    """When a SQLite COMMIT returns (``PRAGMA synchronous``, in WAL mode)."""

    # Once the log is on disk: nothing committed is lost to a power cut or an OS crash.
    FULL = "full"
    # Once the log is written, synced only at checkpoints: faster, and a power cut or an OS crash
    # may undo the last transactions (a process crash loses nothing).
    NORMAL = "normal"


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Build one instance at process start (``Settings()``) and pass it down; nothing reads the
    environment again.
    """

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore")

    data_dir: Path = Path("./var")
    # Empty means: SQLite at <data_dir>/tidings.db (filled in by the validator below).
    database_url: str = ""
    sqlite_synchronous: SqliteSynchronous = SqliteSynchronous.FULL
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    simulator: bool = True
    simulator_port: int = Field(default=2775, ge=0, le=65535)
    simulator_control_port: int = Field(default=2776, ge=0, le=65535)
    # Listeners: an HTTP connection must send a whole request head within the header timeout
    # (from connecting or from its last answer) and its body within the body timeout; an SMPP
    # connection to the simulator must bind within the bind timeout and is closed after the
    # inactivity timeout without a PDU. Connections held at once per listener, in total and per
    # peer address (0 = derived from the process's file limit, net/admission.py).
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_keepalive_seconds: float = Field(default=5.0, gt=0)
    http_max_connections: int = Field(default=0, ge=0)
    http_max_connections_per_address: int = Field(default=0, ge=0)
    smpp_bind_timeout_seconds: float = Field(default=30.0, gt=0)
    smpp_inactivity_timeout_seconds: float = Field(default=120.0, gt=0)
    smpp_max_connections: int = Field(default=0, ge=0)
    smpp_max_connections_per_address: int = Field(default=0, ge=0)
    # The embedded simulator accepts malformed submits instead of refusing them as a strict
    # SMSC does (ESME_RINVMSGLEN, ESME_RINVDCS, ESME_RINVESMCLASS...).
    simulator_lenient: bool = False
    # The simulator's phone network (voice calls over SIP/UDP); 0 takes any free port.
    simulator_sip_port: int = Field(default=0, ge=0, le=65535)
    # The simulator's MMSC (MMS over MM7, HTTP); 0 takes any free port.
    simulator_mms_port: int = Field(default=0, ge=0, le=65535)
    # The simulator's fax gateway (T.37, SMTP) and printer (IPP over HTTP); 0 takes any free port.
    simulator_fax_port: int = Field(default=0, ge=0, le=65535)
    simulator_printer_port: int = Field(default=0, ge=0, le=65535)
    # The simulator's print-and-mail house (an SFTP drop); 0 takes any free port.
    simulator_print_house_port: int = Field(default=0, ge=0, le=65535)
    # The SMTP listener fax gateways mail their reports (DSN, MDN) to: the MX of fax routes'
    # sender domain. 0 takes any free port (enough for the simulator's gateway).
    fax_report_host: str = "127.0.0.1"
    fax_report_port: int = Field(default=0, ge=0, le=65535)
    # The simulator's WhatsApp Cloud API (Graph API over HTTP); 0 takes any free port.
    simulator_whatsapp_port: int = Field(default=0, ge=0, le=65535)
    # How long a listing of WhatsApp templates trusts the last sync with Meta (per account and
    # WhatsApp Business Account, per process) before it asks the WABA again.
    whatsapp_template_sync_seconds: float = Field(default=10.0, ge=0, le=3600)
    redis_url: str | None = None
    webhook_allow_loopback: bool = False
    # A ``limits`` rate string; accounts may override it.
    rate_limit: str = "100/60 seconds"
    # 10,000 recipients with personalisation fit comfortably in 5 MiB.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    role: Role = Role.ALL
    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "info"
    # Routes and senders to create or update at every start (see core/config_file.py).
    config_file: Path | None = None
    # Preview pricing: price = parts × price_per_part.
    price_per_part: Decimal = Decimal("0.05")
    # A voice message is billed per 300 characters of its text (as ClickSend does), not per
    # SMS part.
    voice_price_per_unit: Decimal = Decimal("0.10")
    # Documents: a fax per page sent, a letter per page printed (colour dearer), priority post
    # per letter on top, a postcard each.
    fax_price_per_page: Decimal = Decimal("0.10")
    letter_price_per_page: Decimal = Decimal("0.90")
    letter_price_per_colour_page: Decimal = Decimal("1.20")
    priority_post_price: Decimal = Decimal("1.00")
    postcard_price: Decimal = Decimal("1.50")
    currency: str = "EUR"
    # Verified API secrets are remembered this long. A key revoked (or an account suspended) in
    # another process stops working at once all the same: on SQLite the next request reads the
    # store's count of such changes; on PostgreSQL LISTEN/NOTIFY tells (within this while the
    # listening is down).
    auth_cache_seconds: float = Field(default=1.0, ge=0)
    # Failed sign-ins (wrong or unknown API secrets) allowed per client address; beyond, 429.
    failed_sign_in_rate: str = "20/60 seconds"
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks, a
    # JSON list): a TLS proxy in front makes requests https (OAuth2 needs it) and names the
    # client's address (failed sign-ins are counted per address).
    trusted_proxies: list[str] = []
    # Client addresses or networks (a JSON list, e.g. ["127.0.0.1/32"]) that may read /metrics
    # and drive the embedded simulator's control routes (/v1/simulator) without a key; anyone
    # else needs an operator key (Prometheus: its authorization setting). Behind a proxy on the
    # same host, list the proxy in trusted_proxies, or everyone it forwards comes from loopback.
    operations_networks: list[IPvAnyNetwork] = []
    # How long a request_id / Idempotency-Key replays its first answer.
    idempotency_days: int = Field(default=7, gt=0)
    # How often a process that dispatches prunes the records older than that.
    idempotency_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    # Where the OAuth2 authorization server (SmartDialog dialect) may send codes: Power Automate's
    # global consent redirect by default; a JSON list in TIDINGS_OAUTH_REDIRECT_URIS adds others.
    oauth_redirect_uris: list[str] = ["https://global.consent.azure-apim.net/redirect"]
    # Region for reading local numbers when an account is created without one.
    default_region: str = "FI"
    max_recipients: int = Field(default=10_000, gt=0)
    default_max_parts: int = Field(default=10, ge=1, le=255)
    # Webhook and dlr_url delivery (the events outbox). Private networks (RFC 1918, fc00::/7) are
    # refused as targets unless allowed; metadata and link-local addresses are always refused.
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_concurrency: int = Field(default=64, ge=1)
    webhook_concurrency_per_host: int = Field(default=4, ge=1)
    # Full-jitter exponential backoff: retry n waits uniform(0, min(cap, base * 2**(n-1))).
    webhook_backoff_base_seconds: float = Field(default=1.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_give_up_after_seconds: float = Field(default=25 * 3600.0, gt=0)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # Submit outcomes per status-writer transaction, and so the most submits the SMSC may have
    # accepted while their record is not committed: after a kill -9 those are sent again. A
    # smaller batch bounds those duplicates tighter, for some throughput.
    status_write_batch: int = Field(default=1000, ge=1)
    # A message still without a receipt this long after its submit becomes ``unknown`` (with a
    # history entry); a receipt that comes later still corrects it. The carrier's validity
    # period (commonly 48 h), then a grace for receipts on their way.
    receipt_validity_seconds: float = Field(default=48 * 3600.0, gt=0)
    receipt_grace_seconds: float = Field(default=3600.0, ge=0)
    # A campaign completes when a message sent this long ago still has no receipt.
    campaign_receipt_wait_seconds: float = Field(default=72 * 3600.0, gt=0)
    outbox_batch_size: int = Field(default=256, ge=1)
    # The web console at / (console/): a signed-in browser stays signed in this long idle;
    # sign-in attempts are limited per client address and per e-mail address.
    console: bool = True
    console_session_idle_seconds: float = Field(default=12 * 3600.0, gt=0)
    console_signin_rate: str = "10/5 minutes"
    # --- server secret, public address, media ---
    # Per-purpose keys (media URL signing, ...) derive from this. Unset: a secret generated once
    # and kept in the database, so every process sharing it agrees.
    secret_key: SecretStr | None = None
    # Where handsets, carriers, webhook receivers and OAuth2 clients reach this service (signed
    # media URLs, MM7 callbacks, the OAuth2 endpoints' own URL and the console's connector
    # definitions), e.g. https://sms.example.com. Unset: the address a request came in on, else
    # http://<http_host>:<http_port>.
    public_url: str | None = None
    # The largest media file taken (upload or fetch from a URL); routes convert to their own
    # maximum message size when sending.
    media_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # How long a signed media URL works (an MMS fallback link may be opened days later).
    media_url_ttl_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    media_fetch_timeout_seconds: float = Field(default=30.0, gt=0)
    # Media that no message uses (uploads never sent, conversions, their blobs) is removed once
    # this old, and never before its signed links expire (media_url_ttl_seconds).
    media_retention_days: float = Field(default=30.0, gt=0)
    # How often a process that dispatches looks for such media.
    media_collect_interval_seconds: float = Field(default=3600.0, gt=0)
    # How long a carrier's id of an inbound message (a WhatsApp wamid) is kept after the
    # message's own time, so that the carrier sending the message again stores it once. Meta
    # sends a webhook again for up to 7 days until it is answered 200; twice that leaves room
    # for our own outage and for clocks that disagree, and costs a row per message. Nothing
    # else reads these ids (a user's reply names our outbound wamid, kept with the message).
    # A message stamped longer ago than this is not stored (core.inbound_references): no retry
    # of Meta's is that old, and its id may be gone. Never less than Meta's 7 days.
    inbound_reference_retention_days: float = Field(default=14.0, ge=7.0)
    # How often a process that dispatches prunes the older ones.
    inbound_reference_prune_interval_seconds: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'tidings.db'}"
        if self.public_url is not None:
            self.public_url = self.public_url.rstrip("/") or None
        return self

    @property
    def inbound_references_kept_for(self) -> timedelta:
        return timedelta(days=self.inbound_reference_retention_days)

    def public_base_url(self, bound_port: int | None = None) -> str:
        """The configured public URL, else this process's own HTTP address."""
        if self.public_url:
            return self.public_url
        return f"http://{self.http_host}:{bound_port or self.http_port}"
