"""A headless chromium driven over the DevTools protocol, for the report page's browser test.

Why not Playwright: its browser download is not allowed here, and aiohttp (already installed
with litellm) speaks the DevTools websocket; Debian's `/usr/bin/chromium` is the browser.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                  "--remote-debugging-port=0", "--window-size=1400,1000")


def find_chromium() -> str | None:
    """The chromium binary, or None where it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class Page:
    """One page of a headless chromium: navigate, evaluate, screenshot; console errors and
    uncaught exceptions are collected in `errors`."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.errors: list[str] = []
        self.loaded = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
                continue
            method = data.get("method", "")
            params = data.get("params", {})
            if method == "Page.loadEventFired":
                self.loaded.set()
            elif method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                self.errors.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                                 for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                self.errors.append(f"log: {params['entry'].get('text')} ({params['entry'].get('url', '')})")

    async def send(self, method: str, **params: Any) -> dict:
        i = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[i] = fut
        await self.ws.send_str(json.dumps({"id": i, "method": method, "params": params}))
        reply = await asyncio.wait_for(fut, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        res = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression!r}: {res['exceptionDetails'].get('exception', {}).get('description')}")
        return res.get("result", {}).get("value")

    async def goto(self, url: str) -> None:
        self.loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self.loaded.wait(), 60)

    async def screenshot(self, path: Path, selector: str | None = None) -> Path:
        """The whole page as a PNG, or only the element `selector` names."""
        clip: dict[str, Any] = {}
        if selector is not None:
            box = await self.eval(f"(() => {{ const b = document.querySelector({json.dumps(selector)})"
                                  ".getBoundingClientRect(); return [b.left + scrollX, b.top + scrollY, "
                                  "b.width, b.height]; })()")
            clip = {"clip": {"x": box[0], "y": box[1], "width": box[2], "height": min(box[3], 4000), "scale": 1}}
        res = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, **clip)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(res["data"]))
        return path


async def _devtools_url(proc: subprocess.Popen) -> str:
    assert proc.stderr is not None
    loop = asyncio.get_running_loop()
    for _ in range(400):
        line = await asyncio.wait_for(loop.run_in_executor(None, proc.stderr.readline), 60)
        if not line and proc.poll() is not None:
            break
        m = re.search(rb"DevTools listening on (ws://\S+)", line)
        if m:
            return m.group(1).decode()
    raise RuntimeError(f"chromium did not start (exit {proc.poll()})")


async def with_page(binary: str, fn: Any) -> Any:
    """Start chromium with a fresh profile, open one page, run `await fn(page)`, stop it."""
    import aiohttp

    profile = tempfile.mkdtemp(prefix="sorg-chromium-")
    proc = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        browser_ws = await _devtools_url(proc)
        port = re.search(r":(\d+)/", browser_ws).group(1)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json(content_type=None)
            page_ws = [t for t in targets if t.get("type") == "page"][0]["webSocketDebuggerUrl"]
            async with http.ws_connect(page_ws, max_msg_size=0) as ws:
                page = Page(ws)
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                try:
                    return await fn(page)
                finally:
                    page.reader.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
