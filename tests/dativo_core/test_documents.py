import pytest

from dativo_core.documents import DocumentError, load_document, validate_document

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "files": {"type": "array", "items": {"type": "object", "required": ["path"]}},
    },
}


def test_yaml_and_json_load(tmp_path):
    (tmp_path / "a.yaml").write_text("name: x\nfiles:\n  - path: a.csv\n")
    (tmp_path / "a.json").write_text('{"name": "y"}')
    assert load_document(tmp_path / "a.yaml") == {"name": "x", "files": [{"path": "a.csv"}]}
    assert load_document(tmp_path / "a.json") == {"name": "y"}


def test_errors_name_file_and_path(tmp_path):
    with pytest.raises(DocumentError, match=r"job.yaml at \$.files\[1\]: 'path' is a required property"):
        validate_document({"name": "x", "files": [{"path": "a"}, {}]}, SCHEMA, "job.yaml")
    with pytest.raises(DocumentError, match=r"job.yaml at \$.name: 3 is not of type 'string'"):
        validate_document({"name": 3}, SCHEMA, "job.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(DocumentError, match=r"(?s)bad.yaml: not valid YAML: .*line 2"):
        load_document(tmp_path / "bad.yaml")
    with pytest.raises(DocumentError, match="missing.yaml: cannot read the file"):
        load_document(tmp_path / "missing.yaml")


def test_a_yaml_error_names_the_place_but_never_quotes_the_line(tmp_path):
    (tmp_path / "job.yaml").write_text('tenant: acme\nsource:\n  password: "hunter2-very-secret\n  user: x\n')
    with pytest.raises(DocumentError) as failed:
        load_document(tmp_path / "job.yaml")
    message = str(failed.value)
    assert "hunter2" not in message
    assert "while scanning a quoted scalar (line 3, column 13)" in message


def test_validation_fills_in_no_defaults():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 5}}}
    document = {}
    validate_document(document, schema, "x.yaml")
    assert document == {}
    with pytest.raises(DocumentError, match=r"x.yaml at \$.n: 'a' is not of type 'integer'"):
        validate_document({"n": "a"}, schema, "x.yaml")
