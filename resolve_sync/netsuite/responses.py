"""NetSuite's answers, checked against their schema at the client boundary before any other code sees them.

Why: an HTML login page sent with status 200, a body cut off by the network, or an envelope of the wrong
shape used to fail deep inside the sync with raw Python text (`Expecting value: line 1 column 1 (char 0)`,
`'id'`, `'NoneType' object is not iterable`). Here every answer is parsed once and checked at two levels:

- **The answer's own shape** (the SuiteQL envelope: `items` a list, `hasMore` a boolean, `count`, `offset`
  and `totalResults` whole numbers, `links` a list of `{rel, href}`). If it is wrong nothing in it can be
  trusted: `NetSuiteProtocolError`, whose message says in plain words what was expected, what came (content
  type, first bytes, the JSON path) and which NetSuite account sent it.
- **Each row's shape** (a record: a JSON object whose values are strings, as SuiteQL sends them, with a
  usable internal id when the caller pages by one). A row of the wrong shape is one bad record, not a
  failed run: it becomes a `RejectedRow` (its id when it has one, the reason, where it was) on the page's
  `rejected` list and every other row of the page is used.

Cost: the body is parsed from the raw bytes with orjson (no charset sniffing, no str copy of the body).
The envelope goes through a strict pydantic model whose `items` is `list[Any]`, so no per-cell Python
object is built or validated by pydantic; rows are checked by a small loop that does, per row, one
type-set of its values (C speed) and one cached check that its keys are lower-case, and copies a row only
when it must (upper-case keys, a null value). `python -m resolve_sync.netsuite.parse_bench` measures it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain, repeat, starmap
from operator import itemgetter
from typing import Annotated, Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from resolve_sync.netsuite.errors import NetSuiteProtocolError

# NetSuite internal ids are positive integers sent as strings; 18 digits keeps them inside a 64-bit integer
# (and keeps a hostile 10,000-digit "id" away from int()).
MAX_ID_DIGITS = 18
TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")  # ASCII digits only


# -- the schema ---------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    # strict: "yes" is not a boolean and "12" is not a number; extra keys are NetSuite's to add.
    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


class Link(_Strict):
    rel: str
    href: str


WholeNumber = Annotated[int, Field(ge=0)]


class SuiteQLEnvelope(_Strict):
    """One page of a SuiteQL answer. `items` stays `list[Any]`: rows are checked one by one (`check_rows`)
    so that one bad row rejects that row, not the page, and no per-cell object is built twice."""

    items: list[Any]
    has_more: bool = Field(alias="hasMore")
    count: WholeNumber | None = None
    offset: WholeNumber | None = None
    total_results: WholeNumber | None = Field(default=None, alias="totalResults")
    links: list[Link] = Field(default_factory=list)


class JsonObject(_Strict):
    """Governance limits and similar answers: any JSON object."""


class RecordCatalog(_Strict):
    """The metadata catalog's JSON schema of a record type; each property describes one field."""

    properties: dict[str, dict[str, Any]] = Field(default_factory=dict)


# -- what callers get -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowShape:
    """What a row must carry besides string values: `key`, a positive integer id (None: no key, e.g. an
    aggregate probe), and `timestamps`, required 'YYYY-MM-DD HH:MM:SS' columns a scan pages on."""

    key: str | None = "id"
    timestamps: tuple[str, ...] = ()


KEYED = RowShape()
UNKEYED = RowShape(key=None)


@dataclass(frozen=True)
class RejectedRow:
    """A row NetSuite sent that does not have a record's shape; the rest of its page was used.

    `netsuite_id` is the row's internal id when it has a valid one (so an outcome can name the record),
    else None; `reason` says in plain words what was expected and what came; `json_path` is where in the
    answer the row was (`$.items[3]`).
    """

    netsuite_id: str | None
    reason: str
    json_path: str
    # Recognises the same row when keyset paging reads it twice (a rejected row at the end of one page is
    # the first of the next); not part of equality.
    digest: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Page:
    """One page of a SuiteQL answer: the good rows (keys lower-cased, `links` dropped), the rejected ones,
    and `resume_row`: the key columns of the last row, good or rejected, whose key was usable; keyset
    scans continue after it so a rejected last row neither stops a scan nor repeats the page forever."""

    items: list[dict[str, str]]
    has_more: bool
    total_results: int
    offset: int
    rejected: tuple[RejectedRow, ...] = ()
    resume_row: dict[str, str] | None = None


