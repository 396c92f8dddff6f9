"""Real-browser test of the Mode Collapse Lab: JupyterLab + Debian chromium driven by Playwright.

Starts ``jupyter lab`` on 127.0.0.1 (free port, token, temporary settings without the news pop-up) over a small
notebook with lesson 10's two widget cells (the lab and Compare), runs them and, in chromium: checks that the
static picture is replaced by the live canvas, changes the loss in the top bar, plays and pauses (the metrics
text and the canvas change, then stop), takes a slow-motion D step and G step, draws three modes with the mouse and
trains on them, and steps the Compare view. Screenshots go to ``$GAN_COURSE_ARTIFACTS`` (default: the test's tmp
dir). Skipped when /usr/bin/chromium is missing.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SETTINGS = {  # JupyterLab user settings: no news pop-up, every cell kept in the DOM
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

CELLS = ['from gan_course.widgets import mode_collapse_lab\nmode_collapse_lab.mode_collapse_lab("collapse")',
         'mode_collapse_lab.compare("collapse", "cure")']  # lesson 10's widget cells
NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS],
                                    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                              "(apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # server not up yet, element not there yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def jupyter_lab(tmp_path):
    work, settings = tmp_path / "work", tmp_path / "settings"
    work.mkdir()
    nbformat.write(NOTEBOOK, work / "lab_check.ipynb")
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "GAN_COURSE_QUICK": "1", "GAN_COURSE_THREADS": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path / "jupyter.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get_json(f"{base}/api/status?token={token}"), 60, "jupyter lab to start")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def canvas_picture(canvas) -> str:
    return canvas.evaluate("c => c.toDataURL()")


def test_lab_in_a_real_browser(jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright
    base, token = jupyter_lab
    artifacts = Path(os.environ.get("GAN_COURSE_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=2)
            page.goto(f"{base}/lab/tree/lab_check.ipynb?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            wait_for(lambda: get_json(f"{base}/api/sessions?token={token}"), 60, "the kernel session")
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            lab = page.locator(".mode-collapse-lab")
            lab.wait_for(timeout=180_000)
            lab.scroll_into_view_if_needed()
            metrics, canvas, status = lab.locator(".lab-metrics"), lab.locator("canvas.lab-canvas"), lab.locator(".lab-status")
            canvas.wait_for(timeout=60_000)
            assert canvas.evaluate("c => c.width") >= 2 * 980 - 1, "the canvas is drawn at the screen's pixel ratio"
            assert "step 0" in metrics.inner_text() and "collapse" in lab.locator("select").first.input_value()
            page.screenshot(path=str(artifacts / "lab_1_opened.png"))

            lab.locator(".widget-dropdown", has_text="loss").locator("select").select_option("lsgan")  # top bar
            wait_for(lambda: "applied live" in status.inner_text(), 30, "the live loss change")
            wait_for(lambda: lab.locator("select").first.input_value() == "cure", 10, "the preset to say cure")  # = collapse + lsgan

            before_text, before_picture = metrics.inner_text(), canvas_picture(canvas)
            lab.get_by_role("button", name="Play", exact=True).click()
            wait_for(lambda: metrics.inner_text() != before_text, 60, "the metrics text to change")
            wait_for(lambda: canvas_picture(canvas) != before_picture, 30, "the plot to change")
            time.sleep(2)
            lab.get_by_role("button", name="Pause", exact=True).click()
            wait_for(lambda: "paused at step" in status.inner_text(), 30, "Pause to take effect")
            stopped, stopped_picture = metrics.inner_text(), canvas_picture(canvas)
            time.sleep(1.5)
            assert metrics.inner_text() == stopped and canvas_picture(canvas) == stopped_picture, "training went on"
            page.screenshot(path=str(artifacts / "lab_2_played.png"))

            lab.get_by_role("button", name="Slow step", exact=True).click()
            wait_for(lambda: "D step done" in status.inner_text(), 30, "the slow-motion D step")
            page.screenshot(path=str(artifacts / "lab_3_slow_d_step.png"))
            lab.get_by_role("button", name="Slow step: G", exact=True).click()
            wait_for(lambda: "G step done" in status.inner_text(), 30, "the slow-motion G step")

            lab.get_by_role("button", name="Draw", exact=True).click()
            box = canvas.bounding_box()
            scale = box["width"] / 980
            for x, y in ((140, 234), (356, 234), (248, 120)):  # inside the main panel (CSS px of the drawing)
                page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
            lab.get_by_role("button", name="Use drawn", exact=True).click()
            wait_for(lambda: "/3" in metrics.inner_text(), 60, "training on the three drawn modes")
            lab.get_by_role("button", name="Step", exact=True).click()
            wait_for(lambda: "step 25" in metrics.inner_text(), 60, "a step on the drawn data")
            page.screenshot(path=str(artifacts / "lab_4_drawn_data.png"))

            compare = page.locator(".mode-collapse-compare")
            compare.scroll_into_view_if_needed()
            compare.get_by_role("button", name="Step", exact=True).click()
            pair = compare.locator(".lab-metrics")
            wait_for(lambda: all("step 25" in pair.nth(i).inner_text() for i in (0, 1)), 60, "both labs to step")
            compare.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "lab_5_compare.png"))
            for name in ("lab_1_opened", "lab_2_played", "lab_3_slow_d_step", "lab_4_drawn_data", "lab_5_compare"):
                assert (artifacts / f"{name}.png").stat().st_size > 10_000
            print(f"screenshots in {artifacts}")
        finally:
            browser.close()
