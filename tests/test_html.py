"""The HTML timeline: one page that opens from disk with no network and works in a browser
(Debian's chromium, driven headless by playwright): its rows, tooltips, filters and speed."""

from __future__ import annotations

import math
import os
import re
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import logflow
from logflow.errors import OutputError
from logflow.outputs.timeline import timeline

from conftest import SAMPLES, generated_log, unavailable

RACE = SAMPLES / "logshow-default-race.log"
PROXY = SAMPLES / "console-copy.tsv.log"
NETWORK_CHANGE = SAMPLES / "console-network-change.tsv.log"
# What a page opened from disk may load: itself and what it makes in memory.
LOCAL = ("file:", "data:", "blob:", "about:")
# Bokeh has built the page's views and drawn them all.
RENDERED = (
    "() => window.Bokeh !== undefined && Bokeh.documents.length > 0"
    " && Bokeh.documents[0].is_idle && Bokeh.index.roots.every((view) => view.has_finished())"
)
# The stated product requirement: 5,000 rows drawn within 3 s.
ROWS_FOR_SPEED = 5000
SECONDS_TO_RENDER = 3.0


@pytest.fixture(scope="module")
def bokeh():
    try:
        import bokeh
    except ImportError:
        unavailable("bokeh is not installed: pip install 'logflow[html]'")
    return bokeh


