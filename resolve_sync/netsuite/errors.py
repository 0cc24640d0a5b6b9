"""One exception hierarchy callers can catch by meaning (SPEC R16), each with NetSuite's code and detail.

Messages say what to fix. They never contain credentials: only the account id, the status, NetSuite's
error code and detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resolve_sync.errors import RemoteError

if TYPE_CHECKING:
    import httpx  # annotations only: `resolve-sync explain` imports these errors and never talks to NetSuite


class NetSuiteError(RemoteError):
    """Anything NetSuite (or the way to it) answered with other than success."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        merchant_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, merchant_id=merchant_id, hint=hint)
        self.status, self.code, self.detail = status, code, detail


class NetSuiteAuthError(NetSuiteError):
    """401 INVALID_LOGIN: the credentials, the token's role, or the account id are wrong."""


class NetSuitePermissionError(NetSuiteError):
    """The role may not read a table or record type."""


class NetSuiteRateLimited(NetSuiteError):
    """429 CONCURRENCY_LIMIT_EXCEEDED: too many requests in flight on the account; retried with backoff."""

    retryable = True


class NetSuiteQueryError(NetSuiteError):
    """400 INVALID_PARAMETER: the query names something that does not exist or is not supported."""


class NetSuiteUnavailable(NetSuiteError):
    """5xx, timeouts, connection resets: NetSuite or the network failed; retried with backoff."""

    retryable = True


class NetSuiteProtocolError(NetSuiteError):
    """NetSuite, or something between us and it, answered in a shape that is not the REST API's: an HTML
    page with status 200, a body cut off mid-JSON, `items` that is not a list, `hasMore` that is not a
    boolean. Nothing in such an answer can be trusted, so it fails the request; single rows of a record's
    wrong shape are not this error, they are reported as `responses.RejectedRow`.

    `retryable` is decided per answer (see `responses.py`): a body cut off mid-JSON is most likely the
    network and worth another try; an HTML login page or a well-formed answer of the wrong shape comes
    back the same every time, so retrying would only delay the message.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        json_path: str | None = None,
        content_type: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code="UNEXPECTED_ANSWER", detail=message, hint=hint)
        self.retryable = retryable
        self.json_path = json_path
        self.content_type = content_type


def _first_detail(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body: Any = response.json()
        details = body.get("o:errorDetails") or []
        first = details[0] if details else {}
        return first.get("o:errorCode") or body.get("o:errorCode"), first.get("detail") or body.get("title")
    except (ValueError, AttributeError, IndexError, TypeError):
        return None, response.text[:300] if response.text else None


def error_from_response(response: httpx.Response, account_id: str) -> NetSuiteError:
    status = response.status_code
    code, detail = _first_detail(response)
    where = f"NetSuite account {account_id}"
    said = f"{code or status}: {detail}" if detail else f"{code or status}"
    if status == 401:
        return NetSuiteAuthError(
            f"{where} rejected the login ({said}). Check the account id, the consumer key/secret and token "
            "id/secret (or OAuth 2.0 client id, certificate id and private key), and that the token's role has "
            "the 'REST Web Services' and 'Log in using Access Tokens' permissions.",
            status=status,
            code=code,
            detail=detail,
        )
    if status == 429 or code in ("CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED"):
        return NetSuiteRateLimited(
            f"{where} is at its concurrency limit ({said}). Other integrations share it; lower this "
            "connection's concurrency limit if it persists.",
            status=status,
            code=code,
            detail=detail,
        )
    if status == 403 or (detail and "was not found" in detail and "Record '" in detail):
        return NetSuitePermissionError(
            f"{where}: the role cannot read what was asked ({said}). Give the integration role view permission "
            "on that record type (e.g. Lists > Customers, Transactions > Invoice, Setup > Subsidiaries).",
            status=status,
            code=code,
            detail=detail,
        )
    if status >= 500:
        return NetSuiteUnavailable(
            f"{where} failed on its side ({said}); retrying later usually works.",
            status=status,
            code=code,
            detail=detail,
        )
    return NetSuiteQueryError(f"{where} refused the query ({said}).", status=status, code=code, detail=detail)


def error_from_transport(error: httpx.TransportError, account_id: str) -> NetSuiteUnavailable:
    return NetSuiteUnavailable(
        f"NetSuite account {account_id} could not be reached or did not answer ({type(error).__name__}); "
        "check the network and retry.",
        detail=type(error).__name__,
    )
