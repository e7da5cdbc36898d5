"""What one app instance holds: settings, database, authenticator, rate limiter, metrics,
transports and reception."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from tidings.api.limits import RateLimiter
from tidings.config import Settings
from tidings.core.accounts import Authenticator
from tidings.core.intake import Intake
from tidings.core.media import MediaLibrary
from tidings.core.secrets import SecretSource
from tidings.dispatch.reception import Reception
from tidings.dispatch.transport import TransportRegistry
from tidings.dispatch.transports.whatsapp import TemplateSync
from tidings.store.engine import Database
from tidings.voice.tts import EspeakEngine, SpeechEngine


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    authenticator: Authenticator
    rate_limiter: RateLimiter
    metrics: CollectorRegistry
    intake: Intake
    media: MediaLibrary
    # The server secret: API key hashes, media URL signatures and other per-purpose keys.
    secrets: SecretSource
    # The transports this service knows (route kinds), and the way in for reports and
    # inbound messages that far ends send to this process over HTTP.
    transports: TransportRegistry
    reception: Reception
    # The speech engine voice messages are checked against (its languages).
    speech: SpeechEngine = field(default_factory=EspeakEngine)
    # WhatsApp templates brought up to date with Meta when listed (a short cache).
    whatsapp_templates: TemplateSync = field(default_factory=lambda: TemplateSync(10.0))