class CheckedRows(list[dict[str, str]]):
    """Rows as a plain list of dicts (what every caller iterated before) plus `rejected`: the rows of the
    same answer that failed their own shape, for the sync to record as per-record outcomes."""

    def __init__(self, rows: Iterable[dict[str, str]] = (), rejected: Iterable[RejectedRow] = ()) -> None:
        super().__init__(rows)
        self.rejected: list[RejectedRow] = list(rejected)


# -- parsing ----------------------------------------------------------------------------------------------


def parse_json(response: httpx.Response, account_id: str, what: str) -> Any:
    """The body as JSON, parsed once from its bytes; anything else is a `NetSuiteProtocolError`."""
    content = response.content
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise not_json(response, account_id, what, error) from None


def suiteql_page(
    response: httpx.Response, account_id: str, *, shape: RowShape = KEYED, offset: int = 0
) -> Page:
    body = parse_json(response, account_id, "the SuiteQL query")
    envelope = validated(SuiteQLEnvelope, body, response, account_id, "the SuiteQL query")
    del body  # its own `items` list would keep every parsed row alive through `check_rows` (see there)
    if envelope.count is not None and envelope.count != len(envelope.items):
        raise wrong_shape(
            response,
            account_id,
            "the SuiteQL query",
            "$.count",
            f"`count` to equal the number of rows in `items` ({len(envelope.items)})",
            envelope.count,
            retryable=False,  # complete, well-formed JSON that contradicts itself comes back the same
        )
    rows, rejected, resume_row = check_rows(envelope.items, shape)
    return Page(
        items=rows,
        has_more=envelope.has_more,
        total_results=envelope.total_results if envelope.total_results is not None else len(rows),
        offset=envelope.offset if envelope.offset is not None else offset,
        rejected=tuple(rejected),
        resume_row=resume_row,
    )


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], body: Any, response: httpx.Response, account_id: str, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        path = json_path(problem["loc"])
        expected = EXPECTED.get(problem["type"], "another shape")
        if problem["type"] == "missing":
            expected = f"a `{problem['loc'][-1]}` key"
        raise wrong_shape(
            response, account_id, what, path, expected, problem.get("input"), retryable=False
        ) from None


EXPECTED = {
    "missing": "a key",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "greater_than_equal": "a whole number of 0 or more",
    "list_type": "a list",
    "string_type": "text",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "dict_type": "a JSON object",
}


def check_rows(
    items: list[Any], shape: RowShape
) -> tuple[list[dict[str, str]], list[RejectedRow], dict[str, str] | None]:
    """Good rows, rejected rows and the last usable key row, in NetSuite's order.

    A page whose rows are all well formed (the common case) is recognised by a handful of whole-page
    checks that run in C (`_all_rows_well_formed`); otherwise each row is checked on its own.

    Good rows of such a page are returned as copies (`dict(row)`, in C, about 0.2 ms a page) that the
    garbage collector does not track, and `items` is emptied: orjson built each row around its `links`
    list, which made the row a tracked container for life (CPython untracks dicts only in full
    collections; a copy of a row whose `links` entry was deleted is built key by key and, holding only
    text, is never tracked). Pages live on in a scan's queue and in staging, so every collection moved
    thousands of them to the oldest generation, and the full collections that followed (50-90 ms each,
    three per 200,000-row scan) stopped every request thread of the client at once. Copying from the end
    of `items` frees each parsed row as its copy is made, so the copies add no garbage collections."""
    if items and _all_rows_well_formed(items, shape):
        items.reverse()
        rows = list(map(dict, starmap(items.pop, repeat((), len(items)))))
        return rows, [], rows[-1] if shape.key is not None else None
    good: list[dict[str, str]] = []
    rejected: list[RejectedRow] = []
    resume_row: dict[str, str] | None = None
    lower_keys: set[tuple[str, ...]] = set()
    key, timestamps = shape.key, shape.timestamps
    for index, raw in enumerate(items):
        if type(raw) is dict:
            raw.pop("links", None)  # our own freshly parsed dict: no copy needed to drop NetSuite's links
            if (
                tuple(raw) in lower_keys
                and set(map(type, raw.values())) == _STR_ONLY
                and (key is None or _is_id(raw.get(key)))
                and all(_is_timestamp(raw.get(c)) for c in timestamps)
            ):
                good.append(raw)
                if key is not None:
                    resume_row = raw
                continue
        row, rejection, usable = _check_row(raw, index, shape, lower_keys)
        if row is not None:
            good.append(row)
        if rejection is not None:
            rejected.append(rejection)
        if usable is not None:
            resume_row = usable
    return good, rejected, resume_row


