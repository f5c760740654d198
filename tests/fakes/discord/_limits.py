"""What Discord refuses in what a bot sends: message, embed, file, mention and command limits.

Each check names the page of Discord's developer documentation it follows. An invalid body is
answered as Discord does: 400, code 50035 "Invalid Form Body", and an ``errors`` object keyed
by the path of the bad field (Reference > "Error Messages").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ._models import JSON

#: Resources > Message > Create Message: ``content`` up to 2000 characters.
MAX_CONTENT = 2000
#: Resources > Message > Create Message: up to 10 ``embeds``.
MAX_EMBEDS = 10
#: Resources > Message > Create Message: ``files[n]``, up to 10 files per message.
MAX_FILES = 10
#: Resources > Message > "Embed Limits" (field -> characters).
EMBED_TEXT_LIMITS = {
    "title": 256,
    "description": 4096,
    "footer.text": 2048,
    "author.name": 256,
}
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_MAX_FIELDS = 25
#: "The combined sum of characters in all title, description, field.name, field.value,
#: footer.text, and author.name fields across all embeds attached to a message must not
#: exceed 6000 characters."
EMBEDS_TOTAL = 6000
#: Resources > Message > "Allowed Mentions Object": parse types, and up to 100 users / roles.
ALLOWED_MENTION_TYPES = frozenset({"roles", "users", "everyone"})
MAX_ALLOWED_IDS = 100

#: Interactions > Application Commands > "Application Command Naming": CHAT_INPUT names match
#: ``^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`` and are lower case where a letter has a
#: lower-case form; USER and MESSAGE command names are 1-32 characters of anything.
_CHAT_INPUT_NAME = re.compile(r"^[-_'\w]{1,32}$")
#: "Application Command Object": descriptions 1-100 characters (CHAT_INPUT; empty for
#: USER/MESSAGE), up to 25 options, up to 25 choices, choice names 1-100 characters.
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
#: "Registering a Command": "the combined sum of characters in name, description, and value
#: properties of a command, its options (including subcommands and groups), and choices" is at
#: most 4000 (per locale).
MAX_COMMAND_CHARS = 4000
#: "Registering a Command": an app can have up to 100 CHAT_INPUT, 15 USER and 15 MESSAGE
#: commands (global, and per guild).
MAX_COMMANDS_BY_TYPE = {1: 100, 2: 15, 3: 15}
#: Interactions > Message Components: up to 5 action rows (type 1) per message, up to 5
#: buttons (type 2) per row; a button's ``custom_id`` (required unless it is a link, style 5)
#: is 1-100 characters and unique in the message, its ``label`` at most 80; styles 1-5.
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
LINK_STYLE = 5
#: Interactions > Application Commands > "Application Command Object": ``integration_types``
#: (0 GUILD_INSTALL, 1 USER_INSTALL) and ``contexts`` (0 GUILD, 1 BOT_DM, 2 PRIVATE_CHANNEL).
INTEGRATION_TYPES = frozenset({0, 1})
CONTEXT_TYPES = frozenset({0, 1, 2})


class FormErrors:
    """Collects field errors in Discord's nested ``errors`` shape."""

    def __init__(self) -> None:
        self.errors: JSON = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        node = self.errors
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: Iterable[str | int], value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def __bool__(self) -> bool:
        return bool(self.errors)


def _get(obj: JSON, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)  # type: ignore[assignment]
    return obj


