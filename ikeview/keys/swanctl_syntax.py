"""The syntax of ``swanctl.conf`` (and ``strongswan.conf``): tokens, sections, includes, templates.

It follows strongSwan's own lexer and grammar (``src/libstrongswan/settings/settings_lexer.l``
and ``settings_parser.y``, the same in 5.9.x and 6.x) rather than reading line by line:

- a name is any run of characters other than ``# { } : . , = "`` and white space; newlines are
  white space outside values, so ``net { local_ts = 10.0.0.0/24 }`` on one line is one section;
- ``name = value``: the value runs to the end of the line, a ``#`` or a ``}``; its words are
  joined by one space; ``"..."`` strings keep everything and know ``\\n``, ``\\t``, ``\\"`` and a
  backslash before a newline (the lines are joined); ``name =`` alone is an empty value;
- ``name { ... }`` a section; ``name : other.section, more { ... }`` a section that inherits the
  values and subsections of the sections named by their full dotted path (what it sets itself
  wins; among the references the first wins: ``settings.c``);
- a section or value given twice is merged / replaced by the later one;
- ``include PATTERN`` (or ``include "PATTERN"``), anywhere a statement may stand, reads the files
  the glob pattern names, relative to the including file, in place.

Includes are only followed when the caller passes a resolver (reading files is the loader's
job, bounded there); otherwise they are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ikeview.errors import IkeviewError

MAX_DEPTH = 16
"""Sections nested deeper than this are an error (swanctl.conf needs 5)."""
MAX_INCLUDE_DEPTH = 10
"""Includes nested deeper than this are an error (strongSwan stops at 10 too)."""
MAX_REF_DEPTH = 64
"""Sections and references nested deeper than this while expanding templates are an error."""
MAX_RESOLVED = 200_000
"""Sections and values created while expanding templates: a bound on hostile references."""


class ConfigError(IkeviewError):
    """Text strongSwan would refuse too: ``msg`` is ``file:line: what; fix``. (It lives with
    the syntax, below both the key reader and the config reader: ``ikeview.config`` turns it into
    its own ``ConfigError``, the keys reader into a ``KeysFileError``.)"""


Resolver = Callable[[str, str], list[tuple[str, str]]]
"""``(pattern, including file) -> [(file, text), ...]`` for ``include`` statements."""

_SPECIAL = set('#{}:.,="')
_SPACE = set(" \t\r\n")
_VALUE_END = set("#}\n")


@dataclass(slots=True)
class Section:
    """One ``name { ... }`` block."""

    name: str
    line: int
    file: str
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Setting name (lower case) to (value, line)."""
    sections: list[Section] = field(default_factory=list)
    """Subsections in the order first seen (same names merged)."""
    refs: list[str] = field(default_factory=list)
    """Dotted paths of the sections it inherits from, in priority order."""

    def section(self, name: str) -> Section | None:
        """The subsection of that name, if any."""
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is one of ``name``, ``string``, ``{``, ``}``, ``:``, ``=``, ``,``, ``.``,
    ``end`` (end of a value) and ``include``."""

    kind: str
    text: str
    line: int
    file: str


@dataclass(slots=True)
class _Lexer:
    text: str
    file: str
    pos: int = 0
    line: int = 1

    def error(self, what: str) -> ConfigError:
        return ConfigError(f"{self.file}:{self.line}: {what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def skip_comment(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] != "\n":
            self.pos += 1

    def run(self, pred: Callable[[str], bool]) -> str:
        start = self.pos
        while self.pos < len(self.text) and pred(self.text[self.pos]):
            self.pos += 1
        return self.text[start : self.pos]

    def string(self) -> str:
        """After an opening quote: the string's text (escapes applied)."""
        out: list[str] = []
        start = self.line
        while True:
            ch = self.peek()
            if not ch:
                raise ConfigError(f"{self.file}:{start}: unterminated string; close it with '\"'")
            self.take()
            if ch == '"':
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                continue
            nxt = self.peek()
            if not nxt:
                raise ConfigError(f"{self.file}:{start}: unterminated string")
            self.take()
            if nxt == "\r" and self.peek() == "\n":
                self.take()
            elif nxt != "\n":  # a backslash before a newline joins the lines
                out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))

    def tokens(self) -> Iterator[Token]:
        while self.pos < len(self.text):
            ch = self.peek()
            if ch in _SPACE:
                self.take()
            elif ch == "#":
                self.skip_comment()
            elif ch in "{},.":
                self.take()
                yield Token(ch, ch, self.line, self.file)
            elif ch == ":":
                self.take()
                yield Token(":", ":", self.line, self.file)
                yield from self.references()
            elif ch == "=":
                self.take()
                yield Token("=", "=", self.line, self.file)
                yield from self.value()
            elif ch == '"':
                raise self.error("unexpected string; quotes belong in values only")
            else:
                line = self.line
                name = self.run(lambda c: c not in _SPECIAL and c not in _SPACE)
                if name == "include" and self.include_follows():
                    yield Token("include", self.include_pattern(), line, self.file)
                else:
                    yield Token("name", name, line, self.file)

    def include_follows(self) -> bool:
        """``include`` then blanks then anything but ``=`` (the lexer's trailing context)."""
        rest = self.text[self.pos : self.pos + 256]
        stripped = rest.lstrip(" \t")
        return len(stripped) < len(rest) and not stripped.startswith("=") and bool(stripped)

    def include_pattern(self) -> str:
        self.run(lambda c: c in " \t")
        if self.peek() == '"':
            self.take()
            return self.string()
        out: list[str] = []
        while (ch := self.peek()) and ch not in "#}\n\t ":
            self.take()
            if ch == "\\" and self.peek() in ('"', "#", "}", " "):
                out.append(self.take())
            elif ch != "\r":
                out.append(ch)
        return "".join(out)

    def references(self) -> Iterator[Token]:
        while self.pos < len(self.text):
            ch = self.peek()
            if ch in _SPACE:
                self.take()
            elif ch == "#":
                self.skip_comment()
            elif ch == ",":
                self.take()
                yield Token(",", ",", self.line, self.file)
            elif ch not in _SPECIAL:
                yield Token("name", self.run(lambda c: c not in _SPECIAL - {"."} and
                                             c not in _SPACE), self.line, self.file)  # fmt: skip
            else:
                return

    def value(self) -> Iterator[Token]:
        while True:
            ch = self.peek()
            if not ch or ch in _VALUE_END:
                if ch == "\n":
                    self.take()
                yield Token("end", "", self.line, self.file)
                return
            if ch in " \t\r":
                self.take()
            elif ch == '"':
                self.take()
                line = self.line
                yield Token("string", self.string(), line, self.file)
            else:
                text = self.run(lambda c: c not in '#}"\r\n\t ')
                yield Token("name", text, self.line, self.file)


