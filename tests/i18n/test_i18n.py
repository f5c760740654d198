"""i18n: Vietnamese when asked, English fallback, placeholders filled."""

import ast
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.app_commands import TranslationContext, locale_str
from discord.app_commands import TranslationContextLocation as Location

from bot.i18n import NAMES, VIETNAMESE, t
from bot.interactions.translator import CommandTranslator


def test_vietnamese_locale_gets_the_translation_with_fields() -> None:
    text = t(
        "nexai is busy right now. Please try again in {seconds} s.",
        discord.Locale.vietnamese,
        seconds=5,
    )
    assert text == "nexai đang bận. Vui lòng thử lại sau 5 giây."


def test_english_and_unknown_locales_get_english() -> None:
    key = "nexai is busy right now. Please try again in {seconds} s."
    assert t(key, "en-US", seconds=5) == "nexai is busy right now. Please try again in 5 s."
    assert t(key, "fr", seconds=5) == "nexai is busy right now. Please try again in 5 s."


def test_untranslated_text_falls_back_to_english() -> None:
    assert t("Not in the table {x}", "vi", x=1) == "Not in the table 1"


def test_translations_keep_every_placeholder() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for english, vietnamese in VIETNAMESE.items():
        assert fields(english) == fields(vietnamese), english


def context(location: Location) -> TranslationContext[Any, Any]:
    return TranslationContext(location=location, data=None)  # type: ignore[call-overload]


async def test_command_translator_localises_vietnamese_only() -> None:
    translator = CommandTranslator()
    name = context(Location.command_name)
    assert await translator.translate(locale_str("ask"), discord.Locale.vietnamese, name) == "hỏi"
    assert await translator.translate(locale_str("ask"), discord.Locale.french, name) is None


async def test_a_name_and_a_label_with_the_same_words_can_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should take a name from NAMES (lower case, no spaces) and the same English words shown
    as a label (a choice, a description) from the text table."""
    monkeypatch.setitem(NAMES, "per day", "mỗi-ngày")
    monkeypatch.setitem(VIETNAMESE, "per day", "mỗi ngày")
    translator = CommandTranslator()
    vi = discord.Locale.vietnamese
    string = locale_str("per day")
    assert await translator.translate(string, vi, context(Location.parameter_name)) == "mỗi-ngày"
    assert await translator.translate(string, vi, context(Location.choice_name)) == "mỗi ngày"


# -- every string the bot can say has its Vietnamese entry --------------------------------


ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "cogs").glob("*.py")])
#: Module-level constants with these endings hold text for people (passed to `t` by name).
TEXT_CONSTANT_ENDINGS = ("_NOTE", "_STATUS", "_TEXT", "_TEXTS", "_MESSAGE")


def _strings(node: ast.AST | None) -> list[str]:
    """The text a node holds: a string, or the string values of a dict."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Dict):
        return [s for value in node.values for s in _strings(value)]
    return []


def _localized_error_classes(trees: list[ast.Module]) -> set[str]:
    """LocalizedError and every class that derives from it, by name."""
    classes = {"LocalizedError"}
    while True:
        found = {
            node.name
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(base, ast.Name) and base.id in classes for base in node.bases)
        }
        if found <= classes:
            return classes
        classes |= found


def said_strings() -> dict[str, str]:
    """Every user-facing string in bot/ and cogs/ -> where it is: what `t()` is given (a
    literal, a module constant, a local assigned literals), text constants, and the `text`
    of LocalizedError classes and their literal arguments."""
    trees = {path: ast.parse(path.read_text()) for path in SOURCES}
    localized = _localized_error_classes(list(trees.values()))
    said: dict[str, str] = {}
    for path, tree in trees.items():
        where = str(path.relative_to(ROOT))
        constants: dict[str, list[str]] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                for target in targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = _strings(statement.value)
                        if target.id.endswith(TEXT_CONSTANT_ENDINGS):
                            said.update(dict.fromkeys(constants[target.id], where))
        for scope in ast.walk(tree):
            if isinstance(scope, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in localized for base in scope.bases
            ):
                for stmt in scope.body:
                    if isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "text" for t in stmt.targets
                    ):
                        said.update(dict.fromkeys(_strings(stmt.value), where))
            if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            local: dict[str, list[str]] = {}
            for assignment in ast.walk(scope):
                if isinstance(assignment, ast.Assign):
                    for target in assignment.targets:
                        if isinstance(target, ast.Name):
                            local.setdefault(target.id, []).extend(_strings(assignment.value))
            for node in ast.walk(scope):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else None
                first = node.args[0]
                if name == "t" or name in localized:
                    texts = _strings(first)
                    if isinstance(first, ast.Name):
                        texts = local.get(first.id) or constants.get(first.id, [])
                    elif isinstance(first, ast.Subscript) and isinstance(first.value, ast.Name):
                        texts = constants.get(first.value.id, [])
                    said.update(dict.fromkeys(texts, where))
    return said


def test_the_scan_finds_what_the_bot_says() -> None:
    said = said_strings()
    assert "nexai is busy right now. Please try again in a minute." in said  # a local
    assert "✂️ The answer reached its length limit. Ask me to continue." in said  # a constant
    assert "Your prompt is empty. Write something after the mention." in said  # an argument
    assert len(said) > 100


def test_every_string_the_bot_can_say_has_a_vietnamese_entry() -> None:
    words = {text: where for text, where in said_strings().items() if any(map(str.isalpha, text))}
    missing = {text: where for text, where in words.items() if text not in VIETNAMESE}
    assert not missing, "no Vietnamese entry:\n" + "\n".join(
        f"  {where}: {text!r}" for text, where in sorted(missing.items(), key=lambda i: i[1])
    )
