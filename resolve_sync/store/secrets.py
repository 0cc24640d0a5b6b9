"""Connection credentials at rest: Fernet-encrypted, keys rotatable, never shown.

`RESOLVE_SYNC_SECRET_KEY` (or the file named by `RESOLVE_SYNC_SECRET_KEY_FILE`) holds one or more Fernet
keys separated by commas, newest first: the first encrypts, all of them decrypt, so a new key can be put in
front and `resolve-sync secrets rotate` re-encrypts every connection before the old key is dropped.

Only the embedded local store (the SQLite file in the state folder) gets a key generated for it, into the
same state folder with mode 0600, so store and key always travel together. With a configured database
(`RESOLVE_SYNC_DATABASE_URL`) a missing key is an error that says how to make one: a key generated into
whatever directory a command happened to run from would encrypt credentials nobody else can read.

A credential value may also be a reference to an environment variable (`{"env": "NAME"}`), resolved only
when a client is built, for deployments that keep secrets in their platform's secret store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from resolve_sync import settings
from resolve_sync.errors import ConfigurationError

LOCAL_KEY_FILE = "secret.key"


class SecretKeyError(ConfigurationError):
    """Credentials cannot be decrypted or resolved; the message says which key or variable to fix."""


class Credentials(Mapping[str, str]):
    """A read-only credential mapping whose repr and str never reveal a value."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(f'{k}=<hidden>' for k in sorted(self._values))})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would put the values on disk (Dagster's IO managers pickle); refuse it.
        raise TypeError("Credentials cannot be pickled")


class SecretBox:
    """Encrypts and decrypts credential mappings with the configured keys; `source` names where the keys
    came from (the variable or the file), so an error says what to fix."""

    def __init__(self, keys: Sequence[bytes], *, source: str = "the configured keys") -> None:
        self.source = source
        if not keys:
            raise SecretKeyError(f"No secret key in {source}. {HOW_TO_MAKE_A_KEY}")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:
            raise SecretKeyError(
                f"{source} must hold comma-separated Fernet keys, newest first. {HOW_TO_MAKE_A_KEY}"
            ) from exc

    @classmethod
    def from_environment(cls) -> SecretBox:
        raw = os.environ.get(settings.SECRET_KEY_ENV)
        if raw:
            return cls(_split(raw), source=f"the variable {settings.SECRET_KEY_ENV}")
        key_file = os.environ.get(settings.SECRET_KEY_FILE_ENV)
        if key_file:
            path = Path(key_file)
            try:
                return cls(_split(path.read_text()), source=f"the key file {path}")
            except OSError as error:
                raise SecretKeyError(
                    f"The key file {path} ({settings.SECRET_KEY_FILE_ENV}) cannot be read: "
                    f"{error.strerror or type(error).__name__}."
                ) from None
        if not settings.uses_default_database():
            raise SecretKeyError(
                f"{settings.SECRET_KEY_ENV} is not set, and a configured database "
                f"({settings.DATABASE_URL_ENV}) needs its key given explicitly. {HOW_TO_MAKE_A_KEY}"
            )
        path = settings.state_dir() / LOCAL_KEY_FILE
        return cls([_local_key(path)], source=f"the local key file {path}")

    def encrypt(self, values: Mapping[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()

    def decrypt(self, token: str, *, owner: str) -> dict[str, Any]:
        """The stored mapping (environment references not yet resolved); `owner` names it in errors."""
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise SecretKeyError(
                f"The credentials of {owner} cannot be decrypted with {self.source}; put the key they were "
                "stored with back in the list (newest first), or remove and re-add the connection."
            ) from None

    def rotate(self, token: str, *, owner: str) -> str:
        """Re-encrypt with the newest key, so older keys can be retired."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"The credentials of {owner} cannot be decrypted with {self.source}, so nothing was rotated; "
                "list the new key first and the key they were stored with after it "
                "(RESOLVE_SYNC_SECRET_KEY=NEW,OLD), or remove and re-add that connection."
            ) from None


def resolve_references(stored: Mapping[str, Any], *, owner: str) -> Credentials:
    """Replace `{"env": NAME}` values with the variable's value, at the last moment before use."""
    values: dict[str, str] = {}
    for name, value in stored.items():
        if isinstance(value, Mapping) and "env" in value:
            variable = str(value["env"])
            if variable not in os.environ:
                raise SecretKeyError(
                    f"The credential {name!r} of {owner} refers to the environment variable {variable}, "
                    "which is not set in this process; set it where the runs execute."
                )
            values[name] = os.environ[variable]
        else:
            values[name] = str(value)
    return Credentials(values)


HOW_TO_MAKE_A_KEY = (
    f"Make one with `resolve-sync secrets generate-key` and set {settings.SECRET_KEY_ENV} to it "
    f"(or {settings.SECRET_KEY_FILE_ENV} to a file holding it) wherever resolve-sync and Dagster run."
)


def _split(raw: str) -> list[bytes]:
    return [key.strip().encode() for key in raw.split(",") if key.strip()]


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _local_key(path: Path) -> bytes:
    if not path.exists():
        # O_EXCL + 0600: two processes racing create one key, and no other user can read it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return path.read_bytes().strip()
