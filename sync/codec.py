"""How a work item is kept in the state store: to and from JSON, and the hash of what it says.

Plan decodes every stored item each cycle, so :func:`item_from_dict` is on its hot path.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import MISSING, asdict, fields
from datetime import datetime
from typing import Any

from sync.models import WorkItem

_ITEM_FIELDS = {f.name for f in fields(WorkItem)}
#: What a field of an item stored by an older relais (which lacks it) holds: its default.
_ITEM_DEFAULTS = {f.name: f.default for f in fields(WorkItem) if f.default is not MISSING}


#: A UTF-16 surrogate on its own: half an emoji (text cut mid-character), served as ``\ud83d`` in
#: JSON. It is not a Unicode character: SQLite, UTF-8 and orjson refuse it (one in a Jira summary
#: stopped every later plan). JSON decoders join a valid pair into one code point, so any
#: surrogate left in a decoded string is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (and keys) replaced by U+FFFD, the
    replacement character; anything else — NUL, control characters, markup, RTL overrides, huge
    strings — is data and is kept as it is."""
    if isinstance(value, str):
        return value if value.isascii() or not _SURROGATE.search(value) else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, tuple):
        return tuple(clean_text(v) for v in value)
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    return value


def item_to_dict(item: WorkItem) -> dict[str, Any]:
    d = asdict(item)
    for k, v in d.items():
        if isinstance(v, datetime):
            d[k] = v.isoformat()
        elif isinstance(v, tuple):
            d[k] = list(v)
    d["worklogs"] = [[started.isoformat(), seconds] for started, seconds in item.worklogs]
    return d


def _tuples(values: dict[str, Any] | None) -> dict[str, Any]:
    # JSON has no tuples: multi-valued values (relations, multi-selects) come back as tuples,
    # as the connectors make them.
    if not values:
        return {}
    for k, v in values.items():
        if isinstance(v, list):
            values[k] = tuple(v)
    return values


def item_from_dict(d: dict[str, Any]) -> WorkItem:
    """The item a dict of :func:`item_to_dict` describes (``d`` is consumed: fresh from JSON).
    Plan reads every stored item each cycle: this is kept lean (empty values, the common
    case, skip their conversion)."""
    if not d.keys() <= _ITEM_FIELDS:  # written by another version of relais
        d = {k: v for k, v in d.items() if k in _ITEM_FIELDS}
    parse = datetime.fromisoformat
    for k in ("updated", "created", "resolved"):
        if d.get(k):
            d[k] = parse(d[k])
    for k in ("labels", "components"):
        v = d.get(k)
        d[k] = tuple(v) if v else ()
    v = d.get("worklogs")
    d["worklogs"] = tuple([(parse(s), float(n)) for s, n in v]) if v else ()
    v = d.get("links")
    d["links"] = tuple([tuple(link) for link in v]) if v else ()
    d["inputs"] = _tuples(d.get("inputs"))
    d["owned"] = _tuples(d.get("owned"))
    if d.keys() != _ITEM_FIELDS:
        missing = _ITEM_FIELDS - d.keys() - _ITEM_DEFAULTS.keys()
        if missing:
            raise TypeError(f"stored item lacks {', '.join(sorted(missing))}")
        d = {**_ITEM_DEFAULTS, **d}
    # The dataclass's own __init__ sets 30 frozen fields one object.__setattr__ at a time
    # (17 µs an item, most of plan's decoding): fill the instance's dict at once instead.
    # WorkItem has no __post_init__, so nothing is skipped; every field is set, as above.
    item = object.__new__(WorkItem)
    item.__dict__.update(d)
    return item


def content_hash(d: dict[str, Any]) -> str:
    """Hash of what an item says, not when: a re-read of an unchanged item hashes the same,
    and two edits inside one (rounded) minute hash differently."""
    body = {k: v for k, v in d.items() if k != "updated"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
