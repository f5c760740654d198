"""Split text into Discord-sized pieces without breaking words or code blocks.

Each piece is at most ``limit`` characters. Cuts prefer a paragraph break, then a line break,
then a space; a word is cut only when it is longer than the room. A code block (``` or ~~~
fence) that a cut crosses is closed at the end of the piece (``"\\n```"``) and reopened with
its language at the start of the next (``"```python\\n"``); that markup counts toward the limit.

What is preserved: every piece is ``opener + body + closer``, where ``opener`` and ``closer``
are the added fence markup (empty when no block is cut), and the text is
``gap + body_0 + gap + body_1 + ... + body_n + gap`` with every gap made of whitespace only.
So only whitespace is dropped, and only where the text is cut or at its ends. A body ends on a
visible character; before a body, whitespace is dropped up to its last line break (the
indentation after it is kept, which matters inside code), or all of it when it holds no line
break. A text with no visible character gives no pieces.

Fences are recognised per line, as in CommonMark: a line that starts (after optional
indentation) with 3 to ``MAX_FENCE_CHARS`` backticks or tildes opens a block, and a line
of at least as many of the same character, and nothing else, closes it. Every piece is
scanned on its own, so each one is balanced by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DISCORD_MESSAGE_LIMIT = 2000
MAX_FENCE_CHARS = 8
MAX_LANGUAGE_CHARS = 20
MIN_LIMIT = 100  # room for the largest opener and closer with text between them
MIN_FILL = 0.5  # a preferred break must leave a piece at least this full

_OPENING = re.compile(
    rf"[ \t]*(?P<marker>(?P<ch>[`~])(?P=ch){{2,{MAX_FENCE_CHARS - 1}}})(?!(?P=ch))(?P<info>.*)"
)
_CLOSING = re.compile(r"[ \t]*(?P<marker>(?P<ch>[`~])(?P=ch){2,})[ \t\r]*")
_LANGUAGE = re.compile(rf"[\w+#.\-]{{1,{MAX_LANGUAGE_CHARS}}}")
_WHITESPACE = re.compile(r"\s+")
_VISIBLE = re.compile(r"\S")

# Cut classes, best first: a blank line, a line break, a space.
_PARAGRAPH, _LINE, _SPACE = 2, 1, 0


@dataclass(frozen=True, slots=True)
class Fence:
    """An open code block: its marker (```, ~~~~ ...) and language ('' when none)."""

    marker: str
    language: str = ""

    @property
    def opener(self) -> str:
        return f"{self.marker}{self.language}\n"

    @property
    def closer(self) -> str:
        return f"\n{self.marker}"


@dataclass(frozen=True, slots=True)
class Cut:
    """The next piece of a text, and where the text continues after it.

    ``end`` indexes the text just past ``body``; ``fence`` is the block still open there
    (reopened by the next piece). ``last`` means the whole rest fits in this piece.
    ``settled`` means the cut cannot change whatever text is appended later.
    """

    opener: str
    body: str
    closer: str
    end: int
    fence: Fence | None
    last: bool
    settled: bool

    @property
    def content(self) -> str:
        return self.opener + self.body + self.closer


def split_message(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters (see the module docstring)."""
    pieces: list[str] = []
    start, fence = 0, None
    while (cut := next_piece(text, start, fence, limit)) is not None:
        pieces.append(cut.content)
        if cut.last:
            break
        start, fence = cut.end, cut.fence
    return pieces


def next_piece(text: str, start: int, fence: Fence | None, limit: int) -> Cut | None:
    """The piece starting at ``start`` inside ``fence``, or None when no visible text is left."""
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}, not {limit}")
    visible = _VISIBLE.search(text, start)
    if visible is None or (fence and _closes(text[visible.start() :].rstrip(), fence)):
        return None  # nothing left to show (at most the closing fence the last piece wrote)
    start = _body_start(text, start, visible.start())
    opener = fence.opener if fence else ""
    room = limit - len(opener)
    if visible.start() - start >= room // 2:  # indentation too long to keep
        start = visible.start()

    rest = text[start:].rstrip()
    after = scan_fences(rest, fence)
    closer = after.closer if after else ""
    if len(opener) + len(rest) + len(closer) <= limit:
        return Cut(opener, rest, closer, start + len(rest), after, last=True, settled=False)

    settled = len(text) - start > room
    while True:
        end = _choose_end(text, start, room)
        body = text[start:end]
        after = scan_fences(body, fence)
        closer = after.closer if after else ""
        if len(opener) + len(body) + len(closer) <= limit:
            return Cut(opener, body, closer, end, after, last=False, settled=settled)
        room = limit - len(opener) - len(closer)


def scan_fences(text: str, fence: Fence | None = None) -> Fence | None:
    """The code block open at the end of ``text``, given the one open at its start."""
    for line in text.split("\n"):
        if fence is None:
            fence = _opening(line)
        elif _closes(line, fence):
            fence = None
    return fence


def _closes(line: str, fence: Fence) -> bool:
    """Whether ``line`` is a closing fence of ``fence`` (CommonMark: same character, as long)."""
    closing = _CLOSING.fullmatch(line)
    if closing is None:
        return False
    marker = closing["marker"]
    return marker[0] == fence.marker[0] and len(marker) >= len(fence.marker)


def _opening(line: str) -> Fence | None:
    match = _OPENING.fullmatch(line)
    if match is None:
        return None
    info = match["info"]
    if match["ch"] == "`" and "`" in info:
        return None  # CommonMark: a backtick fence's info string has no backtick
    words = info.split()
    language = words[0] if words and _LANGUAGE.fullmatch(words[0]) else ""
    return Fence(match["marker"], language)


def _body_start(text: str, start: int, visible: int) -> int:
    """Skip the whitespace before a body, keeping a line's indentation."""
    newline = text.rfind("\n", start, visible)
    return visible if newline < 0 else newline + 1


def _choose_end(text: str, start: int, room: int) -> int:
    """Where to end a body that starts at ``start`` and may hold ``room`` characters.

    Only ``text[start : start + room + 1]`` is read (one character past the room shows whether
    the room ends at a word boundary), so the choice is stable while text is appended.
    """
    window = text[start : start + room + 1]
    best: dict[int, int] = {}  # class -> last end offset in the window
    for gap in _WHITESPACE.finditer(window):
        if gap.start() == 0 or gap.start() > room:
            continue  # leading indentation, or past the room
        kind = min(gap.group().count("\n"), _PARAGRAPH)
        best[kind] = gap.start()
    if len(window) <= room and not window[-1].isspace():
        best[_PARAGRAPH] = len(window)  # the end of the text is the best break of all
    for kind in (_PARAGRAPH, _LINE, _SPACE):
        if best.get(kind, 0) >= room * MIN_FILL:
            return start + best[kind]
    if best:
        return start + max(best.values())
    return start + room  # one word longer than the room
