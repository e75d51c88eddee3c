"""Golden-set loading: formats, clear errors with file and line, and case hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thinllm.evals import Case, CaseFileError, load_cases


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestLoadCases:
    def test_jsonl_reads_every_field(self, tmp_path: Path) -> None:
        """A JSONL golden set gives cases with id, input, expected, tags, metadata, critical."""
        path = write(
            tmp_path,
            "g.jsonl",
            '{"id": "a", "input": "hi", "expected": "yo", "tags": ["t"], "metadata": {"k": 1}, '
            '"critical": true}\n\n{"id": 2, "input": [{"role": "user", "content": "x"}]}\n',
        )
        a, b = load_cases(path)
        assert Case("a", "hi", "yo", ("t",), {"k": 1}, True) == a
        assert "2" == b.id
        assert f"{path}:1" == a.source

    def test_json_list_and_wrapper(self, tmp_path: Path) -> None:
        """A JSON list or a {"cases": [...]} object both load."""
        listed = write(tmp_path, "l.json", json.dumps([{"id": "a", "input": "x"}]))
        wrapped = write(tmp_path, "w.json", json.dumps({"cases": [{"id": "b", "input": "y"}]}))
        assert ["a"] == [c.id for c in load_cases(listed)]
        assert ["b"] == [c.id for c in load_cases(wrapped)]

    def test_json_error_names_the_line_of_the_item(self, tmp_path: Path) -> None:
        """A bad item in a JSON list is reported with its line number."""
        path = write(tmp_path, "g.json", '[\n {"id": "a", "input": "x"},\n {"id": "b"}\n]')
        with pytest.raises(CaseFileError, match=r"g\.json:3: case 'b': missing 'input'"):
            load_cases(path)

    def test_csv_with_template_variables(self, tmp_path: Path) -> None:
        """CSV columns input.<name> become template variables; tags split on commas."""
        path = write(
            tmp_path,
            "g.csv",
            'id,input.question,expected,tags,critical\nq1,2+2?,4,"math,easy",yes\nq2,3+3?,6,,\n',
        )
        q1, q2 = load_cases(path)
        assert {"question": "2+2?"} == q1.input
        assert ("math", "easy") == q1.tags
        assert q1.critical
        assert not q2.critical
        assert f"{path}:3" == q2.source

    def test_yaml_with_line_numbers(self, tmp_path: Path) -> None:
        """YAML cases load, and errors point at the item's line."""
        path = write(tmp_path, "g.yaml", "- id: a\n  input: x\n- id: a\n  input: y\n")
        with pytest.raises(
            CaseFileError, match=r"g\.yaml:3: duplicate id 'a' \(first at .*g\.yaml:1\)"
        ):
            load_cases(path)

    def test_yaml_cases_key(self, tmp_path: Path) -> None:
        """A YAML mapping with a cases: list loads."""
        path = write(tmp_path, "g.yml", "cases:\n  - id: a\n    input: x\n    expected: 1\n")
        assert 1 == load_cases(path)[0].expected

    def test_duplicate_ids_name_both_lines(self, tmp_path: Path) -> None:
        """A duplicate id says where the first one was."""
        path = write(tmp_path, "g.jsonl", '{"id": "a", "input": "x"}\n{"id": "a", "input": "y"}\n')
        with pytest.raises(
            CaseFileError, match=r"g\.jsonl:2: duplicate id 'a' \(first at .*g\.jsonl:1\)"
        ):
            load_cases(path)

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            pytest.param('{"input": "x"}', "missing 'id'", id="no-id"),
            pytest.param('{"id": "a"}', "missing 'input'", id="no-input"),
            pytest.param('{"id": "a", "input": "x", "expcted": 1}', "unknown field", id="typo"),
            pytest.param('{"id": "a", "input": 3}', "'input' must be text", id="bad-input"),
            pytest.param('{"id": "a", "input": [{"role": "x"}]}', "message #1", id="bad-message"),
            pytest.param(
                '{"id": "a", "input": "x", "critical": "maybe"}', "critical", id="critical"
            ),
            pytest.param('{"id": "a", "input": "x", "tags": [1]}', "tags", id="tags"),
            pytest.param('{"id": "a", "input": "x"', "invalid JSON", id="json"),
            pytest.param("[1]", "must be an object", id="not-object"),
        ],
    )
    def test_bad_records_are_reported_with_file_and_line(
        self, tmp_path: Path, line: str, message: str
    ) -> None:
        """Each kind of bad record is named, with the file and line it is on."""
        path = write(tmp_path, "g.jsonl", '{"id": "ok", "input": "fine"}\n' + line + "\n")
        with pytest.raises(CaseFileError, match=message) as caught:
            load_cases(path)
        assert caught.value.problems[0][0] == f"{path}:2"

    def test_all_problems_are_reported_at_once(self, tmp_path: Path) -> None:
        """Every bad line is listed, not just the first."""
        path = write(tmp_path, "g.jsonl", '{"id": "a"}\n{"id": "b"}\n')
        with pytest.raises(CaseFileError) as caught:
            load_cases(path)
        assert 2 == len(caught.value.problems)

    def test_unknown_format_and_missing_file(self, tmp_path: Path) -> None:
        """An unknown extension or a missing file is a clear error."""
        with pytest.raises(CaseFileError, match="unknown format"):
            load_cases(write(tmp_path, "g.txt", "x"))
        with pytest.raises(CaseFileError, match="file not found"):
            load_cases(tmp_path / "missing.jsonl")

    def test_empty_set_is_an_error(self, tmp_path: Path) -> None:
        """A golden set with no cases is refused rather than passing vacuously."""
        with pytest.raises(CaseFileError, match="no cases"):
            load_cases(write(tmp_path, "g.jsonl", "\n"))

    def test_in_memory_cases(self) -> None:
        """Dicts and Case objects load without a file."""
        cases = load_cases([{"id": "a", "input": "x"}, Case("b", "y")])
        assert ["a", "b"] == [c.id for c in cases]


class TestCaseHash:
    def test_hash_follows_input_expected_and_graders(self) -> None:
        """Editing input, expected or the graders changes the hash; tags and metadata do not."""
        base = Case("a", "x", "y")
        assert base.hash_with("g1") == Case("a", "x", "y", ("t",), {"m": 1}).hash_with("g1")
        assert base.hash_with("g1") != Case("a", "x2", "y").hash_with("g1")
        assert base.hash_with("g1") != Case("a", "x", "y2").hash_with("g1")
        assert base.hash_with("g1") != base.hash_with("g2")
