"""Reading back the QR codes the channels draw: the PNG's modules, compared with what `qrcode` encodes.

No QR decoder ships with the project, so a picture is read the other way round: its grid of
dark and light modules is sampled from the pixels, and must equal the matrix the `qrcode`
library builds for the expected text with the drawing's settings — which it does only if the
picture encodes exactly that text (the mask a code uses is chosen from its data).
"""

from __future__ import annotations

import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from bot.channels.deeplinks import BORDER, BOX_SIZE


def modules(png: bytes) -> list[list[bool]]:
    """The dark (True) and light modules of a drawn code, quiet zone included, one sample per module."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    assert width == height and width % BOX_SIZE == 0, f"not a drawn QR code: {image.size}"
    n = width // BOX_SIZE
    half = BOX_SIZE // 2
    return [[image.getpixel((x * BOX_SIZE + half, y * BOX_SIZE + half)) < 128 for x in range(n)] for y in range(n)]


def expected_modules(text: str) -> list[list[bool]]:
    """The modules `qrcode` lays out for `text` with the channels' settings."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def encodes(png: bytes, text: str) -> bool:
    """Whether a PNG is the QR code of `text`."""
    return modules(png) == expected_modules(text)
