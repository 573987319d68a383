"""config/relais.schema.json is generated from the models and checks the example."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from sync.settings.schema import render

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "config" / "relais.schema.json"
EXAMPLE = ROOT / "config" / "relais.example.yaml"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text(encoding="utf-8")))


def test_committed_schema_is_what_the_models_generate():
    # If this fails: make schema (python -m sync.settings.schema > config/relais.schema.json)
    assert COMMITTED.read_text(encoding="utf-8") == render()


def test_schema_module_prints_the_schema():
    result = subprocess.run(
        [sys.executable, "-m", "sync.settings.schema"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout == render()


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "relais configuration"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_example_config_validates_against_the_schema():
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert list(_validator().iter_errors(example)) == []


def test_schema_flags_a_misspelt_condition_for_editors():
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    example["classify"][1]["when"] = {"isuetype": ["Bug"]}
    errors = list(_validator().iter_errors(example))
    assert errors
    assert any("isuetype" in error.message for error in errors)
