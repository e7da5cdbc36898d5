"""The settings of a SIP route (a trunk that places voice calls)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, model_validator

from tidings.core.transport_settings import TransportSettings


class SipTransportProtocol(StrEnum):
    UDP = "udp"
    TCP = "tcp"


class SipSettings(TransportSettings):
    host: str = Field(min_length=1, max_length=255, description="the trunk's host")
    port: int = Field(default=5060, ge=1, le=65535)
    transport: SipTransportProtocol = SipTransportProtocol.UDP
    from_domain: str | None = Field(
        default=None, max_length=255, description="the From URI's domain; null = the host"
    )
    caller_id: str | None = Field(
        default=None, max_length=32, description="the From user; null = the message's sender"
    )
    username: str | None = Field(default=None, max_length=128, description="digest username")
    password: SecretStr = Field(default=SecretStr(""), max_length=128)
    max_calls: int = Field(default=10, ge=1, le=1000, description="calls at once; more wait")
    ring_timeout: float = Field(default=45.0, ge=5.0, le=300.0)
    input_timeout: float = Field(default=8.0, ge=1.0, le=60.0)
    local_address: str | None = Field(
        default=None, max_length=64, description="the address to bind and advertise; null = chosen"
    )
    rtp_port_low: int = Field(default=40000, ge=1024, le=65534)
    rtp_port_high: int = Field(default=49999, ge=1025, le=65535)

    @model_validator(mode="after")
    def _ports(self) -> SipSettings:
        if self.rtp_port_high - self.rtp_port_low < 2:
            raise ValueError("rtp_port_high must be above rtp_port_low")
        return self