_STR_ONLY = {str}
_DICT_ONLY = {dict}
_IDS_RE = re.compile(rf"(?:[1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}}\n)*[1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}}")
_TIMESTAMPS_RE = re.compile(rf"(?:{TIMESTAMP_RE.pattern}\n)*{TIMESTAMP_RE.pattern}")


def _all_rows_well_formed(items: list[Any], shape: RowShape) -> bool:
    """True when every row is an object with lower-case keys, string values and a valid key (and
    timestamps), after dropping `links` in place. Each check maps a C function over the page; the ids and
    timestamps are matched as one joined string (a count of separators makes sure no value hides one).

    Keys are checked as the set of every key of the page (a handful), values by joining them all, which
    stops with TypeError at the first one that is not text (orjson makes no str subclasses); both cost
    about half of building a tuple or a type per row."""
    if set(map(type, items)) != _DICT_ONLY:
        return False
    for raw in items:
        raw.pop("links", None)
    if any(key != key.lower() for key in set(chain.from_iterable(items))):
        return False
    try:
        "".join(chain.from_iterable(map(dict.values, items)))
    except TypeError:
        return False
    for column, pattern in ((shape.key, _IDS_RE), *((c, _TIMESTAMPS_RE) for c in shape.timestamps)):
        if column is None:
            continue
        try:
            joined = "\n".join(map(itemgetter(column), items))
        except KeyError:
            return False
        if joined.count("\n") != len(items) - 1 or pattern.fullmatch(joined) is None:
            return False
    return True


def _check_row(
    raw: Any, index: int, shape: RowShape, lower_keys: set[tuple[str, ...]]
) -> tuple[dict[str, str] | None, RejectedRow | None, dict[str, str] | None]:
    where = f"$.items[{index}]"

    def reject(reason: str, netsuite_id: str | None = None) -> RejectedRow:
        return RejectedRow(netsuite_id, reason, where, _digest(raw))

    if type(raw) is not dict:
        return None, reject(f"expected a record (a JSON object), got {describe(raw)}"), None
    keys = tuple(raw)
    if keys not in lower_keys:
        lowered = [k.lower() for k in keys]
        if len(set(lowered)) != len(lowered):
            return None, reject("two columns have the same name once upper/lower case is ignored"), None
        if lowered != list(keys):
            raw = dict(zip(lowered, raw.values(), strict=True))  # NetSuite's key casing may vary
        else:
            lower_keys.add(keys)
    if None in raw.values():  # SuiteQL omits null columns; a null is read as the same absence
        raw = {k: v for k, v in raw.items() if v is not None}
    netsuite_id: str | None = None
    if shape.key is not None:
        value = raw.get(shape.key)
        if value is None:
            return None, reject(f"the row has no `{shape.key}`"), None
        if not _is_id(value):
            return (
                None,
                reject(
                    f"`{shape.key}` is {describe(value)}, expected a NetSuite internal id "
                    f"(a positive whole number as text, at most {MAX_ID_DIGITS} digits)"
                ),
                None,
            )
        netsuite_id = value
    for column in shape.timestamps:
        value = raw.get(column)
        if not _is_timestamp(value):
            return (
                None,
                reject(
                    f"`{column}` is {describe(value)}, expected a timestamp 'YYYY-MM-DD HH:MM:SS'",
                    netsuite_id,
                ),
                None,
            )
    usable = (
        {c: raw[c] for c in (shape.key, *shape.timestamps) if c is not None}
        if shape.key is not None
        else None
    )
    for column, value in raw.items():
        if type(value) is not str:
            return (
                None,
                reject(f"`{column}` is {describe(value)}, expected text", netsuite_id),
                usable,
            )
    return raw, None, usable


def _is_id(value: object) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= MAX_ID_DIGITS
        and value.isascii()
        and value.isdigit()
        and value[0] != "0"
    )


def _is_timestamp(value: object) -> bool:
    return type(value) is str and TIMESTAMP_RE.fullmatch(value) is not None


