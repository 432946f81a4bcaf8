"""Headless Chromium driven by Selenium against pytest-django's live server.

The driver is Debian's chromedriver beside Debian's chromium (never a downloaded one). When a test
fails, the browser's console log is attached to its report, so a script error shows up with it.
"""

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.conftest import CHROMEDRIVER, CHROMIUM


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    try:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            console = "\n".join(f"{entry['level']} {entry['message']}" for entry in driver.get_log("browser"))
            report.sections.append(("browser console", console or "(empty)"))
            report.sections.append(("page at failure", f"{driver.current_url}\n{driver.page_source}"))
    finally:
        driver.quit()
