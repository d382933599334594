"""What every `abplan` subcommand shares: the stdout and stderr consoles and `handle_errors`.

The command modules (`cli.py`, `cli_plan.py`, `cli_bench.py`, `cli_lm.py`, `cli_dataset.py`) import
from here, never from each other's entry points, so no command module imports the one that mounts it.
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.markup import escape

from abplan.errors import AbplanError, PendingRequests
from abplan.lm.client import show_warnings_on_stderr
from abplan.lm.types import CacheMiss
from abplan.redact import redact
from abplan.render.safe import SafeConsole

# Every print of paper, file-name or model text goes through these: escape sequences are stripped,
# and lines are not wrapped when the output is not a terminal.
out = SafeConsole()
err = SafeConsole(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn known failures into one line on stderr (keys redacted) and the documented exit code.

    Also shows the `abplan` logger's warnings (retries) on stderr, one short line each."""

    def fail(msg: str, code: int, label: str = "error") -> typer.Exit:
        line = " ".join(redact(msg).split())
        err.print(f"[bold red]abplan: {label}:[/] {escape(line)}", highlight=False, soft_wrap=True)
        return typer.Exit(code)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        show_warnings_on_stderr()
        try:
            return fn(*args, **kwargs)
        except PendingRequests as e:  # batch mode's documented stop: a status line, not an error
            err.print(f"abplan: {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except AbplanError as e:
            raise fail(str(e), e.exit_code) from None
        except CacheMiss:
            raise fail("LM requests pending (offline mode): run 'abplan lm export'", 3) from None
        except PermissionError as e:
            raise fail(f"permission denied: {e.filename}", 2) from None
        except KeyboardInterrupt:
            err.print("abplan: interrupted")
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as e:
            if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
                where = f" writing {e.filename}" if e.filename else ""
                raise fail(f"no space left on the device{where}", 2) from None
            if os.environ.get("ABPLAN_DEBUG"):
                raise
            raise fail(
                f"{type(e).__name__}: {e} (set ABPLAN_DEBUG=1 for the traceback, and please report it)",
                1,
                "internal error",
            ) from None

    return wrapper  # type: ignore[return-value]
