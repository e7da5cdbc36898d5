"""An independent model of the WhatsApp Cloud API's payloads, and our payloads held to it.

The model is the npm package ``whatsapp-cloud-api-types`` 1.0.1 (MIT; zod 4 schemas of the
Cloud API's sends, template submissions and webhooks, written apart from tidings; pinned with
``zod`` 4.6.7 in .ci/run). No model of them is on PyPI here. ``peers/wa_payload_model.mjs``
runs it: a send goes through the package's own client (its schema parse, then a fetch that
keeps the body), a submission through its ``templates.create``, a webhook through
``WhatsAppWebhookSchema``. :class:`PayloadModel` keeps one node process for many payloads.

The model's zod objects drop keys they do not know, so a payload passes only when the model
takes it *and* its reading equals the payload: a misspelt or unknown field shows as a
difference. Where the model is behind Meta's documentation, the field is set aside for the
model and checked here against what Meta documents instead (:func:`send_problems`,
:func:`webhook_problems` say which):

- a quick reply's parameter ``{"type": "payload", "payload": ...}`` (Meta's Cloud API
  reference and its own Node.js SDK, ``QuickReplyButtonParametersObject``): the model's
  parameter types lack ``payload``;
- a user's business-scoped id ``contacts[].user_id`` (``CC.digits``), in Meta's messages
  webhooks since April 2026: the model does not know it;
- the ``contacts`` beside ``statuses`` (``wa_id`` and ``user_id``, no ``profile`` unless the
  user has a username): the model requires a profile name there.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tests.interop.harness import PEERS_DIR, PeerError, find_program, stop_process

MODEL_PACKAGE = "whatsapp-cloud-api-types"
MODEL_VERSION = "1.0.1"
ZOD_VERSION = "4.6.7"
SCRIPT = PEERS_DIR / "wa_payload_model.mjs"

Kind = Literal["message", "template", "webhook"]

# What the model's send schemas fill in when a send leaves them out.
SEND_DEFAULTS = {"messaging_product": "whatsapp", "recipient_type": "individual"}
# Meta's business-scoped user id: an ISO country code, a period, up to 128 alphanumerics.
BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,128}$")


def payload_model_missing() -> str | None:
    """Why the model cannot run here, or None when it can."""
    if find_program("node") is None:
        return "node is not installed"
    for package, version in ((MODEL_PACKAGE, MODEL_VERSION), ("zod", ZOD_VERSION)):
        manifest = PEERS_DIR / "node_modules" / package / "package.json"
        installed = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
        if installed != version:
            return (
                f"{package}@{version} is not installed in tests/interop/peers "
                f"(found {installed}; see .ci/run)"
            )
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The model's answer: whether it takes the payload, why not, and its reading of it."""

    valid: bool
    error: str | None
    parsed: Any


class PayloadModel:
    """One node process running the model, asked about payloads one JSON line each."""

    def __init__(self) -> None:
        node = find_program("node")
        assert node is not None
        self._process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=PEERS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lock = threading.Lock()

    def check_all(self, items: Sequence[tuple[Kind, Any]]) -> list[Verdict]:
        """The model's verdicts on the payloads, in their order (written at once, then read)."""
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        with self._lock:
            for kind, payload in items:
                process.stdin.write(json.dumps({"kind": kind, "payload": payload}) + "\n")
            process.stdin.flush()
            verdicts = []
            for _ in items:
                line = process.stdout.readline()
                if not line:
                    raise PeerError(f"the payload model stopped: {self._stderr()}")
                answer = json.loads(line)
                verdicts.append(Verdict(answer["valid"], answer["error"], answer["parsed"]))
        return verdicts

    def check(self, kind: Kind, payload: Any) -> Verdict:
        [verdict] = self.check_all([(kind, payload)])
        return verdict

    def _stderr(self) -> str:
        process = self._process
        if process.poll() is None or process.stderr is None:
            return "(still running)"
        return process.stderr.read()[-2000:]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        stop_process(self._process)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


