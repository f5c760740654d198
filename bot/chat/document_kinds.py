"""What an attached file is: a document (text of a known kind, or a PDF) or not, judged by
the content type and extension Discord reports, and the caps on reading one.

Kept apart from the reading (bot/chat/documents.py), so settings can take the defaults
without loading a PDF library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.media.files import GENERIC_TYPES, base_type

#: Download cap: larger files are refused before the download (and stopped during it).
DEFAULT_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
#: Pages of a PDF read at most; the rest is left out, with a note.
DEFAULT_DOCUMENT_MAX_PAGES = 50
#: Characters of a document kept at most (before fitting the model's context), with a note.
DEFAULT_DOCUMENT_MAX_CHARS = 100_000
#: Longest a PDF's text extraction may take; pages past it are left out, with a note.
DEFAULT_DOCUMENT_READ_TIMEOUT_S = 20.0

PDF = "PDF"
#: Content types (without parameters) that are text whatever their extension.
TEXT_TYPES = frozenset(
    {
        "application/json", "application/ld+json", "application/x-ndjson", "application/xml",
        "application/javascript", "application/x-javascript", "application/typescript",
        "application/x-yaml", "application/yaml", "application/toml", "application/x-toml",
        "application/sql", "application/x-sh", "application/x-python", "application/x-tex",
        "application/x-httpd-php", "application/csv",
    }
)  # fmt: skip
#: Extensions and the kind of text they name (the kind is told to the model).
TEXT_EXTENSIONS: dict[str, str] = {
    ".txt": "plain text", ".text": "plain text", ".log": "log", ".md": "Markdown",
    ".markdown": "Markdown", ".rst": "reStructuredText", ".csv": "CSV", ".tsv": "TSV",
    ".json": "JSON", ".jsonl": "JSON Lines", ".ndjson": "JSON Lines", ".xml": "XML",
    ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".ini": "INI", ".cfg": "config",
    ".conf": "config", ".env": "config", ".properties": "config", ".tex": "LaTeX",
    ".html": "HTML", ".htm": "HTML", ".css": "CSS", ".scss": "SCSS", ".sql": "SQL",
    ".py": "Python", ".pyi": "Python", ".ipynb": "Jupyter notebook (JSON)",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript (JSX)",
    ".ts": "TypeScript", ".tsx": "TypeScript (TSX)", ".java": "Java", ".kt": "Kotlin",
    ".kts": "Kotlin", ".scala": "Scala", ".groovy": "Groovy", ".c": "C", ".h": "C header",
    ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++ header", ".cs": "C#",
    ".go": "Go", ".rs": "Rust", ".rb": "Ruby", ".php": "PHP", ".swift": "Swift",
    ".m": "Objective-C", ".dart": "Dart", ".lua": "Lua", ".r": "R", ".pl": "Perl",
    ".sh": "shell script", ".bash": "shell script", ".zsh": "shell script", ".ps1": "PowerShell",
    ".bat": "batch file", ".vue": "Vue", ".svelte": "Svelte", ".ex": "Elixir", ".exs": "Elixir",
    ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure", ".jl": "Julia", ".zig": "Zig",
    ".diff": "diff", ".patch": "diff", ".srt": "subtitles", ".vtt": "subtitles",
}  # fmt: skip
#: Content types whose kind is clearer than "text".
TYPE_KINDS = {
    "text/markdown": "Markdown", "text/csv": "CSV", "application/csv": "CSV",
    "application/json": "JSON", "text/x-python": "Python", "text/html": "HTML",
}  # fmt: skip
#: File names without an extension that are text.
TEXT_NAMES = frozenset({"dockerfile", "makefile", "readme", "license", "procfile", "gemfile"})


@dataclass(frozen=True)
class DocumentFile:
    """An attachment as Discord describes it (its claims, not yet checked)."""

    url: str
    filename: str
    size: int
    content_type: str | None = None


def document_kind(filename: str, content_type: str | None) -> str | None:
    """What the file is ("PDF", "CSV", "Python"...), or None when it is not a document.

    PDFs by type or extension; text by a text type (`text/*` or a known textual
    `application/` type) or, when the type is missing or generic, a known extension or name.
    """
    kind = base_type(content_type)
    path = PurePosixPath(filename)
    suffix = path.suffix.lower()
    if kind == "application/pdf" or (kind in GENERIC_TYPES and suffix == ".pdf"):
        return PDF
    if kind.startswith("text/") or kind in TEXT_TYPES:
        return TEXT_EXTENSIONS.get(suffix) or TYPE_KINDS.get(kind) or "plain text"
    if kind in GENERIC_TYPES:
        if suffix in TEXT_EXTENSIONS:
            return TEXT_EXTENSIONS[suffix]
        if path.name.lower() in TEXT_NAMES:
            return "plain text"
    return None
