"""Dagster wiring: partitions, resources, assets, checks, schedules, sensors. Thin by design."""
