"""The bot's own notes under an answer, in a form that a model's answer cannot take.

A note (e.g. "the answer was cut off") is a line of Discord subtext (``-# ...``, small grey
text), after a blank line. A model's answer goes through `SubtextEscaper`, which escapes
``-#`` at the start of a line (``\\-#`` shows as a plain "-#"), so nothing the model writes
renders as subtext, even after it closes a code block: no model text can pass for a note.

Inside a code block ``-#`` shows literally anyway and is left alone, so code (a diff that
removes a ``#`` comment, say) stays intact. Markdown, which the splitter follows, and Discord
disagree on some blocks (Discord ends one at the next ``` even mid-line): from the first ```
that is not alone on a fence line, the rest of the answer counts as outside code. Doubt always
falls on the side of escaping.
"""

from __future__ import annotations

import re

from bot.render.splitter import Fence, scan_fences

SUBTEXT_PREFIX = "-# "
CODE_FENCE = "```"

_SUBTEXT_START = re.compile(r"[ \t]*-#")
_MAYBE_SUBTEXT_START = re.compile(r"[ \t]*-?")  # could still become one
#: How a fence line starts (see `bot.render.splitter`): a line that starts otherwise is prose.
_MAYBE_FENCE_START = re.compile(r"[ \t]*(?:[`~]|$)")


def subtext(text: str) -> str:
    """`text` as one line of Discord subtext."""
    return SUBTEXT_PREFIX + " ".join(text.split())


class SubtextEscaper:
    """Escape subtext in streamed text: `feed` each delta, then `flush` at the end.

    The start of a line is held back only while it could still become ``-#`` (a few blanks
    and a dash at most); everything else passes through at once. Of a line that cannot be a
    fence line, only whether it holds ``` is kept, not its text (a paragraph can be the
    whole answer). `original` gives the model's text back from the escaped text, so that a
    streamed answer is kept once, escaped, while it streams.
    """

    def __init__(self) -> None:
        self._line = ""  # the current line so far (of prose: its last two characters)
        self._decided = False  # whether the start of the current line has been passed on
        self._prose = False  # the current line is decided and cannot be a fence line
        self._has_fence = False  # the current prose line holds ```
        self._fence: Fence | None = None  # the code block open, as Markdown sees it
        self._unsure = False  # a stray ``` was seen: Discord may see blocks differently
        self._given = 0  # characters given out so far
        self._escapes: list[int] = []  # where a backslash was added (offsets in the output)

    def feed(self, delta: str) -> str:
        *ended, rest = delta.split("\n")
        out = [self._extend(line) + self._end_line() for line in ended]
        out.append(self._extend(rest))
        if self._decided and (self._prose or not _MAYBE_FENCE_START.match(self._line)):
            self._prose = True
            self._has_fence = self._has_fence or CODE_FENCE in self._line
            self._line = self._line[-2:]  # a ``` may still start there
        return "".join(out)

    def original(self, escaped: str) -> str:
        """The model's text, from everything this escaper gave out (joined)."""
        if not self._escapes:
            return escaped
        pieces, start = [], 0
        for at in self._escapes:
            pieces.append(escaped[start:at])
            start = at + 1
        pieces.append(escaped[start:])
        return "".join(pieces)

    def flush(self) -> str:
        """What is still held back of the last line."""
        held = "" if self._decided else self._line
        self._line, self._decided = "", False
        self._prose = self._has_fence = False
        return self._give(held)

    def _give(self, text: str) -> str:
        self._given += len(text)
        return text

    def _extend(self, text: str) -> str:
        self._line += text
        if self._decided:
            return self._give(text)
        if self._in_code():
            self._decided = True
            return self._give(self._line)
        if (start := _SUBTEXT_START.match(self._line)) is not None:
            self._decided = True
            dash = start.end() - 2
            self._escapes.append(self._given + dash)
            return self._give(self._line[:dash] + "\\" + self._line[dash:])
        if _MAYBE_SUBTEXT_START.fullmatch(self._line):
            return ""
        self._decided = True
        return self._give(self._line)

    def _end_line(self) -> str:
        line = self._line
        held = "" if self._decided else line
        self._line, self._decided = "", False
        if self._prose:  # neither opens nor closes a block: only a ``` in it matters
            if self._has_fence or CODE_FENCE in line:
                self._unsure = True
            self._prose = self._has_fence = False
            return self._give("\n")
        before, self._fence = self._fence, scan_fences(line, self._fence)
        opened = before is None and _is_code(self._fence)
        closed = _is_code(before) and self._fence is None
        if line.count(CODE_FENCE) != (1 if opened or closed else 0):
            self._unsure = True
        return self._give(held + "\n")

    def _in_code(self) -> bool:
        return _is_code(self._fence) and not self._unsure


def _is_code(fence: Fence | None) -> bool:
    """A block Discord shows as code too (it knows no ~~~ fences)."""
    return fence is not None and fence.marker.startswith("`")
