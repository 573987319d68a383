"""``relais init``: discover the tools, propose a config, write it (commented) once accepted.

Three parts:

- :func:`discover` — the I/O: each vendor whose credentials are in the environment is read
  through :mod:`connectors.discover`; a vendor without them (or, for Jira, without a site URL)
  is left out, with the reason.
- :func:`propose` — pure, on plain data: the teams (names matched across the tools, case and
  accents aside: a Jira project's name or key, a PagerDuty team, an option of Notion's Team
  select), the people (by email across the tools), the Notion databases by their properties
  (briefings: a date, multi-selects, numbers; feedback: origin/customer/tier/area; scorecard:
  key and period), and the defaults that depend on what was found.
- :func:`render` — the commented YAML, from the template ``sync/templates/relais.yaml.j2``,
  with every write-back switched on under its default name (``relais check --fix`` creates
  what a tool lacks).

:func:`run_init` ties them to the command line: interactive on a terminal (each proposal can
be accepted or changed), or ``--yes``.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from rich.markup import escape

from connectors.discover import (
    Account,
    JiraSite,
    NotionDatabase,
    NotionWorkspace,
    PagerDutyAccount,
    Where,
    discover_jira,
    discover_notion,
    discover_pagerduty,
)
from connectors.registry import VENDORS, spec
from sync.output import plain
from sync.settings import read_secret

PUBLIC_URLS = {"notion": "https://api.notion.com", "pagerduty": "https://api.pagerduty.com"}
#: Discovery's pace per vendor: the rates the example config uses (Notion allows about 3).
PACE = {"jira": 10.0, "notion": 3.0, "pagerduty": 10.0}
TITLES = {v.name: v.title for v in VENDORS}
#: The property names relais reads on feedback pages (sources.notion.properties' defaults).
FEEDBACK_INPUTS = ("origin", "customer", "tier", "area")
#: The briefing inputs (``briefings:``) and their default property names and types.
BRIEFING_INPUTS = {
    "epic_property": ("Epic", ("rich_text", "url")),
    "target_date": ("Target date", ("date",)),
    "depends_on": ("Depends on", ("multi_select",)),
    "validated_by": ("Validated by", ("multi_select",)),
    "impact": ("Impact", ("number",)),
    "effort": ("Effort", ("number",)),
    "security": ("Security critical", ("checkbox",)),
}
#: Jira's feedback fields (sources.jira.feedback_fields' defaults).
JIRA_FEEDBACK_FIELDS = ("Origin", "Customer", "Tier", "Area")
STORY_POINTS_NAMES = ("story points", "story point estimate")


# -- names ---------------------------------------------------------------------------------------
def normalise(name: str) -> str:
    """Case, accents, spaces and punctuation aside: "Équipe Paiements" ~ "equipe-paiements"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", plain.casefold())


