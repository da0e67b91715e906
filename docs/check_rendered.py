"""Open the built documentation in headless Chromium and check that it renders.

Run after the HTML build (``docs/build.sh`` runs both)::

    python docs/check_rendered.py [--html docs/_build/html]

Pages opened (``file://`` URLs): the front page, the quick start, the user guide,
the API index, one API page of a class, the gallery index and every gallery
example. On each:

- the page has a title;
- it shows no docutils error ("problematic" references, system messages);
- every ``<img>`` has loaded (``naturalWidth > 0``), so the gallery's figures and
  thumbnails are really there;
- an executed example (``plot_*``) shows at least one figure;
- the gallery index shows one thumbnail per example, each loaded;
- a full-page screenshot is saved to ``docs/_build/screenshots/<page>.png`` and is
  not blank (more than ``--min-colours`` distinct colours, no single colour
  covering the whole page).

Prints one line per failure and exits 1 when there is any; needs ``chromium`` and
``chromium-driver`` (Debian) and the ``selenium`` package (the ``docs`` extra).
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent

# Pages named by their path under the HTML root; the API class page and the
# gallery pages are found in the build.
FIXED_PAGES = ["index.html", "quickstart.html", "user_guide/index.html", "api.html"]
API_CLASS_PAGE = "generated/sklearn_musemb.embedders.AdjDEmbedder.html"
GALLERY = "auto_examples"
NOT_EXAMPLES = {"index.html", "sg_execution_times.html"}

# Rendered docutils errors: a reference that did not resolve, an error message.
ERROR_SELECTOR = ".problematic, .system-message, div.error"
FIGURE_SELECTOR = "img.sphx-glr-single-img, img.sphx-glr-multi-img"
THUMB_SELECTOR = ".sphx-glr-thumbcontainer"

# Make lazy images load now; then report those that finished loading with no
# pixels. Returns [] once every image is complete, None while some still load.
IMAGES_JS = """
const imgs = Array.from(document.images);
imgs.forEach(img => { if (img.loading === "lazy") img.loading = "eager"; });
if (imgs.some(img => !img.complete)) return null;
return imgs.filter(img => img.naturalWidth === 0)
           .map(img => img.getAttribute("src") || "(no src)");
