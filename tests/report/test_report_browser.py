"""report.html in a real browser: headless Chromium loads the page of a fixture compile with no
console error, the charts render as non-empty SVG, the binding op is named, and a screenshot
is saved under the test's temp folder. `make test` installs chromium (Makefile `browser`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.driver import compile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed and `make browser` could not install it "
    "(needs root and network: apt-get install chromium)")

_CONSOLE = re.compile(r"Uncaught|ERROR:CONSOLE|CONSOLE\(\d+\)\] \"(?:Error|Uncaught)")


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("dlrm")
    c = compile(FIXTURES / "torchrec_dlrm_legacy.onnx", "hetero", batch=4)
    c.compared = [{"name": "naive mapping on hetero", "latency_s": 2 * c.report[
        "latency_seconds"], "interval_cycles": c.report["interval_cycles"],
        "samples_per_second": c.report["samples_per_second"], "energy_j": 1.0,
        "used_mm2": 1.0, "crossbars_used": 1}]
    c.write(out)
    return out / "report.html", c


def test_report_renders_without_console_errors(page, tmp_path):
    html, c = page
    dom = _chromium("--dump-dom", html.as_uri(), tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not _CONSOLE.search(dom.stderr), dom.stderr[-2000:]
    svgs = re.findall(r"<svg class=\"chart\".*?</svg>", dom.stdout, flags=re.S)
    assert len(svgs) >= 6 and all("<rect" in s for s in svgs)
    op = c.report["binding"]["op"].split(":", 1)[1]
    why = re.search(r'<div class="why">(.*?)</div>', dom.stdout, flags=re.S).group(1)
    assert c.report["binding"]["resource"] in why and op in why
    assert "naive mapping on hetero" in dom.stdout and "2.00×" in dom.stdout
    shot = tmp_path / "report.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1200,3000", html.as_uri(),
                    tmp=tmp_path)
    assert run.returncode == 0 and shot.stat().st_size > 20_000
    assert not _CONSOLE.search(run.stderr)


def test_console_error_is_caught(tmp_path):
    """The near miss: a page that throws is reported (the scan above can fail)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction()</script></body></html>")
    run = _chromium("--dump-dom", bad.as_uri(), tmp=tmp_path)
    assert _CONSOLE.search(run.stderr)


def test_report_is_self_contained(page):
    text = page[0].read_text()
    assert not re.search(r"<script|<link|src=|https?://", text)
