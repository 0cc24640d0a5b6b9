"""One dynamic partition per connection, keyed `<merchant>|<subsidiary>` (see resolve_sync.connection_keys)."""

from __future__ import annotations

import dagster as dg

from resolve_sync.connection_keys import parse_key
from resolve_sync.names import AS_OF_TAG, FULL_REFRESH_TAG, MERCHANT_TAG, PARTITIONS

connections_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS)


def run_tags(partition_key: str, *, full_refresh: bool = False, as_of: str | None = None) -> dict[str, str]:
    """Tags every run of a partition carries: the merchant (for filtering and limits), and the options."""
    tags = {MERCHANT_TAG: parse_key(partition_key).merchant_id}
    if full_refresh:
        tags[FULL_REFRESH_TAG] = "true"
    if as_of:
        tags[AS_OF_TAG] = as_of
    return tags
