"""OpenAPI-based response checker for the vendor specs in ``shared/specs``.

Public API::

    spec = load_spec("jira")                       # cached per process
    spec.find_operation("GET", "/rest/api/3/issue/EX-1")  -> Operation
    spec.response_schema("GET", "/incidents/Q1ABC", 200)  -> dict | None
    validate_response(vendor, method, path, status, body, content_type=None) -> list[str]
    assert_conforms(vendor, method, path, status, body, content_type=None)   (AssertionError)
    example_for(vendor, method, path, status)      -> the spec's example payload or None
    missing_keys(example, actual, ignore=())       -> JSON pointers present in example, absent in actual

How a vendor's OpenAPI *schema object* becomes a JSON Schema (draft 2020-12) that
``jsonschema`` can run (see ``_Converter``):

* every ``$ref`` (including the PagerDuty style ``#/components/responses/Conflict/
  content/application~1json/schema``) is rewritten into a local ``#/$defs/...`` entry,
  so the returned schema is self-contained (recursive schemas stay recursive);
* OpenAPI 3.0 ``nullable: true`` → ``null`` added to ``type``/``enum`` (or an
  ``anyOf`` with ``{"type": "null"}`` when the schema is a composition/``$ref``);
* 3.0 siblings of ``$ref`` are ignored (as the 3.0 spec says) except ``nullable``;
* boolean ``exclusiveMinimum``/``exclusiveMaximum`` (draft-4 style) → numeric form;
* ``oneOf`` → ``anyOf``: vendor ``oneOf`` branches are open objects that overlap
  (e.g. PagerDuty log-entry variants), so strict exactly-one semantics would reject
  real payloads.  ``discriminator`` is therefore only an annotation here;
* ``writeOnly`` properties are dropped from ``required`` (we validate responses);
  ``readOnly``/``example``/``xml``/``externalDocs``/descriptions are dropped;
* ``format`` is not enforced except ``date-time``, checked as ISO-8601 leniently
  enough to accept Jira's real ``2023-06-24T19:24:50.000+0000`` (no colon in offset).

``required`` lists and ``additionalProperties: false`` (Jira uses it a lot) are kept.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from . import specs_dir

VENDOR_FILES = {
    "jira": "jira-cloud-platform-openapi.json",
    "pagerduty": "pagerduty-openapiv3.json",
    "notion": "notion-openapi-mcp-server.json",
}

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class SpecLookupError(LookupError):
    """The spec has no operation / response / content for what was asked."""


# --------------------------------------------------------------------------- formats

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=())
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # type errors are reported by "type", not "format"
    return bool(_DATE_TIME.match(value))


# --------------------------------------------------------------------------- pointers


def _unescape(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def resolve_pointer(doc: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        raise SpecLookupError(f"external $ref not supported: {ref!r}")
    node = doc
    frag = ref[1:]
    if not frag:
        return node
    for raw in frag.lstrip("/").split("/"):
        tok = _unescape(raw)
        if isinstance(node, list):
            node = node[int(tok)]
        else:
            try:
                node = node[tok]
            except KeyError:
                raise SpecLookupError(f"unresolvable $ref {ref!r} (no {tok!r})") from None
    return node


def pointer(path: Iterable[Any]) -> str:
    parts = [_escape(p) for p in path]
    return "/" + "/".join(parts) if parts else ""


# --------------------------------------------------------------------------- conversion

_DROP_KEYS = {
    "example",
    "examples",
    "xml",
    "externalDocs",
    "discriminator",
    "description",
    "title",
    "deprecated",
    "readOnly",
    "writeOnly",
    "default",
    "$comment",
}
_SUB_ONE = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
_SUB_MAP = ("properties", "patternProperties", "dependentSchemas")
_SUB_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")


class _Converter:
    """Converts OpenAPI schema objects of one document into draft 2020-12, caching
    every converted ``$ref`` target as a named definition."""

    def __init__(self, doc: dict, openapi_version: str):
        self.doc = doc
        self.v30 = openapi_version.startswith("3.0")
        self.defs: dict[str, Any] = {}  # def name -> converted schema
        self.deps: dict[str, set[str]] = {}  # def name -> def names it references
        self.names: dict[str, str] = {}  # ref -> def name
        self._used: set[str] = set()  # def names referenced during the current conversion

    # ref naming: "#/components/schemas/IssueBean" -> "IssueBean"
    def _name_for(self, ref: str) -> str:
        if ref in self.names:
            return self.names[ref]
        base = ref
        for prefix in ("#/components/schemas/", "#/definitions/", "#/"):
            if base.startswith(prefix):
                base = base[len(prefix) :]
                break
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", _unescape(base).replace("/", "."))
        name, i = base, 1
        taken = set(self.names.values())
        while name in taken:
            i += 1
            name = f"{base}_{i}"
        self.names[ref] = name
        return name

    def ref(self, ref: str) -> str:
        """Ensure the $ref target is converted; return its def name."""
        name = self._name_for(ref)
        self._used.add(name)
        if name not in self.defs:
            self.defs[name] = True  # placeholder: breaks recursion
            outer = self._used
            self._used = set()
            self.defs[name] = self.convert(resolve_pointer(self.doc, ref))
            self.deps[name] = self._used
            self._used = outer
        return name

    def _raw_target(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            schema = resolve_pointer(self.doc, schema["$ref"])
            seen += 1
        return schema

    def convert(self, s: Any) -> Any:
        if isinstance(s, bool):
            return s
        if not isinstance(s, dict):
            return {}
        if "$ref" in s:
            out: dict[str, Any] = {"$ref": "#/$defs/" + self.ref(s["$ref"])}
            if not self.v30:
                rest = {k: v for k, v in s.items() if k != "$ref"}
                conv = self._convert_plain(rest)
                if conv:
                    out = {"allOf": [out, conv]}
            elif s.get("nullable") is True:
                out = {"anyOf": [{"type": "null"}, out]}
            return out
        return self._convert_plain(s)

    def _convert_plain(self, s: dict) -> dict:
        out: dict[str, Any] = {}
        for k, v in s.items():
            if k in _DROP_KEYS or k.startswith("x-") or k == "nullable":
                continue
            if k in _SUB_ONE:
                out[k] = self.convert(v)
            elif k in _SUB_MAP and isinstance(v, dict):
                out[k] = {name: self.convert(sub) for name, sub in v.items()}
            elif k in _SUB_LIST and isinstance(v, list):
                out["anyOf" if k == "oneOf" else k] = [self.convert(sub) for sub in v]
            elif k in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(v, bool):
                bound = "minimum" if k == "exclusiveMinimum" else "maximum"
                if v and bound in s:
                    out[k] = s[bound]
            elif k in ("minimum", "maximum") and s.get("exclusive" + k.capitalize()) is True:
                continue  # folded into exclusiveMinimum/Maximum above
            elif k == "required" and isinstance(v, list):
                props = s.get("properties") or {}
                req = [
                    name
                    for name in v
                    if not (
                        isinstance(props.get(name), dict)
                        and isinstance(self._raw_target(props[name]), dict)
                        and (props[name].get("writeOnly") or self._raw_target(props[name]).get("writeOnly"))
                    )
                ]
                if req:
                    out["required"] = req
            else:
                out[k] = copy.deepcopy(v)
        if s.get("nullable") is True:
            if any(key in out for key in ("allOf", "anyOf", "$ref", "not", "const")):
                out = {"anyOf": [{"type": "null"}, out]}
            else:
                if "type" in out:
                    t = out["type"]
                    types = t if isinstance(t, list) else [t]
                    if "null" not in types:
                        out["type"] = [*types, "null"]
                if "enum" in out and None not in out["enum"]:
                    out["enum"] = [*out["enum"], None]
        return out

    def closure(self, used: set[str]) -> dict[str, Any]:
        todo, seen = list(used), set()
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(self.deps.get(n, ()))
        return {n: self.defs[n] for n in sorted(seen)}

    def standalone(self, s: Any) -> dict:
        """Convert ``s`` into a self-contained draft 2020-12 schema."""
        outer = self._used
        self._used = set()
        try:
            root = self.convert(s)
            used = self._used
        finally:
            self._used = outer
        if isinstance(root, bool):
            root = {} if root else {"not": {}}
        result = {"$schema": "https://json-schema.org/draft/2020-12/schema", **root}
        defs = self.closure(used)
        if defs:
            result["$defs"] = defs
        return result


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Operation:
    vendor: str
    method: str
    template: str
    op: dict = field(repr=False, compare=False)


def _segment_regex(seg: str) -> tuple[re.Pattern[str], int]:
    """Compile one path-template segment; rank: 2 literal, 1 mixed, 0 pure template."""
    if "{" not in seg:
        return re.compile(re.escape(seg) + r"\Z"), 2
    if re.fullmatch(r"\{[^}]+\}", seg):
        return re.compile(r"[^/]+\Z"), 0
    parts = re.split(r"(\{[^}]+\})", seg)
    rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p)
    return re.compile(rx + r"\Z"), 1


class Spec:
    def __init__(self, vendor: str, doc: dict):
        self.vendor = vendor
        self.doc = doc
        self.openapi_version = str(doc.get("openapi", "3.0"))
        self._conv = _Converter(doc, self.openapi_version)
        self._routes: list[tuple[str, list[tuple[re.Pattern[str], int]]]] = []
        for template in doc.get("paths", {}):
            segs = template.strip("/").split("/")
            self._routes.append((template, [_segment_regex(s) for s in segs]))
        self._schema_cache: dict[tuple[str, str, str, str], Any] = {}
        self._validator_cache: dict[tuple[str, str, str, str], Any] = {}

    # ---- lookup
    def find_operation(self, method: str, path: str) -> Operation:
        """Match a concrete path (query string ignored) against the templated paths;
        literal segments beat templates (``/issue/picker`` over ``/issue/{id}``)."""
        m = method.lower()
        concrete = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
        segs = concrete.strip("/").split("/")
        best: tuple[tuple[int, ...], str] | None = None
        for template, pats in self._routes:
            if len(pats) != len(segs):
                continue
            if m not in self.doc["paths"][template]:
                continue
            if all(rx.match(seg) for (rx, _), seg in zip(pats, segs)):
                score = tuple(rank for _, rank in pats)
                if best is None or score > best[0]:
                    best = (score, template)
        if best is None:
            raise SpecLookupError(f"{self.vendor}: no operation for {method.upper()} {concrete}")
        return Operation(self.vendor, m, best[1], self.doc["paths"][best[1]][m])

    def _deref(self, obj: Any) -> Any:
        for _ in range(20):
            if isinstance(obj, dict) and "$ref" in obj:
                obj = resolve_pointer(self.doc, obj["$ref"])
            else:
                return obj
        raise SpecLookupError("$ref chain too long")

    def response(self, method: str, path: str, status: int | str) -> tuple[Operation, str, dict]:
        op = self.find_operation(method, path)
        responses = op.op.get("responses", {})
        code = str(status)
        keys = {str(k).upper(): k for k in responses}
        for cand in (code, f"{code[0]}XX", "DEFAULT"):
            if cand in keys:
                return op, str(keys[cand]), self._deref(responses[keys[cand]])
        raise SpecLookupError(
            f"{self.vendor}: {method.upper()} {op.template} documents no response {code} "
            f"(documented: {', '.join(map(str, responses))})"
        )

    def media(self, method: str, path: str, status: int | str) -> tuple[str, dict] | None:
        """(content type, media object) of the JSON body for that response, or None
        if the spec documents no body."""
        op, _, resp = self.response(method, path, status)
        content = resp.get("content") or {}
        if not content:
            return None
        for ct in content:
            if ct.split(";")[0].strip().lower() == "application/json":
                return ct, content[ct]
        for ct in content:
            if "json" in ct.lower():
                return ct, content[ct]
        if "*/*" in content:
            return "*/*", content["*/*"]
        raise SpecLookupError(
            f"{self.vendor}: {method.upper()} {op.template} {status} has no JSON content "
            f"(only {', '.join(content)})"
        )

    def response_schema(self, method: str, path: str, status: int | str) -> dict | None:
        """Self-contained JSON Schema (draft 2020-12) of the response body, or None if
        the spec documents no body for that status."""
        op, code, _ = self.response(method, path, status)
        key = (op.method, op.template, code, "schema")
        if key not in self._schema_cache:
            media = self.media(method, path, status)
            if media is None or "schema" not in media[1] or media[1]["schema"] is None:
                self._schema_cache[key] = None
            else:
                self._schema_cache[key] = self._conv.standalone(media[1]["schema"])
        return self._schema_cache[key]

    def schema_for_ref(self, ref: str) -> dict:
        """Standalone schema for a component, e.g. ``#/components/schemas/ErrorCollection``."""
        return self._conv.standalone({"$ref": ref})

    def validator(self, method: str, path: str, status: int | str):
        op, code, _ = self.response(method, path, status)
        key = (op.method, op.template, code, "validator")
        if key not in self._validator_cache:
            schema = self.response_schema(method, path, status)
            self._validator_cache[key] = (
                None if schema is None else Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
            )
        return self._validator_cache[key]

    def example(self, method: str, path: str, status: int | str) -> Any:
        media = self.media(method, path, status)
        if media is None:
            return None
        m = media[1]
        value: Any = None
        if "example" in m:
            value = m["example"]
        elif m.get("examples"):
            first = self._deref(next(iter(m["examples"].values())))
            value = first.get("value") if isinstance(first, dict) else None
            value = self._deref(value) if isinstance(value, dict) and "$ref" in value else value
        elif isinstance(m.get("schema"), dict):
            value = self._deref(m["schema"]).get("example")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        return copy.deepcopy(value)


