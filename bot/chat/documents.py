"""Text documents a member attaches to a prompt: which files count, their text, and the part
of it that goes to the model.

A file is judged twice. Before the download, by what Discord says (`check_document`): its
content type and extension must be text-like (plain text, Markdown, CSV, JSON, source code)
or PDF, and its size within the byte cap. After the download, by its bytes (`extract_text`):
text must decode as UTF-8 with no NUL bytes (or as UTF-16 that starts with its byte order
mark); a PDF must open without a password, not be damaged, and hold extractable text. Every
refusal is a `DocumentError` that the member reads in their language, raised before anything
is charged or sent to the API.

Extraction keeps at most `max_pages` pages of a PDF and `max_chars` characters of any file,
and says when it cut (`Document.cut_pages`, `Document.cut_chars`). `attach` then fits the text
to the room left in the model's context and frames it for the prompt with the file's name and
type; `memory_mention` is what the conversation's memory keeps instead of the text.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass

from bot.chat.document_kinds import (
    DEFAULT_DOCUMENT_MAX_CHARS,
    DEFAULT_DOCUMENT_MAX_PAGES,
    DEFAULT_DOCUMENT_READ_TIMEOUT_S,
    PDF,
    DocumentFile,
    document_kind,
)
from bot.i18n import t
from bot.media.files import MediaError, megabytes
from bot.render.subtext import subtext

log = logging.getLogger(__name__)

#: Byte order marks of UTF-16 (little- and big-endian) text.
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
#: pypdf raises its own errors (PyPdfError) on most damage, and ordinary ones on the rest.
_ORDINARY_DAMAGE = (ValueError, KeyError, TypeError, AttributeError, IndexError,
                    AssertionError, RecursionError, ZeroDivisionError, OverflowError)  # fmt: skip


class DocumentError(MediaError):
    """A document refused before anything was charged or sent. Subclasses set `text`."""


class NotText(DocumentError):
    text = (
        "I can't read `{filename}`: it isn't a text file. Attach plain text, Markdown, CSV, "
        "JSON, source code or a PDF."
    )


class NotUtf8(DocumentError):
    text = "I can't read `{filename}`: it isn't UTF-8 text. Save it as UTF-8 and try again."


class DocumentTooLarge(DocumentError):
    text = "`{filename}` is too large ({size} MB); I can read files up to {limit} MB."


class PdfEncrypted(DocumentError):
    text = (
        "`{filename}` is protected by a password, so I can't read it. Attach a copy without "
        "the password."
    )


class PdfDamaged(DocumentError):
    text = "I couldn't open `{filename}`: the PDF seems damaged. Try exporting it again."


class NoText(DocumentError):
    text = (
        "I found no text in `{filename}`. If it is a scan or made of pictures, attach the "
        "text instead (or the pages as images)."
    )


class ReadTooSlow(DocumentError):
    text = "Reading `{filename}` took too long. Try a smaller file, or paste the part you need."


class OneDocument(DocumentError):
    text = "I can read one file per question. Attach a single file and ask again."


@dataclass(frozen=True)
class Document:
    """A document's text, as read, with what reading left out."""

    filename: str
    #: What the model is told the file is: "PDF", "Markdown", "Python", "plain text"...
    kind: str
    text: str
    #: A PDF's page count (None for text files); `pages_read` of them were read.
    pages: int | None = None
    pages_read: int | None = None
    #: Characters of the text before the character cap.
    total_chars: int = 0

    @property
    def cut_pages(self) -> bool:
        return self.pages is not None and (self.pages_read or 0) < self.pages

    @property
    def cut_chars(self) -> bool:
        return len(self.text) < self.total_chars


@dataclass(frozen=True)
class Attached:
    """A document framed for the prompt, fitted to the room the model has."""

    block: str
    #: Characters of the document's text in `block`.
    chars: int
    #: Whether the model sees less than the whole file (pages, characters or context).
    cut: bool


def check_document(file: DocumentFile, max_bytes: int) -> str:
    """The file's kind, if Discord's claims allow reading it; else NotText or DocumentTooLarge."""
    kind = document_kind(file.filename, file.content_type)
    if kind is None:
        raise NotText(filename=file.filename)
    if file.size > max_bytes:
        raise too_large(file.filename, file.size, max_bytes)
    return kind


def too_large(filename: str, size: int | str, max_bytes: int) -> DocumentTooLarge:
    shown = megabytes(size) if isinstance(size, int) else size
    return DocumentTooLarge(
        filename=filename, size=shown, limit=megabytes(max_bytes, round_up=False)
    )


