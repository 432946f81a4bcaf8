"""Steps the browser tests share."""

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import PASSWORD


def sign_in(driver, login_url: str, username: str, submit: str = "main form button[type=submit]") -> None:
    """Fill the sign-in form and wait for its answer to replace the page (a driver.get() before would cancel it)."""
    driver.get(login_url)
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    button = driver.find_element(By.CSS_SELECTOR, submit)
    button.click()
    # While the old document is torn down Chromium may answer "node does not belong to the document" instead of
    # "stale element": both mean the page is being replaced, so the wait asks again until it is.
    WebDriverWait(driver, 10, poll_frequency=0.2, ignored_exceptions=(WebDriverException,)).until(
        staleness_of(button), "the sign-in was not answered"
    )
