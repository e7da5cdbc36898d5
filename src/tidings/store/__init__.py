"""Persistence: typed models, intent-named query functions per aggregate, and migrations.

``engine.Database`` opens the database; ``accounts``, ``routes`` and ``messages`` hold the
queries; ``migrate`` runs the Alembic migrations shipped in ``migrations/``.
"""
