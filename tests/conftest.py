"""Shared fixtures: where the real corpus and the bundled samples live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_HEADER = re.compile(r"# (source|style|era):")


def corpus_files() -> list[Path]:
    """The real pastes in ../shared/corpus, or none when that folder is absent."""
    return sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []


def corpus_body(path: Path) -> list[str]:
    """A corpus file's lines without the three header lines we added to each."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    while lines and CORPUS_HEADER.match(lines[0]):
        lines.pop(0)
    return lines


def parse_corpus(prefix: str):
    """Parse the corpus file whose name starts with ``prefix`` (its header lines dropped)."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    (path,) = CORPUS.glob(f"{prefix}-*.log")
    return parse_texts([Text(path.name, "\n".join(corpus_body(path)) + "\n", 0)])


def sample_files() -> list[Path]:
    """The bundled sample logs."""
    return sorted(p for p in SAMPLES.iterdir() if p.name != "README.md")


needs_corpus = pytest.mark.skipif(not corpus_files(), reason="../shared/corpus is not here")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/cases/*.events.jsonl from the current parser (review the diff!)",
    )


def generated_log(folder: Path, lines: int, seed: int = 1) -> Path:
    """A `log show` export of ``lines`` lines from the benchmark's generator."""
    import importlib.util
    import sys

    name = "logflow_benchmark_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "generate.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    generate = sys.modules[name]
    path = folder / f"generated-{lines}-{seed}.log"
    generate.generate(lines, str(path), seed)
    return path


# The browser tests: Debian's chromium, driven headless by playwright (never a downloaded
# browser). Where either is missing they skip, but not in CI, which sets
# LOGFLOW_BROWSER_TESTS=required: there a missing browser fails them.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]


def unavailable(reason: str) -> None:
    """Skip a browser test for ``reason``, or fail it where the browser tests must run."""
    import os

    if os.environ.get("LOGFLOW_BROWSER_TESTS") == "required":
        pytest.fail(f"the browser tests must run here, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """A headless chromium for the session's browser tests."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        unavailable("playwright is not installed")
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """logflow.read() caches under $XDG_CACHE_HOME: the tests' own, never the user's."""
    import os

    was = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if was is None:
        os.environ.pop("XDG_CACHE_HOME")
    else:
        os.environ["XDG_CACHE_HOME"] = was
