"""The settings of an SMPP route (string lengths follow SMPP 3.4 §4.1.1, bind)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr

from tidings.core.transport_settings import TransportSettings


class BindMode(StrEnum):
    TRX = "trx"  # one bind_transceiver per bind
    TX_RX = "tx_rx"  # a bind_transmitter and a bind_receiver per bind


class ConcatMethod(StrEnum):
    UDH8 = "udh8"
    UDH16 = "udh16"
    SAR = "sar"
    PAYLOAD = "payload"


class DefaultEncoding(StrEnum):
    AUTO = "auto"
    GSM7 = "gsm7"
    UCS2 = "ucs2"


class SmppSettings(TransportSettings):
    host: str = Field(min_length=1, max_length=255, description="SMSC host")
    port: int = Field(ge=1, le=65535, description="SMSC port")
    system_id: str = Field(max_length=15, description="bind system_id")
    password: SecretStr = Field(default=SecretStr(""), max_length=8, description="bind password")
    system_type: str = Field(default="", max_length=12)
    bind_mode: BindMode = BindMode.TRX
    binds: int = Field(default=1, ge=1, le=64)
    window: int = Field(default=10, ge=1, le=10_000, description="unacknowledged submits per bind")
    max_tps: int | None = Field(
        default=None, ge=1, le=1_000_000, description="submits per second; null = no cap"
    )
    # SMPP 3.4 §5.2.5/§5.2.6: TON 1 / NPI 1 = international ISDN (E.164).
    source_ton: int | None = Field(
        default=None, ge=0, le=6, description="null = chosen from the sender kind"
    )
    source_npi: int | None = Field(default=None, ge=0, le=18)
    destination_ton: int = Field(default=1, ge=0, le=6)
    destination_npi: int = Field(default=1, ge=0, le=18)
    concat_method: ConcatMethod = ConcatMethod.UDH8
    default_encoding: DefaultEncoding = DefaultEncoding.AUTO
    request_receipts: bool = True
