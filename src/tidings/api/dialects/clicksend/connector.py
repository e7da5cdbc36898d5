"""The Power Automate custom-connector definition (Swagger 2.0) of the ClickSend dialect.

Paths, operation ids, bodies and answers are those of ClickSend's SMS connector (``clicksendsms``,
whose definition is not public; reconstructed from Microsoft's generated connector clients), for
the operations tidings serves; the host is the customer's tidings: SMS, SMS campaigns, MMS,
voice, fax, letters, postcards, uploads, contact lists and the inbound SMS trigger.
"""

from __future__ import annotations

from typing import Any

_STRING = {"type": "string"}
_INT = {"type": "integer", "format": "int32"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _envelope(data: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "http_code": {**_INT, "x-ms-summary": "HTTP code"},
        "response_code": {**_STRING, "x-ms-summary": "Response code"},
        "response_msg": {**_STRING, "x-ms-summary": "Response message"},
    }
    if data is not None:
        properties["data"] = data
    return _object(properties)


def _paginated(item: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {
            "total": _INT,
            "per_page": _INT,
            "current_page": _INT,
            "last_page": _INT,
            "next_page_url": _STRING,
            "prev_page_url": _STRING,
            "from": _INT,
            "to": _INT,
            "data": {"type": "array", "items": item},
        }
    )


_CONTACT_FIELDS = (
    "phone_number",
    "first_name",
    "last_name",
    "email",
    "fax_number",
    "organization_name",
    "address_line_1",
    "address_line_2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
    "custom_1",
    "custom_2",
    "custom_3",
    "custom_4",
)

_DEFINITIONS: dict[str, Any] = {
    "Currency": _object(
        {
            "currency_name_short": _STRING,
            "currency_prefix_d": _STRING,
            "currency_prefix_c": _STRING,
            "currency_name_long": _STRING,
        }
    ),
    "SmsMessageIn": _object(
        {
            "to": {**_STRING, "x-ms-summary": "To", "description": "Recipient number, E.164"},
            "body": {
                **_STRING,
                "x-ms-summary": "Message",
                "description": "160 chars = 1 SMS, up to 1,224",
            },
            "custom_string": {**_STRING, "x-ms-summary": "Custom string"},
            "list_id": {**_INT, "x-ms-summary": "List id"},
            "source": {**_STRING, "x-ms-summary": "Source"},
        },
        ("body",),
    ),
    "SmsMessageOut": _object(
        {
            "direction": _STRING,
            "date": _INT,
            "to": _STRING,
            "body": _STRING,
            "from": _STRING,
            "message_id": _STRING,
            "message_parts": _INT,
            "message_price": _STRING,
            "from_email": _STRING,
            "list_id": _STRING,
            "custom_string": _STRING,
            "contact_id": _STRING,
            "user_id": _INT,
            "subaccount_id": _INT,
            "country": _STRING,
            "carrier": _STRING,
            "status": _STRING,
        }
    ),
    "MmsMessageIn": _object(
        {
            "to": {**_STRING, "x-ms-summary": "To", "description": "Recipient number, E.164"},
            "subject": {**_STRING, "x-ms-summary": "Subject", "description": "At most 20 chars"},
            "body": {**_STRING, "x-ms-summary": "Message"},
            "from": {**_STRING, "x-ms-summary": "From", "description": "A number or short code"},
            "custom_string": {**_STRING, "x-ms-summary": "Custom string"},
            "list_id": {**_INT, "x-ms-summary": "List id"},
            "source": {**_STRING, "x-ms-summary": "Source"},
        },
        ("subject", "body"),
    ),
    "MmsMessageOut": _object(
        {
            "list_id": _STRING,
            "contact_id": _INT,
            "message_id": _STRING,
            "to": _STRING,
            "subject": _STRING,
            "from": _STRING,
            "body": _STRING,
            "country": _STRING,
            "custom_string": _STRING,
            "message_parts": _INT,
            "message_price": _STRING,
            "_media_file_url": _STRING,
            "status": _STRING,
        }
    ),
    "VoiceMessageIn": _object(
        {
            "to": {**_STRING, "x-ms-summary": "To", "description": "Recipient number, E.164"},
            "body": {
                **_STRING,
                "x-ms-summary": "Message",
                "description": "300 chars = 1 voice message, up to 1,200",
            },
            "lang": {**_STRING, "x-ms-summary": "Language", "description": "e.g. en-us, en-au"},
            "voice": {**_STRING, "x-ms-summary": "Voice", "enum": ["female", "male"]},
            "custom_string": {**_STRING, "x-ms-summary": "Custom string"},
            "list_id": {**_INT, "x-ms-summary": "List id"},
            "require_input": {
                **_INT,
                "x-ms-summary": "Require input",
                "description": "1: receive a keypress from the recipient",
                "enum": [0, 1],
            },
            "source": {**_STRING, "x-ms-summary": "Source"},
            "machine_detection": {
                **_INT,
                "x-ms-summary": "Machine detection",
                "description": "1: detect an answering machine and leave the message",
                "enum": [0, 1],
            },
        },
        ("to", "body", "voice"),
    ),
    "VoiceMessageOut": _object(
        {
            "to": _STRING,
            "body": _STRING,
            "voice": _STRING,
            "lang": _STRING,
            "to_type": _STRING,
            "schedule": _INT,
            "date_added": _INT,
            "message_id": _STRING,
            "message_parts": _INT,
            "message_price": _STRING,
            "custom_string": _STRING,
            "list_id": _STRING,
            "require_input": _INT,
            "machine_detection": _INT,
            "country": _STRING,
            "status": _STRING,
        }
    ),
    "FaxMessageIn": _object(
        {
            "to": {**_STRING, "x-ms-summary": "To", "description": "Fax number, E.164"},
            "from": {**_STRING, "x-ms-summary": "From", "description": "A number of the account"},
            "custom_string": {**_STRING, "x-ms-summary": "Custom string"},
            "list_id": {
                **_INT,
                "x-ms-summary": "List id",
                "description": "Fax to the fax number of each contact of the list",
            },
            "source": {**_STRING, "x-ms-summary": "Source"},
        }
    ),
    "FaxMessageOut": _object(
        {
            "user_id": _INT,
            "subaccount_id": _INT,
            "list_id": _INT,
            "message_id": _STRING,
            "to": _STRING,
            "from": _STRING,
            "country": _STRING,
            "custom_string": _STRING,
            "schedule": _INT,
            "message_pages": _INT,
            "message_price": _STRING,
            "date_added": _INT,
            "_file_url": _STRING,
            "_api_username": _STRING,
            "status": _STRING,
        }
    ),
    "PostRecipientIn": _object(
        {
            "address_name": {**_STRING, "x-ms-summary": "Name"},
            "address_line_1": {**_STRING, "x-ms-summary": "Address line 1"},
            "address_line_2": {**_STRING, "x-ms-summary": "Address line 2"},
            "address_city": {**_STRING, "x-ms-summary": "City"},
            "address_state": {**_STRING, "x-ms-summary": "State"},
            "address_postal_code": {**_STRING, "x-ms-summary": "Postal code"},
            "address_country": {
                **_STRING,
                "x-ms-summary": "Country",
                "description": "Two-letter code, e.g. AU",
            },
            "return_address_id": {**_INT, "x-ms-summary": "Return address id"},
        }
    ),
    "PostRecipientOut": _object(
        {
            "user_id": _INT,
            "subaccount_id": _INT,
            "message_id": _STRING,
            "address_name": _STRING,
            "address_line_1": _STRING,
            "address_line_2": _STRING,
            "address_city": _STRING,
            "address_state": _STRING,
            "address_postal_code": _STRING,
            "address_country": _STRING,
            "return_address_id": _INT,
            "custom_string": _STRING,
            "schedule": _INT,
            "post_pages": _INT,
            "post_price": _STRING,
            "date_added": _INT,
            "_file_url": _STRING,
            "_api_username": _STRING,
            "status": _STRING,
        }
    ),
    "ContactList": _object(
        {
            "list_id": _INT,
            "list_name": _STRING,
            "list_email_id": _STRING,
            "_contacts_count": _INT,
            "_import_in_progress": _INT,
            "_optout_in_progress": _INT,
        }
    ),
    "ContactIn": _object(
        {name: {**_STRING, "x-ms-summary": name.replace("_", " ")} for name in _CONTACT_FIELDS},
        ("first_name", "last_name", "phone_number"),
    ),
    "Contact": _object(
        {
            "contact_id": _INT,
            "list_id": _INT,
            **{name: _STRING for name in _CONTACT_FIELDS},
            "date_added": _INT,
            "date_updated": _INT,
            "_list_name": _STRING,
        }
    ),
    "SmsCampaignIn": _object(
        {
            "list_id": {**_INT, "x-ms-summary": "List id"},
            "name": {**_STRING, "x-ms-summary": "Campaign name"},
            "body": {**_STRING, "x-ms-summary": "Message"},
            "from": {**_STRING, "x-ms-summary": "From"},
            "schedule": {
                **_INT,
                "x-ms-summary": "Schedule",
                "description": "Unix time to send at; 0 or empty sends now",
            },
        },
        ("list_id", "name", "body"),
    ),
    "SmsCampaign": _object(
        {
            "sms_campaign_id": _INT,
            "name": _STRING,
            "user_id": _INT,
            "subaccount_id": _INT,
            "list_id": _INT,
            "from": _STRING,
            "body": _STRING,
            "schedule": _INT,
            "status": _STRING,
            "date_added": _INT,
            "custom_string": _STRING,
            "url_to_shorten": _STRING,
            "unsubscribe_link": _INT,
            "source": _STRING,
            "_total_count": _INT,
            "_list_name": _STRING,
        }
    ),
    "ListSearchResult": _object(
        {"id": _INT, "name": _STRING, "contact": _STRING, "type": _STRING, "contacts_count": _INT}
    ),
}


def _path_int(name: str, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "type": "integer",
        "format": "int32",
        "x-ms-summary": summary,
    }


def _query_int(name: str, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "type": "integer",
        "x-ms-summary": summary,
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": "body", "in": "body", "required": True, "schema": schema}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    data: dict[str, Any] | None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "x-ms-visibility": "important",
        "responses": {
            "200": {"description": "Success", "schema": _envelope(data)},
            "default": {"description": "Error", "schema": _envelope(None)},
        },
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _sent_documents(key: str, item: str) -> dict[str, Any]:
    """A fax, letter or postcard send's answer: totals and one item per recipient."""
    return _object(
        {
            "total_price": {"type": "number"},
            "total_count": _INT,
            "queued_count": _INT,
            "_currency": _ref("Currency"),
            key: {"type": "array", "items": _ref(item)},
        }
    )


def _flag(summary: str, description: str) -> dict[str, Any]:
    return {**_INT, "x-ms-summary": summary, "description": description, "enum": [0, 1]}


def _paths() -> dict[str, Any]:
    list_id = _path_int("list_id", "List id")
    return {
        "/sms/send": {
            "post": _operation(
                "sms_send",
                "Send SMS",
                "Send one or more SMS messages, to numbers or to contact lists.",
                _object(
                    {
                        "total_price": {"type": "number"},
                        "total_count": _INT,
                        "queued_count": _INT,
                        "_currency": _ref("Currency"),
                        "messages": {"type": "array", "items": _ref("SmsMessageOut")},
                    }
                ),
                [
                    _body(
                        _object(
                            {"messages": {"type": "array", "items": _ref("SmsMessageIn")}},
                            ("messages",),
                        )
                    )
                ],
            )
        },
        "/mms/send": {
            "post": _operation(
                "send_mms",
                "Send MMS",
                "Send an MMS: a picture (or sound, video) with a subject and text.",
                _object(
                    {
                        "total_price": {"type": "number"},
                        "total_count": _INT,
                        "queued_count": _INT,
                        "messages": {"type": "array", "items": _ref("MmsMessageOut")},
                    }
                ),
                [
                    _body(
                        _object(
                            {
                                "media_file": {
                                    **_STRING,
                                    "x-ms-summary": "Media file URL",
                                    "description": "URL of the file (an upload's _url), "
                                    "converted to fit",
                                },
                                "messages": {"type": "array", "items": _ref("MmsMessageIn")},
                            },
                            ("media_file", "messages"),
                        )
                    )
                ],
            )
        },
        "/uploads": {
            "post": _operation(
                "upload_media",
                "Convert Media File Format",
                "Upload a file (base64) converted for a channel; use its _url to send it.",
                _object(
                    {
                        "upload_id": _INT,
                        "file_name": _STRING,
                        "date_added": _INT,
                        "date_delete": _INT,
                        "user_id": _INT,
                        "_url": _STRING,
                    }
                ),
                [
                    {
                        "name": "convert",
                        "in": "query",
                        "required": True,
                        "type": "string",
                        "enum": ["fax", "mms", "csv", "post", "postcard"],
                        "x-ms-summary": "Convert for",
                    },
                    _body(
                        _object(
                            {"content": {**_STRING, "x-ms-summary": "File content (base64)"}},
                            ("content",),
                        )
                    ),
                ],
            )
        },
        "/voice/send": {
            "post": _operation(
                "send_voice",
                "Send Voice Message",
                "Call numbers or contact lists and speak a message (text to speech).",
                _object(
                    {
                        "total_price": {"type": "number"},
                        "total_count": _INT,
                        "queued_count": _INT,
                        "_currency": _ref("Currency"),
                        "messages": {"type": "array", "items": _ref("VoiceMessageOut")},
                    }
                ),
                [
                    _body(
                        _object(
                            {"messages": {"type": "array", "items": _ref("VoiceMessageIn")}},
                            ("messages",),
                        )
                    )
                ],
            )
        },
        "/fax/send": {
            "post": _operation(
                "send_fax",
                "Send Fax",
                "Fax a PDF (an upload's _url converted for fax, at most 4 MB, portrait) to "
                "numbers or to the fax numbers of a contact list.",
                _sent_documents("messages", "FaxMessageOut"),
                [
                    _body(
                        _object(
                            {
                                "file_url": {
                                    **_STRING,
                                    "x-ms-summary": "File URL",
                                    "description": "The PDF's URL (at most 4 MB)",
                                },
                                "messages": {"type": "array", "items": _ref("FaxMessageIn")},
                            },
                            ("file_url", "messages"),
                        )
                    )
                ],
            )
        },
        "/post/letters/send": {
            "post": _operation(
                "send_letter",
                "Send Letter",
                "Print and post a PDF letter (at most 10 MB, portrait) to each address.",
                _sent_documents("recipients", "PostRecipientOut"),
                [
                    _body(
                        _object(
                            {
                                "file_url": {
                                    **_STRING,
                                    "x-ms-summary": "File URL",
                                    "description": "The PDF's URL (at most 10 MB)",
                                },
                                "template_used": _flag(
                                    "Template used",
                                    "1: the first page leaves the envelope window free for "
                                    "the address; 0: an address sheet goes first",
                                ),
                                "colour": _flag("Colour", "1: print in colour"),
                                "duplex": _flag("Duplex", "1: print on both sides"),
                                "priority_post": _flag("Priority post", "1: priority post"),
                                "source": _internal("Source", "MSPowerAutomate", _STRING),
                                "recipients": {
                                    "type": "array",
                                    "items": _ref("PostRecipientIn"),
                                },
                            },
                            ("file_url", "colour", "duplex", "recipients"),
                        )
                    )
                ],
            )
        },
        "/post/postcards/send": {
            "post": _operation(
                "send_postcard",
                "Send Postcard",
                "Print and post a postcard (front and back PDFs) to each address.",
                _sent_documents("recipients", "PostRecipientOut"),
                [
                    _body(
                        _object(
                            {
                                "file_urls": {
                                    "type": "array",
                                    "items": _STRING,
                                    "x-ms-summary": "File URLs",
                                    "description": "The front's and the back's PDF (or one "
                                    "PDF of both)",
                                },
                                "recipients": {
                                    "type": "array",
                                    "items": _ref("PostRecipientIn"),
                                },
                            },
                            ("file_urls", "recipients"),
                        )
                    )
                ],
            )
        },
        "/sms-campaigns/send": {
            "post": _operation(
                "sms_campaign_send",
                "Send SMS Campaign",
                "Send one message to every contact of a list, now or at a scheduled time.",
                _ref("SmsCampaign"),
                [_body(_ref("SmsCampaignIn"))],
            )
        },
        "/lists": {
            "post": _operation(
                "create_list",
                "Create New Contact List",
                "Create a contact list.",
                _ref("ContactList"),
                [
                    _body(
                        _object(
                            {"list_name": {**_STRING, "x-ms-summary": "List name"}},
                            ("list_name",),
                        )
                    )
                ],
            ),
            "get": _operation(
                "get_contact_lists",
                "Get Contact Lists",
                "The account's contact lists, one page at a time.",
                _paginated(_ref("ContactList")),
                [_query_int("page", "Page"), _query_int("limit", "Limit")],
            ),
        },
        "/lists/{list_id}": {
            "delete": _operation(
                "delete_list", "Delete List", "Delete a contact list.", None, [list_id]
            )
        },
        "/lists/{list_id}/contacts": {
            "post": _operation(
                "create_list_contact",
                "Create New Contact",
                "Add a contact to a list.",
                _ref("Contact"),
                [list_id, _body(_ref("ContactIn"))],
            ),
            "get": _operation(
                "view_list_contacts",
                "Get Contacts in a List",
                "The contacts of a list, one page at a time.",
                _paginated(_ref("Contact")),
                [list_id, _query_int("page", "Page"), _query_int("limit", "Limit")],
            ),
        },
        "/lists/{list_id}/contacts/{contact_id}": {
            "delete": _operation(
                "delete_list_contact",
                "Delete a Contact",
                "Remove a contact from a list.",
                None,
                [list_id, _path_int("contact_id", "Contact id")],
            )
        },
        "/search/contacts-lists": {
            "get": _operation(
                "search_contact_list",
                "Search Contact Lists",
                "Contact lists whose name contains the query.",
                _paginated(_ref("ListSearchResult")),
                [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "type": "string",
                        "x-ms-summary": "Query",
                    }
                ],
            )
        },
    }


def _internal(name: str, value: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """A body property Power Automate fills in itself, with the constant ClickSend's uses."""
    return {**schema, "default": value, "x-ms-visibility": "internal", "x-ms-summary": name}


# The inbound SMS push (CONTRACTS.md §4.2), what a flow's trigger outputs are made of.
_INBOUND_PUSH = _object(
    {
        "timestamp": {**_INT, "x-ms-summary": "Timestamp (unix)"},
        "from": {**_STRING, "x-ms-summary": "From"},
        "body": {**_STRING, "x-ms-summary": "Message"},
        "original_body": {**_STRING, "x-ms-summary": "Original message"},
        "original_message_id": {**_STRING, "x-ms-summary": "Original message id"},
        "to": {**_STRING, "x-ms-summary": "To"},
        "custom_string": {**_STRING, "x-ms-summary": "Custom string"},
        "message_id": {**_STRING, "x-ms-summary": "Message id"},
        "keyword": {**_STRING, "x-ms-summary": "Keyword"},
        "user_id": {**_INT, "x-ms-summary": "User id"},
        "subaccount_id": {**_INT, "x-ms-summary": "Subaccount id"},
    }
)


def _trigger_paths() -> dict[str, Any]:
    """The inbound SMS trigger: subscribing answers 201 with a Location that takes DELETE."""
    rule = _object(
        {
            "inbound_rule_id": _INT,
            "rule_name": _STRING,
            "dedicated_number": _STRING,
            "action": _STRING,
            "action_address": _STRING,
            "enabled": _INT,
            "webhook_type": _STRING,
        }
    )
    body = _object(
        {
            "message_search_type": _internal("Search type", 0, _INT),
            "message_search_term": _internal("Search term", "*", _STRING),
            "action_address": {
                **_STRING,
                "x-ms-notification-url": True,
                "x-ms-visibility": "internal",
                "x-ms-summary": "Callback URL",
            },
            "dedicated_number": _internal("Dedicated number", "*", _STRING),
            "rule_name": _internal("Rule name", "Power-Automate", _STRING),
            "webhook_type": _internal("Webhook type", "json", _STRING),
            "action": _internal("Action", "URL", _STRING),
            "enabled": _internal("Enabled", 1, _INT),
        },
        (
            "message_search_type",
            "message_search_term",
            "action_address",
            "dedicated_number",
            "rule_name",
            "webhook_type",
            "action",
            "enabled",
        ),
    )
    return {
        "/ms-flow/automations/sms/inbound": {
            "x-ms-notification-content": {
                "description": "An inbound SMS",
                "schema": _INBOUND_PUSH,
            },
            "post": {
                "operationId": "sms_inbound_automation",
                "summary": "When an inbound SMS is received",
                "description": "Starts the flow for every SMS received on the account's numbers.",
                "x-ms-trigger": "single",
                "x-ms-visibility": "important",
                "parameters": [_body(body)],
                "responses": {
                    "201": {"description": "Subscribed", "schema": _envelope(rule)},
                    "default": {"description": "Error", "schema": _envelope(None)},
                },
            },
        },
        "/ms-flow/automations/sms/inbound/{inbound_rule_id}": {
            "delete": {
                "operationId": "delete_sms_inbound_automation",
                "summary": "Remove the inbound SMS trigger",
                "description": "What Power Automate calls at the trigger's Location.",
                "x-ms-visibility": "internal",
                "parameters": [_path_int("inbound_rule_id", "Inbound rule id")],
                "responses": {
                    "200": {"description": "Unsubscribed", "schema": _envelope(None)},
                    "default": {"description": "Error", "schema": _envelope(None)},
                },
            }
        },
    }


def connector_definition(host: str, *, scheme: str = "https") -> dict[str, Any]:
    """The Swagger 2.0 document of the connector, calling tidings at ``host`` (``name[:port]``)."""
    return {
        "swagger": "2.0",
        "info": {
            "title": "ClickSend SMS (tidings)",
            "description": "ClickSend's SMS connector, served by a tidings installation.",
            "version": "1.0",
        },
        "host": host,
        "basePath": "/v3",
        "schemes": [scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"basic_auth": {"type": "basic"}},
        "security": [{"basic_auth": []}],
        "paths": {**_paths(), **_trigger_paths()},
        "definitions": _DEFINITIONS,
    }