class Opened:
    """A page in the browser, with what went wrong in it and what it tried to fetch."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.fetched: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("request", self._request)
        started = time.perf_counter()
        self.page.goto(path.as_uri())
        self.page.wait_for_function(RENDERED, polling=20)
        self.seconds = time.perf_counter() - started

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _request(self, request) -> None:
        if not request.url.startswith(LOCAL):
            self.fetched.append(request.url)

    def js(self, code: str, arg=None):
        return self.page.evaluate(code, arg)

    def column(self, source: str, name: str) -> list:
        """A column of a named data source, as the page holds it now (NaN as None)."""
        return self.js(
            """([source, name]) => Array.from(
                 Bokeh.documents[0].get_model_by_name(source).get_column(name),
                 (value) => (typeof value == "number" && isNaN(value)) ? null : value)""",
            [source, name],
        )

    def shown(self) -> list[str]:
        """The ids of the rows drawn now (a row hidden has no position)."""
        ids, ys = self.column("spans", "conn_id"), self.column("spans", "y")
        return [conn_id for conn_id, y in zip(ids, ys, strict=True) if y is not None]

    def set_value(self, widget: str, value) -> None:
        """Set a widget's value as a reader's choice does, its callback running in the page."""
        self.js(
            "([name, value]) => { Bokeh.documents[0].get_model_by_name(name).value = value }",
            [widget, value],
        )

    def tooltip(self, holding: str):
        """The tooltip shown that holds ``holding`` (its text is in Bokeh's shadow DOM,
        which playwright's selectors pierce), once it shows."""
        tooltip = self.page.locator(".bk-Tooltip .bk-tooltip-content").filter(has_text=holding)
        tooltip.wait_for(state="visible", timeout=5000)
        return tooltip

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def open_page(browser):
    opened: list[Opened] = []

    def open_(path: Path) -> Opened:
        opened.append(Opened(browser, path))
        return opened[-1]

    yield open_
    for page in opened:
        page.close()


def written(tmp_path: Path, *logs: Path, name: str = "timeline.html"):
    """The parse of ``logs`` and its timeline, written to a page in ``tmp_path``."""
    from logflow.outputs.html import write_html

    parsed = logflow.parse([str(log) for log in logs])
    path = tmp_path / name
    write_html(timeline(parsed), path)
    return parsed, path


# --- In the browser ------------------------------------------------------------------------


@pytest.mark.parametrize("log", [RACE, PROXY, NETWORK_CHANGE], ids=lambda log: log.name)
def test_the_page_opens_with_no_error_and_fetches_nothing(tmp_path, open_page, log):
    _, path = written(tmp_path, log)
    page = open_page(path)
    assert page.errors == []
    # The inlined JavaScript holds URLs (Bokeh's docs, say): none of them is fetched.
    assert page.fetched == []


def test_a_row_is_drawn_for_each_connection(tmp_path, open_page):
    parsed, path = written(tmp_path, RACE, PROXY, NETWORK_CHANGE)
    connections = parsed.connections().collect()
    page = open_page(path)
    ids = page.column("spans", "conn_id")
    assert len(ids) == connections.height
    # In the trees' order (file, process, each tree depth first), all of them drawn.
    assert ids == timeline(parsed).spans["conn_id"].to_list()
    assert sorted(ids) == sorted(connections["conn_id"].to_list())
    assert sorted(page.shown()) == sorted(ids)
    drawn = page.js(
        """() => {
          const bars = Bokeh.documents[0].get_model_by_name("bars")
          return Bokeh.index.find_one(bars).glyph.data_size
        }"""
    )
    assert drawn == connections.height


def test_a_row_under_the_pointer_shows_its_details(tmp_path, open_page):
    parsed, path = written(tmp_path, RACE)
    also_ran = timeline(parsed).spans.row(
        by_predicate=pl.col("outcome").cast(pl.String) == "also-ran", named=True
    )
    page = open_page(path)
    index = page.column("spans", "conn_id").index(also_ran["conn_id"])
    # The middle of its bar, from the plot's own scales and where the plot is on the page.
    x, y = page.js(
        """(index) => {
          const doc = Bokeh.documents[0]
          const spans = doc.get_model_by_name("spans")
          const view = Bokeh.index.find_one(doc.get_model_by_name("timeline"))
          const box = view.el.getBoundingClientRect()
          const middle = (spans.get_column("left")[index] + spans.get_column("right")[index]) / 2
          return [box.left + view.frame.x_scale.compute(middle),
                  box.top + view.frame.y_scale.compute(spans.get_column("y")[index])]
        }""",
        index,
    )
    page.page.mouse.move(x, y)
    # The row's tooltip (a mark's may show beside it: the also-ran's bar is a few pixels long).
    tooltip = page.tooltip(also_ran["endpoint"])
    text = tooltip.inner_text()
    assert also_ran["conn_id"] in text
    assert "also-ran" in text
    assert f"line {also_ran['outcome_line']}" in text


def test_a_mark_under_the_pointer_shows_what_happened(tmp_path, open_page):
    parsed, path = written(tmp_path, PROXY)
    failure = timeline(parsed).marks.row(by_predicate=pl.col("kind") == "proxy_failure", named=True)
    page = open_page(path)
    x, y = page.js(
        """() => {
          const doc = Bokeh.documents[0]
          const marks = doc.get_model_by_name("marks")
          const index = Array.from(marks.get_column("kind")).indexOf("proxy_failure")
          const view = Bokeh.index.find_one(doc.get_model_by_name("timeline"))
          const box = view.el.getBoundingClientRect()
          return [box.left + view.frame.x_scale.compute(marks.get_column("x")[index]),
                  box.top + view.frame.y_scale.compute(marks.get_column("y")[index])]
        }"""
    )
    page.page.mouse.move(x, y)
    text = page.tooltip("proxy failed").inner_text()
    assert failure["conn_id"] in text
    assert f"line {failure['line_no']}" in text


def test_the_filters_hide_rows(tmp_path, open_page):
    parsed, path = written(tmp_path, RACE, PROXY, NETWORK_CHANGE)
    spans = timeline(parsed).spans.with_columns(pl.col("outcome").cast(pl.String))
    page = open_page(path)

    page.set_value("filter_outcome", ["won", "failed"])
    kept = spans.filter(pl.col("outcome").is_in(["won", "failed"]))
    assert page.shown() == kept["conn_id"].to_list()
    assert page.js("() => Bokeh.documents[0].get_model_by_name('shown').text").startswith(
        f"{kept.height} of {spans.height} "
    )
    # The rows kept close up under the headings of their groups; the others lose theirs.
    headings = [y for y in page.column("headings", "y") if y is not None]
    rows = [y for y in page.column("spans", "y") if y is not None]
    assert sorted(headings + rows) == list(range(kept.height + kept["group"].n_unique()))

    group = spans["group"][0]
    page.set_value("filter_group", [group])
    kept = spans.filter(pl.col("outcome").is_in(["won", "failed"]), pl.col("group") == group)
    assert page.shown() == kept["conn_id"].to_list()

    page.set_value("filter_outcome", [])
    page.set_value("filter_group", [])
    page.set_value("filter_host", "HOSTNAME#")  # a part of the host, any case
    kept = spans.filter(pl.col("host").str.to_lowercase().str.contains("hostname#", literal=True))
    assert 0 < kept.height < spans.height
    assert page.shown() == kept["conn_id"].to_list()
    # A mark follows its row: those of the rows hidden are hidden too.
    marks = page.column("marks", "y")
    assert sum(y is not None for y in marks) < len(marks)

    page.set_value("filter_host", "")
    assert page.shown() == spans["conn_id"].to_list()
    assert page.errors == []


def test_5000_rows_render_within_3_seconds(tmp_path, open_page):
    from logflow.outputs.html import write_html

    # The benchmark's generator: many processes, thousands of hosts, races and failures.
    parsed = logflow.parse(str(generated_log(tmp_path, 112_000)))
    spans = timeline(parsed)
    assert spans.spans.height >= ROWS_FOR_SPEED
    path = tmp_path / "big.html"
    write_html(spans, path)
    page = open_page(path)
    assert page.seconds < SECONDS_TO_RENDER, f"{spans.spans.height} rows took {page.seconds:.2f} s"
    assert len(page.column("spans", "conn_id")) == spans.spans.height
    assert page.errors == []


# --- The file ------------------------------------------------------------------------------


def test_the_page_is_one_file_that_needs_no_network(tmp_path, bokeh):
    _, path = written(tmp_path, RACE)
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref=[\"']?https?:", page, re.IGNORECASE)
    assert "Bokeh" in page and "C8.1.2" in page
    # Nothing beside it: no resources, no temporary left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.html"]


def test_a_page_of_nothing_still_opens(tmp_path, open_page):
    from logflow.outputs.html import write_html

    empty = timeline(logflow.parse(str(RACE)), logflow.Filters(conn="C99"))
    assert empty.spans.is_empty()
    path = tmp_path / "empty.html"
    write_html(empty, path)
    page = open_page(path)
    assert page.errors == []
    assert page.column("spans", "conn_id") == []
    assert "no connections" in page.js("() => Bokeh.documents[0].get_model_by_name('title').text")


def test_a_failed_write_leaves_the_old_page_and_no_temporary(tmp_path, monkeypatch, bokeh):
    from logflow.outputs import files, html

    path = tmp_path / "timeline.html"
    path.write_text("old page", encoding="utf-8")
    spans = timeline(logflow.parse(str(RACE)))

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        html.write_html(spans, path)
    assert path.read_text(encoding="utf-8") == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.html"]

    def refused(*_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refused)
    with pytest.raises(OutputError, match=re.escape(f"{path}: cannot write: Permission denied")):
        html.write_html(spans, path)
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.html"]


def test_a_path_that_cannot_be_written_is_an_output_error(tmp_path, bokeh):
    from logflow.outputs.html import write_html

    spans = timeline(logflow.parse(str(RACE)))
    folder = tmp_path / "a-folder.html"
    folder.mkdir()
    with pytest.raises(OutputError, match="a-folder.html: cannot write"):
        write_html(spans, folder)
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder.html"]


def test_the_page_gets_the_permissions_of_any_new_file(tmp_path, bokeh):
    _, path = written(tmp_path, RACE)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_without_bokeh_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    from logflow.outputs.html import write_html

    for name in ("bokeh", "bokeh.embed", "bokeh.resources"):
        monkeypatch.setitem(sys.modules, name, None)
    spans = timeline(logflow.parse(str(RACE)))
    with pytest.raises(OutputError, match=re.escape("pip install 'logflow[html]'")):
        write_html(spans, tmp_path / "timeline.html")
    assert list(tmp_path.iterdir()) == []


def test_times_are_on_the_logs_own_clock(tmp_path, bokeh):
    from logflow.outputs.html import _rows

    spans = timeline(logflow.parse(str(RACE))).spans
    rows = _rows(spans)
    # The race's log printed +0100: its first line's 10:32:05.412040 is 09:32:05.412040 UTC.
    first = rows.row(0, named=True)
    assert first["clock"] == "2025-03-14 10:32:05.412040"
    assert math.isclose(first["left"], (first["start"].timestamp() + 3600) * 1000, abs_tol=1e-3)
