"""Documents as context: which files count, their text, and what the model and memory get."""

from __future__ import annotations

import json

import pytest

from bot.chat.document_kinds import PDF, DocumentFile, document_kind
from bot.chat.documents import (
    Document,
    DocumentTooLarge,
    NoText,
    NotText,
    NotUtf8,
    PdfDamaged,
    PdfEncrypted,
    ReadTooSlow,
    attach,
    check_document,
    cut_note,
    extract_text,
    memory_mention,
)
from tests.chat.pdfs import blank_pdf, make_pdf


@pytest.mark.parametrize(
    ("filename", "content_type", "kind"),
    [
        ("notes.md", "text/markdown; charset=utf-8", "Markdown"),
        ("notes.txt", "text/plain; charset=utf-8", "plain text"),
        ("data.csv", "text/csv", "CSV"),
        ("data.json", "application/json", "JSON"),
        ("main.py", "text/x-python; charset=utf-8", "Python"),
        ("main.rs", None, "Rust"),
        ("Dockerfile", "application/octet-stream", "plain text"),
        ("odd.name", "text/plain", "plain text"),
        ("report.pdf", "application/pdf", PDF),
        ("report.PDF", None, PDF),
        ("song.mp3", "audio/mpeg", None),
        ("cat.png", "image/png", None),
        ("archive.zip", "application/zip", None),
        ("blob.bin", "application/octet-stream", None),
        ("report.docx", None, None),
    ],
)
def test_kind_is_judged_by_content_type_then_extension(
    filename: str, content_type: str | None, kind: str | None
) -> None:
    assert document_kind(filename, content_type) == kind


def test_file_that_is_not_text_is_refused_before_the_download() -> None:
    with pytest.raises(NotText) as refused:
        check_document(DocumentFile("u", "song.mp3", 10, "audio/mpeg"), max_bytes=100)
    assert "song.mp3" in str(refused.value)


def test_file_over_the_byte_cap_is_refused_before_the_download() -> None:
    file = DocumentFile("u", "big.txt", 3 * 2**20, "text/plain")
    with pytest.raises(DocumentTooLarge) as refused:
        check_document(file, max_bytes=2**20)
    assert refused.value.fields == {"filename": "big.txt", "size": "3", "limit": "1"}


@pytest.mark.parametrize(
    ("filename", "kind", "text"),
    [
        ("data.csv", "CSV", "name,city\nAn,Hà Nội\nBình,Huế\n"),
        ("data.json", "JSON", json.dumps({"tên": "nexbot", "items": [1, 2]}, ensure_ascii=False)),
        ("main.py", "Python", 'def main() -> None:\n    print("xin chào")\n'),
    ],
)
def test_utf8_text_files_are_read_whole(filename: str, kind: str, text: str) -> None:
    document = extract_text(text.encode(), filename, kind)
    assert document.text == text.strip()
    assert document.kind == kind and document.pages is None
    assert not document.cut_chars and not document.cut_pages


def test_byte_order_mark_and_windows_line_ends_are_dropped() -> None:
    document = extract_text(b"\xef\xbb\xbfa,b\r\n1,2\r\n", "x.csv", "CSV")
    assert document.text == "a,b\n1,2"


def test_utf16_text_with_its_byte_order_mark_is_read() -> None:
    document = extract_text("tên,điểm\r\nAn,9".encode("utf-16"), "w.csv", "CSV")
    assert document.text == "tên,điểm\nAn,9"


def test_binary_file_with_a_text_name_is_refused() -> None:
    with pytest.raises(NotText):
        extract_text(b"\x7fELF\x02\x01\x01\x00\x00\x00", "program.txt", "plain text")


def test_text_in_another_encoding_is_refused_with_a_hint() -> None:
    with pytest.raises(NotUtf8) as refused:
        extract_text("café crème".encode("latin-1"), "menu.txt", "plain text")
    assert "UTF-8" in str(refused.value)


def test_empty_file_is_refused() -> None:
    with pytest.raises(NoText):
        extract_text(b"  \n\n ", "empty.md", "Markdown")


def test_text_past_the_character_cap_is_cut_and_says_so() -> None:
    document = extract_text(b"x" * 500, "long.txt", "plain text", max_chars=100)
    assert len(document.text) == 100 and document.total_chars == 500
    assert document.cut_chars


