"""Load the Lark grammars and compile each into column-wise patterns.

The files in ``grammars/`` are the only definition of what a line and a message mean. This
module is the only place that builds a Lark parser from them. It also derives, from the same
rules, one regular expression per shape that Polars evaluates over a whole column at once:
Lark's Earley parser reads a few hundred lines a second, the compiled patterns tens of
thousands.
``tests/test_grammar.py`` proves the two agree on every real line and on generated text.

How a grammar becomes patterns:

- the alternatives of its ``start`` rule are the *shapes*, each a rule (its alias, if any,
  names it); :meth:`CompiledGrammar.extract` tries them in the order written, first match
  wins, the same order in which :meth:`CompiledGrammar.parse_with_lark` tries them;
- a rule becomes the alternation of its expansions, with Lark's expansion of ``x?`` folded
  back into ``(?:x)?``, and a ``x*``/``x+`` repeat becomes ``(?:x)+``; any other recursion is
  refused, so a grammar must stay regular; literal text that neighbouring expansions start
  with is written once before them;
- a named terminal becomes a named group ``NAME__n`` (``n`` numbers its occurrences, since a
  pattern cannot name two groups alike); terminals starting with ``_`` and anonymous strings
  are matched without capture.

Every terminal is written to stop at the character the next rule needs, and optional parts
that a later free-text terminal could swallow are rules of priority 2, so that the match
Lark's dynamic Earley lexer prefers is also the one the greedy regex finds.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from lark import Lark, Token
from lark.exceptions import LarkError
from lark.grammar import Rule
from lark.lexer import Pattern, PatternStr, TerminalDef
from lark.load_grammar import load_grammar

from logflow.engine import ENGINE
from logflow.errors import GrammarLoadError

ROW = "__row"
HEAD = "__head"
# Texts looked at to guess which shapes are common (CompiledGrammar.match).
TEST_SAMPLE = 256
# A grammar whose patterns add up to at most this many characters is matched in one pass.
SMALL_GRAMMAR = 2000
# Where a shape may be found inside a text (:meth:`CompiledGrammar.find`): at its start, or
# after a character that cannot be part of a C name, so that `Line 12: nw_...`,
# `[BoringSSL] boringssl_...` and `错误日志：nw_...` are found at the function, `xnw_...` not.
WORD = "A-Za-z0-9_"
# A free-text terminal at the end of a shape, followed by nothing but the end of the text:
# `(?P<NOTE__57>.+)` then closing parentheses, optional marks and empty alternatives.
FREE_TAIL = re.compile(r"\(\?P<(?P<group>\w+)>\.\+\)(?P<after>(?:\)\??|\|\))*)\$$")


@dataclass(frozen=True)
class Shape:
    """One alternative of a grammar's start rule, compiled to an anchored pattern."""

    kind: str
    """The alternative's alias, or its rule name."""
    rule: str
    """The rule Lark parses for it."""
    pattern: str
    groups: tuple[str, ...]
    """Named groups of the pattern: ``TERMINAL__n``."""
    branched: frozenset[str] = frozenset()
    """The groups on one branch of an alternative (``A | B NOTE``): a text may match the
    pattern without reaching them."""

    @functools.cached_property
    def free_tail(self) -> str | None:
        """The group that takes the free text at the end of the text, if the shape has one."""
        tail = FREE_TAIL.search(self.pattern)
        return tail["group"] if tail else None

    @functools.cached_property
    def _head_and_after(self) -> tuple[str, str, bool]:
        """The pattern before the free text's group and after it, and whether the free text
        may be anything, even nothing: ``(?:(?P<X>.+))?`` last."""
        tail = FREE_TAIL.search(self.pattern)
        assert tail is not None
        head, after = self.pattern[1 : tail.start()], tail["after"]
        optional = head.endswith("(?:") and after.startswith(")?")
        if optional:
            # `(?:(?P<X>))?` would match the empty string two ways: that ambiguity alone
            # keeps Rust's fastest capture engine (the one-pass DFA) from running.
            head, after = head.removesuffix("(?:"), after.removeprefix(")?")
        free = optional and not after.strip(")") and self.free_tail not in self.branched
        return head, after, free

    @functools.cached_property
    def capture_pattern(self) -> str:
        """The pattern that extracts the captures, in a group around the whole (``__head``).

        Capturing is the slow part of matching, and slower the more text a group spans, so the
        free text at the end (a message, a note), which is whatever follows the rest, is left
        out: its group matches the empty string where the text would start, ``__head`` ends
        there, and :meth:`take` slices the text off.
        """
        if self.free_tail is None:
            return f"^(?P<{HEAD}>{self.pattern[1:-1]})$"
        head, after, _ = self._head_and_after
        return f"^(?P<{HEAD}>{head}(?P<{self.free_tail}>){after})"

    @functools.cached_property
    def tests_itself(self) -> bool:
        """Whether :attr:`capture_pattern` alone tells the texts of this shape.

        It does without free text at the end; with free text that may be anything, a text
        has the shape where the pattern reaches the free text's group. Free text that must
        not be empty, or is one of several endings, needs the whole pattern to tell.
        """
        return self.free_tail is None or self._head_and_after[2]

    def take(self, lines: pl.DataFrame, *, test_first: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The rows of ``lines`` (``__row``, ``text``) that have this shape, as ``__row``,
        ``kind`` and the captures; and the rows that have not.

        ``test_first`` finds the rows before extracting their captures. Extracting from a text
        of another shape costs about twice as much as testing it, and from a text of this shape
        a test less: where most texts have the shape, and :attr:`capture_pattern` can tell it,
        one pass that extracts is faster.
        """
        if test_first or not self.tests_itself:
            has_shape = lines["text"].str.contains(self.pattern)
            mine = lines.filter(has_shape).lazy().with_columns(self._extract)
        else:
            extracted = lines.lazy().with_columns(self._extract).collect(engine=ENGINE)
            # The text has the shape where the pattern reached the free text's group, or the end.
            has_shape = extracted[self.free_tail or HEAD].is_not_null()
            mine = extracted.filter(has_shape).lazy()
        return self._captures(mine).collect(engine=ENGINE), lines.filter(~has_shape)

    @functools.cached_property
    def _extract(self) -> pl.Expr:
        # Built once: building it compiles the pattern to learn the groups.
        return pl.col("text").str.extract_groups(self.capture_pattern).struct.unnest()

    def _captures(self, extracted: pl.LazyFrame) -> pl.LazyFrame:
        """``__row``, ``kind`` and the captures, one column each, of the extracted groups."""
        if self.free_tail is not None:
            rest = pl.col("text").str.slice(pl.col(HEAD).str.len_chars())
            took = pl.col(self.free_tail).is_not_null() & (rest != "")
            extracted = extracted.with_columns(pl.when(took).then(rest).alias(self.free_tail))
        return extracted.select(
            ROW,
            pl.lit(self.kind).alias("kind"),
            *(pl.coalesce(groups).alias(name) for name, groups in _by_capture(self.groups)),
        )


@dataclass(frozen=True)
class CompiledGrammar:
    """A grammar's shapes, its Lark parser and the patterns derived from it."""

    name: str
    shapes: tuple[Shape, ...]
    """In the order they are tried."""
    captures: tuple[str, ...]
    """Raw capture columns: lowercase terminal names, in grammar order."""
    source: str
    """The grammar's text."""
    _plan: dict[str, list] = field(default_factory=dict, compare=False, repr=False)
    """How :meth:`match` tries the shapes next (``runs``); it changes how fast, never what."""

    @functools.cached_property
    def lark(self) -> Lark:
        """Lark's Earley parser of the grammar, one start symbol per shape."""
        return Lark(
            self.source,
            parser="earley",
            lexer="dynamic",
            ambiguity="resolve",
            start=list(dict.fromkeys(shape.rule for shape in self.shapes)),
        )

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(shape.kind for shape in self.shapes))

    @functools.cached_property
    def dtype(self) -> pl.Struct:
        """The struct :meth:`extract` returns: ``kind`` and every capture, all strings."""
        return pl.Struct({"kind": pl.String, **dict.fromkeys(self.captures, pl.String)})

    def extract(self, frame: pl.LazyFrame, text: pl.Expr, *, into: str) -> pl.LazyFrame:
        """Match ``text`` against the shapes, into a struct column of ``kind`` and the captures.

        ``kind`` is null where no shape matches (or the text is null).
        """
        match = text.map_batches(self.match, return_dtype=self.dtype, is_elementwise=True)
        return frame.with_columns(match.alias(into))

    def match(self, texts: pl.Series) -> pl.Series:
        """:meth:`extract` on a series of texts.

        Each shape is tried, in order, on the texts no shape before it matched: a pass of its
        pattern says which texts have it, and a pass extracts their captures (one pass does
        both where most texts have it, :meth:`Shape.take`). Shapes that no text had in the
        call before (or, for the first call, in a sample) are tried together: one pass of
        their joint pattern finds the texts that may have one of them, and only those are
        tried shape by shape. Every pass costs a fraction of a millisecond however few texts
        it reads, and most shapes are rare. What the call before was (any thread's, any
        input's) changes how fast this is, never what it returns.
        """
        if self._is_small:
            return self._match_each_once(texts)
        rows = pl.int_range(texts.len(), dtype=pl.UInt32, eager=True).alias(ROW)
        lines = pl.DataFrame([rows, texts.alias("text")]).filter(pl.col("text").is_not_null())
        total = lines.height
        plan = self._plan.get("runs") or self._plan_for(lines["text"].head(TEST_SAMPLE))
        found = [pl.DataFrame(schema={ROW: pl.UInt32})]
        counts: dict[Shape, int] = {}
        for run, test_first in plan:
            if lines.is_empty():
                break
            if len(run) == 1:
                taken, lines = run[0].take(lines, test_first=test_first)
                found.append(taken)
                counts[run[0]] = taken.height
                continue
            may = lines["text"].str.contains(_either(run))
            candidates, lines = lines.filter(may), lines.filter(~may)
            for shape in run:
                if candidates.is_empty():
                    break
                taken, candidates = shape.take(candidates, test_first=True)
                found.append(taken)
                counts[shape] = taken.height
            lines = lines.vstack(candidates)
        if total:
            self._plan["runs"] = self._runs(counts, total)
        # Only the captures some text had are gathered into place: a column of nulls made
        # with `repeat` takes no memory until it is written, a gathered one 16 bytes a row.
        pieces = [piece for piece in found if piece.height] or found[:1]
        had = {name for piece in pieces for name in piece.columns}
        matched = pl.concat(pieces, how="diagonal")
        placed = rows.to_frame().join(matched, on=ROW, how="left", maintain_order="left")
        return placed.select(
            pl.struct(
                pl.col(name) if name in had else pl.repeat(None, pl.len(), dtype=dtype).alias(name)
                for name, dtype in self.dtype.to_schema().items()
            )
        ).to_series()

    @functools.cached_property
    def _is_small(self) -> bool:
        """Whether the grammar is small enough to match with one pattern of all its shapes:
        for endpoint.lark, path.lark and summary.lark one pass with captures costs less than
        a pass a shape (and keeps Polars' 32 compiled patterns for the others)."""
        return sum(len(shape.pattern) for shape in self.shapes) <= SMALL_GRAMMAR

    def _match_each_once(self, texts: pl.Series) -> pl.Series:
        """:meth:`_match_at_once` on each distinct text once: the texts of the small grammars
        repeat (a chunk's 15,000 endpoints are about 1,000, its 14,000 paths a dozen), and
        finding them again costs a fraction of matching them again."""
        distinct = texts.unique()
        parsed = self._match_at_once(distinct)
        return (
            texts.to_frame("text")
            .join(
                pl.DataFrame({"text": distinct, "parsed": parsed}),
                on="text",
                how="left",
                nulls_equal=True,
                maintain_order="left",
            )
            .get_column("parsed")
            .alias(parsed.name)
        )

    def _match_at_once(self, texts: pl.Series) -> pl.Series:
        """:meth:`match` in one pass: each shape is an alternative of one pattern, which
        Rust's regex tries in order, as the shapes are, and an empty group marks which matched.
        """
        marks = [f"__shape{i}" for i in range(len(self.shapes))]
        pattern = (
            "^(?:"
            + "|".join(
                f"(?P<{mark}>){shape.pattern[1:-1]}$"
                for mark, shape in zip(marks, self.shapes, strict=True)
            )
            + ")"
        )
        by_capture = dict(_by_capture(group for shape in self.shapes for group in shape.groups))
        kind = pl.coalesce(
            pl.when(pl.col(mark).is_not_null()).then(pl.lit(shape.kind))
            for mark, shape in zip(marks, self.shapes, strict=True)
        )
        return (
            texts.to_frame("text")
            .lazy()
            .select(pl.col("text").str.extract_groups(pattern).struct.unnest())
            .select(
                pl.struct(
                    kind.alias("kind"),
                    *(pl.coalesce(by_capture[name]).alias(name) for name in self.captures),
                )
            )
            .collect(engine=ENGINE)
            .to_series()
        )

    def find(self, text: pl.Expr, kinds: Iterable[str]) -> pl.Expr:
        """What stands in ``text`` before the first place a shape of these kinds starts.

        The place is the start of ``text``, or else the leftmost position after a character
        not in :data:`WORD`, from which the rest of ``text`` has one of the shapes.
        Returns ``""`` where ``text`` itself has one, null where no place has.
        """
        shapes = self._of(kinds)
        unanchored = "|".join(f"(?:{shape.pattern.removeprefix('^')})" for shape in shapes)
        inside = f"[^{WORD}](?:{unanchored})"

        def lead(text: pl.Expr) -> pl.Expr:
            # Finding where a match starts needs no captures, so Rust's DFAs alone do it, a
            # fiftieth of what extracting the text before it takes. The offset is in bytes.
            # The text is searched behind a space, so that one pattern also tells a shape at
            # its start (found at the space): compiling a pattern of every shape costs more
            # than a chunk's search, and Polars keeps too few compiled to keep two each.
            at = pl.concat_str(pl.lit(" "), text).str.find(inside)
            # `at` is where the character before the shape starts, which may take several bytes.
            before = text.cast(pl.Binary).bin.slice(0, pl.when(at > 0).then(at - 1)).cast(pl.String)
            lead = text.str.slice(0, before.str.len_chars() + 1)
            return pl.when(at == 0).then(pl.lit("")).when(at.is_not_null()).then(lead)

        # Most texts searched are a few in a chunk's lines, the others null.
        return where_present(text, lead)

    def find_with_lark(self, text: str, kinds: Iterable[str]) -> tuple[str, dict] | None:
        """:meth:`find` with Lark: what stands before the shape, and the shape's fields."""
        shapes = self._of(kinds)
        for at in range(len(text) + 1):
            if at and re.fullmatch(f"[{WORD}]", text[at - 1]):
                continue
            row = self.parse_with_lark(text[at:], shapes)
            if row is not None:
                return text[:at], row
        return None

    def _of(self, kinds: Iterable[str]) -> tuple[Shape, ...]:
        wanted = set(kinds)
        return tuple(shape for shape in self.shapes if shape.kind in wanted)

    def either(self, kinds: Iterable[str]) -> str:
        """One pattern that matches what any shape of these kinds matches."""
        return _either(self._of(kinds))

    def _plan_for(self, sample: pl.Series) -> list[tuple[tuple[Shape, ...], bool]]:
        """The runs of shapes (:meth:`_runs`) for texts like ``sample``."""
        counts: dict[Shape, int] = {}
        left = sample
        for shape in self.shapes:
            has_shape = left.str.contains(shape.pattern)
            counts[shape] = has_shape.sum()
            left = left.filter(~has_shape)
        return self._runs(counts, sample.len())

    def _runs(self, counts: dict[Shape, int], total: int) -> list[tuple[tuple[Shape, ...], bool]]:
        """The shapes in order, in runs: a shape some of ``total`` texts had (``counts``),
        alone, and the shapes between them, that none had, together; each run with whether to
        test its texts before extracting (:meth:`Shape.take`)."""
        runs: list[tuple[tuple[Shape, ...], bool]] = []
        unseen: list[Shape] = []
        for shape in self.shapes:
            count = counts.get(shape, 0)
            if not count:
                unseen.append(shape)
                continue
            if unseen:
                runs.append((tuple(unseen), True))
                unseen = []
            runs.append(((shape,), count * 2 < total))
        if unseen:
            runs.append((tuple(unseen), True))
        return runs

    def parse_with_lark(
        self, text: str, shapes: Iterable[Shape] | None = None
    ) -> dict[str, str | None] | None:
        """Parse one text with Lark, trying the shapes (all, or these) in order; None if none
        matches.

        Returns the same fields as :meth:`extract`: ``kind`` and the first value of every
        captured terminal.
        """
        for shape in self.shapes if shapes is None else shapes:
            try:
                tree = self.lark.parse(text, start=shape.rule)
            except LarkError:
                continue
            row: dict[str, str | None] = dict.fromkeys(self.captures)
            row["kind"] = shape.kind
            for token in tree.scan_values(lambda v: isinstance(v, Token)):
                name = token.type.lower()
                if name in row and row[name] is None:
                    row[name] = str(token)
            return row
        return None