def slug(name: str) -> str:
    """A config key from a name: lower case, accents removed, words joined by "-"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "x"


def _unique(key: str, taken: set[str]) -> str:
    out, n = key, 2
    while out in taken:
        out, n = f"{key}-{n}", n + 1
    taken.add(out)
    return out


# -- what was found --------------------------------------------------------------------------------
@dataclass
class Discovered:
    """What :func:`discover` read; a vendor left out is None, with its reason in ``skipped``."""

    jira: JiraSite | None = None
    notion: NotionWorkspace | None = None
    pagerduty: PagerDutyAccount | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    def vendors(self) -> list[str]:
        return [v for v in TITLES if getattr(self, v) is not None]


@dataclass
class TeamProposal:
    key: str
    name: str
    jira_projects: list[str] = field(default_factory=list)
    pagerduty_teams: list[str] = field(default_factory=list)  # names, for the summary
    pagerduty_services: list[str] = field(default_factory=list)  # ids
    notion_team: str | None = None
    pm: str | None = None  # a key of people

    def found_in(self) -> list[str]:
        return [
            v
            for v, present in (
                ("jira", self.jira_projects),
                ("pagerduty", self.pagerduty_teams or self.pagerduty_services),
                ("notion", self.notion_team),
            )
            if present
        ]


@dataclass
class PersonProposal:
    key: str
    email: str
    name: str
    jira: str | None = None
    notion: str | None = None
    pagerduty: str | None = None


@dataclass
class Proposal:
    timezone: str = "UTC"
    teams: list[TeamProposal] = field(default_factory=list)
    unmatched: dict[str, list[str]] = field(default_factory=dict)  # vendor -> names matched to no team
    people: list[PersonProposal] = field(default_factory=list)
    databases: dict[str, NotionDatabase] = field(default_factory=dict)  # briefings/feedback/scorecard
    notion_title: str = "Name"
    briefing_inputs: dict[str, str] = field(default_factory=dict)
    feedback_project: str | None = None  # a Jira project of feedback issues (FB)
    story_points_field: str | None = None
    from_email: str | None = None


# -- proposing (pure) ----------------------------------------------------------------------------
def propose_people(found: Discovered) -> list[PersonProposal]:
    """One person per email seen in any tool, with their id in each tool that has that email.
    Accounts without a visible email cannot be matched and are left out."""
    by_email: dict[str, PersonProposal] = {}
    sources: list[tuple[str, Iterable[Account]]] = [
        ("jira", found.jira.users if found.jira else []),
        ("notion", found.notion.users if found.notion else []),
        ("pagerduty", found.pagerduty.users if found.pagerduty else []),
    ]
    for vendor, accounts in sources:
        for account in accounts:
            if not account.email:
                continue
            email = account.email.strip().casefold()
            person = by_email.setdefault(email, PersonProposal("", account.email.strip(), account.name))
            if getattr(person, vendor) is None:
                setattr(person, vendor, account.id)
    taken: set[str] = set()
    people = sorted(by_email.values(), key=lambda p: p.email.casefold())
    for person in people:
        person.key = _unique(slug(person.email.split("@")[0]), taken)
    return people


def _team_select_options(notion: NotionWorkspace | None) -> list[str]:
    """The options of the Team select property, across the databases (first seen first)."""
    out: dict[str, None] = {}
    for db in notion.databases if notion else []:
        for prop in db.properties.values():
            if normalise(prop.name) == "team" and prop.type == "select":
                out.update(dict.fromkeys(prop.options))
    return list(out)


def propose_teams(
    found: Discovered, people: list[PersonProposal]
) -> tuple[list[TeamProposal], dict[str, list[str]]]:
    """Teams whose name appears in at least two tools (or in the only tool that names teams);
    and, per vendor, the names that matched no other tool."""
    groups: dict[str, TeamProposal] = {}
    aliases: dict[str, str] = {}  # normalised name or key -> group

    def group(name: str, *alias: str) -> TeamProposal:
        for a in (name, *alias):
            if normalise(a) in aliases:
                return groups[aliases[normalise(a)]]
        g = normalise(name)
        groups[g] = TeamProposal("", name)
        for a in (name, *alias):
            aliases.setdefault(normalise(a), g)
        return groups[g]

    jira_people = {p.jira: p.key for p in people if p.jira}
    if found.jira:
        for project in found.jira.projects:
            team = group(project.name, project.key)
            team.jira_projects.append(project.key)
            if team.pm is None and project.lead in jira_people:
                team.pm = jira_people[project.lead]
    pd = found.pagerduty
    if pd:
        for pd_team in pd.teams:
            team = group(pd_team.name)
            team.pagerduty_teams.append(pd_team.name)
            team.pagerduty_services += [s.id for s in pd.services if pd_team.id in s.teams]
        team_ids = {t.id for t in pd.teams}
        for service in pd.services:  # a service of no known team: by its name ("Payments API")
            if team_ids.intersection(service.teams):
                continue
            for g, team in groups.items():
                if normalise(service.name).startswith(g):
                    team.pagerduty_services.append(service.id)
                    break
    for option in _team_select_options(found.notion):
        group(option).notion_team = option
    naming = sum(
        bool(x)
        for x in (
            found.jira and found.jira.projects,
            pd and (pd.teams or pd.services),
            _team_select_options(found.notion),
        )
    )
    needed = min(2, naming)
    teams: list[TeamProposal] = []
    unmatched: dict[str, list[str]] = {}
    person_keys = {p.key for p in people}
    taken: set[str] = set()
    for team in groups.values():
        where = team.found_in()
        if len(where) >= needed and where:
            key = slug(team.name)
            team.key = _unique(f"{key}-team" if key in person_keys else key, taken)
            team.pagerduty_services = list(dict.fromkeys(team.pagerduty_services))
            teams.append(team)
            continue
        for vendor in where:
            names = {
                "jira": team.jira_projects,
                "pagerduty": team.pagerduty_teams or team.pagerduty_services,
                "notion": [team.notion_team or ""],
            }[vendor]
            unmatched.setdefault(vendor, []).extend(names)
    return teams, unmatched


def _has(db: NotionDatabase, name: str, *types: str) -> bool:
    prop = next((p for p in db.properties.values() if normalise(p.name) == normalise(name)), None)
    return prop is not None and (not types or prop.type in types)


def _count(db: NotionDatabase, *types: str) -> int:
    return sum(p.type in types for p in db.properties.values())


def database_scores(db: NotionDatabase) -> dict[str, int]:
    """How much a database looks like each role relais knows; 0: not at all."""
    briefings = 0
    if _count(db, "date") and _count(db, "multi_select") >= 2 and _count(db, "number") >= 2:
        briefings = 2 + sum(_has(db, name, *types) for name, types in BRIEFING_INPUTS.values())
    feedback = sum(_has(db, name) for name in ("Origin", "Customer", "Tier", "Area"))
    scorecard = 0
    if "scorecard" in normalise(db.title) or (_has(db, "Key") and _has(db, "Period", "date")):
        scorecard = 1 + _has(db, "Key") + _has(db, "Period", "date") + _has(db, "RUN %", "number")
    return {
        "briefings": briefings,
        "feedback": feedback if feedback >= 3 else 0,
        "scorecard": scorecard,
    }


def recognise_databases(databases: list[NotionDatabase]) -> dict[str, NotionDatabase]:
    """The briefings, feedback and scorecard databases (each at most once, the best first)."""
    scored = [(score, role, db) for db in databases for role, score in database_scores(db).items() if score]
    chosen: dict[str, NotionDatabase] = {}
    used: set[str] = set()
    for _, role, db in sorted(scored, key=lambda t: -t[0]):
        if role not in chosen and db.id not in used:
            chosen[role] = db
            used.add(db.id)
    return {role: chosen[role] for role in ("briefings", "feedback", "scorecard") if role in chosen}


def _briefing_inputs(db: NotionDatabase | None) -> dict[str, str]:
    """Each briefing input's property: the database's own spelling of the default name."""
    out = {}
    for key, (default, _) in BRIEFING_INPUTS.items():
        match = next(
            (
                p.name
                for p in (db.properties.values() if db else [])
                if normalise(p.name) == normalise(default)
            ),
            None,
        )
        out[key] = match or default
    return out


def propose(found: Discovered, env: Mapping[str, str]) -> Proposal:
    """Everything ``relais init`` proposes, from what it found (pure)."""
    proposal = Proposal(timezone=found.jira.time_zone if found.jira else "UTC")
    proposal.people = propose_people(found)
    proposal.teams, proposal.unmatched = propose_teams(found, proposal.people)
    if found.notion:
        proposal.databases = recognise_databases(found.notion.databases)
        briefings = proposal.databases.get("briefings")
        title = (
            next((p.name for p in briefings.properties.values() if p.type == "title"), None)
            if briefings
            else None
        )
        proposal.notion_title = title or "Name"
        proposal.briefing_inputs = _briefing_inputs(briefings)
    if found.jira:
        team_projects = {k for t in proposal.teams for k in t.jira_projects}
        names = {f.name for f in found.jira.fields if f.custom}
        if all(n in names for n in JIRA_FEEDBACK_FIELDS):
            proposal.feedback_project = next(
                (
                    p.key
                    for p in found.jira.projects
                    if p.key not in team_projects and "feedback" in normalise(p.name)
                ),
                None,
            )
        proposal.story_points_field = next(
            (
                f.name
                for f in found.jira.fields
                if f.type == "number" and f.name.casefold() in STORY_POINTS_NAMES
            ),
            None,
        )
    if found.pagerduty:
        emails = {u.email.casefold(): u.email for u in found.pagerduty.users if u.email}
        wanted = [env.get("PAGERDUTY_FROM"), env.get("JIRA_EMAIL")]  # as PagerDuty spells it
        proposal.from_email = next(
            (emails[w.casefold()] for w in wanted if w and w.casefold() in emails),
            env.get("PAGERDUTY_FROM") or next(iter(emails.values()), None),
        )
    return proposal


# -- the YAML ------------------------------------------------------------------------------------
@dataclass
class Options:
    urls: dict[str, str]
    ca_bundle: str | None = None
    state_path: str = "relais.db"


def _inline(value: Any) -> str:
    """One YAML value on one line (flow style), quoted where YAML needs it."""
    return (
        yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
        .strip()
        .removesuffix("\n...")
        .removesuffix("...")
        .strip()
    )


#: Line breaks YAML knows (CR, LF, NEL, LS, PS) and every other control or direction mark.
_NOT_IN_A_COMMENT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _comment(value: Any) -> str:
    """Text from a tool (a database's title, a person's name) in a YAML comment: one line, so
    that no title can end the comment and write a key of its own into the config."""
    text = _NOT_IN_A_COMMENT.sub(" ", str(value))
    return text if len(text) <= 80 else text[:79] + "…"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sync", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # YAML, not HTML: values go through the `y` filter
    )
    env.filters["y"] = _inline
    env.filters["c"] = _comment
    return env


def render(found: Discovered, proposal: Proposal, options: Options) -> str:
    """The commented ``relais.yaml`` for what was found and accepted."""
    vendors = found.vendors()
    dbs = proposal.databases
    jira, notion, pd = "jira" in vendors, "notion" in vendors, "pagerduty" in vendors
    feedback = bool(notion and "feedback" in dbs) or bool(jira and proposal.feedback_project)
    context = {
        "p": proposal,
        "found": found,
        "jira": jira,
        "notion": notion,
        "pagerduty": pd,
        "urls": options.urls,
        "ca_bundle": options.ca_bundle,
        "state_path": options.state_path,
        "project_keys": [k for t in proposal.teams for k in t.jira_projects],
        "services": [s for t in proposal.teams for s in t.pagerduty_services],
        "dbs": {role: db.id for role, db in dbs.items()},
        "work_type_dbs": [r for r in ("briefings", "feedback") if r in dbs],
        "route_feedback": feedback and bool(proposal.teams),
        "route_maintenance": jira and bool(proposal.teams),
        "briefings": jira and notion and "briefings" in dbs,
        "followups": jira and pd and bool(proposal.teams),
        "scorecard": notion and "scorecard" in dbs,
        "first_team": proposal.teams[0].key if proposal.teams else None,
        "person_entry": lambda person: {
            k: v for k in ("email", "jira", "notion", "pagerduty") if (v := getattr(person, k))
        },
    }
    return _environment().get_template("relais.yaml.j2").render(**context)


# -- I/O ----------------------------------------------------------------------------------------
#: How each tool is read, given where it is and its credentials' values (in its spec's order).
READERS: dict[str, Callable[[Where, list[str]], Any]] = {
    "jira": lambda where, creds: discover_jira(where, *creds),
    "notion": lambda where, creds: discover_notion(where, *creds),
    "pagerduty": lambda where, creds: discover_pagerduty(where, *creds),
}


def credentials(vendor: str, env: Mapping[str, str]) -> tuple[list[str], str | None]:
    """The values of ``vendor``'s credentials (each ``VARIABLE`` or ``VARIABLE_FILE``, as the
    config's secrets), or why the tool is left out."""
    values, lacking = [], []
    for secret in spec(vendor).credentials:
        value, problem = read_secret(secret, env)
        if problem:
            return [], problem
        if value is None:
            lacking.append(secret.variable)
        else:
            values.append(value)
    if lacking:
        return [], " and ".join(lacking) + (" is not set" if len(lacking) == 1 else " are not both set")
    return values, None


