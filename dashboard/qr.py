"""QR codes drawn by segno as inline SVG, for boards and posters.

Dark modules on a white square with the quiet zone of four modules that ISO/IEC 18004 asks
for, whatever the page's colours, so that any phone's camera reads them on a dark board.
"""

from __future__ import annotations

import segno
from flask import Flask
from markupsafe import Markup


def qr_svg(address: str, label: str) -> Markup:
    """``address`` as an SVG QR code (error correction M) sized by CSS; ``label`` names it
    for screen readers."""
    code = segno.make(address, error="m")
    svg = code.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, title=label, svgclass="qr"
    )
    # The title names the image; role="img" makes screen readers read it as one.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def init_app(app: Flask) -> None:
    """Make :func:`qr_svg` available to every template."""
    app.add_template_global(qr_svg)
