"""TrueDialog v2.1 (issue 5 §2): TrueDialog code and Power Automate flows, pointed at tidings.

Mounted under ``/api/v2.1``. HTTP Basic with the tidings key id as user name and its secret as
password. TrueDialog's ids are int32, so accounts, channels (senders), contacts, callbacks
(webhook subscriptions) and push actions get integer aliases (``store/truedialog.py``).
"""

from tidings.api.dialects.truedialog.connector import export_definition
from tidings.api.dialects.truedialog.router import router

__all__ = ["export_definition", "router"]
