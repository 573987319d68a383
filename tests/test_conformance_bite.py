"""The conformance checks are not vacuous: the sandbox's own `bad_item` fault, served over
real HTTPS, must make the checks of tests/test_conformance_jira.py, _notion.py and
_pagerduty.py fail.
"""

from __future__ import annotations

import pytest

# The shared fixtures (its __all__): pytest finds a fixture by its name in the module.
from conformance_support import *  # noqa: F403
from conformance_support import JIRA_FIELDS, call, jira_search_checks, notion_conforms, pd_list_checks


def test_checks_catch_a_broken_item_served_by_the_sandbox(sb, jira, pd, notion, jira_project, notion_ids):
    """The sandbox's own `bad_item` fault (one list item loses a key relais reads)
    must be caught by the very checks the conformance tests rely on — proof that they are
    not vacuous against real sandbox output."""
    fail = pytest.fail.Exception
    sb.faults.add("jira", "bad_item", count=1, path=r"/search/jql$")
    r = call(
        jira,
        "GET",
        "/rest/api/3/search/jql",
        200,
        params={"jql": f"project = {jira_project}", "maxResults": 5, "fields": ",".join(JIRA_FIELDS)},
    )
    with pytest.raises(fail, match=r"/issues/\d+/fields: missing"):
        jira_search_checks(r, JIRA_FIELDS)

    sb.faults.add("pagerduty", "bad_item", count=1, path=r"^/incidents$")
    r = call(pd, "GET", "/incidents", 200, params={"limit": 5, "date_range": "all"})
    with pytest.raises(fail, match=r"/incidents/\d+/service: missing"):
        pd_list_checks(r, "incidents", total=False)

    dsid = notion_ids["data_source"]["briefings"]
    sb.faults.add("notion", "bad_item", count=1, path=r"/query$")
    r = call(notion, "POST", f"/v1/data_sources/{dsid}/query", 200, json={"page_size": 5})
    with pytest.raises(fail, match=r"/results/\d+/properties: missing"):
        notion_conforms(r, "list")