# --------------------------------------------------------------------------- errata
#
# Places where the vendor's schema contradicts the vendor's OWN material (its response
# example for the same operation, or the schema's own description).  Each erratum is
# merged into the raw document before conversion.  Keep this list minimal and
# evidence-based: tests/test_conformance_checker.py asserts every erratum still applies
# to the raw spec (target exists, change not already present) and that the evidence
# example fails without it.  Never add an erratum just because the sandbox disagrees.


@dataclass(frozen=True)
class Erratum:
    vendor: str
    target: str  # JSON pointer (in the raw document) of the dict to patch
    merge: dict  # keys merged into that dict
    reason: str  # the vendor's own evidence
    evidence: tuple[str, str, int] | None = None  # (method, path, status) whose example shows it
    proof: tuple[str, Any] | None = None  # (pointer in the raw spec, value found in it) backing `reason`
    replace: bool = False  # replace the target's keys instead of merging into them


_PD_INCIDENT = "#/components/schemas/Incident/allOf/1/properties"

ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "jira",
        "#/components/schemas/ServerInformation/properties",
        {"defaultLocale": {"type": "object", "properties": {"locale": {"type": "string"}}}},
        "ServerInformation has additionalProperties:false but no defaultLocale, while the "
        "GET /rest/api/3/serverInfo 200 example (and real Jira Cloud) returns "
        '"defaultLocale": {"locale": "en_AU"}.',
        ("GET", "/rest/api/3/serverInfo", 200),
    ),
    *(
        Erratum(
            "jira",
            f"#/components/schemas/BulkOperationProgress/properties/{stamp}",
            {"type": "integer", "format": "int64"},
            f"BulkOperationProgress.{stamp} is typed a date-time string, but the GET /rest/api/3/bulk/queue/"
            "{taskId} 200 example and both bodies quoted in the operation's description (RUNNING and "
            f'COMPLETE) have "{stamp}" as epoch milliseconds (e.g. "created":1704110400000).',
            ("GET", "/rest/api/3/bulk/queue/10000", 200),
        )
        for stamp in ("created", "started", "updated")
    ),
    Erratum(
        "pagerduty",
        f"{_PD_INCIDENT}/resolved_at",
        {"nullable": True},
        'Incident.resolved_at: its description says "or `null` if the incident is not '
        'resolved", and the GET /incidents/{id} example has "resolved_at": null, but the '
        "schema is not nullable.",
        ("GET", "/incidents/PT4KHLK", 200),
    ),
    Erratum(
        "pagerduty",
        f"{_PD_INCIDENT}/resolve_reason",
        {"nullable": True},
        "Incident.resolve_reason: the GET /incidents and GET /incidents/{id} examples have "
        '"resolve_reason": null (only merged incidents carry a reason); schema not nullable.',
        ("GET", "/incidents", 200),
    ),
    Erratum(
        "pagerduty",
        f"{_PD_INCIDENT}/alert_grouping",
        {"nullable": True},
        'Incident.alert_grouping: its description says "Will be null if the incident has no '
        'alerts", but the schema is not nullable.',
        proof=(f"{_PD_INCIDENT}/alert_grouping/description", "Will be null if the incident has no alerts"),
    ),
    Erratum(
        "pagerduty",
        f"{_PD_INCIDENT}/alert_grouping/properties/ended_at",
        {"nullable": True},
        'Incident.alert_grouping.ended_at: the GET /incidents example has "ended_at": null '
        "for an active grouping; schema not nullable.",
        ("GET", "/incidents", 200),
    ),
    Erratum(
        "pagerduty",
        "#/components/schemas/AcknowledgeLogEntry/allOf/1/properties/type",
        {"enum": ["acknowledge_log_entry"]},
        'AcknowledgeLogEntry narrows `type` to "acknowledgement_log_entry", but it is '
        'allOf the LogEntry base schema whose own `type` enum has "acknowledge_log_entry" '
        '(and no "acknowledgement_log_entry"): as written NO value satisfies both, so every '
        "acknowledgement log entry would be rejected.  The base schema's spelling is the API's.",
        proof=("#/components/schemas/LogEntry/allOf/1/properties/type/enum", "acknowledge_log_entry"),
    ),
    Erratum(
        "pagerduty",
        "#/components/schemas/LogEntry/allOf/1/properties/incident",
        {
            "oneOf": [
                {"$ref": "#/components/schemas/IncidentReference"},
                {"$ref": "#/components/schemas/Incident"},
            ]
        },
        "LogEntry.incident is typed IncidentReference only, but GET /log_entries documents "
        "include[]=incidents (parameter include_log_entry), which embeds the full incident — "
        "the spec models the same include mechanism as oneOf[Reference, full object] "
        "elsewhere (Incident.service, Incident.escalation_policy).",
        proof=("#/components/parameters/include_log_entry/schema/enum", "incidents"),
        replace=True,
    ),
)