def extract_text(
    data: bytes,
    filename: str,
    kind: str,
    *,
    max_pages: int = DEFAULT_DOCUMENT_MAX_PAGES,
    max_chars: int = DEFAULT_DOCUMENT_MAX_CHARS,
    timeout_s: float = DEFAULT_DOCUMENT_READ_TIMEOUT_S,
) -> Document:
    """The text of a downloaded file (CPU work for a PDF: run it off the event loop).

    Raises NotText (binary), NotUtf8, PdfEncrypted, PdfDamaged, NoText or ReadTooSlow (not
    one PDF page read in `timeout_s`). A PDF's pages past `max_pages` or `timeout_s` are
    left out, and the text is cut at `max_chars`; the Document says so.
    """
    pages = pages_read = None
    if kind == PDF:
        text, pages, pages_read = _pdf_text(data, filename, max_pages, max_chars, timeout_s)
    else:
        text = _decode(data, filename)
    text = text.strip()
    if not text:
        raise NoText(filename=filename)
    return Document(
        filename,
        kind,
        text[:max_chars],
        pages=pages,
        pages_read=pages_read,
        total_chars=len(text),
    )


def _decode(data: bytes, filename: str) -> str:
    """UTF-8 text (a byte order mark dropped), or UTF-16 that says so with its mark (as
    Windows' "Unicode" files do); NUL bytes anywhere else mean a binary file."""
    encoding = "utf-16" if data.startswith(UTF16_MARKS) else "utf-8-sig"
    if encoding != "utf-16" and b"\x00" in data:
        raise NotText(filename=filename)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise NotUtf8(filename=filename) from None
    return text.replace("\r\n", "\n")


def _pdf_text(
    data: bytes, filename: str, max_pages: int, max_chars: int, timeout_s: float
) -> tuple[str, int, int]:
    """The text of a PDF's first pages (stopping at `max_pages`, past `max_chars` characters
    or past `timeout_s`), its page count, and how many pages were read.

    pypdf (and the Pillow it brings, about 10 MiB together) is imported on the first PDF, not
    when the bot starts: most bots never read one."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    deadline = time.monotonic() + timeout_s
    reader: PdfReader | None = None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone is fine
            raise PdfEncrypted(filename=filename)
        total = len(reader.pages)
        texts: list[str] = []
        chars = 0
        for index in range(min(total, max_pages)):
            if chars > max_chars:
                break
            if time.monotonic() > deadline:
                if not texts:
                    raise ReadTooSlow(filename=filename)
                log.warning("Reading %s stopped at page %s: out of time", filename, index)
                break
            page_text = reader.pages[index].extract_text() or ""
            texts.append(page_text)
            chars += len(page_text)
    except DocumentError:
        raise
    except (PyPdfError, *_ORDINARY_DAMAGE) as exc:
        if reader is not None and reader.is_encrypted:  # e.g. AES without `cryptography`
            raise PdfEncrypted(filename=filename) from exc
        log.info("Could not read PDF %s: %r", filename, exc)
        raise PdfDamaged(filename=filename) from exc
    return "\n\n".join(texts), total, len(texts)


def attach(document: Document, max_chars: int) -> Attached:
    """`document` framed for the prompt (its name, its kind, its text between markers), with
    at most `max_chars` of its text; the frame says when the model sees only the start."""
    name = document.filename
    text = document.text[: max(0, max_chars)]
    cut = len(text) < len(document.text) or document.cut_chars or document.cut_pages
    described = document.kind
    if document.pages is not None:
        described += f", {document.pages} pages"
    lines = [
        f'The member attached the file "{name}" ({described}). Its text follows.',
        f"----- BEGIN {name} -----",
        text,
    ]
    if cut:
        lines.append(f"----- {name} IS CUT HERE: the rest of the file was not read -----")
    else:
        lines.append(f"----- END {name} -----")
    return Attached("\n".join(lines), len(text), cut)


def memory_mention(document: Document) -> str:
    """What memory keeps of an attached document: its name and size, never its text, so later
    turns don't send a big file again (the model is told the text was not kept)."""
    size = f"{document.pages} pages" if document.pages is not None else ""
    size = ", ".join(filter(None, (document.kind, size, f"{document.total_chars} characters")))
    return f'[attached file "{document.filename}" ({size}); its text was not kept in memory]'


CHARS_CUT_NOTE = (
    "📄 `{filename}` is too long to read whole: I read only its first {chars} characters."
)
PAGES_CUT_NOTE = (
    "📄 `{filename}` is too long to read whole: I read only its first {pages} of {total} pages."
)


def cut_note(document: Document, attached: Attached, locale: str) -> str | None:
    """The quiet line under the answer when the model saw only part of the document."""
    if not attached.cut:
        return None
    if attached.chars < document.total_chars:
        text = t(CHARS_CUT_NOTE, locale, filename=document.filename, chars=attached.chars)
    else:
        text = t(
            PAGES_CUT_NOTE,
            locale,
            filename=document.filename,
            pages=document.pages_read,
            total=document.pages,
        )
    return subtext(text)
