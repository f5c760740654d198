"""Images a member gives a vision model: which kinds, how large, and the data URL they travel
in."""

from __future__ import annotations

import base64

from bot.media.files import MediaError

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: The largest image sent to the API (its own limit for one image part).
MAX_IMAGE_BYTES = 20 * 1024 * 1024


class NotAnImage(MediaError):
    text = "That file isn't an image. Attach a PNG, JPEG, GIF or WebP picture."


class ImageTooLarge(MediaError):
    text = "That image is too large ({size} MB); the limit is {limit} MB."


def image_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_image(content_type: str | None) -> bool:
    return image_type(content_type) in IMAGE_TYPES


def check_image(content_type: str | None, size: int) -> None:
    """Refuse a file that is not a PNG, JPEG, GIF or WebP image, or is over MAX_IMAGE_BYTES."""
    if not is_image(content_type):
        raise NotAnImage()
    check_image_size(size)


def check_image_size(size: int) -> None:
    if size > MAX_IMAGE_BYTES:
        raise ImageTooLarge(size=round(size / 2**20, 1), limit=MAX_IMAGE_BYTES // 2**20)


def data_url(data: bytes, content_type: str | None) -> str:
    check_image_size(len(data))
    return (
        f"data:{image_type(content_type) or 'image/png'};base64,{base64.b64encode(data).decode()}"
    )