def _apply_errata(vendor: str, doc: dict) -> None:
    for e in ERRATA:
        if e.vendor == vendor:
            target = resolve_pointer(doc, e.target)
            if not isinstance(target, dict):
                raise SpecLookupError(f"erratum target {e.target} is not an object")
            if e.replace:
                target.clear()
            target.update(copy.deepcopy(e.merge))


@cache
def load_spec(vendor: str, errata: bool = True) -> Spec:
    """Parsed spec (cached per process).  ``errata=False`` gives the raw vendor
    document, used only to prove each erratum is still needed."""
    try:
        name = VENDOR_FILES[vendor]
    except KeyError:
        raise ValueError(f"unknown vendor {vendor!r}; expected one of {sorted(VENDOR_FILES)}") from None
    path = specs_dir() / name
    if not path.is_file():
        raise RuntimeError(f"vendor spec {path} is missing (see shared/specs/SOURCES.md)")
    with path.open("rb") as fh:
        doc = json.load(fh)
    if errata:
        _apply_errata(vendor, doc)
    return Spec(vendor, doc)


# --------------------------------------------------------------------------- vendor error bodies
#
# The specs document error bodies unevenly: Jira lists 400/401/404 with NO content at
# all; PagerDuty has one generic error schema (components/responses/Conflict, re-used by
# ArgumentError/Unauthorized/NotFound/TooManyRequests) but no `required`; Notion's
# partial spec only lists 400 with a loose schema.  `error_schema` returns the vendor's
# generic error body, tightened with the keys every real error carries.