@dataclass(slots=True)
class _Parser:
    resolver: Resolver | None
    skipped: int = 0
    included: list[str] = field(default_factory=list)
    """Files read through ``include`` (in order)."""
    include_patterns: list[str] = field(default_factory=list)
    """Include patterns not followed (no resolver)."""

    def token_stream(self, text: str, file: str, depth: int = 0) -> Iterator[Token]:
        for tok in _Lexer(text, file).tokens():
            if tok.kind != "include":
                yield tok
                continue
            if self.resolver is None:
                self.skipped += 1
                self.include_patterns.append(tok.text)
                continue
            if depth >= MAX_INCLUDE_DEPTH:
                raise ConfigError(f"{file}:{tok.line}: includes nested deeper than "
                                  f"{MAX_INCLUDE_DEPTH}; remove the loop")  # fmt: skip
            for path, sub in self.resolver(tok.text, file):
                self.included.append(path)
                yield from self.token_stream(sub, path, depth + 1)

    def parse(self, text: str, file: str) -> Section:
        root = Section("", 0, file)
        toks = self.token_stream(text, file)
        stack = [root]
        pending: Token | None = None
        for tok in toks:
            if tok.kind == "end":
                continue
            if tok.kind == "}":
                if pending is not None:
                    raise _syntax(pending)
                if len(stack) == 1:
                    raise ConfigError(f"{tok.file}:{tok.line}: '}}' closes no section; remove it")
                stack.pop()
            elif tok.kind == "name" and pending is None:
                pending = tok
            elif pending is not None and tok.kind in ("{", ":"):
                refs = _refs(toks, tok) if tok.kind == ":" else []
                if len(stack) > MAX_DEPTH:
                    raise ConfigError(f"{tok.file}:{tok.line}: sections nested too deep")
                stack.append(_add_section(stack[-1], pending, refs))
                pending = None
            elif pending is not None and tok.kind == "=":
                stack[-1].values[pending.text.lower()] = (_value(toks), pending.line)
                pending = None
            else:
                raise _syntax(tok)
        if pending is not None:
            raise _syntax(pending)
        if len(stack) > 1:
            sec = stack[-1]
            raise ConfigError(
                f"{sec.file}:{sec.line}: section '{sec.name}' is never closed; add '}}'"
            )
        return root


