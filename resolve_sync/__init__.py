"""resolve_sync: a Dagster project that keeps Resolve customers and invoices in step with NetSuite."""
