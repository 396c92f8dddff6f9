"""Real-browser test of the Mode Collapse Lab: JupyterLab + Debian chromium driven by Playwright.

Starts ``jupyter lab`` on 127.0.0.1 (free port, token, temporary settings without the news pop-up) over a copy of
lesson 10 in quick mode, runs all cells, presses Play, checks that the metrics text and the plot change, presses
Pause and saves a screenshot under the test's tmp dir. Skipped when /usr/bin/chromium is missing.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "10_mode_collapse_lab.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SETTINGS = {  # JupyterLab user settings: no news pop-up, every cell kept in the DOM
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

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
    shutil.copy(LESSON, work / LESSON.name)
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


def test_play_and_pause_in_a_real_browser(jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright
    base, token = jupyter_lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{LESSON.name}?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            wait_for(lambda: get_json(f"{base}/api/sessions?token={token}"), 60, "the kernel session")
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            sessions = get_json(f"{base}/api/sessions?token={token}")
            assert sessions and sessions[0]["kernel"]["id"], sessions
            lab = page.locator(".mode-collapse-lab")
            lab.wait_for(timeout=180_000)
            lab.scroll_into_view_if_needed()
            metrics, image = lab.locator(".lab-metrics"), lab.locator("img").first
            metrics.wait_for(timeout=30_000)
            before_text, before_image = metrics.inner_text(), image.get_attribute("src")
            assert "step 0" in before_text, before_text
            lab.locator("button", has_text="Play").click()
            wait_for(lambda: metrics.inner_text() != before_text, 60, "the metrics text to change")
            wait_for(lambda: image.get_attribute("src") != before_image, 30, "the plot to change")
            lab.locator("button", has_text="Pause").click()
            wait_for(lambda: "paused at step" in lab.inner_text(), 30, "Pause to take effect")
            stopped = metrics.inner_text()
            time.sleep(1.5)
            assert metrics.inner_text() == stopped, "training went on after Pause"
            screenshot = tmp_path / "mode_collapse_lab.png"
            lab.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
            print(f"screenshot: {screenshot}")
            assert screenshot.stat().st_size > 10_000
        finally:
            browser.close()
