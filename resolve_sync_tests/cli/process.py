"""`resolve-sync` as a person runs it: a separate process, its real stdout, stderr and exit code."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from resolve_sync_tests.cli_process import cli


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def resolve_sync(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Ran:
    """Run `resolve-sync ARGS` in a new process with this test's environment (state folder, store URL)."""
    done = cli(*args, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    return Ran(done.returncode, done.stdout, done.stderr)


def run(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> str:
    """stdout and stderr of a command expected to succeed (or, with ok=False, to fail cleanly)."""
    ran = resolve_sync(*args, env=env)
    assert (ran.code == 0) is ok, ran.output
    assert "Traceback" not in ran.output, ran.output
    return ran.output
