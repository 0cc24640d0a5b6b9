"""The newest schema revision this code ships, without importing alembic or SQLAlchemy.

Every command checks it before touching the store; the read-only commands do so over the bare driver
(`store.reads`), so it must cost nothing to know.
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Revision ids are the four-digit prefixes of the files in versions/ (a test checks alembic agrees).
HEAD = max(
    re.match(r"\d{4}", p.name).group()  # type: ignore[union-attr]
    for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
)
