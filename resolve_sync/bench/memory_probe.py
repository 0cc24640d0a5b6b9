"""Child process for the memory benchmark: prints its own peak RSS (KiB) after a whole sync."""

import sys

from resolve_sync.bench.scenarios import memory_probe

print(memory_probe(int(sys.argv[1]), int(sys.argv[2])))
