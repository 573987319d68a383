"""Bugs the reliability suite found, each pinned by the smallest test that shows it."""

from __future__ import annotations

import time

from reliability_support import converge, duplicates, engine_for, full_config, wait_until

from sandbox import Sandbox


def test_a_truncated_answer_to_a_write_is_retried_and_does_not_abort_the_cycle(tmp_path):
    # The PATCH landed but its answer was cut: an idempotent write is simply sent again.
    with Sandbox(seed=7, size="demo") as sb:
        sb.faults.add("notion", "malformed", count=1, method="PATCH")
        engine = engine_for(sb, full_config(sb, tmp_path))
        try:
            report = engine.run_cycle(apply=True)
        finally:
            engine.close()
        assert report.errors == {} and report.failed_writes == 0
        pages = {c.item_id for c in report.planned if c.source == "notion"}
        assert sb.count(vendor="notion", method="PATCH") == len(pages) + 1  # the cut answer, then again


def test_a_truncated_answer_to_a_create_waits_for_the_next_cycle_and_creates_nothing_twice(tmp_path):
    # The row was created but relais could not read the answer: never re-sent blindly, found by its Key.
    with Sandbox(seed=7, size="demo") as sb:
        sb.faults.add("notion", "malformed", count=1, method="POST", path="^/v1/pages$")
        engine = engine_for(sb, full_config(sb, tmp_path))
        try:
            first = engine.run_cycle(apply=True)
            assert set(first.errors) == {"notion"} and "not valid JSON" in first.errors["notion"]
            assert first.writes > 0  # the other sources' writes went through
            _, cycles = converge(engine)
        finally:
            engine.close()
        assert cycles <= 2
        assert sum(duplicates(sb).values()) == 0


def test_a_create_that_timed_out_is_not_made_again_while_the_server_may_still_be_on_it(tmp_path):
    # The server holds the POST past relais' 1 s timeout and creates the row 2.5 s later; relais
    # starts its next cycles at once (a restart): a miss is not trusted until the attempt has settled.
    def short_timeouts(cfg: dict) -> None:
        for source in cfg["sources"].values():
            source["timeout_seconds"] = 1.0

    with Sandbox(seed=7, size="demo") as sb:
        sb.faults.add("notion", "timeout", count=1, method="POST", path="^/v1/pages$", delay=2.5)
        engine = engine_for(sb, full_config(sb, tmp_path, short_timeouts))
        try:
            first = engine.run_cycle(apply=True)
            assert "ReadTimeout" in first.errors["notion"]
            second = engine.run_cycle(apply=True)  # at once: the held request has not landed yet
            assert second.errors == {} and len(second.creates_waiting) == 1
            assert wait_until(
                lambda: (
                    sum(duplicates(sb).values()) == 0
                    and sb.count(vendor="notion", method="POST", path_prefix="/v1/pages", status=200) == 12
                ),
                timeout=5,
            )
            _, cycles = converge(engine, between=lambda: time.sleep(0.5))
        finally:
            engine.close()
        assert cycles <= 2
        assert sum(duplicates(sb).values()) == 0


def test_an_item_readable_again_leaves_quarantine_even_when_its_content_is_what_was_stored(tmp_path):
    # A person breaks an issue's payload and then reverts the edit: the content equals what relais
    # stored before, but the item is readable again and must come out of quarantine.
    with Sandbox(seed=7, size="demo") as sb:
        engine = engine_for(sb, full_config(sb, tmp_path))
        try:
            engine.run_cycle(apply=True)
            issue = sb.jira.get_record("PAY-3")
            sb.tamper(
                "jira",
                lambda item: item["fields"].update(summary=12345) if item["id"] == issue["id"] else None,
            )
            sb.jira.edit_issue("PAY-3", {"summary": "Temporary title"})
            broken = engine.run_cycle(apply=True)
            assert [q["id"] for q in broken.quarantined] == [issue["id"]]
            sb.tamper("jira", None)
            sb.jira.edit_issue("PAY-3", {"summary": issue["summary"]})
            fixed = engine.run_cycle(apply=True)
        finally:
            engine.close()
        assert fixed.quarantined == [] and fixed.errors == {}


def test_a_write_whose_answer_was_lost_is_still_relais_own_when_the_rules_change(tmp_path):
    # The PUT landed but every answer was lost (a reset after the write): relais cannot know it landed.
    # Its audit keeps the write as 'sent', so the value the tool then shows is relais' own — not a
    # person's decision to keep when the rules later say otherwise (found by scenario 2's kills).
    from sandbox.jira.fields import WORK_TYPE, expected_work_type

    with Sandbox(seed=7, size="demo") as sb:
        engine = engine_for(
            sb, full_config(sb, tmp_path, lambda d: d["sources"]["jira"].update(bulk_edit=False))
        )
        try:
            key = next(
                k
                for k in sb.jira
                if (r := sb.jira.get_record(k))["issuetype"] in ("Story", "Task")
                and r[WORK_TYPE] is None
                and expected_work_type(r["issuetype"], r["labels"]) == "BUILD"
                and expected_work_type(r["issuetype"], [*r["labels"], "tech-debt"]) == "IMPROVE"
            )
            item_id = sb.jira.get_record(key)["id"]
            sb.faults.add("jira", "lost", method="PUT", path=f"/issue/{item_id}$", count=10)
            first = engine.run_cycle(apply=True)
            assert "jira" in first.errors and sb.jira.get_issue(key)["fields"][WORK_TYPE]["value"] == "BUILD"
            sb.faults.clear()
            converge(engine)
            labels = sb.jira.get_issue(key)["fields"]["labels"]
            sb.jira.edit_issue(key, {"labels": [*labels, "tech-debt"]})
            changed = engine.run_cycle(apply=True)
        finally:
            engine.close()
        assert sb.jira.get_issue(key)["fields"][WORK_TYPE]["value"] == "IMPROVE"
        assert not any(k["item"] == f"jira:{item_id}" for k in changed.kept)