def where_present(
    text: pl.Expr, convert: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType = pl.String
) -> pl.Expr:
    """``convert`` of ``text``, worked out for the texts that are there only; null elsewhere.

    Polars works an expression out for every row, null or not: for a field that a few rows
    in a thousand have, that is most of the work.
    """

    def apply(texts: pl.Series) -> pl.Series:
        present = texts.is_not_null()
        if present.all():
            return texts.to_frame().select(convert(pl.first())).to_series()
        converted = pl.repeat(None, texts.len(), dtype=dtype, eager=True).alias(texts.name)
        if not present.any():
            return converted
        found = texts.filter(present).to_frame().select(convert(pl.first())).to_series()
        return converted.scatter(present.arg_true(), found)

    return text.map_batches(apply, return_dtype=dtype, is_elementwise=True)


@functools.cache
def _either(shapes: tuple[Shape, ...]) -> str:
    """One pattern that matches what any of the shapes matches."""
    return "|".join(f"(?:{shape.pattern})" for shape in shapes)


def _capture_of(group: str) -> str:
    return group.rsplit("__", 1)[0].lower()


def _by_capture(groups: Iterable[str]) -> Iterable[tuple[str, list[str]]]:
    """Each capture column, with the groups that capture it (``PROCESS__LOGSHOW__10``, ...)."""
    by_capture: dict[str, list[str]] = {}
    for group in groups:
        by_capture.setdefault(_capture_of(group), []).append(group)
    return by_capture.items()


