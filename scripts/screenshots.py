"""Screenshots of every tab and sub-tab, light and dark, at laptop and desktop sizes (for review by eye).

Usage: python scripts/screenshots.py OUT_DIR [DATA ...]   (DATA: a data folder, or "bundled"; default bundled)
Serves each dataset with `trial-dashboard serve` on 127.0.0.1 and drives Debian's Chromium.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app  # noqa: E402
from tests.ui.tabs import open_every_tab, settle  # noqa: E402

SIZES = {"1366": (1366, 768), "1920": (1920, 1080)}
THEMES = ("light", "dark")


def whole_page(page, path: Path, width: int, height: int) -> None:
    """Screenshot of the whole scrolled main area: the window is made as tall as the content, then restored."""
    tall = page.evaluate("() => { const m = document.querySelector('#main'); return m.scrollHeight + m.getBoundingClientRect().top; }")
    if tall > height:
        page.set_viewport_size({"width": width, "height": int(tall) + 20})
        settle(page)
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": height})


def shoot(out: Path, data: str | None) -> None:
    name = Path(data).name if data else "bundled"
    proc, url = serve_app(data)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for size, (width, height) in SIZES.items():
                for theme in THEMES:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(url + ("?theme=dark" if theme == "dark" else ""))
                    for label in open_every_tab(page):
                        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
                        whole_page(page, out / f"{name}_{size}_{theme}_{slug}.png", width, height)
                        print(f"{name} {size} {theme} {label}", flush=True)
                    page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for data in sys.argv[2:] or ["bundled"]:
        shoot(target, None if data == "bundled" else data)
