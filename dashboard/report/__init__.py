"""The committee meeting pack (PDF or self-contained HTML), open or closed, built from the transforms
the dashboard shows; and the served page's print stylesheet."""

from .pack import SECTION_NAMES, build_pack, pack_filename, pack_html

__all__ = ["SECTION_NAMES", "build_pack", "pack_filename", "pack_html"]
