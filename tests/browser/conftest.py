"""Browser tests: Debian's chromium (/usr/bin/chromium, installed by scripts/test with
apt-get; never `playwright install`) driven by Playwright against real processes — gunicorn
serving the app, a `kestra-lite worker` and the scheduler — on this test's database and
Redis. Every step's screenshot is kept under test-artifacts/screenshots/<test>/."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.faults.faults import Processes

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ADMIN_EMAIL = "alice@example.com"
ADMIN_PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(settings, tmp_path, db):
    """The web (gunicorn), a worker and the scheduler as real processes; yields the base URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (scripts/test installs Debian's chromium)")
    port = _free_port()
    processes = Processes(settings, tmp_path)
    log_file = tmp_path / "web.log"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "kestra_lite.web:create_app()"],
        env=settings.child_env(), cwd=ROOT, stdout=log_file.open("w"),
        stderr=subprocess.STDOUT)
    web.log_file = log_file
    processes.started.append(web)
    processes.start("worker")
    processes.start("scheduler")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or web.poll() is not None:
            processes.stop_all()
            raise AssertionError("the web server did not start\n" + processes.output())
        time.sleep(0.1)
    try:
        yield base
    finally:
        processes.stop_all()


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of one test: shots(page, "after login")."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^\w.-]+", "-", step)
        path = self.folder / f"{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def page(_playwright, server):
    context = _playwright.new_context(base_url=server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def set_up_admin(page) -> None:
    """First run: the setup page creates the super admin and logs in."""
    page.goto("/")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.fill("input[name=confirm]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/main/dashboard"))


@pytest.fixture
def admin_page(page):
    set_up_admin(page)
    return page
