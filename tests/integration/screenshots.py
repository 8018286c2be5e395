"""Screenshots of the Dagster UI with headless Chromium (Debian package `chromium`).

Reusable for any page: ``Browser`` drives Chromium through the DevTools protocol (open a URL,
wait for text, click what shows a Markdown plot, capture a PNG). Helpers give the URLs of the
asset lineage and of an asset's latest materialization (its metadata, numbers and plots).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from websockets.sync.client import connect


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("no headless Chromium: install the Debian package chromium (make system-deps)")


class Browser:
    """One headless Chromium with one page, spoken to over the DevTools protocol."""

    def __init__(self, width: int = 1400, height: int = 900):
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self.proc = subprocess.Popen(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("headless Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.next_id = 0
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return res.get("result", {}).get("value")

    def open(self, url: str, wait_for_text: str, timeout: float = 60) -> None:
        """Go to ``url`` and wait until the page shows ``wait_for_text``, then let it settle."""
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not self.js(f"document.body && document.body.innerText.includes({json.dumps(wait_for_text)})"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} never showed {wait_for_text!r}")
            time.sleep(0.3)
        time.sleep(1.5)

    def click_text(self, text: str) -> int:
        """Click every element whose own text is ``text``; return how many were clicked."""
        return self.js(
            "(() => { const els = [...document.querySelectorAll('button, a, span, div')]"
            f".filter(e => e.childElementCount === 0 && e.textContent.trim() === {json.dumps(text)});"
            " els.forEach(e => e.click()); return els.length; })()"
        )

    def screenshot(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        time.sleep(1.0)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def asset_group_url(base_url: str, group: str, location: str = "nightjar") -> str:
    return f"{base_url}/locations/{location}/asset-groups/{quote(group)}"


def asset_events_url(base_url: str, asset: str) -> str:
    """The asset's Events tab: its latest materialization with every metadata entry."""
    return f"{base_url}/assets/{quote(asset)}?view=events"


def screenshot_asset_plot(browser: Browser, base_url: str, asset: str, entry: str, path: Path) -> Path:
    """A PNG of the Markdown metadata entry ``entry`` (a plot) of ``asset``'s latest materialization."""
    browser.open(asset_events_url(base_url, asset), wait_for_text=entry)
    clicked = browser.js(
        "(() => { const rows = [...document.querySelectorAll('tr')]"
        f".filter(r => r.cells.length > 1 && r.cells[0].innerText.trim() === {json.dumps(entry)});"
        " const link = rows.length ? [...rows[0].querySelectorAll('*')].find(e => e.childElementCount === 0"
        " && e.textContent.includes('Show Markdown')) : null; if (link) link.click(); return !!link; })()"
    )
    if not clicked:
        raise AssertionError(f"{asset} has no Markdown metadata entry {entry!r}")
    deadline = time.monotonic() + 20
    while not browser.js(
        "[...document.querySelectorAll('img')].some(i => i.src.startsWith('data:image/png')"
        " && i.complete && i.naturalWidth > 0)"
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"the {entry!r} plot of {asset} did not render")
        time.sleep(0.3)
    return browser.screenshot(path)
