"""Fidelity: jacobsvante's `netsuite` client, written for the real service, works against the sandbox
unchanged except for the base URL (its TBA signing adds oauth_body_hash, its paging follows `hasMore`)."""

from __future__ import annotations

import asyncio
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from netsuite import Config, NetSuiteRestApi, TokenAuth
    from netsuite.exceptions import NetsuiteAPIRequestError

from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA


def _api() -> NetSuiteRestApi:
    return NetSuiteRestApi(Config(account=ACCOUNT_ID, auth=TokenAuth(**TBA)))


def test_third_party_client_pages_through_suiteql(sandbox_server) -> None:
    url = f"{sandbox_server.base_url}/services/rest/query/v1/suiteql"

    async def all_ids() -> list[str]:
        api, ids, offset = _api(), [], 0
        while True:
            page = await api.suiteql("SELECT id FROM customer ORDER BY id", limit=2, offset=offset, url=url)
            ids += [item["id"] for item in page["items"]]
            if not page["hasMore"]:
                return ids
            offset += 2

    assert asyncio.run(all_ids()) == ["10", "11", "12"]


def test_third_party_client_sees_netsuite_errors(sandbox_server) -> None:
    url = f"{sandbox_server.base_url}/services/rest/query/v1/suiteql"

    async def bad_query() -> NetsuiteAPIRequestError:
        try:
            await _api().suiteql("SELECT nope FROM customer", url=url)
        except NetsuiteAPIRequestError as error:
            return error
        raise AssertionError("expected an error")

    error = asyncio.run(bad_query())
    assert error.status_code == 400 and "Unknown identifier 'nope'" in error.response_text


def test_third_party_client_reads_the_metadata_catalog(sandbox_server) -> None:
    url = f"{sandbox_server.base_url}/services/rest/record/v1/metadata-catalog/customer"
    schema = asyncio.run(
        _api().get(
            "/record/v1/metadata-catalog/customer", url=url, headers={"Accept": "application/schema+json"}
        )
    )
    assert schema["properties"]["custentity_sync_to_resolve"]["type"] == "boolean"
