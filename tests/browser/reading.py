"""How a reader goes through a report version's pages in the browser."""


def read_every_page(page, count: int) -> None:
    """Scroll down the report as a reader does, a wheel turn at a time, past its last page."""
    last = page.locator(f'[data-review-page="{count}"] figcaption')
    for _ in range(200):
        if last.evaluate("e => e.getBoundingClientRect().top < window.innerHeight"):
            break
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(30)
    last.scroll_into_view_if_needed()
