"""What an instructor opens in a browser, in headless Chromium: formgrader on a fresh course (it lists its
assignments, releases and collects through its own exchange, and shows the sandboxed grader's scores after
`coopkit nbgrader autograde`), and the class report (offline: it draws with the network refused).

Chromium comes from Debian (`apt-get install chromium`, started in the background as the run begins); when it
is missing and cannot be installed the test is skipped and says why. Playwright drives the machine's own
Chromium (no browser download).
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from coopkit.course import build as nbbuild
from coopkit.course.workers import nbgrader, nbgrader_env
from coopkit.instructor import classreport

from .conftest import reference_source
from .system_tools import CHROMIUM_FLAGS, tool_or_skip
from .test_classreport import graded, graded_folder  # noqa: F401 - the class report's graded class, as fixtures
from .test_exchange import submit
from .test_nbgrader import RUNNER_BUG, gradebook_scores

pytest.importorskip("nbgrader", reason="the nbgrader extra is not installed")
pytestmark = pytest.mark.late  # Chromium may still be installing in the background: these start last


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def formgrader(kit, tmp_path):
    """A fresh course, its assignment generated, and a Jupyter server with formgrader on it: ``(course, url, token)``."""
    course = tmp_path / "course"
    nbbuild.build(kit, course)
    nbgrader(course, "generate_assignment", "coop", "--force")
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(nbgrader_env(), HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_DATA_DIR=str(home / ".data"))
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"],
                              cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "server.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"jupyter server stopped: {(tmp_path / 'server.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield course, url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_formgrader_lists_releases_collects_and_shows_the_sandbox_scores(kit, formgrader, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = tool_or_skip("chromium", "the formgrader test needs a browser")
    course, url, token = formgrader
    assignments = [part.assignment for part in kit.manifest.assignments]
    reference = {e.name: reference_source(kit, e.name) for e in kit.manifest.part(1).exercises}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        page.goto(f"{url}/formgrader/manage_assignments?token={token}")
        page.wait_for_selector("td.name a", timeout=60_000)
        names = page.locator("td.name a").all_inner_texts()
        assert sorted(names) == sorted(assignments), names
        # the course's exchange works on this machine: no warning, and Release is offered
        assert page.locator("#warning-exchange").count() == 0 and page.locator("#warning-course-id").count() == 0
        coop = page.locator("tr", has=page.locator("td.name a", has_text="coop"))
        coop.locator("td.release a").click()
        page.wait_for_selector("text=Successfully released 'coop'", timeout=60_000)
        assert list((course / "exchange").glob("coopkit/outbound/coop/*.ipynb")), "Release put nothing in the exchange"

        submit(course, tmp_path / "ada", "ada", reference)
        submit(course, tmp_path / "bob", "bob", dict(reference, runner=RUNNER_BUG))

        page.goto(f"{url}/formgrader/manage_assignments")
        page.wait_for_selector("td.collect a", timeout=60_000)
        page.locator("tr", has=page.locator("td.name a", has_text="coop")).locator("td.collect a").click()
        page.wait_for_selector("text=Successfully collected submissions of 'coop'", timeout=60_000)
        assert sorted(p.parts[-3] for p in course.glob("submitted/*/coop/*.ipynb")) == ["ada", "bob"]

        graded = subprocess.run([sys.executable, "-m", "coopkit.instructor.cli", "nbgrader", "autograde", "coop", "--course", str(course)],
                                capture_output=True, text=True, env=nbgrader_env())
        assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]

        page.goto(f"{url}/formgrader/manage_submissions/coop")
        page.wait_for_selector("td.score:has-text('/')", timeout=60_000)
        shown = {row.locator("td.student-id").inner_text().strip(): row.locator("td.score").inner_text().strip()
                 for row in page.locator("tbody tr").all()}
        browser.close()
    totals = {student: sum(scores.values()) for student, scores in gradebook_scores(course).items()}
    maximum = kit.manifest.part(1).points
    assert shown == {student: f"{total:g} / {maximum:g}" for student, total in totals.items()}, (shown, totals)
    assert totals["ada"] == maximum and totals["bob"] < maximum


def test_the_page_renders_offline_in_a_browser(graded, tmp_path):  # noqa: F811 - the imported fixture
    """Headless Chromium with every request but the file itself refused: the three pictures draw, the tables show."""
    from playwright.sync_api import sync_playwright

    chromium = tool_or_skip("chromium", "rendering the class report needs a browser")
    path = tmp_path / "class.html"
    path.write_text(classreport.page(graded, "coop"), encoding="utf-8")
    asked = []

    def refuse_the_network(route):
        asked.append(route.request.url)
        route.abort() if not route.request.url.startswith(("file:", "data:")) else route.continue_()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        page.route("**/*", refuse_the_network)
        page.goto(path.as_uri())
        widths = page.evaluate("Array.from(document.images).map(image => image.complete ? image.naturalWidth : 0)")
        text = page.inner_text("body")
        browser.close()
    assert len(widths) == 3 and all(width > 100 for width in widths), widths
    assert [url for url in asked if not url.startswith(("file:", "data:"))] == []
    assert "runner.stop_value" in text and "a `for` loop over the generator throws it away" in text

