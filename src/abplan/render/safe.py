"""Text from papers, file names and LM replies made safe to print on a terminal.

A title or reply can carry escape sequences that clear the screen, retitle the window or write the
clipboard (OSC 52). `terminal_safe` removes whole sequences (CSI, OSC, DCS/SOS/PM/APC strings, their
8-bit C1 forms, two-byte ESC codes), then every remaining control character except newline and tab,
and the bidirectional overrides that make text display in an order other than the one it has.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?        # CSI: colours, cursor moves, screen clears
  | (?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])                   # OSC, DCS, SOS, PM, APC ...
    [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?                     # ... up to BEL or ST (or the end)
  | \x1b[\x20-\x2f]*[\x30-\x7e]?                              # any other ESC code
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` without terminal escape sequences or control characters (newline and tab are kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


class SafeConsole(Console):
    """A rich Console that cleans every string it renders with `terminal_safe` (markup included: escape
    sequences are no part of markup), and does not wrap lines when its output is not a terminal, so a
    path in piped output stays whole. Build `Text` and panel titles from `terminal_safe` text
    yourself: rich renders those without passing through here; print panels with `soft_wrap=False`."""

    _soft_wrap: bool | None = None

    @property  # type: ignore[override]
    def soft_wrap(self) -> bool:
        return bool(self._soft_wrap) or not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._soft_wrap = value

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Text:
        return super().render_str(terminal_safe(text), *args, **kwargs)
