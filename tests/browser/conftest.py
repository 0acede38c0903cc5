"""Browser tests: Debian's Chromium driven by Playwright against a live server."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def sign_in(live_server, page):
    """Sign in through the login form, as a person would."""

    def _sign_in(user, password="correct-horse-battery"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button.primary")
        page.wait_for_url(f"{live_server.url}/engagements/")
        return page

    return _sign_in


@pytest.fixture
def page(page):
    """The page, answering "OK" to the confirmations of irreversible actions (data-confirm), as
    a user who means it does. ``page.dialogs`` keeps what was asked; set ``page.confirm = False``
    to answer "Cancel"."""
    page.dialogs = []
    page.confirm = True

    def answer(dialog):
        page.dialogs.append(dialog.message)
        if page.confirm:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    return page
