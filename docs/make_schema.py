"""Write docs/schema.md from logflow/schema.py: ``.venv/bin/python docs/make_schema.py``.

tests/test_schema.py fails when the page and the module differ.
"""

from __future__ import annotations

from pathlib import Path

from logflow.schema import SCHEMA_PAGE, schema_markdown

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    page = ROOT / SCHEMA_PAGE
    page.write_text(schema_markdown(), encoding="utf-8")
    print(f"wrote {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