_ERROR_REFS = {
    # Jira: ErrorCollection is what Jira returns for 4xx on REST v3 (errorMessages + errors).
    "jira": "#/components/schemas/ErrorCollection",
    # PagerDuty: {"error": {"code", "message", "errors"}}.
    "pagerduty": "#/components/responses/Conflict/content/application~1json/schema",
    # Notion: the spec's only error schema (documented for 400 on every path).
    "notion": "#/paths/~1v1~1users~1me/get/responses/400/content/application~1json/schema",
}
_ERROR_REQUIRED = {
    # Real Jira ErrorCollection bodies always carry both keys (errors may be {}).
    "jira": {"required": ["errorMessages", "errors"]},
    # Every PagerDuty REST error carries error.message and error.code.
    "pagerduty": {
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["message", "code"]}},
    },
    # Every recorded real Notion error (fixtures/notion-recorded) has these five keys.
    "notion": {
        "required": ["object", "status", "code", "message", "request_id"],
        "properties": {"object": {"const": "error"}, "request_id": {"type": "string"}},
    },
}


@cache
def error_schema(vendor: str) -> dict:
    spec = load_spec(vendor)
    base = spec.schema_for_ref(_ERROR_REFS[vendor])
    defs = base.pop("$defs", None)
    base.pop("$schema", None)
    result: dict = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [base, _ERROR_REQUIRED[vendor]],
    }
    if defs:
        result["$defs"] = defs
    return result


