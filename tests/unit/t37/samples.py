"""Reports as fax gateways and their MTAs write them (modelled on Postfix's and RFC 3464's)."""

from __future__ import annotations


def dsn(
    *,
    action: str,
    status: str,
    diagnostic: str | None = None,
    envelope_id: str | None = "01HZXABC",
    returned_message_id: str | None = "<01HZXABC@tidings.example>",
    extra: str = "",
) -> bytes:
    diagnostic_line = f"Diagnostic-Code: X-Fax; {diagnostic}\n" if diagnostic else ""
    envid_line = f"Original-Envelope-Id: {envelope_id}\n" if envelope_id else ""
    headers = (
        "From: fax@tidings.example\n"
        "To: FAX=+61261111111@gateway.example\n"
        + (f"Message-ID: {returned_message_id}\n" if returned_message_id else "")
        + "Subject: Fax to +61261111111 (3 pages)\n"
    )
    return (
        "From: MAILER-DAEMON@gateway.example (Mail Delivery System)\n"
        "Subject: Delivery Status Notification\n"
        "To: fax@tidings.example\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"\n'
        "\n"
        "--B0UND\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "This is the mail system at host gateway.example.\n"
        "\n"
        "--B0UND\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "Reporting-MTA: dns; gateway.example\n"
        "X-Postfix-Queue-ID: 4F1A2B\n"
        f"{envid_line}"
        "Arrival-Date: Mon,  7 Dec 2026 08:00:00 +0000\n"
        "\n"
        "Final-Recipient: rfc822; FAX=+61261111111@gateway.example\n"
        "Original-Recipient: rfc822;FAX=+61261111111@gateway.example\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        f"{diagnostic_line}"
        f"{extra}"
        "\n"
        "--B0UND\n"
        "Content-Type: text/rfc822-headers\n"
        "\n"
        f"{headers}"
        "\n"
        "--B0UND--\n"
    ).encode()


def mdn(disposition: str, *, failure: str | None = None) -> bytes:
    failure_line = f"Failure: {failure}\n" if failure else ""
    return (
        "From: gateway@gateway.example\n"
        "To: fax@tidings.example\n"
        "Subject: Disposition notification\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\n'
        "\n"
        "--M\n"
        "Content-Type: text/plain\n"
        "\n"
        "The fax was processed.\n"
        "\n"
        "--M\n"
        "Content-Type: message/disposition-notification\n"
        "\n"
        "Reporting-UA: gateway.example; T.37 offramp\n"
        "Final-Recipient: rfc822; FAX=+61261111111@gateway.example\n"
        "Original-Message-ID: <01HZXABC@tidings.example>\n"
        f"Disposition: automatic-action/MDN-sent-automatically; {disposition}\n"
        f"{failure_line}"
        "\n"
        "--M--\n"
    ).encode()
