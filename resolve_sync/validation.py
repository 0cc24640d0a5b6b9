"""One validator per kind of value an operator (or a stored row) hands us, used at every point of entry.

The CLI, the store and the Dagster code call the same functions, so a value refused by one is refused by
all, before anything is stored or sent. Each validator returns the value in its canonical form and raises
`InvalidValue` with a one-line reason that says what the value should look like.

Why so strict: an account id becomes a host name (`1234567-sb1.suitetalk.api.netsuite.com`) and a realm
that signed requests carry, and a base URL is where those requests go; anything looser than NetSuite's own
shapes lets a typo or an attacker send credentials to another host.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import urllib.parse
import zoneinfo
from functools import cache

from resolve_sync.errors import ConfigurationError

MERCHANT_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# NetSuite account ids: the company number, plus `_SB<n>` for a sandbox or `_RP<n>` for a release preview
# account (NSH/section_1546938065.html; every client we checked maps `_` to `-` for the host label).
# `[0-9]`, not `\d`: `\d` also matches other scripts' digits, which `int()` and DNS treat differently.
ACCOUNT_ID_RE = re.compile(r"([0-9]{1,12})(?:[_-](SB|RP)([0-9]{1,4}))?", re.IGNORECASE)
ASCII_DIGITS_RE = re.compile(r"[0-9]{1,10}")
RESOLVE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
MAX_INTERNAL_ID = 2**31 - 1  # NetSuite internal ids are 32-bit
MAX_URL_LENGTH = 2048
HOST_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
LOOPBACK_NAMES = {"localhost"}
USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:/*)?[^/?#]*@")  # greedy: a password may hold '@'
# A password given as a query parameter (`?password=…`) or a libpq keyword (`host=… password=…`).
SECRET_PARAM_RE = re.compile(
    r"\b(password|passwd|pwd|sslpassword|secret|token)\s*=\s*('[^']*'|[^&\s]*)", re.I
)


class InvalidValue(ConfigurationError, ValueError):
    """A value that does not have its documented shape; nothing was stored or sent."""


class InvalidConnectionKey(InvalidValue):
    """A merchant id, subsidiary id or partition key that does not have the documented shape."""


def _shown(value: object, limit: int = 40) -> str:
    """The value as a reason quotes it: short, and with control characters escaped by repr."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


# -- merchants and subsidiaries --------------------------------------------------------------------------


def merchant_id(value: object) -> str:
    if not isinstance(value, str) or not MERCHANT_ID_RE.fullmatch(value):
        raise InvalidConnectionKey(
            f"Merchant id {_shown(value)} is invalid: use 1-63 lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. 'acme' or 'acme-eu')."
        )
    return value


def netsuite_internal_id(value: object, *, what: str = "NetSuite internal id") -> int:
    """A positive 32-bit integer written in ASCII digits (`'²'.isdigit()` is True; `int('²')` fails)."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not ASCII_DIGITS_RE.fullmatch(text) or not 0 < int(text) <= MAX_INTERNAL_ID:
        raise InvalidValue(f"{what} {_shown(value)} is invalid: use a positive integer such as 42.")
    return int(text)


def subsidiary_id(value: object) -> int:
    try:
        return netsuite_internal_id(value, what="Subsidiary id")
    except InvalidValue:
        raise InvalidConnectionKey(
            f"Subsidiary id {_shown(value)} is invalid: use the subsidiary's NetSuite internal id, "
            "a positive integer (`resolve-sync subsidiaries MERCHANT` lists them)."
        ) from None


# -- NetSuite accounts -----------------------------------------------------------------------------------


def netsuite_account_id(value: object) -> str:
    """`1234567`, `1234567_sb1`, `1234567-SB1` → `1234567_SB1`: the realm form, from which the host label
    `1234567-sb1` is derived. Anything else (a host, a port, quotes, 5,000 digits) is refused."""
    match = ACCOUNT_ID_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidValue(
            f"NetSuite account id {_shown(value)} is invalid: use the account id from Setup > Company > "
            "Company Information, digits with an optional _SB<n> or _RP<n> suffix (e.g. 1234567 or "
            "1234567_SB1)."
        )
    number, kind, index = match.groups()
    return f"{number}_{kind.upper()}{int(index)}" if kind else number


def account_host_label(account_id: str) -> str:
    """`1234567_SB1` → `1234567-sb1`, the label NetSuite's hosts use."""
    return netsuite_account_id(account_id).lower().replace("_", "-")