def differences(expected: Any, found: Any, path: str = "") -> list[str]:
    """Where the model's reading differs from what we sent, one line each."""
    where = path or "(root)"
    if isinstance(expected, dict) and isinstance(found, dict):
        lines = []
        for key in sorted(set(expected) | set(found), key=str):
            here = f"{path}.{key}" if path else str(key)
            if key not in found:
                lines.append(f"{here}: dropped by the model (a field it does not know)")
            elif key not in expected:
                lines.append(f"{here}: added by the model ({found[key]!r})")
            else:
                lines.extend(differences(expected[key], found[key], here))
        return lines
    if isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            return [f"{where}: {len(expected)} items sent, {len(found)} read"]
        lines = []
        for index, (sent, read) in enumerate(zip(expected, found, strict=True)):
            lines.extend(differences(sent, read, f"{path}.{index}" if path else str(index)))
        return lines
    if expected != found or type(expected) is not type(found):
        return [f"{where}: sent {expected!r}, read {found!r}"]
    return []


# --- sends: POST /{phone-number-id}/messages ---


def send_for_model(request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """A copy of a send for the model, and the quick replies' parameters set aside (the model
    does not have Meta's ``payload`` parameter type; :func:`quick_reply_problems` checks them)."""
    copied = copy.deepcopy(request)
    aside: list[Any] = []
    template = copied.get("template") if copied.get("type") == "template" else None
    for component in (template or {}).get("components") or ():
        if component.get("type") == "button" and component.get("sub_type") == "quick_reply":
            aside.append(component.get("parameters"))
            component["parameters"] = []
    return copied, aside


def quick_reply_problems(parameters: Any) -> list[str]:
    """A quick reply's parameters as Meta documents them: one ``{"type": "payload",
    "payload": <text>}``."""
    match parameters:
        case [{"type": "payload", "payload": str(payload)} as only] if payload and len(only) == 2:
            return []
    return [f"a quick reply's parameters are not [{{type: payload, payload}}]: {parameters!r}"]


def send_problems(model: PayloadModel, requests: Sequence[dict[str, Any]]) -> list[list[str]]:
    """What is wrong with each send, by the model and by Meta's documentation: nothing, for a
    send the model takes and reads back exactly as sent (its defaults aside)."""
    prepared = [send_for_model(request) for request in requests]
    verdicts = model.check_all([("message", sent) for sent, _ in prepared])
    found = []
    for (sent, aside), verdict in zip(prepared, verdicts, strict=True):
        problems = [p for parameters in aside for p in quick_reply_problems(parameters)]
        if not verdict.valid:
            problems.append(f"the model refuses it: {verdict.error}")
        else:
            problems.extend(differences({**SEND_DEFAULTS, **sent}, verdict.parsed))
        found.append(problems)
    return found


def submission_problems(
    model: PayloadModel, submissions: Sequence[dict[str, Any]]
) -> list[list[str]]:
    """What is wrong with each template submission (``POST /{waba-id}/message_templates``)."""
    verdicts = model.check_all([("template", body) for body in submissions])
    return [
        differences(body, verdict.parsed)
        if verdict.valid
        else [f"the model refuses it: {verdict.error}"]
        for body, verdict in zip(submissions, verdicts, strict=True)
    ]


# --- webhooks ---


def webhook_for_model(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of a webhook for the model, the business-scoped ids and the contacts beside
    statuses taken out and checked here against Meta's documentation."""
    copied = copy.deepcopy(body)
    problems = []
    for entry in copied.get("entry") or ():
        for change in entry.get("changes") or ():
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = value.get("contacts")
            if contacts is None:
                continue
            for contact in contacts:
                user_id = contact.pop("user_id", None)
                if not (isinstance(user_id, str) and BSUID.match(user_id)):
                    problems.append(f"a contact's user_id is not a business-scoped id: {user_id!r}")
            if "statuses" in value and "messages" not in value:
                recipients = {status.get("recipient_id") for status in value["statuses"]}
                for contact in contacts:
                    if set(contact) != {"wa_id"} or contact["wa_id"] not in recipients:
                        problems.append(
                            f"a status's contact is not its recipient's wa_id and user_id: "
                            f"{contact!r}"
                        )
                del value["contacts"]
    return copied, problems


def webhook_problems(model: PayloadModel, bodies: Iterable[bytes]) -> list[list[str]]:
    """What is wrong with each webhook body, by the model and by Meta's documentation."""
    prepared = [webhook_for_model(json.loads(body)) for body in bodies]
    verdicts = model.check_all([("webhook", copied) for copied, _ in prepared])
    found = []
    for (copied, problems), verdict in zip(prepared, verdicts, strict=True):
        if not verdict.valid:
            problems = [*problems, f"the model refuses it: {verdict.error}"]
        else:
            problems = [*problems, *differences(copied, verdict.parsed)]
        found.append(problems)
    return found