def _syntax(tok: Token) -> ConfigError:
    what = f"'{tok.text}'" if tok.text else "end of value"
    return ConfigError(
        f"{tok.file}:{tok.line}: syntax error at {what}; write 'name {{ ... }}' or 'name = value'"
    )


def _refs(toks: Iterator[Token], colon: Token) -> list[str]:
    refs: list[str] = []
    for tok in toks:
        if tok.kind == "name":
            refs.append(tok.text)
        elif tok.kind == "{" and refs:
            return refs
        elif tok.kind != ",":
            raise _syntax(tok)
    raise ConfigError(f"{colon.file}:{colon.line}: a section reference without '{{'")


def _value(toks: Iterator[Token]) -> str:
    parts: list[str] = []
    for tok in toks:
        if tok.kind == "end":
            break
        parts.append(tok.text)
    return " ".join(parts)


def _add_section(parent: Section, tok: Token, refs: list[str]) -> Section:
    """The named subsection (merged with one of the same name, as settings.c does)."""
    sec = parent.section(tok.text)
    if sec is None:
        sec = Section(tok.text, tok.line, tok.file)
        parent.sections.append(sec)
    sec.refs.extend(r for r in refs if r not in sec.refs)
    return sec


def parse(text: str, file: str, resolver: Resolver | None = None) -> tuple[Section, int, list[str]]:
    """(the section tree with templates expanded, statements skipped, include notes).

    Include notes name the files read, or the patterns not followed when there is no resolver.
    Raises ConfigError ``file:line: what; fix`` for what strongSwan would refuse too."""
    parser = _Parser(resolver)
    root = parser.parse(text, file)
    resolved = _Resolve(root).section(root, ())
    notes = [f"included {p}" for p in parser.included]
    notes += [f"include {p} not followed" for p in parser.include_patterns]
    return resolved, parser.skipped, notes


@dataclass(slots=True)
class _Resolve:
    """Templates expanded: each section with the values and subsections of its references."""

    root: Section
    made: int = 0

    def find(self, path: str) -> Section | None:
        sec: Section | None = self.root
        for part in path.split("."):
            sec = sec.section(part) if sec is not None else None
        return sec

    def section(self, sec: Section, active: tuple[int, ...]) -> Section:
        self.made += 1 + len(sec.values)
        if self.made > MAX_RESOLVED or len(active) > MAX_REF_DEPTH:
            raise ConfigError(f"{sec.file}:{sec.line}: section references expand too far")
        out = Section(sec.name, sec.line, sec.file)
        # Lowest priority first: the last reference, ..., the first, then the section itself.
        for ref in reversed(sec.refs):
            target = self.find(ref)
            if target is None or id(target) in active:
                continue  # strongSwan ignores a reference it cannot resolve
            _merge(out, self.section(target, (*active, id(sec))))
        own = Section(sec.name, sec.line, sec.file, dict(sec.values))
        own.sections = [self.section(s, (*active, id(sec))) for s in sec.sections]
        _merge(out, own)
        return out


def _merge(low: Section, high: Section) -> None:
    """``high``'s values and subsections over ``low``'s (in place)."""
    low.values.update(high.values)
    low.line, low.file = high.line, high.file
    for sub in high.sections:
        mine = low.section(sub.name)
        if mine is None:
            low.sections.append(sub)
        else:
            _merge(mine, sub)