def discover(
    env: Mapping[str, str], urls: Mapping[str, str | None], ca_bundle: Path | None, say: Callable[[str], None]
) -> Discovered:
    """Read each tool whose credentials ``env`` holds; the others are left out with a reason."""
    found = Discovered()
    for vendor, read in READERS.items():
        values, why = credentials(vendor, env)
        url = urls.get(vendor) or PUBLIC_URLS.get(vendor)
        if why is None and not url:
            why = "no site URL: pass --jira-url https://<site>.atlassian.net or set JIRA_URL"
        if why is not None:
            found.skipped[vendor] = why
            continue
        assert url is not None
        say(f"{TITLES[vendor]}: reading {url} …")
        setattr(found, vendor, read(Where(url, ca_bundle, requests_per_second=PACE[vendor]), values))
    return found


def summary(found: Discovered, proposal: Proposal) -> list[str]:
    """What was found and proposed, a few lines."""
    lines = []
    for vendor, title in TITLES.items():
        if vendor in found.skipped:
            lines.append(f"{title}: left out — {found.skipped[vendor]}")
    if found.jira:
        lines.append(
            f"Jira: {len(found.jira.projects)} projects, {len(found.jira.issue_types)} issue types, "
            f"{len(found.jira.statuses)} statuses, {len(found.jira.link_types)} link types, "
            f"{sum(f.custom for f in found.jira.fields)} custom fields, {len(found.jira.users)} users"
        )
    if found.notion:
        lines.append(
            f"Notion: {len(found.notion.databases)} databases shared, {len(found.notion.users)} people"
        )
    if found.pagerduty:
        p = found.pagerduty
        lines.append(f"PagerDuty: {len(p.services)} services, {len(p.teams)} teams, {len(p.users)} users")
    for team in proposal.teams:
        parts = []
        if team.jira_projects:
            parts.append("Jira " + ", ".join(team.jira_projects))
        if team.pagerduty_services:
            parts.append("PagerDuty " + ", ".join(team.pagerduty_services))
        if team.notion_team:
            parts.append(f"Notion Team {team.notion_team!r}")
        pm = f", PM {team.pm}" if team.pm else ""
        lines.append(f"team {team.key}: {' · '.join(parts)}{pm}")
    for vendor, names in proposal.unmatched.items():
        lines.append(f"{TITLES[vendor]}: matched no team: {', '.join(names)}")
    complete = sum(
        bool(p.jira) + bool(p.notion) + bool(p.pagerduty) == len(found.vendors()) for p in proposal.people
    )
    lines.append(f"people: {len(proposal.people)} by email ({complete} found in every tool)")
    for role in ("briefings", "feedback", "scorecard"):
        db = proposal.databases.get(role)
        if db is not None:
            lines.append(f"Notion {role} database: {db.title!r} ({db.id})")
        elif found.notion:
            lines.append(f"Notion {role} database: none recognised (its settings are left out)")
    if proposal.feedback_project:
        lines.append(f"Jira feedback project: {proposal.feedback_project}")
    return lines


