"""`edi report --html` in a real browser: Debian's headless Chromium opens the page from a demo run.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON messages
separated by NUL on file descriptors 3 and 4), which needs nothing beyond the standard library and
no browser download. The test fails on any console error or uncaught exception, checks that every
chart is in the DOM and painted (its part of the screenshot is not blank), and that every figure the
page marks with ``data-key`` shows exactly what ``edi report --json`` says.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_demo import edi

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install "
                                                          "chromium); CI installs it")
WIDTH = 1300


class Browser:
    """A headless Chromium and one page, over the DevTools protocol on a pipe."""

    def __init__(self, profile: Path) -> None:
        cmd_r, self._cmd_w = os.pipe()  # we write commands; Chromium reads fd 3
        self._out_r, out_w = os.pipe()  # Chromium writes fd 4; we read

        def fds() -> None:
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        assert CHROMIUM is not None
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4))
        os.close(cmd_r)
        os.close(out_w)
        self._buf, self._next = b"", 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30,
             page: bool = True) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if page and self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            for m in self._read(timeout):
                if m.get("id") == self._next:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return dict(m.get("result", {}))
                self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return dict(self.events.pop(i))
            self.events += self._read(deadline - time.monotonic())
        raise TimeoutError(method)

    def _read(self, timeout: float) -> list[dict[str, Any]]:
        ready, _, _ = select.select([self._out_r], [], [], max(timeout, 0.01))
        if not ready:
            raise TimeoutError("no answer from chromium")
        chunk = os.read(self._out_r, 1 << 20)
        if not chunk:
            raise RuntimeError("chromium closed the pipe")
        self._buf += chunk
        *messages, self._buf = self._buf.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, page=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 page=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": False})
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in res, res
        return res["result"]["value"]

    def screenshot(self) -> bytes:
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": size["height"], "scale": 1}})
        return base64.b64decode(shot["data"])

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors seen so far."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", page=False, timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)


def shown(value: Any, kind: str) -> str:
    """How the page must show a JSON figure (written independently of the renderer)."""
    if value is None:
        return "-"
    if kind == "money":
        d = Decimal(value)
        return ("-" if d < 0 else "") + f"${abs(d):,.2f}"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "int":
        return f"{value:,}"
    return str(value)


def lookup(data: Any, key: str) -> Any:
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Browser, bytes, dict[str, Any]]]:
    """A demo run's report: its JSON, the browser on its HTML page, the screenshot and the page's DOM facts."""
    work = tmp_path_factory.mktemp("report")
    res = edi(work, "demo", "--dir", "tour", "--seed", "7")
    assert res.code == 0, res.stderr
    folder = work / "tour"
    report = edi(folder, "report", "--json")
    assert report.code == 0, report.stderr
    html_path = work / "report.html"
    assert edi(folder, "report", "--html", str(html_path)).code == 0
    browser = Browser(work / "profile")
    try:
        browser.open(html_path.as_uri())
        dom = browser.evaluate("""(() => ({
            figures: [...document.querySelectorAll('[data-key]')].map(e => (
                {key: e.dataset.key, format: e.dataset.format, text: e.textContent.trim()})),
            charts: [...document.querySelectorAll('svg.chart')].map(s => {
                const r = s.getBoundingClientRect();
                return {name: s.dataset.chart, bars: s.querySelectorAll('rect.bar').length,
                        lines: s.querySelectorAll('polyline.line').length,
                        box: [r.left + scrollX, r.top + scrollY, r.width, r.height]};
            }),
            tiles: [...document.querySelectorAll('.tile')].map(t => t.title),
            scripts: document.scripts.length,
        }))()""")
        shot = browser.screenshot()
        yield json.loads(report.stdout), browser, shot, dom
    finally:
        browser.close()


class TestReportInBrowser:
    def test_no_console_errors(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """The page loads without a console error, an uncaught exception or a failed request."""
        _report, browser, _shot, dom = page
        assert browser.errors() == []
        assert dom["scripts"] == 0

    def test_every_chart_is_in_the_dom(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """Each chart the demo's figures call for is an SVG with its bars or lines."""
        report, _browser, _shot, dom = page
        charts = {c["name"]: c for c in dom["charts"]}
        expected = {"weekly_trend", "denials_by_category", "carc_pareto", "payers", "aging_by_payer",
                    "held_by_reason"}
        assert expected <= set(charts)
        for name in expected:
            assert charts[name]["bars"] + charts[name]["lines"] > 0, name
            assert charts[name]["box"][2] > 200 and charts[name]["box"][3] > 50, name
        assert charts["payers"]["bars"] == 2 * len(report["payers"])
        assert charts["carc_pareto"]["bars"] == len(report["carc_pareto"])
        assert charts["weekly_trend"]["lines"] == 3

    def test_screenshot_is_not_blank(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """The page is painted, and so is each chart's area of it (many colours, not just background)."""
        from PIL import Image

        _report, _browser, shot, dom = page
        img = Image.open(io.BytesIO(shot)).convert("RGB")
        assert img.width == 1300 and img.height > 1500
        assert len(img.getcolors(1 << 24) or []) > 200
        for chart in dom["charts"]:
            x, y, w, h = (round(v) for v in chart["box"])
            area = img.crop((x, y, x + w, y + h))
            colors = area.getcolors(1 << 24) or []
            background = max(colors)[0] if colors else 0
            painted = w * h - background
            assert len(colors) > 5 and painted > 0.01 * w * h, f"chart {chart['name']} looks blank"

    def test_figures_equal_the_json(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """Every figure on the page shows what `edi report --json` says, formatted as money, rate or days."""
        report, _browser, _shot, dom = page
        figures = dom["figures"]
        keys = {f["key"] for f in figures}
        for must in ("claims.billed.amount", "claims.paid.amount", "clean_claim_rate", "first_pass_resolution_rate",
                     "denial_rate.by_count", "payer_net_collection_rate", "days_in_ar", "at_risk.dollars",
                     "underpaid.dollars", "held.dollars", "payers.0.median_days_to_payment", "aging.total",
                     "carc_pareto.0.description"):
            assert must in keys, must
        mismatches = [(f["key"], f["text"], shown(lookup(report, f["key"]), f["format"])) for f in figures
                      if f["text"] != shown(lookup(report, f["key"]), f["format"])]
        assert mismatches == []
        assert any(f["text"].startswith("$") and "," in f["text"] for f in figures)  # $6,470.00

    def test_headline_definitions_on_hover(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """Every headline tile carries its definition as hover text."""
        _report, _browser, _shot, dom = page
        assert len(dom["tiles"]) >= 8 and all(len(t) > 20 for t in dom["tiles"])

    def test_days_to_payment_never_negative(self, page: tuple[dict[str, Any], Browser, bytes, dict[str, Any]]) -> None:
        """The demo pays on the day it submits: 0 days per payer, never a negative figure, no data errors."""
        report, _browser, _shot, _dom = page
        assert report["data_errors"] == [] and report["data_errors_total"] == 0
        for p in report["payers"]:
            assert p["median_days_to_payment"] is not None and p["median_days_to_payment"] >= 0, p["payer_id"]
            assert p["average_days_to_payment"] is not None and p["average_days_to_payment"] >= 0, p["payer_id"]
