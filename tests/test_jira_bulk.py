"""Jira's bulk edit, through the real client against the sandbox: many issues getting one select
value in one request; issue by issue without the permission; the same end state either way."""

from __future__ import annotations

from conftest import make_engine, write_config

from connectors.jira_bulk import BULK_MIN

WORK_TYPE = "customfield_10050"
BULK = "/rest/api/3/bulk/issues/fields"


def work_types(sb) -> dict[str, str | None]:
    return {key: (sb.jira.get_issue(key)["fields"].get(WORK_TYPE) or {}).get("value") for key in sb.jira}


def test_the_first_sync_writes_work_types_in_bulk(sandbox, tmp_path):
    engine = make_engine(sandbox, write_config(sandbox, tmp_path))
    try:
        first = engine.run_cycle(apply=True)
        assert first.errors == {}
        jira_changes = [c for c in first.planned if c.source == "jira"]
        by_value = {}
        for c in jira_changes:
            by_value.setdefault(c.new, []).append(c)
        bulk_values = [v for v, cs in by_value.items() if len(cs) >= engine.connectors["jira"].bulk_min]
        assert bulk_values, "the demo has values shared by many issues"
        assert sandbox.count(vendor="jira", method="POST", path_prefix=BULK) == len(bulk_values)
        puts = sandbox.count(vendor="jira", method="PUT", path_prefix="/rest/api/3/issue/")
        assert puts == len(jira_changes) - sum(len(by_value[v]) for v in bulk_values)
        assert first.writes == len(first.planned)  # every change recorded as applied, one by one
        audited = engine.store.db.execute(
            "SELECT COUNT(*) FROM audit WHERE source='jira' AND outcome='applied'"
        )
        assert audited.fetchone()[0] == len(jira_changes)
        held = work_types(sandbox)
        assert all(held[engine.store.get_item("jira", c.item_id)[0].key] == c.new for c in jira_changes)
        assert engine.run_cycle(apply=True).writes == 0
    finally:
        engine.close()


def test_without_the_bulk_permission_the_same_writes_go_issue_by_issue(sandbox, tmp_path):
    sandbox.jira.bulk_permission = False
    engine = make_engine(sandbox, write_config(sandbox, tmp_path))
    try:
        first = engine.run_cycle(apply=True)
        assert first.errors == {} and first.failed_writes == 0
        assert (
            sandbox.count(vendor="jira", method="POST", path_prefix=BULK) == 1
        )  # asked once, then never again
        jira_changes = [c for c in first.planned if c.source == "jira"]
        assert sandbox.count(vendor="jira", method="PUT", path_prefix="/rest/api/3/issue/") == len(
            jira_changes
        )
        assert engine.run_cycle(apply=True).writes == 0
    finally:
        engine.close()


def test_bulk_edit_can_be_switched_off(sandbox, tmp_path):
    config = write_config(sandbox, tmp_path, lambda d: d["sources"]["jira"].update(bulk_edit=False))
    engine = make_engine(sandbox, config)
    try:
        engine.run_cycle(apply=True)
        assert sandbox.count(vendor="jira", path_prefix="/rest/api/3/bulk/") == 0
        # the options read are the check's (connect surveys Work type's: its context, its options)
        assert sandbox.count(vendor="jira", path_prefix="/rest/api/3/field/customfield_") == 2
    finally:
        engine.close()


def test_an_issue_getting_two_select_values_rides_in_two_bulk_edits_and_needs_no_put(sandbox, tmp_path):
    """Work type and Team are grouped field by field: an issue needing both is in the Work type's
    bulk edit and in the Team's, and gets no request of its own."""
    import yaml

    from sandbox.jira.fields import TEAM

    data = sandbox.config(str(tmp_path / "relais.db"), balance=True, routing=True)
    # every ticket without a Team gets one value (a project's mapped team yields to a rule, not to the fallback)
    data["route"]["maintenance"] = [
        {"name": "all support", "when": {"project": "SUP"}, "to": "core"},
        {"fallback": "core"},
    ]
    config = tmp_path / "relais.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    unowned = sandbox.jira.routing_plan.unowned  # seeded without a Team (and, like all, without a Work type)
    assert len(unowned) >= BULK_MIN
    engine = make_engine(sandbox, config)
    try:
        first = engine.run_cycle(apply=True)
        assert first.errors == {} and first.failed_writes == 0
        ids = {sandbox.jira.get_record(k)["id"]: k for k in unowned}
        # a Work type a person set before relais is kept (SUP-3's, seeded against the rules)
        kept = {k["item"].split(":", 1)[1] for k in first.kept if k["field"] == "work_type"}
        fields = {i: {c.field for c in first.planned if c.source == "jira" and c.item_id == i} for i in ids}
        assert all(
            {"team"} | ({"work_type"} - ({"work_type"} if i in kept else set())) <= f
            for i, f in fields.items()
        ), fields
        puts = {r.path.rsplit("/", 1)[1] for r in sandbox.log if r.vendor == "jira" and r.method == "PUT"}
        assert puts.isdisjoint(ids), sorted(puts & set(ids))
        for key in unowned:
            held = sandbox.jira.get_issue(key)["fields"]
            kept_here = sandbox.jira.get_record(key)["id"] in kept
            assert (held[WORK_TYPE]["value"] == "RUN" or kept_here) and held[TEAM]["value"] == "core", (
                key,
                held,
            )
        assert engine.run_cycle(apply=True).writes == 0
    finally:
        engine.close()
