"""The Resolve store: tables, migrations, connections and secrets. Knows nothing of NetSuite's wire format."""