def _digest(raw: Any) -> str:
    try:
        encoded = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not reachable for parsed JSON; a digest is only a de-duplication hint
        encoded = repr(raw).encode()
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


# -- messages ---------------------------------------------------------------------------------------------


def describe(value: object) -> str:
    """A JSON value in words, short: `the text "yes"`, `the number 3`, `null`, `a list of 2 items`."""
    if value is None:
        return "null (nothing)"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return f"the number {text if len(text) <= 24 else text[:20] + '…'}"
    if isinstance(value, str):
        return "empty text" if not value else f"the text {_quote(value, 40)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object" + (
            f" with keys {', '.join(sorted(map(str, value))[:5])}" if value else " with no keys"
        )
    return "a value of an unknown kind"


def _quote(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return '"' + (text if len(text) <= limit else text[:limit] + "…") + '"'


def json_path(loc: Iterable[int | str]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _answer(response: httpx.Response) -> tuple[str, str]:
    content_type = response.headers.get("content-type", "") or "no content type"
    first = response.content[:80].decode("utf-8", "replace")
    return content_type, _quote(first, 80)


def _where(account_id: str, what: str) -> str:
    return f"NetSuite account {account_id} answered {what}"


def not_json(
    response: httpx.Response, account_id: str, what: str, error: orjson.JSONDecodeError
) -> NetSuiteProtocolError:
    content = response.content
    content_type, first = _answer(response)
    status = response.status_code
    stripped = content.lstrip()
    if not stripped:
        # An empty 200 is what a connection closed before the body looks like: worth another try.
        return NetSuiteProtocolError(
            f"{_where(account_id, what)} with an empty body (status {status}, {content_type}), expected "
            "NetSuite's JSON. The answer was probably lost on the way; it is retried.",
            retryable=True,
            content_type=content_type,
            status=status,
        )
    if stripped[:1] == b"<" or "html" in content_type.lower() or "xml" in content_type.lower():
        # A login page, a proxy's or firewall's page, or a wrong base URL: the same page comes back on every
        # try, so retrying would only delay this message.
        return NetSuiteProtocolError(
            f"{_where(account_id, what)} with a web page instead of NetSuite's JSON (status {status}, "
            f"{content_type}, starting {first}). Something other than the REST API answered: a login or "
            "proxy page, or a wrong base URL. Check the connection's account id and base URL, and any proxy "
            "or firewall between here and NetSuite.",
            retryable=False,
            content_type=content_type,
            status=status,
        )
    if error.pos >= len(content.rstrip()) and stripped[:1] in (b"{", b"["):
        # JSON that stops in the middle: a connection cut mid-body or a proxy's size limit. Transient in
        # practice, so it is retried; a body cut the same way every time still ends in this message.
        return NetSuiteProtocolError(
            f"{_where(account_id, what)} with JSON that stops before its end ({len(content)} bytes, "
            f"{content_type}, ending {_quote(content[-40:].decode('utf-8', 'replace'), 40)}), expected "
            "a complete JSON document. The answer was probably cut off on the way; it is retried.",
            retryable=True,
            content_type=content_type,
            status=status,
        )
    return NetSuiteProtocolError(
        f"{_where(account_id, what)} with a body that is not valid JSON (status {status}, {content_type}, "
        f"starting {first}; unreadable from byte {error.pos}), expected NetSuite's JSON. Not retried: the "
        "same answer would come back.",
        retryable=False,
        content_type=content_type,
        status=status,
    )


def wrong_shape(
    response: httpx.Response,
    account_id: str,
    what: str,
    path: str,
    expected: str,
    got: object,
    *,
    retryable: bool,
) -> NetSuiteProtocolError:
    content_type, first = _answer(response)
    got_text = "nothing" if expected.startswith("a `") else describe(got)
    return NetSuiteProtocolError(
        f"{_where(account_id, what)} with JSON of an unexpected shape: at {path} expected {expected}, got "
        f"{got_text} (status {response.status_code}, {content_type}, starting {first}).",
        retryable=retryable,
        json_path=path,
        content_type=content_type,
        status=response.status_code,
    )


def protocol_error(account_id: str, what: str, problem: str) -> NetSuiteProtocolError:
    """An answer that is well formed alone but impossible in sequence (a scan that cannot move forward)."""
    return NetSuiteProtocolError(f"NetSuite account {account_id}: {what}: {problem}", retryable=False)
