"""Where resolve_sync keeps its local state and which database it talks to.

Every default points into one project-local state folder (`.resolve_sync/`) so a fresh clone works with
no configuration, while production overrides each piece through an environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "RESOLVE_SYNC_STATE_DIR"
DATABASE_URL_ENV = "RESOLVE_SYNC_DATABASE_URL"
SECRET_KEY_ENV = "RESOLVE_SYNC_SECRET_KEY"
SECRET_KEY_FILE_ENV = "RESOLVE_SYNC_SECRET_KEY_FILE"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """The folder for the local SQLite store, the generated secret key and the local Dagster home."""
    path = Path(os.environ.get(STATE_DIR_ENV) or Path.cwd() / ".resolve_sync")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file of that name, no permission, a read-only disk
        from resolve_sync.errors import ConfigurationError

        raise ConfigurationError(
            f"The state folder {path} cannot be used: {error.strerror or error}.",
            hint=f"Point {STATE_DIR_ENV} at a folder this user can write, or remove what is at {path}.",
        ) from None
    return path


def default_database_url() -> str:
    return f"sqlite:///{state_dir() / 'resolve_sync.db'}"


def database_url() -> str:
    """The store's URL: `RESOLVE_SYNC_DATABASE_URL` in production, else the local SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def uses_default_database() -> bool:
    return not os.environ.get(DATABASE_URL_ENV)