def check_message(body: JSON, file_count: int, errors: FormErrors) -> None:
    """Content, embed, file-count and allowed-mentions limits of a message body."""
    errors.too_long(["content"], body.get("content"), MAX_CONTENT)
    embeds = body.get("embeds") or []
    errors.too_long(["embeds"], embeds, MAX_EMBEDS)
    total = 0
    for i, embed in enumerate(embeds):
        for dotted, limit in EMBED_TEXT_LIMITS.items():
            value = _get(embed, dotted)
            errors.too_long(["embeds", i, *dotted.split(".")], value, limit)
            total += len(value or "")
        fields = embed.get("fields") or []
        errors.too_long(["embeds", i, "fields"], fields, EMBED_MAX_FIELDS)
        for j, fld in enumerate(fields):
            errors.too_long(["embeds", i, "fields", j, "name"], fld.get("name"), EMBED_FIELD_NAME)
            errors.too_long(
                ["embeds", i, "fields", j, "value"], fld.get("value"), EMBED_FIELD_VALUE
            )
            total += len(fld.get("name") or "") + len(fld.get("value") or "")
    if total > EMBEDS_TOTAL:
        errors.add(
            ["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBEDS_TOTAL}",
        )
    if file_count > MAX_FILES:
        errors.add(["files"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
    check_allowed_mentions(body.get("allowed_mentions"), errors)
    check_components(body.get("components"), errors)


def check_components(rows: list[JSON] | None, errors: FormErrors) -> None:
    """Action rows of buttons (Interactions > Message Components)."""
    if not rows:
        return
    errors.too_long(["components"], rows, MAX_ACTION_ROWS)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.get("type") != 1:
            errors.add(["components", i, "type"], "UNION_TYPE_CHOICES", "Must be an action row")
            continue
        buttons = row.get("components") or []
        if not 1 <= len(buttons) <= MAX_ROW_BUTTONS:
            errors.add(["components", i, "components"], "BASE_TYPE_BAD_LENGTH", "Must be 1-5")
        for j, button in enumerate(buttons):
            path: list[str | int] = ["components", i, "components", j]
            if button.get("type") != 2:
                continue  # only buttons are modelled
            style = button.get("style")
            if style not in (1, 2, 3, 4, 5, 6):
                errors.add([*path, "style"], "BASE_TYPE_CHOICES", f"{style!r} is not a style")
            errors.too_long([*path, "label"], button.get("label"), MAX_BUTTON_LABEL)
            custom_id = button.get("custom_id")
            if style == LINK_STYLE:
                continue
            if not custom_id or len(custom_id) > MAX_CUSTOM_ID:
                errors.add(
                    [*path, "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100"
                )
            elif custom_id in seen:
                errors.add(
                    [*path, "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id or "")


def check_allowed_mentions(allowed: JSON | None, errors: FormErrors) -> None:
    """Resources > Message > "Allowed Mentions Object": ``parse`` holds known types only, and
    naming ``users`` (or ``roles``) both in ``parse`` and as a list is a validation error."""
    if allowed is None:
        return
    parse = allowed.get("parse") or []
    for kind in parse:
        if kind not in ALLOWED_MENTION_TYPES:
            errors.add(["allowed_mentions", "parse"], "BASE_TYPE_CHOICES", f"{kind!r} is invalid")
    for kind in ("users", "roles"):
        ids = allowed.get(kind)
        if ids is None:
            continue
        errors.too_long(["allowed_mentions", kind], ids, MAX_ALLOWED_IDS)
        if kind in parse and ids:
            errors.add(
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def pinged(
    content: str,
    allowed: JSON | None,
    *,
    replied_author: int | None,
    known_users: Iterable[int],
    known_roles: Iterable[int],
) -> tuple[list[int], list[int], bool]:
    """Who a message really pings: (user ids, role ids, @everyone).

    Resources > Message > "Allowed Mentions Object": without ``allowed_mentions`` every mention
    in the content pings; with it, only the parse types and listed ids do. "Mentioning the
    author of the message being replied to": ``replied_user`` (default false when
    ``allowed_mentions`` is given; a reply without ``allowed_mentions`` pings its author, as
    members' replies do by default).
    """
    users = [int(u) for u in _USER_MENTION.findall(content or "")]
    roles = [int(r) for r in _ROLE_MENTION.findall(content or "")]
    everyone = "@everyone" in (content or "") or "@here" in (content or "")
    known_u, known_r = set(known_users), set(known_roles)
    if allowed is not None:
        parse = set(allowed.get("parse") or [])
        listed_u = {int(u) for u in allowed.get("users") or []}
        listed_r = {int(r) for r in allowed.get("roles") or []}
        users = [u for u in users if "users" in parse or u in listed_u]
        roles = [r for r in roles if "roles" in parse or r in listed_r]
        everyone = everyone and "everyone" in parse
        reply_ping = bool(allowed.get("replied_user"))
    else:
        reply_ping = True
    out_users: list[int] = []
    for uid in users:
        if uid in known_u and uid not in out_users:
            out_users.append(uid)
    if replied_author is not None and reply_ping and replied_author not in out_users:
        out_users.append(replied_author)
    out_roles = list(dict.fromkeys(r for r in roles if r in known_r))
    return out_users, out_roles, everyone


def check_commands(commands: list[JSON], errors: FormErrors) -> None:
    """Interactions > Application Commands: naming, descriptions, options, choices, counts."""
    counts: dict[int, int] = {}
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        counts[ctype] = counts.get(ctype, 0) + 1
        name = cmd.get("name") or ""
        if (ctype, name) in seen:
            errors.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")
        seen.add((ctype, name))
        for key, allowed in (("integration_types", INTEGRATION_TYPES), ("contexts", CONTEXT_TYPES)):
            values = cmd.get(key)
            if values is not None and not set(values) <= allowed:
                errors.add([i, key], "BASE_TYPE_CHOICES", f"Values must be in {sorted(allowed)}")
        if ctype == 1:
            _check_chat_input(cmd, [i], errors)
            if _command_chars(cmd) > MAX_COMMAND_CHARS:
                errors.add(
                    [i], "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (4000)"
                )
        else:
            if not 1 <= len(name) <= 32:
                errors.add([i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32")
            if cmd.get("description"):
                errors.add([i, "description"], "BASE_TYPE_MAX_LENGTH", "Must be empty")
    for ctype, count in counts.items():
        if count > MAX_COMMANDS_BY_TYPE.get(ctype, 100):
            errors.add(
                [],
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of type {ctype} commands reached "
                f"({MAX_COMMANDS_BY_TYPE.get(ctype)})",
            )


def _check_name(name: str, path: list[str | int], errors: FormErrors) -> None:
    if not _CHAT_INPUT_NAME.match(name) or name != name.lower():
        errors.add(
            [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name {name!r} is invalid"
        )


def _check_described(item: JSON, path: list[str | int], errors: FormErrors) -> None:
    _check_name(item.get("name") or "", path, errors)
    for locale, local_name in (item.get("name_localizations") or {}).items():
        _check_name(local_name, [*path, "name_localizations", locale], errors)
    for key in [
        "description",
        *[f"description_localizations.{k}" for k in (item.get("description_localizations") or {})],
    ]:
        value = _get(item, key) or ""
        if not 1 <= len(value) <= MAX_DESCRIPTION:
            errors.add(
                [*path, *key.split(".")], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100"
            )


def _check_chat_input(item: JSON, path: list[str | int], errors: FormErrors) -> None:
    _check_described(item, path, errors)
    options = item.get("options") or []
    errors.too_long([*path, "options"], options, MAX_OPTIONS)
    optional_seen = False
    for k, opt in enumerate(options):
        opt_path: list[str | int] = [*path, "options", k]
        if opt.get("type") in (1, 2):
            _check_chat_input(opt, opt_path, errors)
            continue
        _check_described(opt, opt_path, errors)
        if opt.get("required"):
            if optional_seen:
                errors.add(
                    opt_path,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        errors.too_long([*opt_path, "choices"], choices, MAX_CHOICES)
        for c, choice in enumerate(choices):
            if not 1 <= len(choice.get("name") or "") <= MAX_CHOICE_NAME:
                errors.add(
                    [*opt_path, "choices", c, "name"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100",
                )


def _command_chars(item: JSON) -> int:
    total = len(item.get("name") or "") + len(item.get("description") or "")
    for opt in item.get("options") or []:
        total += _command_chars(opt)
    for choice in item.get("choices") or []:
        total += len(choice.get("name") or "") + len(str(choice.get("value", "")))
    return total
