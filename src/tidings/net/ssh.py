"""asyncssh, imported once without its import-time warnings; every module takes it from here.

On import asyncssh names cryptography's DSA key types, and cryptography warns that DSA is
deprecated (a ``CryptographyDeprecationWarning``, which Python shows by default): each process
that loads the ``sftp`` route kind, which is every ``tidings`` process, would print three
warnings to stderr at start, and break the JSON log lines. The warning concerns DSA keys, which a
route uses only when it is given one.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh

__all__ = ["asyncssh"]