def base_url(value: object) -> str:
    """An override of the REST host, as `scheme://host[:port]`: https, or http to a loopback host (the
    sandbox). No user or password, path, query or fragment: the client appends NetSuite's paths itself, and
    credentials in a URL would be printed wherever the URL is."""
    reason = _base_url_problem(value)
    if reason:
        raise InvalidValue(f"Base URL {redact_url(value)!r} is invalid: {reason}.")
    parts = urllib.parse.urlsplit(str(value).strip())
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{shown_host}" + (f":{parts.port}" if parts.port else "")


def _base_url_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "give a URL such as https://1234567.suitetalk.api.netsuite.com"
    text = value.strip()
    if len(text) > MAX_URL_LENGTH or any(ord(c) < 33 or ord(c) == 127 or c == "\\" for c in text):
        return "it contains spaces, control characters or backslashes"
    if not text.isascii():
        return "use the ASCII (punycode) form of the host"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        return "its port is not a number between 0 and 65535"
    if parts.scheme.lower() not in ("https", "http"):
        return "only https URLs are allowed (http only to a loopback host such as 127.0.0.1)"
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        return "it must not contain a user name or password; credentials are stored separately"
    host = (parts.hostname or "").lower()
    if not host:
        return "it has no host"
    if not _valid_host(host):
        return f"{host!r} is not a host name or IP address"
    if port == 0:
        return "port 0 is not a port"
    if parts.path not in ("", "/") or parts.query or parts.fragment or "%" in text:
        return "give only scheme, host and port (NetSuite's paths are added by the client)"
    if parts.scheme.lower() == "http" and not is_loopback(host):
        return "plain http is allowed only to a loopback host (the sandbox); use https"
    return None


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(HOST_LABEL_RE.fullmatch(label) for label in labels)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_secrets(url: str) -> list[str]:
    """The pieces of a URL that may be (part of) a password: its password split at ':' and '@' (a driver
    that parses an unescaped '@' differently can echo a piece of it back), and `password=` values."""
    found = USERINFO_RE.match(url.strip())
    userinfo = found.group(0)[len(found.group(1) or "") : -1] if found else ""
    password = userinfo.partition(":")[2]  # the user name before the first ':' is no secret
    pieces = [p for p in re.split(r"[:@]", password) if len(p) >= 3]
    pieces += [m.group(2).strip("'") for m in SECRET_PARAM_RE.finditer(url)]
    return sorted({p for p in pieces if p}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` (a driver's error message) without any piece of `url`'s password."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def redact_url(value: object) -> str:
    """A URL (or a libpq connection string) as it may be printed: any `user:password@`, `password=` query
    parameter or keyword replaced, control characters dropped, and cut to a sane length."""
    text = USERINFO_RE.sub(r"\1***@", str(value).strip())
    text = SECRET_PARAM_RE.sub(r"\1=***", text)
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= 80 else text[:77] + "..."


# -- time zones --------------------------------------------------------------------------------------------


# In the tz database but no place's time: `localtime` is whatever machine reads it, `Factory` a placeholder.
NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_A_PLACE


def time_zone(value: object) -> str:
    """An IANA time zone name (`America/New_York`), as NetSuite's account preference names them."""
    if isinstance(value, str) and value in _zones():
        try:
            zoneinfo.ZoneInfo(value)
            return value
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            pass
    raise InvalidValue(
        f"Time zone {_shown(value)} is not an IANA time zone name: use the account's zone from Setup > "
        "Company > General Preferences, e.g. America/Los_Angeles or Europe/London."
    )


# -- duplicates (R12) --------------------------------------------------------------------------------------


def record_key(value: object) -> str:
    """`netsuite:<internal id>` or `resolve:<customer id>`, as `resolve-sync duplicates` takes them."""
    kind, _, ident = value.partition(":") if isinstance(value, str) else ("", "", "")
    if kind == "netsuite" and ASCII_DIGITS_RE.fullmatch(ident) and 0 < int(ident) <= MAX_INTERNAL_ID:
        return f"netsuite:{int(ident)}"
    if kind == "resolve" and RESOLVE_ID_RE.fullmatch(ident):
        return value  # type: ignore[return-value]
    raise InvalidValue(
        f"{_shown(value)} is not a record key: use netsuite:<internal id> or resolve:<customer id>."
    )


EARLIEST_LOGICAL_DATE = dt.date(1990, 1, 1)


def logical_date(day: dt.date) -> dt.date:
    """A run's logical date (`--as-of`, a schedule's date): the invoice window is the 12 months before it, so
    it cannot be before NetSuite existed or after tomorrow (UTC)."""
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    if not EARLIEST_LOGICAL_DATE <= day <= latest:
        raise ConfigurationError(
            f"Logical date {day.isoformat()} is out of range: use a date from {EARLIEST_LOGICAL_DATE} to {latest}."
        )
    return day