def _ask(prompt: str, default: str, console: Any) -> str:
    from rich.prompt import Prompt
    from rich.text import Text

    # Text, not markup: the prompt holds names from the tools ("[/]" in a title would raise)
    return str(Prompt.ask(Text(plain(prompt)), default=default, console=console)).strip()


def interact(found: Discovered, proposal: Proposal, console: Any) -> None:
    """Each proposal, accepted with Enter or changed: a team's key ("-" leaves it out) and PM, a
    person's key ("-" leaves them out), each database role ("-" for none)."""
    console.print("[bold]Teams[/] — Enter keeps the proposal; '-' leaves a team out.")
    kept = []
    for team in proposal.teams:
        where = ", ".join(TITLES[v] for v in team.found_in())
        key = _ask(f"team {team.name!r} ({where}): key", team.key, console)
        if key == "-":
            continue
        team.key = key
        team.pm = _ask(f"  PM of {key} (a person's key, '-' for none)", team.pm or "-", console)
        team.pm = None if team.pm in ("-", "") else team.pm
        kept.append(team)
    proposal.teams = kept
    console.print("[bold]People[/] — matched by email; Enter keeps the key, '-' leaves them out.")
    people = []
    for person in proposal.people:
        ids = ", ".join(f"{TITLES[v]} {getattr(person, v)}" for v in TITLES if getattr(person, v))
        key = _ask(f"{person.email} ({ids}): key", person.key, console)
        if key != "-":
            person.key = key
            people.append(person)
    proposal.people = people
    if found.notion and found.notion.databases:
        titles = {db.title: db for db in found.notion.databases}
        listed = escape(plain(", ".join(repr(t) for t in titles)))
        console.print(f"[bold]Notion databases[/] — a title from: {listed}", soft_wrap=True)
        for role in ("briefings", "feedback", "scorecard"):
            current = proposal.databases.get(role)
            answer = _ask(f"{role} database", current.title if current else "-", console)
            if answer == "-":
                proposal.databases.pop(role, None)
            elif answer in titles:
                proposal.databases[role] = titles[answer]
            else:
                was = repr(current.title) if current else "none"
                console.print(plain(f"  no database titled {answer!r}: kept {was}"), markup=False)


