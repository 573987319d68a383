"""Whatever bytes the file holds, load_settings raises ConfigError with placed problems — never anything else."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from sync.settings import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "relais.example.yaml"
SHAPE = re.compile(r"^[^:]+:\d+: \S+: .+")

GARBAGE: dict[str, bytes] = {
    "png_header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "invalid_utf8": b"version: 1\ntimezone: \xff\xfe Paris\n",
    "nul_byte": b"version: 1\x00\n",
    "top_level_list": b"- version: 1\n- timezone: UTC\n",
    "top_level_scalar": b"just some text\n",
    "deeply_nested_flow": b"classify: " + b"[" * 5000 + b"]" * 5000,
    "deeply_nested_block": "".join(f"{'  ' * i}k{i}:\n" for i in range(200)).encode(),
    "alias_bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    ),
    "recursive_anchor": b"teams: &t\n  core: *t\n",
    "when_is_a_string": b"version: 1\ntimezone: UTC\nsources: {pagerduty: {services: [P1], from_email: a@b.co}}\n"
    b"classify:\n  - {name: x, when: pagerduty, then: RUN}\n  - default: BUILD\n",
    "classify_is_a_mapping": b"version: 1\ntimezone: UTC\nclassify: {default: BUILD}\n",
    "teams_is_a_list": b"version: 1\ntimezone: UTC\nteams: [a, b]\npeople: 3\nclassify: [default: BUILD]\n",
    "python_object_tag": b"version: !!python/object/apply:os.system [echo hi]\n",
    "unknown_tag": b"version: !env RELAIS_VERSION\n",
    "two_documents": b"version: 1\n---\nversion: 2\n",
    "complex_key": b"? [a, b]\n: c\n",
    "impossible_date": b"version: 1\ntimezone: 2024-02-30\n",
    "everything_null": b"version:\ntimezone:\nstate:\nsources:\npeople:\nteams:\nclassify:\nwriteback:\n",
    "numbers_for_names": b"version: 1.5\ntimezone: 2\nsources: {jira: {url: 5, jql: 6}}\nclassify: [1, 2]\n",
    "utf16_bom": "version: 1\n".encode("utf-16"),
}


@pytest.mark.parametrize("content", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_a_config_error_with_placed_problems(tmp_path, content):
    path = tmp_path / "relais.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems
    for problem in caught.value.problems:
        assert SHAPE.match(str(problem)), str(problem)
        assert "please report this bug" not in problem.message


def test_a_directory_instead_of_a_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(tmp_path)


def test_randomly_damaged_copies_of_the_example_never_escape_as_other_exceptions(tmp_path):
    original = EXAMPLE.read_bytes()
    rng = random.Random(20240611)  # fixed: the same 200 files every run
    path = tmp_path / "relais.yaml"
    refused = 0
    for _ in range(200):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(damaged))
            if rng.random() < 0.5:
                damaged[at : at + 1] = bytes([rng.choice(b" \t\n:-[]{},&*!|>'\"#0aZ\xff")])
            else:
                del damaged[at : at + rng.randint(1, 12)]
        path.write_bytes(bytes(damaged))
        try:
            load_settings(path)
        except ConfigError as error:
            refused += 1
            assert all(SHAPE.match(str(p)) for p in error.problems), str(error)
            assert "please report this bug" not in str(error)
    # the damage is real: many copies must be refused (the rest were damaged in comments, which the
    # example has more of since it explains writeback.adopt and RE2: 56 of the same 200 copies)
    assert refused > 50
