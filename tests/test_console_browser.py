"""The console in a real headless Chromium (Debian's chromium + chromium-driver through selenium) against
``talentloop serve`` on loopback: an HR partner signs in, sees only its units, opens an alert, reviews it, sees
the review in the history and in the audit log, switches to Chinese, and cannot open another unit's alert.

Selenium never downloads a browser or driver here: the system chromedriver is given explicitly and
``SE_OFFLINE`` is set. Without /usr/bin/chromium these tests are skipped, and the session says so.
"""

from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.console_workspace import ConsoleWorkspace, build

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
NO_BROWSER = None if CHROMIUM.exists() and CHROMEDRIVER.exists() else (
    f"no browser: {CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver "
    f"fonts-wqy-zenhei); the console's browser tests did not run")
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("console"),
              pytest.mark.skipif(NO_BROWSER is not None, reason=NO_BROWSER or "")]
TALENTLOOP = Path(sys.executable).with_name("talentloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> ConsoleWorkspace:
    return build(tmp_path_factory, "console-browser-home")


@pytest.fixture(scope="module")
def server(ws):
    port = _free_port()
    env = {**os.environ, "TALENTLOOP_HOME": str(ws.settings.home), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(TALENTLOOP), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/console/login")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the console did not start within 240 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_url(browser, ok, seconds: float = 10.0) -> None:
    """Wait until the browser's URL satisfies ``ok`` (a form submitted by a click or Enter navigates after the
    call returns); fail with the URL it stayed at."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(browser, seconds).until(lambda d: ok(d.current_url))
    except TimeoutException:
        raise AssertionError(f"the browser stayed at {browser.current_url}") from None


def test_partner_reviews_an_alert_in_a_real_browser(ws, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    b = browser
    b.get(f"{server}/console/alerts?lang=en")
    assert "/console/login" in b.current_url  # not signed in yet
    key = b.find_element(By.ID, "key")
    assert b.find_element(By.CSS_SELECTOR, "label[for=key]").text == "API key"
    key.send_keys(ws.keys["partner_a"])
    key.send_keys(Keys.ENTER)  # keyboard only
    _wait_url(b, lambda u: u.startswith(f"{server}/console/alerts"))
    # only the partner's units
    rows = b.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert rows, b.page_source[:2000]
    assert {r.get_attribute("data-unit") for r in rows} <= ws.scope_a
    assert ws.alert_b not in b.page_source
    # session cookie is invisible to scripts (HttpOnly)
    assert "tl_console" not in b.execute_script("return document.cookie")
    # open an alert
    b.find_element(By.CSS_SELECTOR, f'tr[data-alert="{ws.alert_a}"] a.open').click()
    _wait_url(b, lambda u: u.endswith(f"/console/alerts/{ws.alert_a}"))
    assert b.find_element(By.ID, "alert-title").text.startswith("Alert for ")
    assert len(b.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 2
    # review it with the keyboard-usable form
    b.find_element(By.ID, "status-acknowledged").click()
    b.find_element(By.ID, "action_taken").send_keys("one-to-one booked")
    b.find_element(By.ID, "note").send_keys("talked to the manager 经理已沟通")
    b.find_element(By.ID, "save-review").click()
    assert b.find_element(By.ID, "saved").text == "Review saved."
    history = b.find_element(By.ID, "history-list").text
    assert "Acknowledged by Partner A" in history and "经理已沟通" in history
    assert b.find_element(By.ID, "status").text == "Acknowledged"
    # in the audit log
    con = sqlite3.connect(ws.settings.app_db)
    try:
        rows = con.execute("SELECT role, subject, endpoint FROM audit_log WHERE endpoint LIKE 'console/%'").fetchall()
    finally:
        con.close()
    assert ("hr_partner", ws.alert_a, "console/review/acknowledged") in rows
    assert any(e == "console/alert" for _, _, e in rows) and any(e == "console/queue" for _, _, e in rows)
    # switch language
    b.find_element(By.ID, "lang-switch").click()
    assert b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert b.find_element(By.ID, "h-history").text == "处理记录"
    assert "已知悉" in b.find_element(By.ID, "history-list").text
    b.find_element(By.LINK_TEXT, "部门概览").click()
    assert b.find_element(By.ID, "unit-title").text.startswith("部门概览")
    # another unit's alert: not found
    b.get(f"{server}/console/alerts/{ws.alert_b}")
    assert b.find_element(By.TAG_NAME, "h1").text == "未找到"
    assert ws.alert_b.split("-")[-1] not in b.find_element(By.TAG_NAME, "main").text
    # sign out
    b.find_element(By.ID, "sign-out").click()
    _wait_url(b, lambda u: "/console/login" in u)  # a click returns before the page it submits has loaded
    b.get(f"{server}/console/alerts")
    assert "/console/login" in b.current_url
