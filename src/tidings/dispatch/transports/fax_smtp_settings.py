"""The settings of a fax-smtp route: a T.37 fax gateway (offramp) that takes faxes by e-mail."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr

from tidings.core.transport_settings import RequestSettings
from tidings.documents.fax import FaxResolution
from tidings.documents.tiff import Coding
from tidings.net.fax_smtp import SmtpSecurity


class FaxCoding(StrEnum):
    MH = "mh"
    MR = "mr"
    MMR = "mmr"

    @property
    def coding(self) -> Coding:
        return Coding[self.name]


class FaxSmtpSettings(RequestSettings):
    host: str = Field(min_length=1, max_length=255, description="the gateway's SMTP host")
    port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS, description="starttls, tls (from the first byte) or none"
    )
    username: str | None = Field(default=None, max_length=200, description="SMTP AUTH user")
    password: SecretStr | None = Field(default=None, max_length=200)
    validate_certs: bool = True
    gateway_domain: str = Field(
        min_length=1,
        max_length=255,
        description="the mail domain of the fax addresses (FAX=+61…@<this>, RFC 3192)",
    )
    sender: str = Field(
        min_length=3,
        max_length=255,
        pattern=r"^[^@\s<>]+@[^@\s<>]+$",
        description="the envelope sender: the gateway mails its reports (DSN, MDN) here, so its "
        "domain's MX is the service's fax report listener",
    )
    resolution: FaxResolution = Field(
        default=FaxResolution.FINE, description="lines per inch down: 196 (fine) or 98 (standard)"
    )
    coding: FaxCoding = Field(default=FaxCoding.MH, description="G3 1-D (MH), 2-D (MR) or G4 (MMR)")
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