def validate_error_body(vendor: str, status: int, body: Any) -> list[str]:
    """Check a vendor error body against the vendor's generic error schema (and, for
    Notion, that the body's ``status`` echoes the HTTP status)."""
    errors = validate_against(error_schema(vendor), body)
    if vendor == "notion" and isinstance(body, dict) and body.get("status") != status:
        errors.append(f"/status: {body.get('status')!r} does not echo HTTP status {status}")
    return errors


# --------------------------------------------------------------------------- validation


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(err: jsonschema.ValidationError) -> str:
    v, inst = err.validator, err.instance
    if v == "required":
        return err.message
    if v == "type":
        return f"{_short(inst)} is not of type {err.validator_value!r}"
    if v == "enum":
        return f"{_short(inst)} is not one of {_short(err.validator_value, 200)}"
    if v == "const":
        return f"{_short(inst)} is not {err.validator_value!r}"
    if v in ("additionalProperties", "unevaluatedProperties"):
        return err.message
    if v == "format":
        return f"{_short(inst)} is not a valid {err.validator_value}"
    msg = err.message
    return msg if len(msg) < 300 else msg[:297] + "..."


def _leaves(err: jsonschema.ValidationError, depth: int = 0) -> list[jsonschema.ValidationError]:
    """Leaf errors of ``err``; for anyOf/oneOf failures, those of the most plausible
    branch (recursively): a branch whose discriminators matched (no const/enum failure
    on the object itself or a direct child, no type failure on the object itself) wins,
    then the branch with the fewest errors."""
    if err.validator not in ("anyOf", "oneOf") or not err.context or depth > 10:
        return [err]
    base = len(err.absolute_path)
    by_branch: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in err.context:
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)

    def score(leaves: list[jsonschema.ValidationError]) -> tuple[int, int]:
        discr = sum(
            1
            for e in leaves
            if (e.validator in ("const", "enum") and len(e.absolute_path) <= base + 1)
            or (e.validator == "type" and len(e.absolute_path) == base)
        )
        return discr, len(leaves)

    best: tuple[tuple[int, int], list[jsonschema.ValidationError]] | None = None
    for branch in by_branch.values():
        leaves = [leaf for sub in branch for leaf in _leaves(sub, depth + 1)]
        sc = score(leaves)
        if best is None or sc < best[0]:
            best = (sc, leaves)
    return best[1] if best else [err]


