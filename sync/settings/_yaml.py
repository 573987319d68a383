"""YAML → plain Python data, remembering where every node came from.

PyYAML's constructor forgets positions, so we compose the node graph
(SafeLoader: no Python objects) and walk it ourselves, the way Home Assistant's
``util/yaml/loader.py`` keeps file and line on every node. The walk builds plain
dicts/lists/scalars and a map ``path → line`` (1-based) used to point every
later problem at its line.

Mapping keys are kept exactly as written (``NO:`` stays the string "NO", not
YAML 1.1's ``False``). Anchors, aliases and ``<<`` merges are allowed; recursive
aliases, alias bombs and absurd nesting are problems, not crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._errors import ConfigProblem, format_path
from ._secretlike import looks_like_secret

Path_ = tuple[str | int, ...]

MAX_BYTES = 1_000_000  # a hand-written config is a few kB; anything this big is a mistake
MAX_DEPTH = 40  # the example nests 5 deep
MAX_NODES = 50_000  # bounds alias expansion ("billion laughs")

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass
class Document:
    file: str
    data: Any = None  # None when nothing usable could be read
    lines: dict[Path_, int] = field(default_factory=dict)
    # How non-text scalars were spelt (``NO`` for a boolean) so messages can quote them.
    spelling: dict[Path_, str] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """Line of the node at ``path``, or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, path: Path_, message: str, line: int | None = None) -> None:
        at = self.line_of(path) if line is None else line
        self.problems.append(ConfigProblem(self.file, at, format_path(path), message))


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that gives up at MAX_DEPTH while composing, before scanning the rest.

    (Without it, ``[[[[…`` five thousand deep costs seconds and a RecursionError.)
    """

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(raw: bytes, file: str) -> Document:
    """Parse ``raw``; problems are recorded on the document, never raised."""
    doc = Document(file)
    doc.lines[()] = 1
    if len(raw) > MAX_BYTES:
        doc.problem((), f"the file is {len(raw)} bytes; a configuration is at most {MAX_BYTES}")
        return doc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        doc.problem((), f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8", line)
        return doc
    try:
        root = yaml.compose(text, Loader=_Loader)
    except _TooDeep as exc:
        doc.problem((), f"the document is nested more than {MAX_DEPTH} levels deep", exc.line)
        return doc
    except yaml.MarkedYAMLError as exc:
        _syntax_problem(doc, exc)
        return doc
    except yaml.YAMLError as exc:  # ReaderError: a control character, no mark
        position = getattr(exc, "position", 0) or 0
        reason = getattr(exc, "reason", "unreadable text")
        doc.problem((), f"YAML cannot read this file: {reason}", text[:position].count("\n") + 1)
        return doc
    except RecursionError:
        doc.problem((), f"the document is nested too deeply (more than {MAX_DEPTH} levels)")
        return doc
    if root is None:
        doc.problem((), "the file is empty; start from config/relais.example.yaml")
        return doc
    walker = _Walker(doc)
    try:
        data = walker.walk(root, (), 0, frozenset())
    except _TooLarge:
        doc.problem((), f"the document expands to more than {MAX_NODES} values (alias loop?)")
        return doc
    if not isinstance(root, MappingNode):
        found = "a list" if isinstance(root, SequenceNode) else "a single value"
        doc.problem(
            (),
            f"expected a mapping at the top level (version: 1, timezone: …, sources: …), found {found}",
            root.start_mark.line + 1,
        )
        return doc
    doc.data = data
    return doc


def _syntax_problem(doc: Document, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    message = f"YAML syntax error at column {column}: {problem}"
    if context and exc.problem and exc.context_mark:
        message += f" ({context} at line {exc.context_mark.line + 1})"
    if "'\\t'" in problem:
        message += "; YAML does not allow tabs for indentation, use spaces"
    elif context.startswith("while parsing a flow") and exc.context_mark:
        # The parser notices an unclosed [ or { only lines later; the fix is where it opened.
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        message = (
            f"YAML syntax error: the {opener} opened here is not closed with {closer} "
            f"(parser: {problem} at line {line}, column {column})"
        )
        line = exc.context_mark.line + 1
    elif "<block end>" in problem or "<block mapping start>" in problem:
        message += "; check the indentation of this line against the lines above"
    doc.problem((), message, line)


class _Walker:
    def __init__(self, doc: Document):
        self.doc = doc
        # Only used to turn scalar nodes into values (int, bool, date…), safely.
        self.constructor = yaml.SafeLoader("")
        self.count = 0

    def walk(self, node: Node, path: Path_, depth: int, active: frozenset[int]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if depth > MAX_DEPTH:
            self.doc.problem(path, f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
            return None
        if id(node) in active:
            self.doc.problem(path, "an alias refers to itself (recursive anchor)", node.start_mark.line + 1)
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        active = active | {id(node)}
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ_TAG, path)
            items = []
            for index, child in enumerate(node.value):
                self.doc.lines[path + (index,)] = child.start_mark.line + 1
                items.append(self.walk(child, path + (index,), depth + 1, active))
            return items
        if isinstance(node, MappingNode):
            self._check_tag(node, _MAP_TAG, path)
            return self._mapping(node, path, depth, active)
        self.doc.problem(path, "unsupported YAML node", node.start_mark.line + 1)
        return None

    def _scalar(self, node: ScalarNode, path: Path_) -> Any:
        try:
            value = self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # bad tag (!env), impossible date (2024-02-30)…
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.doc.problem(path, f"cannot read this value: {reason}", node.start_mark.line + 1)
            return None
        if node.tag != _STR_TAG:
            self.doc.spelling[path] = node.value
        return value

    def _mapping(self, node: MappingNode, path: Path_, depth: int, active: frozenset[int]) -> dict:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.doc.problem(path, "a key must be a plain name, not a list or mapping", line)
                continue
            key = str(key_node.value)
            if key in first_line:
                shown = "" if looks_like_secret(key) else f" '{key}'"
                self.doc.problem(
                    path + (key,), f"duplicate key{shown} (first at line {first_line[key]})", line
                )
                continue
            first_line[key] = line
            self.doc.lines[path + (key,)] = line
            result[key] = self.walk(value_node, path + (key,), depth + 1, active)
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.doc.problem(path, "'<<' must merge a mapping", merge.start_mark.line + 1)
                    continue
                merged = self.walk(source, path, depth, active)
                for key, value in (merged or {}).items():
                    result.setdefault(key, value)
        for key, line in first_line.items():  # explicit keys win over merged ones, lines too
            self.doc.lines[path + (key,)] = line
        return result

    def _check_tag(self, node: Node, expected: str, path: Path_) -> None:
        if node.tag != expected:
            self.doc.problem(path, f"unsupported YAML tag '{node.tag}'", node.start_mark.line + 1)
