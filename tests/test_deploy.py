"""The container examples hold together: probes on the endpoints relais serves at the port it listens on,
the Secret names the variables relais reads, the state volume is where the config puts the state.
(No container engine here: the files are parsed and checked against relais' own settings.)"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import yaml

from sync.settings import load_settings, resolve_secrets, state_location
from sync.settings._daemon import split_listen
from sync.settings._secrets import SECRET_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _manifest() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text())}


def _settings(text: str, tmp_path: Path):
    path = tmp_path / "relais.yaml"
    path.write_text(text)
    return load_settings(path)


def test_the_kubernetes_config_map_is_the_container_config_and_is_valid(tmp_path: Path):
    text = _manifest()["ConfigMap"]["data"]["relais.yaml"]
    assert text == (DEPLOY / "config" / "relais.yaml").read_text()
    settings = _settings(text, tmp_path)
    assert split_listen(settings.daemon.http.listen) == ("0.0.0.0", 8765)


def test_the_deployment_probes_the_health_endpoints_on_the_configured_port(tmp_path: Path):
    manifest = _manifest()
    settings = _settings(manifest["ConfigMap"]["data"]["relais.yaml"], tmp_path)
    port = split_listen(settings.daemon.http.listen)[1]
    spec = manifest["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["ports"][0]["containerPort"] == port
    assert pod["terminationGracePeriodSeconds"] > settings.daemon.stop_seconds
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # The config is the ConfigMap, mounted as a folder so that edits reach the running daemon.
    config_mount = next(n for n, v in volumes.items() if "configMap" in v)
    assert volumes[config_mount]["configMap"]["name"] == manifest["ConfigMap"]["metadata"]["name"]
    assert PurePosixPath(env["RELAIS_CONFIG"]) == PurePosixPath(mounts[config_mount]) / "relais.yaml"
    # The state is on the PersistentVolumeClaim.
    state_mount = next(n for n, v in volumes.items() if "persistentVolumeClaim" in v)
    assert (
        volumes[state_mount]["persistentVolumeClaim"]["claimName"]
        == manifest["PersistentVolumeClaim"]["metadata"]["name"]
    )
    assert PurePosixPath(settings.state.path).parent == PurePosixPath(mounts[state_mount])
    # The image's user.
    uid = re.search(r"--uid (\d+)", (ROOT / "Dockerfile").read_text()).group(1)
    assert pod["securityContext"]["runAsUser"] == int(uid)


def test_the_secret_holds_what_relais_reads_and_nothing_else(tmp_path: Path):
    manifest = _manifest()
    secret = manifest["Secret"]
    (container,) = manifest["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert set(secret["stringData"]) <= set(SECRET_VARIABLES)
    settings = _settings(manifest["ConfigMap"]["data"]["relais.yaml"], tmp_path)
    secrets = resolve_secrets(
        settings, environ=secret["stringData"]
    )  # every secret the config needs is there
    assert secrets.jira_api_token and not settings.daemon.webhooks.enabled()  # webhooks are opt-in
    # Switched on as the comments say, the commented keys are the secrets the webhooks need.
    hooked = _settings(_switched_on(manifest["ConfigMap"]["data"]["relais.yaml"]), tmp_path)
    commented = dict(
        re.findall(r"#\s*([A-Z_]+_WEBHOOK_SECRET): (\S+)", (DEPLOY / "kubernetes.yaml").read_text())
    )
    secrets = resolve_secrets(hooked, environ={**secret["stringData"], **commented})
    assert set(hooked.daemon.webhooks.enabled()) == {"jira", "pagerduty"}
    assert secrets.jira_webhook_secret and secrets.pagerduty_webhook_secret


def _switched_on(config: str) -> str:
    """The config with its commented webhooks block uncommented, as its comment tells the operator."""
    return re.sub(r"(?m)^(\s*)# (webhooks:|  (?:pagerduty|jira): \{path)", r"\1\2", config)


def test_the_compose_example_mounts_the_config_and_the_state(tmp_path: Path):
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["relais"]
    settings = load_settings(DEPLOY / "config" / "relais.yaml")
    volumes = {v.split(":")[0]: v.split(":")[1] for v in service["volumes"]}  # source -> mount point
    assert PurePosixPath(service["environment"]["RELAIS_CONFIG"]).parent == PurePosixPath(volumes["./config"])
    assert volumes["relais-state"] == str(PurePosixPath(settings.state.path).parent)
    assert "relais-state" in compose["volumes"]
    port = split_listen(settings.daemon.http.listen)[1]
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    files = {k[:-5]: v for k, v in service["environment"].items() if k.endswith("_FILE")}
    assert set(files) <= set(SECRET_VARIABLES)
    assert {f"/run/secrets/{s}" for s in service["secrets"]} == set(files.values())
    environ = {f"{name}_FILE": str(tmp_path / name) for name in files}
    for name in files:
        (tmp_path / name).write_text("a-value-for-the-test\n")
    resolve_secrets(settings, environ=environ)  # every secret the config needs is a compose secret
    # No webhook secret is demanded as shipped; switched on, the commented ones are what they need.
    assert not any("WEBHOOK" in name for name in files)
    text = (DEPLOY / "docker-compose.yml").read_text()
    hooked_files = dict(re.findall(r"#\s*([A-Z_]+_WEBHOOK_SECRET)_FILE: (\S+)", text))
    assert {f"/run/secrets/{s}" for s in re.findall(r"#\s*- (\w+_webhook_secret)", text)} == set(
        hooked_files.values()
    )
    hooked = _settings(_switched_on((DEPLOY / "config" / "relais.yaml").read_text()), tmp_path)
    for name in hooked_files:
        (tmp_path / name).write_text("a-value-for-the-test\n")
    resolve_secrets(hooked, environ={**environ, **{f"{n}_FILE": str(tmp_path / n) for n in hooked_files}})


def test_the_build_context_leaves_out_the_venv_the_tests_and_the_sandbox():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", "sandbox", "benchmarks"} <= set(ignored)
    copied = re.findall(r"^COPY (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert copied and not set(copied) & set(ignored)  # what the image needs is in the context


def test_the_dockerfile_exposes_the_port_and_keeps_the_state_on_a_volume():
    text = (ROOT / "Dockerfile").read_text()
    settings = load_settings(DEPLOY / "config" / "relais.yaml")
    assert f"EXPOSE {split_listen(settings.daemon.http.listen)[1]}" in text
    assert f'VOLUME ["{PurePosixPath(settings.state.path).parent}"]' in text
    assert 'CMD ["relais", "run"]' in text and "USER relais" in text


# -- two replicas on PostgreSQL (issue 16) ---------------------------------------------------------
def test_the_replicated_manifest_runs_two_replicas_rolling_with_a_budget_and_the_url_in_the_secret(
    tmp_path: Path,
):
    docs = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "kubernetes-replicas.yaml").read_text())}
    assert docs["ConfigMap"]["data"]["relais.yaml"] == (DEPLOY / "config" / "relais.yaml").read_text()
    spec = docs["Deployment"]["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    labels = spec["template"]["metadata"]["labels"]
    budget = docs["PodDisruptionBudget"]["spec"]
    assert budget["minAvailable"] == 1 and budget["selector"]["matchLabels"] == labels
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert "persistentVolumeClaim" not in volumes["state"]  # no state tied to a node
    # the store's URL (with its password) comes from the Secret, and relais takes it from there
    environ = dict(docs["Secret"]["stringData"])
    settings = _settings(docs["ConfigMap"]["data"]["relais.yaml"], tmp_path)
    resolve_secrets(settings, environ=environ)
    assert str(state_location(settings, environ)).startswith("postgresql://relais:")
    assert not any("postgresql://" in line for line in docs["ConfigMap"]["data"]["relais.yaml"].splitlines())


def test_the_replicated_compose_file_has_postgres_and_two_relais_on_its_url(tmp_path: Path):
    compose = yaml.safe_load((DEPLOY / "docker-compose-replicas.yml").read_text())
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("relais")}
    assert len(replicas) == 2
    assert len({tuple(s["ports"]) for s in replicas.values()}) == 2  # each its own host port
    for service in replicas.values():
        env = service["environment"]
        assert env["RELAIS_STATE_URL_FILE"] == "/run/secrets/state_url" and "state_url" in service["secrets"]
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        files = {k[:-5]: v for k, v in env.items() if k.endswith("_FILE")}
        assert {f"/run/secrets/{s}" for s in service["secrets"]} == set(files.values())
        environ = {f"{name}_FILE": str(tmp_path / name) for name in files}
        for name in files:
            value = "postgresql://relais:pw@postgres:5432/relais" if name == "RELAIS_STATE_URL" else "a-value"
            (tmp_path / name).write_text(value + "\n")
        settings = load_settings(DEPLOY / "config" / "relais.yaml")
        resolve_secrets(settings, environ=environ)
        assert str(state_location(settings, environ)) == "postgresql://relais:pw@postgres:5432/relais"
    postgres = services["postgres"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
