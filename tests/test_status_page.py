"""The status page, loaded in a real headless Chromium: the team charts and the recent writes render,
with no console error; and the page's switches (off, localhost by default)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from browser import Browser
from daemon_support import daemon_config, get, running_daemon

from sync.settings._daemon import Daemon as DaemonSettings

ROOT = Path(__file__).resolve().parents[1]


def test_the_status_page_renders_team_charts_and_recent_writes_in_a_browser(
    sandbox, tmp_path: Path, monkeypatch
):
    config = daemon_config(sandbox, tmp_path, interval=600)
    monkeypatch.chdir(tmp_path)  # the page names the config as given: `relais.yaml`, as a user would run it
    with running_daemon(sandbox, Path(config.name)) as daemon:
        teams = list(daemon.settings.teams)
        browser = Browser(tmp_path / "chromium")
        try:
            browser.open(daemon.url + "/")
            assert browser.problems() == []
            assert browser.evaluate("document.title") == "relais — status"
            charts = browser.evaluate(
                "[...document.querySelectorAll('figure.team')].map(f => [f.id, "
                "f.querySelectorAll('svg.chart rect').length])"
            )
            assert [c[0] for c in charts] == [f"team-{t}" for t in teams]
            assert all(bars >= 4 for _, bars in charts), charts  # a bar per class and week, at least
            rows = browser.evaluate(
                "[...document.querySelectorAll('#writes tbody tr')].map(r => r.innerText)"
            )
            assert len(rows) == 20 and all("applied" in r for r in rows)
            assert browser.evaluate("getComputedStyle(document.querySelector('svg.chart')).display") != "none"
            shot = tmp_path / "status-page.png"
            browser.screenshot(shot)
            assert shot.stat().st_size > 20_000
            if os.environ.get("RELAIS_UPDATE_SCREENSHOT"):
                shutil.copy(shot, ROOT / "docs" / "status-page.png")
        finally:
            browser.close()


def test_the_status_page_can_be_switched_off_and_listens_on_localhost_by_default(sandbox, tmp_path: Path):
    assert DaemonSettings().http.listen == "127.0.0.1:8765"
    config = daemon_config(
        sandbox, tmp_path, interval=600, tweak=lambda d: d["daemon"]["http"].update(status_page=False)
    )
    with running_daemon(sandbox, config) as daemon:
        assert get(daemon.url + "/")[0] == 404
        assert get(daemon.url + "/healthz")[0] == 200


def test_the_status_page_names_people_by_their_key(sandbox, tmp_path: Path):
    """The PMs relais wrote and the ones people set are shown by their `people:` key, not by the
    tools' user ids."""
    config = daemon_config(sandbox, tmp_path, interval=600, routing=True)
    with running_daemon(sandbox, config) as daemon:
        status, page, _ = get(daemon.url + "/")
        ids = {p.jira for p in daemon.settings.people.values()} | {
            p.notion for p in daemon.settings.people.values()
        }
    assert status == 200
    kept = page[page.index('id="kept"') : page.index('id="writes"')]
    assert [i for i in ids if i in page] == [] and "bruno" in kept
