"""Image thumbnails for the inbox, with Pillow."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError


class PillowThumbnails:
    def thumbnail(self, data: bytes, max_side: int) -> bytes:
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.thumbnail((max_side, max_side))
                output = io.BytesIO()
                image.convert("RGB").save(output, format="JPEG", quality=80)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
            raise ValueError(f"not an image Pillow can read: {error}") from error
        return output.getvalue()