def run_init(args: Any) -> int:
    """The ``relais init`` command (exit codes as the CLI's)."""
    from rich.console import Console

    from sync.settings import ConfigError, load_settings

    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"relais: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    ca_bundle = args.ca_bundle or os.environ.get("RELAIS_CA_BUNDLE")
    ca = Path(ca_bundle) if ca_bundle else None
    if ca is not None and not ca.is_file():
        where = "--ca-bundle" if args.ca_bundle else "RELAIS_CA_BUNDLE"
        print(f"relais: {where}: no file {ca}", file=sys.stderr)
        return 2
    interactive = not args.yes
    if interactive and not sys.stdin.isatty():
        print(
            "relais: init asks questions on a terminal; pass --yes to accept every proposal", file=sys.stderr
        )
        return 2
    console = Console(highlight=False)
    env = dict(os.environ)
    urls: dict[str, str | None] = {
        "jira": args.jira_url or env.get("JIRA_URL"),
        "notion": args.notion_url or env.get("NOTION_URL"),
        "pagerduty": args.pagerduty_url or env.get("PAGERDUTY_URL"),
    }
    if interactive and not urls["jira"] and credentials("jira", env)[1] is None:
        answer = _ask("Jira site URL (https://<site>.atlassian.net; '-' to leave Jira out)", "-", console)
        urls["jira"] = None if answer == "-" else answer
    for vendor, url in urls.items():
        if url and not url.startswith("https://"):
            print(f"relais: --{vendor}-url: {url!r} must start with https://", file=sys.stderr)
            return 2
    found = discover(env, urls, ca, lambda line: console.print(plain(line), markup=False, soft_wrap=True))
    if not found.vendors():
        for vendor, why in found.skipped.items():
            print(f"relais: {TITLES[vendor]}: left out — {why}", file=sys.stderr)
        print("relais: no tool to read: set the tokens of at least one (see README)", file=sys.stderr)
        return 2
    proposal = propose(found, env)
    if interactive:
        interact(found, proposal, console)
    options = Options(
        urls={v: (urls.get(v) or PUBLIC_URLS.get(v, "")).rstrip("/") for v in TITLES},
        ca_bundle=str(ca.resolve()) if ca else None,
    )
    text = render(found, proposal, options)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_settings(tmp)  # what is written must validate: a problem here is relais' own bug
    except ConfigError as e:
        tmp.unlink()
        problems = "; ".join(str(p) for p in getattr(e, "problems", [e]))
        print(f"relais: the proposed config does not validate ({problems})", file=sys.stderr)
        return 1
    tmp.replace(out)
    for line in summary(found, proposal):  # names from the tools: no escape sequence reaches the terminal
        console.print(plain(line), markup=False, soft_wrap=True)
    console.print(f"wrote {out}", markup=False, soft_wrap=True)
    console.print(
        f"next: relais check -c {out}   (then `relais check --fix -c {out}`)", markup=False, soft_wrap=True
    )
    return 0
