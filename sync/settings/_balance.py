"""`balance:` — how effort is measured, what counts as urgent, and the alert rules.

An alert's ``when`` is a small expression, ``<metric> <op> <number>``
(``run_share > 50%``), parsed at load time into ``metric``, ``op`` and
``threshold`` so that a typo is a problem with a line, not a silent no-alert.
``Balance`` also gives each alert (and the urgent condition) the place it was
written, ``relais.yaml:42``, or ``default`` for the built-in alerts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ._rules import When
from ._sources import Model
from ._types import Text, _list_of_strings, expected, none_is_empty, one_of, quoted, relais_error, suggest

SHARE_METRICS = ("run_share", "build_share", "improve_share", "buffer_left")  # fractions: take percentages
HOUR_METRICS = ("run_hours", "build_hours", "improve_hours", "total_hours")
COUNT_METRICS = ("incidents", "urgent_requests")
METRICS = ("run_share", "build_share", "improve_share", *HOUR_METRICS, *COUNT_METRICS, "buffer_left")
OPS = (">", ">=", "<", "<=", "==", "!=")
LEVELS = ("watch", "alert", "survival")  # ascending severity
Level = Literal["watch", "alert", "survival"]
Measure = Literal["worklog", "story_points", "count"]
MEASURES: tuple[Measure, ...] = ("worklog", "story_points", "count")
URGENCIES = ("high", "low")
ALERT_NAME_ERROR = "relais_alert_name"  # load_settings reports it itself, with both lines

# --------------------------------------------------------------- numbers ---

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PERCENT = re.compile(rf"\s*(?P<number>{_NUMBER})\s*(?P<percent>%?)\s*")
_EXPRESSION = re.compile(r"\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op>[<>=!]+)\s*(?P<number>.*?)\s*")
_SHAPE = "expected '<metric> <op> <number>' (e.g. 'run_share > 50%')"
# For editors: the same grammar as a JSON Schema pattern.
EXPRESSION_PATTERN = rf"^\s*({'|'.join(METRICS)})\s*(>=|<=|==|!=|>|<)\s*{_NUMBER}\s*%?\s*$"


def _number(text: str) -> tuple[float, bool] | None:
    """``'50%'`` → (0.5, True), ``'3'`` → (3.0, False); None if not a number."""
    match = _PERCENT.fullmatch(text)
    if not match:
        return None
    try:
        value = Decimal(match["number"])
    except InvalidOperation:
        return None
    percent = bool(match["percent"])
    return float(value / 100 if percent else value), percent


def parse_condition(text: str) -> tuple[str, str, float]:
    """``'run_share > 50%'`` → ``('run_share', '>', 0.5)``; a relais error says what is wrong."""
    match = _EXPRESSION.fullmatch(text)
    if not match:
        hint = "" if re.search("[<>=!]", text) else f"; compare with one of {', '.join(OPS)}"
        raise relais_error(f"{_SHAPE}, found {quoted(text)}{hint}")
    metric, op, written = match["metric"].lower(), match["op"], match["number"]
    reasons = []
    if metric not in METRICS:
        hint = suggest(metric, METRICS) or f"; metrics: {', '.join(METRICS)}"
        reasons.append(f"unknown metric {quoted(match['metric'])}{hint}")
    if op not in OPS:
        reasons.append(f"unknown operator {quoted(op)}; use {', '.join(OPS)}")
    number = _number(written)
    if number is None:
        reasons.append(f"{quoted(written)} is not a number (write 0.5, 3 or 50%)")
    if reasons:
        raise relais_error(f"{_SHAPE}, found {quoted(text)}; " + "; ".join(reasons))
    assert number is not None
    threshold, percent = number
    if percent and metric not in SHARE_METRICS:
        unit = "in hours" if metric in HOUR_METRICS else "a count"
        raise relais_error(
            f"{metric} is {unit}, not a share: write a plain number such as '{metric} {op} 3', "
            f"not a percentage ({', '.join(SHARE_METRICS)} take percentages)"
        )
    low = -1 if metric == "buffer_left" else 0  # a negative buffer_left: the buffer is overrun
    if metric in SHARE_METRICS and not low <= threshold <= 1:
        hint = f"; did you mean '{written}%'?" if 1 < threshold <= 100 else ""
        raise relais_error(
            f"{metric} is a share from {low} to 1 ({low * 100}% to 100%), found {written}{hint}"
        )
    return metric, op, threshold


def _expression_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise expected("an expression '<metric> <op> <number>' such as 'run_share > 50%'")
    return value


def _valid_expression(text: str) -> str:
    parse_condition(text)
    return text.strip()


def _fraction(value: Any) -> Any:
    """0.2 or ``'20%'``, from 0 to 1."""
    if isinstance(value, str):
        number = _number(value)
        if number is None or not number[1]:
            raise expected("a number from 0 to 1, or a percentage such as 20%")
        fraction = number[0]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        fraction = float(value)
    else:
        raise expected("a number from 0 to 1, or a percentage such as 20%")
    if not 0 <= fraction <= 1:
        raise expected("a value from 0 to 1 (0% to 100%)")
    return fraction


Fraction = Annotated[
    float,
    BeforeValidator(
        _fraction,
        json_schema_input_type=Union[  # noqa: UP007 - Annotated members
            Annotated[float, Field(ge=0, le=1)], Annotated[str, Field(pattern=rf"^\s*{_NUMBER}\s*%\s*$")]
        ],
    ),
]
Hours = Annotated[float, Field(gt=0, allow_inf_nan=False)]

# ---------------------------------------------------------------- effort ---


def _weights(value: Any) -> Any:
    if not isinstance(value, dict):
        return value  # the dict type reports it
    unknown = [key for key in value if key not in URGENCIES]
    if unknown:
        key = str(unknown[0])
        hint = suggest(key, URGENCIES)
        raise relais_error(f"unknown urgency {quoted(key)}{hint}; PagerDuty urgencies are high and low")
    missing = [u for u in URGENCIES if u not in value]
    if missing:
        raise relais_error(f"set a weight for both high and low urgency (missing: {', '.join(missing)})")
    return value


UrgencyWeights = Annotated[
    dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]],
    BeforeValidator(
        _weights, json_schema_input_type=dict[Literal["high", "low"], Annotated[float, Field(ge=0)]]
    ),
]


def _each_once(measures: list[str]) -> list[str]:
    for index, measure in enumerate(measures):
        if measure in measures[:index]:
            raise relais_error(
                f"{quoted(measure)} is listed twice; measures is a fallback order, each measure at most once"
            )
    return measures


class PagerDutyEffort(Model):
    count: bool = Field(True, description="Count incidents as effort.")
    cap_hours: Hours = Field(24, description="Only the first cap_hours after the trigger count.")
    urgency_weights: UrgencyWeights = Field(
        default_factory=lambda: {"high": 1.0, "low": 0.5},
        description="Hours are multiplied by the incident's urgency weight (keys high and low).",
        json_schema_extra={"default": {"high": 1.0, "low": 0.5}, "required": list(URGENCIES)},
    )


class JiraEffort(Model):
    measures: Annotated[
        list[Annotated[Measure, one_of("measure", MEASURES)]],
        BeforeValidator(_list_of_strings),
        Field(min_length=1),
        AfterValidator(_each_once),
    ] = Field(
        default_factory=lambda: list(MEASURES),
        description="Fallback order: an issue counts by the first measure it has.",
        json_schema_extra={"default": list(MEASURES), "uniqueItems": True},
    )
    hours_per_point: Hours = Field(4.0, description="story_points: hours per point, in the week resolved.")
    hours_per_issue: Hours = Field(2.0, description="count: hours per issue, in the week resolved.")
    story_points_field: Text = Field("Story Points", description="Name of the Jira story points field.")


class NotionEffort(Model):
    count: bool = Field(False, description="Count Notion pages as effort.")
    hours_per_item: Hours = Field(1.0, description="Hours per page, in the week it was created.")


class Effort(Model):
    """How many hours an item represents, and in which weeks."""

    pagerduty: Annotated[PagerDutyEffort, BeforeValidator(none_is_empty)] = Field(
        default_factory=PagerDutyEffort
    )
    jira: Annotated[JiraEffort, BeforeValidator(none_is_empty)] = Field(default_factory=JiraEffort)
    notion: Annotated[NotionEffort, BeforeValidator(none_is_empty)] = Field(default_factory=NotionEffort)


# ---------------------------------------------------------------- alerts ---


class Urgent(Model):
    """What counts as an urgent request: the same conditions as a classify rule."""

    when: When

    _where: str = PrivateAttr(default="")

    @property
    def where(self) -> str:
        """``file:line`` of the ``urgent:`` section."""
        return self._where


class AlertRule(Model):
    """One alert: ``when`` holds for ``for_periods`` consecutive periods → ``level`` and ``message``."""

    name: Text = Field(description="Unique within alerts.")
    when: Annotated[str, BeforeValidator(_expression_text), AfterValidator(_valid_expression)] = Field(
        description=f"'<metric> <op> <number>', e.g. 'run_share > 50%'. Metrics: {', '.join(METRICS)}.",
        json_schema_extra={"pattern": EXPRESSION_PATTERN},
    )
    for_periods: int = Field(1, ge=1, le=52, description="How many consecutive periods `when` must hold.")
    level: Annotated[Level, one_of("level", LEVELS)]
    message: Text

    _metric: str = PrivateAttr(default="")
    _op: str = PrivateAttr(default="")
    _threshold: float = PrivateAttr(default=0.0)
    _where: str = PrivateAttr(default="default")

    @model_validator(mode="after")
    def _parsed(self) -> AlertRule:
        self._metric, self._op, self._threshold = parse_condition(self.when)
        return self

    @property
    def metric(self) -> str:
        return self._metric

    @property
    def op(self) -> str:
        return self._op

    @property
    def threshold(self) -> float:
        """The number, a percentage as a fraction: ``50%`` → 0.5."""
        return self._threshold

    @property
    def where(self) -> str:
        """``file:line`` of the rule, or ``default`` for a built-in alert."""
        return self._where


DEFAULT_ALERTS: tuple[dict[str, Any], ...] = (
    {
        "name": "RUN overload",
        "when": "run_share > 50%",
        "for_periods": 2,
        "level": "alert",
        "message": "RUN above 50% two weeks running: block time to reduce tech debt",
    },
    {
        "name": "survival mode",
        "when": "build_share < 30%",
        "level": "survival",
        "message": "BUILD below 30%: the team is in survival mode, renegotiate the roadmap",
    },
    {
        "name": "urgent flood",
        "when": "urgent_requests > 3",
        "level": "watch",
        "message": "More than 3 urgent requests this week: prioritise together",
    },
)


def default_alerts() -> list[AlertRule]:
    return [AlertRule.model_validate(rule) for rule in DEFAULT_ALERTS]


def _none_is_no_alerts(value: Any) -> Any:
    # `alerts:` with every entry commented out: no alerts, like an explicit [].
    return [] if value is None else value


def folded_name(name: str) -> str:
    """Alert names compare like rule names: case and spacing do not make them different."""
    return " ".join(name.casefold().split())


class Balance(Model):
    """RUN/BUILD/IMPROVE balance per team and period, and the alerts it raises."""

    period: Literal["week"] = Field("week", description="ISO weeks in `timezone` (only week for now).")
    backfill_periods: int = Field(8, ge=1, le=104, description="How many past periods the scorecard covers.")
    buffer_target: Fraction = Field(0.2, description="The share of time kept free for the unexpected.")
    effort: Annotated[Effort, BeforeValidator(none_is_empty)] = Field(default_factory=Effort)
    urgent: Urgent | None = Field(None, description="Which items are urgent requests.")
    alerts: Annotated[list[AlertRule], BeforeValidator(_none_is_no_alerts)] = Field(
        default_factory=default_alerts,
        description="Absent: the three default alerts. An empty list: no alerts.",
        json_schema_extra={"default": [dict(rule) for rule in DEFAULT_ALERTS]},
    )

    @model_validator(mode="after")
    def _places(self, info: ValidationInfo) -> Balance:
        seen: set[str] = set()
        for rule in self.alerts:
            if folded_name(rule.name) in seen:
                raise PydanticCustomError(
                    ALERT_NAME_ERROR, "duplicate alert name {name}", {"name": quoted(rule.name)}
                )
            seen.add(folded_name(rule.name))
        context = info.context or {}
        file = str(context.get("file", "relais.yaml"))
        lines: dict[tuple, int] = context.get("lines", {})
        if "alerts" in self.model_fields_set:
            for index, rule in enumerate(self.alerts):
                rule._where = f"{file}:{lines.get(('balance', 'alerts', index), '?')}"
        if self.urgent is not None:
            self.urgent._where = f"{file}:{lines.get(('balance', 'urgent'), '?')}"
        return self
