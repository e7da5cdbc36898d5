"""What refusing a wrong API secret costs, and whether a key id that exists answers slower than
one that does not: time per ``Authenticator.authenticate`` (nothing remembered), on SQLite.

    .venv/bin/python bench/auth.py [--attempts 200]

Prints, per case, the mean wall and CPU time of one attempt: a wrong secret for a key that
exists, a secret for a key id that does not, a right secret; and the same for a key still
stored under scrypt (as keys were before keyed hashing), until its first right secret.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import tempfile
import time
from pathlib import Path

from tidings.core import accounts
from tidings.errors import Unauthorized
from tidings.store import accounts as account_store
from tidings.store.engine import Database
from tidings.store.migrate import upgrade


async def _time(
    authenticator: accounts.Authenticator, secret: str, attempts: int
) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(attempts):
        with contextlib.suppress(Unauthorized):
            await authenticator.authenticate(None, secret)
    return (time.perf_counter() - wall) / attempts, (time.process_time() - cpu) / attempts


async def main(attempts: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Database.from_url(f"sqlite+aiosqlite:///{Path(directory) / 'auth.db'}")
        await upgrade(database)
        account = await accounts.create_account(database, "Bench", region="FI")
        key = await accounts.create_api_key(database, account.id)
        old = await accounts.create_api_key(database, account.id)
        salt = bytes(16)
        digest = hashlib.scrypt(old.secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
        async with database.write() as connection:
            await account_store.replace_secret_hash(
                connection,
                old.key.id,
                old.key.secret_hash,
                f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}",
            )
        authenticator = accounts.Authenticator(database, cache_seconds=0)
        await authenticator.authenticate(None, key.secret)  # warm: the server secret is read
        cases = [
            ("keyed hash: wrong secret, known key id", f"tdk_{key.key.id}_wrong", attempts),
            ("keyed hash: unknown key id", "tdk_unknownid_wrong", attempts),
            ("keyed hash: right secret", key.secret, attempts),
            ("scrypt (old key): wrong secret", f"tdk_{old.key.id}_wrong", max(10, attempts // 10)),
        ]
        print(f"{'case':45} {'wall ms':>8} {'cpu ms':>8}")
        for name, secret, count in cases:
            wall, cpu = await _time(authenticator, secret, count)
            print(f"{name:45} {wall * 1000:8.2f} {cpu * 1000:8.2f}")
        await database.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200)
    asyncio.run(main(parser.parse_args().attempts))
