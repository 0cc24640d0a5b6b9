"""The sync rules (SPEC R1–R17) in plain Python: extract, transform, duplicates, plan, apply. No Dagster."""