@functools.cache
def load(name: str, top: str = "start") -> CompiledGrammar:
    """Load ``grammars/<name>.lark`` once and compile it; ``name`` is e.g. ``"envelope"``.

    ``top`` names the rule whose alternatives are the shapes: a grammar may hold more than one
    such rule (envelope.lark's ``prefix``).
    """
    path = _grammar_dir() / f"{name}.lark"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read grammar {path}: {exc.strerror}"
        raise GrammarLoadError(msg) from None
    return compile_grammar(source, name, top)


def compile_grammar(source: str, name: str, top: str = "start") -> CompiledGrammar:
    """Read a grammar's text and derive its patterns; the Lark parser is built when first used.

    Building Lark's Earley parser takes longer than reading a large log, and only the tests
    and the benchmark parse with it; the patterns need only the grammar's rules.
    """
    try:
        rules, terminals = _rules(source, name, [top])
    except LarkError as exc:
        msg = f"grammar {name} does not compile: {exc}"
        raise GrammarLoadError(msg) from exc
    shapes, start_rules = _shapes(rules, top)
    compiler = _Compiler(rules, terminals)
    compiled = tuple(
        Shape(kind, rule, *compiler.compile_start(rule))
        for kind, rule in zip(shapes, start_rules, strict=True)
    )
    captures = tuple(dict.fromkeys(_capture_of(g) for shape in compiled for g in shape.groups))
    return CompiledGrammar(name, compiled, captures, source)


