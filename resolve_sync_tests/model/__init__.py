"""A reference model of resolve_sync's rules (SPEC R1–R12), independent of resolve_sync.sync."""
