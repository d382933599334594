"""Errors a user can act on. Each carries the exit code the CLI returns and prints as one line."""

from __future__ import annotations

from typing import Any

from abplan.redact import redact


class AbplanError(Exception):
    """Base class: the message is shown to the user as a single line, with any key in it redacted."""

    exit_code = 1

    def __init__(self, message: Any = "", *args: Any) -> None:
        super().__init__(redact(str(message)), *args)


class InputError(AbplanError):
    """Bad input: a missing, empty, unreadable or unsafe paper, dataset or option."""

    exit_code = 2


class ConfigError(AbplanError):
    exit_code = 2


class ResourceError(AbplanError):
    """The machine ran out of something abplan needs: disk space for the cache or the output."""

    exit_code = 2


class MissingExtraError(AbplanError):
    exit_code = 2

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"this feature needs {package}: pip install 'abplan[{extra}]'")


class LMError(AbplanError):
    """The model could not give a usable answer after the allowed retries.

    `bad_keys` names cached responses that proved unusable, so a retry can evict them and ask again.
    """

    exit_code = 1

    def __init__(self, message: str, bad_keys: list[str] | None = None) -> None:
        super().__init__(message)
        self.bad_keys = bad_keys or []


class PendingRequests(AbplanError):
    """Offline mode: some LM requests are not in the cache yet."""

    exit_code = 3

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"{count} LM request{'s' if count != 1 else ''} pending: "
            "run 'abplan lm export', answer them with any batch executor, 'abplan lm import' the results, "
            "then rerun the same command"
        )