def _rules(source: str, name: str, start: list[str]) -> tuple[list[Rule], list[TerminalDef]]:
    """The rules and terminals of a grammar, as Lark compiles them for its parsers."""
    grammar, _ = load_grammar(source, name, [], False)
    terminals, rules, _ = grammar.compile(start, set())
    return rules, terminals


def _grammar_dir() -> Path:
    # A checkout keeps grammars/ beside the package; a wheel installs it inside the package.
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "grammars", package.parent / "grammars"):
        if candidate.is_dir():
            return candidate
    msg = f"no grammars/ folder in or beside {package}"
    raise GrammarLoadError(msg)


def _shapes(rules: list[Rule], top: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shapes, starts = [], []
    for rule in rules:
        if rule.origin.name != top:
            continue
        if len(rule.expansion) != 1 or rule.expansion[0].is_term:
            msg = f"every alternative of {top!r} must be a single rule, not {rule.expansion}"
            raise GrammarLoadError(msg)
        starts.append(rule.expansion[0].name)
        shapes.append(rule.alias or rule.expansion[0].name)
    return tuple(shapes), tuple(starts)


def _merge_optionals(expansions: list[list[tuple]]) -> list[list[tuple]]:
    """Fold Lark's expansion of ``x?`` back into one optional item.

    Lark turns ``a? b`` into the expansions ``a b`` and ``b``; written out as alternatives, every
    optional doubles the pattern. Two expansions that differ only by one item become one with
    that item optional, kept where the longer one stood: Lark lists the expansion *with* the
    item first, and a greedy ``(?:a)?`` prefers it in the same way.
    """
    merged = [list(e) for e in expansions]
    while (pair := _mergeable_pair(merged)) is not None:
        longer, shorter, item = pair
        merged[longer][item] = (merged[longer][item][0], True)
        del merged[shorter]
    return merged


def _mergeable_pair(expansions: list[list[tuple]]) -> tuple[int, int, int] | None:
    """(longer, shorter, item): two expansions that differ by one item, or None."""
    for i, longer in enumerate(expansions):
        for j, shorter in enumerate(expansions):
            if len(shorter) == len(longer) - 1:
                item = _dropped_item(longer, shorter)
                if item is not None:
                    return i, j, item
    return None


def _dropped_item(longer: list[tuple], shorter: list[tuple]) -> int | None:
    """Index of the one required item of ``longer`` whose removal gives ``shorter``."""
    names = [(s.name, opt) for s, opt in shorter]
    for k, (_, optional) in enumerate(longer):
        if not optional and [(s.name, o) for s, o in longer[:k] + longer[k + 1 :]] == names:
            return k
    return None


def _literal(pattern: Pattern) -> str:
    """The one text a terminal's pattern matches (`" "`, `/ Adding endpoint handler for /`), or
    ``""`` where it matches others too."""
    if pattern.flags:
        return ""
    if isinstance(pattern, PatternStr):
        return pattern.value
    if re.fullmatch(r"(?:[^\\^$.|?*+()\[\]{}]|\\[^A-Za-z0-9])+", pattern.value):
        return re.sub(r"\\(.)", r"\1", pattern.value)
    return ""


class _Compiler:
    """Turns Lark's expanded rules back into one regular expression."""

    def __init__(self, rules: list[Rule], terminals: list[TerminalDef]) -> None:
        self.rules: dict[str, list[list]] = {}
        for rule in rules:
            self.rules.setdefault(rule.origin.name, []).append(list(rule.expansion))
        self.terminals = {t.name: t.pattern.to_regexp() for t in terminals}
        self.literals = {t.name: text for t in terminals if (text := _literal(t.pattern))}
        self.counter = itertools.count()
        self.groups: list[str] = []
        self.branched: set[str] = set()
        self.branches = 0  # alternatives open around the symbol being compiled

    def compile_start(self, rule: str) -> tuple[str, tuple[str, ...], frozenset[str]]:
        """The anchored pattern of one start rule, its named groups, and those of them on one
        branch of an alternative."""
        self.groups, self.branched, self.branches = [], set(), 0
        return f"^(?:{self._rule(rule, ())})$", tuple(self.groups), frozenset(self.branched)

    def _rule(self, name: str, stack: tuple[str, ...]) -> str:
        if name in stack:
            msg = f"rule {name!r} is recursive; only x* and x+ repeats compile to a pattern"
            raise GrammarLoadError(msg)
        expansions = self.rules[name]
        stack = (*stack, name)
        # Lark expands `x+` into a left-recursive rule: R: x | R x
        if len(expansions) == 2 and expansions[1][:1] and expansions[1][0].name == name:
            if [s.name for s in expansions[1][1:]] == [s.name for s in expansions[0]]:
                return f"(?:{self._sequence([(s, False) for s in expansions[0]], stack)})+"
        merged = _merge_optionals([[(s, False) for s in e] for e in expansions])
        self.branches += len(merged) > 1
        regex = "(?:" + "|".join(self._alternatives(merged, stack)) + ")"
        self.branches -= len(merged) > 1
        return regex

    def _alternatives(self, expansions: list[list[tuple]], stack: tuple[str, ...]) -> list[str]:
        """The patterns of a rule's expansions, in order; neighbours that start with the same
        literal text (`" " X | " " Y | " Adding" Z`) have it written once, before them.

        Rust's one-pass DFA, the fastest engine that extracts captures, runs only where the
        pattern never offers two ways forward on the same character; a shared start offers
        one for each alternative. Written once, it matches what the alternatives did, in the
        same order, so the captures are the same.
        """
        leads = [self._leading_literal(items) for items in expansions]
        patterns = []
        start = 0
        while start < len(expansions):
            end, shared = start + 1, leads[start]
            while end < len(expansions) and shared and leads[end]:
                common = os.path.commonprefix([shared, leads[end]])
                if not common:
                    break
                shared, end = common, end + 1
            if end - start == 1:
                patterns.append(self._sequence(expansions[start], stack))
            else:
                rests = (
                    self._sequence(items, stack, drop=len(shared))
                    for items in expansions[start:end]
                )
                patterns.append(f"{re.escape(shared)}(?:{'|'.join(rests)})")
            start = end
        return patterns

    def _leading_literal(self, items: list[tuple]) -> str:
        """The literal text an expansion must start with: its first item's, where that is a
        required terminal that is not captured and matches one text only; else ``""``."""
        if not items:
            return ""
        symbol, optional = items[0]
        if optional or not symbol.is_term or not self._uncaptured(symbol):
            return ""
        return self.literals.get(symbol.name, "")

    def _sequence(self, items: list[tuple], stack: tuple[str, ...], drop: int = 0) -> str:
        """The pattern of one expansion; ``drop`` characters of its leading literal written
        before it (:meth:`_alternatives`)."""
        parts = []
        for symbol, optional in items:
            if drop:  # the leading literal, required: what is left of it
                rest, drop = self.literals[symbol.name][drop:], 0
                parts.append(f"(?:{re.escape(rest)})" if rest else "")
                continue
            regex = self._symbol(symbol, stack)
            parts.append(f"(?:{regex})?" if optional else regex)
        return "".join(parts)

    def _uncaptured(self, symbol) -> bool:
        return symbol.filter_out or symbol.name.startswith("_")

    def _symbol(self, symbol, stack: tuple[str, ...]) -> str:
        if not symbol.is_term:
            return self._rule(symbol.name, stack)
        regex = self.terminals[symbol.name]
        if self._uncaptured(symbol):
            return f"(?:{regex})"
        group = f"{symbol.name}__{next(self.counter)}"
        self.groups.append(group)
        if self.branches:
            self.branched.add(group)
        return f"(?P<{group}>{regex})"
