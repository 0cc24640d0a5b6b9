"""The one Definitions object of the resolve_sync code location."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions()
