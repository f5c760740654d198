"""User-facing text in English and Vietnamese.

English text is the key; a string without a translation falls back to it. Placeholders are
named (`{seconds}`) and filled after translation. Command names and descriptions go through
`CommandTranslator`, which reads the same table.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger(__name__)

VIETNAMESE: dict[str, str] = {
    # Errors from the API
    "The bot's API key was rejected, so I can't answer right now. "
    "Please let the bot's operator know.": "Khóa API của bot bị từ chối nên mình chưa trả lời "
    "được. Hãy báo cho người vận hành bot.",
    "The bot's nexai account is out of credits, so I can't answer right now. "
    "Please let the bot's operator know.": "Tài khoản nexai của bot đã hết tín dụng nên mình "
    "chưa trả lời được. Hãy báo cho người vận hành bot.",
    "The bot's API key is suspended or expired, so I can't answer right now. "
    "Please let the bot's operator know.": "Khóa API của bot đã bị tạm ngưng hoặc hết hạn nên "
    "mình chưa trả lời được. Hãy báo cho người vận hành bot.",
    "nexai is busy right now. Please try again in {seconds} s.": "nexai đang bận. Vui lòng thử "
    "lại sau {seconds} giây.",
    "nexai is busy right now. Please try again in a minute.": "nexai đang bận. Vui lòng thử "
    "lại sau một phút.",
    "nexai had an internal error. Sorry! Please try again in a moment.": "nexai gặp lỗi nội "
    "bộ. Xin lỗi bạn! Vui lòng thử lại sau giây lát.",
    "nexai took too long to answer. Please try again, perhaps with a shorter prompt.": "nexai "
    "phản hồi quá lâu. Vui lòng thử lại, có thể với câu hỏi ngắn hơn.",
    "I couldn't reach nexai. Please try again in a moment.": "Mình không kết nối được với "
    "nexai. Vui lòng thử lại sau giây lát.",
    "nexai sent an answer I couldn't read. Please try again.": "nexai gửi về một câu trả lời "
    "mình không đọc được. Vui lòng thử lại.",
    "nexai refused the request: {reason}": "nexai từ chối yêu cầu: {reason}",
    "Something went wrong on my side. Please try again.": "Có lỗi xảy ra phía mình. Vui lòng "
    "thử lại.",
    "⚠️ The answer was cut off before it finished.": "⚠️ Câu trả lời bị ngắt giữa chừng.",
    # /ask
    "The model `{model}` isn't available for chat. Pick one from the list.": "Mô hình "
    "`{model}` không dùng được để trò chuyện. Hãy chọn một mô hình trong danh sách.",
    "`{model}` can't see images. Try a vision model: {models}.": "`{model}` không xem được "
    "ảnh. Hãy thử một mô hình có thị giác: {models}.",
    "That file isn't an image. Attach a PNG, JPEG, GIF or WebP picture.": "Tệp đó không phải "
    "là ảnh. Hãy đính kèm ảnh PNG, JPEG, GIF hoặc WebP.",
    "That image is too large ({size} MB); the limit is {limit} MB.": "Ảnh quá lớn ({size} "
    "MB); giới hạn là {limit} MB.",
    "Your prompt is empty. Write something after the mention.": "Câu hỏi của bạn đang trống. "
    "Hãy viết gì đó sau khi nhắc đến bot.",
    "(The model returned an empty answer.)": "(Mô hình trả về câu trả lời trống.)",
    # /forget
    "I forgot this channel's conversation ({count} messages).": "Mình đã quên cuộc trò chuyện "
    "của kênh này ({count} tin nhắn).",
    "You need the Manage Messages permission to clear this channel's memory.": "Bạn cần quyền "
    "Quản lý tin nhắn để xoá bộ nhớ của kênh này.",
    # Command names and descriptions
    "ask": "hỏi",
    "Ask nexai anything; the channel's recent conversation goes with it.": "Hỏi nexai bất cứ "
    "điều gì; cuộc trò chuyện gần đây của kênh được gửi kèm.",
    "prompt": "câu-hỏi",
    "What you want to ask": "Điều bạn muốn hỏi",
    "model": "mô-hình",
    "Which model answers (default: the server's)": "Mô hình trả lời (mặc định: của máy chủ)",
    "image": "ảnh",
    "An image for the model to look at (vision models)": "Ảnh để mô hình xem (mô hình có thị giác)",
    "private": "riêng-tư",
    "Only you see the answer, and the channel's memory keeps nothing": "Chỉ bạn thấy câu trả "
    "lời, và bộ nhớ của kênh không lưu lại",
    "forget": "quên",
    "Clear this channel's conversation memory.": "Xoá bộ nhớ hội thoại của kênh này.",
}


def is_vietnamese(locale: discord.Locale | str | None) -> bool:
    return str(locale or "").lower().startswith("vi")


def t(text: str, locale: discord.Locale | str | None, /, **fields: object) -> str:
    """`text` in the user's language, with its named placeholders filled."""
    translated = VIETNAMESE.get(text, text) if is_vietnamese(locale) else text
    return translated.format(**fields) if fields else translated


class CommandTranslator(app_commands.Translator):
    """Localises command names, descriptions and option names for Discord's clients."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is discord.Locale.vietnamese:
            return VIETNAMESE.get(string.message)
        return None