"""


def make_driver(chromium: str, chromedriver: str, timeout: float):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,900",
        # file:// pages may read each other (the search index, the gallery's
        # thumbnails); nothing is fetched from the network.
        "--allow-file-access-from-files",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(timeout)
    driver.set_script_timeout(timeout)
    return driver


def wait_for(predicate, timeout: float, interval: float = 0.2):
    """Poll ``predicate`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def full_page_png(driver) -> bytes:
    """Screenshot of the whole page, beyond the window (Chrome DevTools)."""
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width = max(1, min(int(size["width"]), 4000))
    height = max(1, min(int(size["height"]), 30000))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


def blank_reason(png: bytes, min_colours: int) -> str | None:
    """Why a screenshot looks blank, or None when it shows something."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    n_pixels = image.width * image.height
    colours = image.getcolors(maxcolors=n_pixels)  # [(count, rgb), ...]
    if len(colours) <= min_colours:
        return f"{len(colours)} distinct colours (want more than {min_colours})"
    top = max(count for count, _ in colours)
    if top / n_pixels > 0.995:
        return f"one colour covers {100 * top / n_pixels:.1f}% of the page"
    return None


def check_page(driver, html: Path, page: str, shots: Path, args) -> list[str]:
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.common.by import By

    path = html / page
    if not path.is_file():
        return [f"{page}: not built"]
    failures = []
    try:
        driver.get(path.as_uri())
        wait_for(
            lambda: (
                True
                if driver.execute_script("return document.readyState") == "complete"
                else None
            ),
            args.timeout,
        )
        title = driver.title.strip()
        if not title or title.startswith("<no title>"):
            failures.append(f"{page}: no page title")
        for element in driver.find_elements(By.CSS_SELECTOR, ERROR_SELECTOR):
            text = " ".join(element.text.split())[:120]
            failures.append(f"{page}: error shown in the page: {text!r}")
        broken = wait_for(lambda: driver.execute_script(IMAGES_JS), args.timeout)
        if broken is None:
            failures.append(f"{page}: images still loading after {args.timeout:.0f} s")
        else:
            failures.extend(f"{page}: image does not render: {src}" for src in broken)
        name = Path(page).name
        if page.startswith(GALLERY + "/") and name.startswith("plot_"):
            if not driver.find_elements(By.CSS_SELECTOR, FIGURE_SELECTOR):
                failures.append(f"{page}: executed example shows no figure")
        png = full_page_png(driver)
        target = shots / (page.replace("/", "__").removesuffix(".html") + ".png")
        target.write_bytes(png)
        reason = blank_reason(png, args.min_colours)
        if reason:
            failures.append(f"{page}: screenshot looks blank: {reason} ({target})")
    except TimeoutException:
        failures.append(f"{page}: timed out after {args.timeout:.0f} s")
    except WebDriverException as exc:
        failures.append(f"{page}: browser error: {exc.msg or exc!r}".splitlines()[0])
    return failures


def check_gallery_index(driver, html: Path, examples: list[str]) -> list[str]:
    from selenium.webdriver.common.by import By

    page = f"{GALLERY}/index.html"
    if not (html / page).is_file():
        return []  # reported by check_page
    driver.get((html / page).as_uri())
    failures = []
    thumbs = driver.find_elements(By.CSS_SELECTOR, THUMB_SELECTOR)
    linked = set()
    for thumb in thumbs:
        imgs = thumb.find_elements(By.TAG_NAME, "img")
        if not imgs:
            failures.append(f"{page}: a thumbnail has no image: {thumb.text!r}")
        elif not driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", imgs[0]
        ):
            failures.append(f"{page}: thumbnail image does not render: {thumb.text!r}")
        for link in thumb.find_elements(By.TAG_NAME, "a"):
            href = (link.get_attribute("href") or "").split("#")[0]
            linked.add(Path(href).name)
    for example in examples:
        if Path(example).name not in linked:
            failures.append(f"{page}: no thumbnail for {example}")
    if len(thumbs) != len(examples):
        failures.append(
            f"{page}: {len(thumbs)} thumbnails for {len(examples)} example pages"
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument(
        "--screenshots", type=Path, default=DOCS / "_build" / "screenshots"
    )
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    parser.add_argument("--chromium", default=chromium)
    parser.add_argument("--chromedriver", default=chromedriver)
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per page (default 60)"
    )
    parser.add_argument("--min-colours", type=int, default=16)
    args = parser.parse_args(argv)

    html = args.html.resolve()
    if not (html / "index.html").is_file():
        print(f"check_rendered: no built documentation in {html}")
        return 1
    args.screenshots.mkdir(parents=True, exist_ok=True)
    for old in args.screenshots.glob("*.png"):
        old.unlink()

    examples = sorted(
        f"{GALLERY}/{p.name}"
        for p in (html / GALLERY).glob("*.html")
        if p.name not in NOT_EXAMPLES
    )
    api_page = API_CLASS_PAGE
    if not (html / api_page).is_file():  # the class was renamed: take any class
        pages = sorted((html / "generated").glob("sklearn_musemb.*.*[A-Z]*.html"))
        api_page = f"generated/{pages[0].name}" if pages else API_CLASS_PAGE
    pages = [*FIXED_PAGES, api_page, f"{GALLERY}/index.html", *examples]

    failures: list[str] = []
    if not examples:
        failures.append(f"{GALLERY}: no example pages were built")
    try:
        driver = make_driver(args.chromium, args.chromedriver, args.timeout)
    except Exception as exc:  # noqa: BLE001 - report any start failure in one line
        print(f"check_rendered: cannot start Chromium: {exc!r}".splitlines()[0])
        return 1
    try:
        for page in pages:
            failures.extend(check_page(driver, html, page, args.screenshots, args))
        failures.extend(check_gallery_index(driver, html, examples))
    finally:
        driver.quit()

    for failure in failures:
        print(failure)
    if failures:
        print(f"check_rendered: {len(failures)} failure(s) in {len(pages)} pages")
        return 1
    print(
        f"check_rendered: {len(pages)} pages render ({len(examples)} gallery "
        f"examples); screenshots in {args.screenshots}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
