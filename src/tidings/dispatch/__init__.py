"""Dispatch: claims due messages, submits them over SMPP within each route's window and rate,
and records what the SMSC answers (submit responses, delivery receipts, inbound messages)."""

from tidings.dispatch.dispatcher import Dispatcher, DispatcherConfig

__all__ = ["Dispatcher", "DispatcherConfig"]
