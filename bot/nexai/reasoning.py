"""Hide `<think>...</think>` reasoning blocks from text that arrives in pieces.

Reasoning models may put their chain of thought inline. `ThinkFilter` is fed the pieces of a
stream and returns only what the user should see; a tag split across pieces is held back until
it can be recognised. Whitespace right after a closed block is dropped too, so the answer does
not start with blank lines.

Models that think inline (`inline=True`: DeepSeek-R1 and kin) often leave out the opening tag
and send `...reasoning...</think>answer`. For them the text starts inside a block that nothing
opened: it is held until a closing tag proves it was reasoning, and released as the answer if
the stream ends without one. For other models a stray closing tag is dropped.
"""

from __future__ import annotations

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def _held_suffix_len(text: str, tags: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that could be the start of one of `tags`."""
    longest = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), longest, -1):
            if text.endswith(tag[:size]):
                longest = size
                break
    return longest


class ThinkFilter:
    """Incremental filter: `feed()` each piece, then `flush()` once at the end."""

    __slots__ = ("_held", "_inside", "_trim_leading", "_unproven")

    def __init__(self, *, inline: bool = False) -> None:
        self._held = ""
        self._inside = inline
        self._trim_leading = False
        #: The text of a block no tag opened, until a closing tag proves it was reasoning.
        self._unproven: list[str] | None = [] if inline else None

    @property
    def inside(self) -> bool:
        """True while the filter is in an unclosed reasoning block."""
        return self._inside

    def feed(self, piece: str) -> str:
        """Take the next piece of text; return the part that is safe to show now."""
        text = self._held + piece
        self._held = ""
        visible: list[str] = []
        while text:
            if self._inside:
                end = text.find(CLOSE_TAG)
                if end < 0:
                    keep = _held_suffix_len(text, (CLOSE_TAG,))
                    if self._unproven is not None:
                        self._unproven.append(text[: len(text) - keep])
                    self._held = text[len(text) - keep :] if keep else ""
                    break
                text = text[end + len(CLOSE_TAG) :]
                self._inside = False
                self._unproven = None
                self._trim_leading = True
                continue
            start = text.find("<")
            while start >= 0 and not text.startswith((OPEN_TAG, CLOSE_TAG), start):
                if _held_suffix_len(text[start:], (OPEN_TAG, CLOSE_TAG)) == len(text) - start:
                    break  # a tag may be starting at the very end: hold it
                start = text.find("<", start + 1)
            if start < 0:
                visible.append(self._trimmed(text))
                break
            visible.append(self._trimmed(text[:start]))
            rest = text[start:]
            if rest.startswith(OPEN_TAG):
                self._inside = True
                text = rest[len(OPEN_TAG) :]
            elif rest.startswith(CLOSE_TAG):
                text = rest[len(CLOSE_TAG) :]  # stray closing tag: drop it
            else:
                self._held = rest
                break
        return "".join(visible)

    def flush(self, *, truncated: bool = False) -> str:
        """End of text: release a held partial tag, drop an unclosed reasoning block; a block
        that no tag opened and none closed was the answer after all, unless the text was
        `truncated` (the token budget ran out while the model was still reasoning)."""
        held, self._held = self._held, ""
        if self._inside and self._unproven is not None and not truncated:
            text = "".join(self._unproven) + held
            self._inside, self._unproven = False, None
            return self.feed(text) + self.flush()
        if self._inside:
            return ""
        return self._trimmed(held)

    def _trimmed(self, text: str) -> str:
        if self._trim_leading and text:
            text = text.lstrip()
            if text:
                self._trim_leading = False
        return text


def strip_think(text: str, *, inline: bool = False, truncated: bool = False) -> str:
    """The whole-text version of `ThinkFilter`."""
    think = ThinkFilter(inline=inline)
    return think.feed(text) + think.flush(truncated=truncated)
