"""Names that Dagster, the CLI, the demo and the bench must spell the same way, in one place."""

from __future__ import annotations

from resolve_sync.kinds import AuthKind

# Dagster
CODE_LOCATION = "resolve_sync"
SYNC_JOB = "sync_job"
FRESHNESS_JOB = "freshness_job"
ASSET_GROUP = "resolve_sync"
CUSTOMERS_ASSET = "netsuite_customers"
INVOICES_ASSET = "netsuite_invoices"
RECORDS_ASSET = "resolve_records"
FILTER_CHECK = "filter_field_id_valid"
DUPLICATES_CHECK = "no_duplicate_customers"
HELD_BACK_CHECK = "invoices_held_back"
DRIFT_CHECK = "financed_invoice_drift"
FRESHNESS_CHECK = "sync_freshness"
RECONNECT_CHECK = "netsuite_authorization_valid"
RECONNECT_JOB = "reconnect_check_job"
PARTITIONS = "connections"

# Run tags
MERCHANT_TAG = "merchant"
FULL_REFRESH_TAG = "resolve_sync/full_refresh"
AS_OF_TAG = "resolve_sync/as_of"
PARTITION_TAG = "dagster/partition"

# Credentials each auth kind needs (SPEC §2); `private_key_pem` is read from a file, never typed.
REQUIRED_CREDENTIALS: dict[AuthKind, tuple[str, ...]] = {
    AuthKind.TBA: ("consumer_key", "consumer_secret", "token_id", "token_secret"),
    AuthKind.OAUTH2_M2M: ("client_id", "certificate_id", "private_key_pem"),
    # client_id/client_secret are stored as references to the deployment's variables by `connect`.
    AuthKind.OAUTH2_CODE: ("client_id", "client_secret", "access_token", "refresh_token"),
}
OPTIONAL_CREDENTIALS: dict[AuthKind, tuple[str, ...]] = {
    AuthKind.TBA: (),
    AuthKind.OAUTH2_M2M: ("algorithm",),
    AuthKind.OAUTH2_CODE: ("access_token_expires_at", "refresh_token_expires_at"),
}