def test_pdf_text_is_read_page_by_page() -> None:
    data = make_pdf(["Hello from page one", "And page two"])
    document = extract_text(data, "report.pdf", PDF)
    assert "Hello from page one" in document.text and "And page two" in document.text
    assert (document.pages, document.pages_read) == (2, 2)
    assert not document.cut_pages


def test_pdf_pages_past_the_cap_are_left_out_and_says_so() -> None:
    data = make_pdf([f"Page number {n}" for n in range(1, 6)])
    document = extract_text(data, "book.pdf", PDF, max_pages=2)
    assert "Page number 2" in document.text and "Page number 3" not in document.text
    assert (document.pages, document.pages_read) == (5, 2)
    assert document.cut_pages


def test_pdf_with_a_password_is_refused() -> None:
    with pytest.raises(PdfEncrypted) as refused:
        extract_text(make_pdf(["secret plans"], password="hunter2"), "plans.pdf", PDF)
    assert "password" in str(refused.value)


def test_pdf_encrypted_without_a_user_password_is_read() -> None:
    document = extract_text(make_pdf(["open to all"], password=""), "open.pdf", PDF)
    assert "open to all" in document.text


@pytest.mark.parametrize(
    "data",
    [make_pdf(["cut short"])[:150], b"%PDF-1.4\nnot really a pdf", b"\x00\x01\x02garbage"],
    ids=["truncated", "garbage", "binary"],
)
def test_damaged_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(PdfDamaged):
        extract_text(data, "broken.pdf", PDF)


def test_pdf_without_text_is_refused_as_probably_a_scan() -> None:
    with pytest.raises(NoText) as refused:
        extract_text(blank_pdf(2), "scan.pdf", PDF)
    assert "scan" in str(refused.value)


def test_pdf_read_that_runs_out_of_time_before_a_page_is_refused() -> None:
    with pytest.raises(ReadTooSlow):
        extract_text(make_pdf(["slow"]), "slow.pdf", PDF, timeout_s=-1)


def _document(text: str = "abcdef", **kw: object) -> Document:
    fields: dict[str, object] = {"total_chars": len(text), **kw}
    return Document("notes.md", "Markdown", text, **fields)  # type: ignore[arg-type]


def test_attached_document_is_named_and_framed_for_the_model() -> None:
    attached = attach(_document("# Title\nbody"), max_chars=1000)
    assert 'attached the file "notes.md" (Markdown)' in attached.block
    assert "----- BEGIN notes.md -----\n# Title\nbody\n----- END notes.md -----" in attached.block
    assert not attached.cut and attached.chars == len("# Title\nbody")


def test_document_longer_than_the_room_is_cut_and_the_frame_says_so() -> None:
    attached = attach(_document("abcdef"), max_chars=4)
    assert "abcd\n----- notes.md IS CUT HERE" in attached.block and "abcde" not in attached.block
    assert attached.cut and attached.chars == 4


def test_pdf_frame_gives_its_page_count() -> None:
    document = Document("r.pdf", PDF, "text", pages=3, pages_read=3, total_chars=4)
    assert '"r.pdf" (PDF, 3 pages)' in attach(document, 100).block


def test_no_note_when_the_whole_document_was_read() -> None:
    document = _document()
    assert cut_note(document, attach(document, 100), "en-US") is None


def test_note_says_how_many_characters_were_read() -> None:
    document = _document("x" * 50)
    note = cut_note(document, attach(document, 20), "en-US")
    assert note == (
        "-# 📄 `notes.md` is too long to read whole: I read only its first 20 characters."
    )


def test_note_says_how_many_pages_were_read_in_vietnamese_too() -> None:
    document = Document("b.pdf", PDF, "text", pages=9, pages_read=2, total_chars=4)
    note = cut_note(document, attach(document, 100), "vi")
    assert note is not None and note.startswith("-# 📄 `b.pdf`") and "2 trang đầu" in note
    assert "9 trang" in note


def test_memory_keeps_a_mention_of_the_file_not_its_text() -> None:
    mention = memory_mention(_document("secret body text"))
    assert '"notes.md"' in mention and "Markdown" in mention and "16 characters" in mention
    assert "secret body text" not in mention