def format_errors(errors: Iterable[jsonschema.ValidationError]) -> list[str]:
    out: list[str] = []
    for e in errors:
        for leaf in _leaves(e):
            out.append(f"{pointer(leaf.absolute_path) or '/'}: {_message(leaf)}")
    # stable order by location, de-duplicated
    return sorted(dict.fromkeys(out), key=lambda m: m.split(": ", 1)[0])


def validate_against(schema: dict, body: Any) -> list[str]:
    return format_errors(Draft202012Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(body))


def _is_json_type(ct: str) -> bool:
    main = ct.split(";")[0].strip().lower()
    return main == "application/json" or main.endswith("+json") or "json" in main


def validate_response(
    vendor: str, method: str, path: str, status: int, body: Any, content_type: str | None = None
) -> list[str]:
    """Validate a decoded response ``body`` (None = empty body) against the vendor spec.

    Returns human-readable errors (``<json-pointer>: <problem>``); empty list = valid.
    Raises :class:`SpecLookupError` when the spec does not document the operation or
    the status at all (that is a test-authoring problem, not a conformance result).
    """
    spec = load_spec(vendor)
    op, code, _ = spec.response(method, path, status)
    label = f"{vendor} {method.upper()} {op.template} -> {status}"
    media = spec.media(method, path, status)
    errors: list[str] = []
    if media is None:
        if body not in (None, "", b""):
            errors.append(f"/: spec documents no body for {label}, got {_short(body)}")
        return errors
    ct, _m = media
    if content_type is not None and _is_json_type(ct) and not _is_json_type(content_type):
        errors.append(f"/: Content-Type {content_type!r} is not JSON (spec: {ct!r})")
    validator = spec.validator(method, path, status)
    if validator is None:
        return errors
    errors.extend(format_errors(validator.iter_errors(body)))
    return errors


