"""What Meta accepts as media, by kind: mime types and sizes (Cloud API media reference)."""

from __future__ import annotations

from pywhatsapp.domain.errors import InvalidInput

MB = 1024 * 1024
MEDIA_RULES: dict[str, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MB),
    "document": (
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "sticker": (frozenset({"image/webp"}), 500 * 1024),
}
MAX_MEDIA_BYTES = max(limit for _, limit in MEDIA_RULES.values())


def media_kind(mime_type: str) -> str:
    """The message type a file of this mime type can be sent as (refused before Meta is called)."""
    base = mime_type.split(";")[0].strip().lower()
    for kind, (types, _) in MEDIA_RULES.items():
        if base in types:
            return kind
    raise InvalidInput(f"WhatsApp does not accept {base or 'this file type'} as media")


def check_media(kind: str, mime_type: str, size: int) -> None:
    if kind not in MEDIA_RULES:
        raise InvalidInput(f"{kind} is not a media type (image, video, audio, document, sticker)")
    types, limit = MEDIA_RULES[kind]
    base = mime_type.split(";")[0].strip().lower()
    if base not in types:
        raise InvalidInput(f"A {kind} must be one of {', '.join(sorted(types))}, not {base}")
    if size == 0:
        raise InvalidInput("The file is empty")
    if size > limit:
        raise InvalidInput(f"A {kind} may have at most {limit // 1024} KB; this file has {size // 1024} KB")
