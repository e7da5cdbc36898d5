"""Submitting a T.37 fax e-mail to its gateway over SMTP (aiosmtplib).

One connection per fax: gateways take a few faxes a minute, and a connection that is not kept
has nothing to go stale. STARTTLS (or TLS from the first byte) and AUTH when the route says so.
The DSN is asked for only when the gateway advertises the DSN extension (RFC 3461); otherwise
the fax goes without, and its report can only come as an MDN.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import aiosmtplib

from tidings.t37.submission import FaxEmail, dsn_options

__all__ = ["SmtpOutcome", "SmtpSecurity", "SmtpSettings", "SubmitKind", "submit_fax"]


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0
    validate_certs: bool = True
    #: The name this side gives in EHLO.
    local_hostname: str | None = None


class SubmitKind(StrEnum):
    ACCEPTED = "accepted"
    #: Try again later: the gateway could not be reached, or answered 4xx.
    TEMPORARY = "temporary"
    #: The gateway refused the fax for good (5xx).
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class SmtpOutcome:
    kind: SubmitKind
    code: int | None
    detail: str
    #: Whether the gateway took the DSN request.
    dsn: bool = False


def _refused(code: int, text: str) -> SmtpOutcome:
    kind = SubmitKind.TEMPORARY if 400 <= code < 500 else SubmitKind.PERMANENT
    return SmtpOutcome(kind, code, f"{code} {text}".strip())


async def submit_fax(settings: SmtpSettings, fax: FaxEmail) -> SmtpOutcome:
    """Hand ``fax`` to the gateway; the outcome says whether it took it."""
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security is SmtpSecurity.TLS,
        start_tls=settings.security is SmtpSecurity.STARTTLS,
        validate_certs=settings.validate_certs,
        timeout=settings.timeout,
        local_hostname=settings.local_hostname,
    )
    try:
        await client.connect()
        # The extensions are known only after EHLO, which connect sends only before STARTTLS.
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        if settings.username:
            await client.login(settings.username, settings.password or "")
        dsn = client.supports_extension("dsn")
        mail_options, rcpt_options = dsn_options(fax) if dsn else ([], [])
        errors, response = await client.sendmail(
            fax.sender,
            [fax.recipient],
            fax.message.as_bytes(),
            mail_options=mail_options,
            rcpt_options=rcpt_options,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        refusal = error.recipients[0] if error.recipients else None
        if refusal is None:
            return SmtpOutcome(SubmitKind.PERMANENT, None, "the gateway refused the recipient")
        return _refused(refusal.code, refusal.message)
    except aiosmtplib.SMTPAuthenticationError as error:
        # Wrong credentials stay wrong: the operator must fix the route.
        return SmtpOutcome(SubmitKind.PERMANENT, error.code, f"authentication: {error.message}")
    except aiosmtplib.SMTPResponseException as error:
        return _refused(error.code, error.message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        return SmtpOutcome(SubmitKind.TEMPORARY, None, f"{type(error).__name__}: {error}")
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
    if errors:
        code, text = next(iter(errors.values()))
        return _refused(code, text)
    return SmtpOutcome(SubmitKind.ACCEPTED, 250, response, dsn=dsn)
