"""Alembic migrations for the store, driven from code so no alembic.ini has to be found on disk.

Alembic itself is imported only when a migration runs or is inspected: every CLI command opens the store,
and checking that it is current must not cost alembic's import and script loading each time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from resolve_sync.store.schema_version import HEAD, MIGRATIONS_DIR

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """One query: the store's recorded revision is the newest one this code ships."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    except DBAPIError as error:
        if _no_such_table(error):  # a new database: not migrated yet
            return False
        raise  # the server cannot be reached, or refuses us: say so, not "not migrated"


def _no_such_table(error: DBAPIError) -> bool:
    text_ = str(error.orig).lower()
    return "no such table" in text_ or ("alembic_version" in text_ and "does not exist" in text_)