def assert_conforms(
    vendor: str, method: str, path: str, status: int, body: Any, content_type: str | None = None
) -> None:
    errors = validate_response(vendor, method, path, status, body, content_type)
    if errors:
        op = load_spec(vendor).find_operation(method, path)
        head = f"{vendor} {method.upper()} {path} (spec: {op.template}) -> {status}: {len(errors)} spec violation(s)"
        raise AssertionError(head + "\n  " + "\n  ".join(errors))


def example_for(vendor: str, method: str, path: str, status: int) -> Any:
    """The vendor's example payload for that response (Jira string examples are
    JSON-decoded; PagerDuty ``examples`` → first example's value), or None."""
    return load_spec(vendor).example(method, path, status)


# --------------------------------------------------------------------------- key sets


def _ignored(key: str, ptr: str, ignore: Iterable[str]) -> bool:
    for pat in ignore:
        if not pat.startswith("/"):
            if pat == key:
                return True
            continue
        p_parts = pat.strip("/").split("/")
        a_parts = ptr.strip("/").split("/")
        if len(a_parts) >= len(p_parts) and all(pp == "*" or pp == ap for pp, ap in zip(p_parts, a_parts)):
            return True
    return False


def missing_keys(
    example: Any, actual: Any, ignore: Iterable[str] = (), *, all_items: bool = False
) -> list[str]:
    """JSON pointers of keys the vendor ``example`` has but ``actual`` lacks.

    Recursive through dicts; lists compare the example's first element against the
    actual first element (or every actual element with ``all_items=True``).
    ``ignore`` entries: a bare key name (ignored at any depth) or a pointer prefix
    such as ``/issues/*/fields`` (``*`` matches one segment).
    Values that are not both dicts/lists (e.g. ``null`` vs object) are not descended.
    """
    ignore = tuple(ignore)
    out: list[str] = []

    def walk(e: Any, a: Any, p: str) -> None:
        if isinstance(e, dict) and isinstance(a, dict):
            for k, v in e.items():
                kp = f"{p}/{_escape(k)}"
                if _ignored(k, kp, ignore):
                    continue
                if k not in a:
                    out.append(kp)
                else:
                    walk(v, a[k], kp)
        elif isinstance(e, list) and isinstance(a, list) and e and a:
            targets = enumerate(a) if all_items else [(0, a[0])]
            for i, item in targets:
                walk(e[0], item, f"{p}/{i}")

    walk(example, actual, "")
    return out
