"""`dativo validate` as a real process between a small tap and meltanolabs target-csv."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dativo_core.contracts.cli import CONFIG_KEYS

EXAMPLES = Path(__file__).parents[3] / "examples" / "contracts"
TARGET_CSV = str(Path(sys.executable).parent / "target-csv")

TAP = r"""
import json, sys
BAD = {int(x.split("=")[0]): x.split("=", 1)[1] for x in sys.argv[1:]}
base = dict(customer_id="8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60", customer_email="ann@example.com",
            channel="web", status="paid", quantity=2, amount=10.5, currency="EUR",
            order_date="2024-01-02", created_at="2024-01-02T10:00:00Z", gift_wrap=False,
            shipping_address={"street": "Main St 1", "city": "Berlin", "country": "DE"},
            coupon_codes=["SPRING"])
props = {k: {} for k in ["order_id", "external_ref", *base]}
out = [{"type": "SCHEMA", "stream": "orders", "schema": {"type": "object", "properties": props},
        "key_properties": ["order_id"]}]
for i in range(1, 21):
    row = {"order_id": i, "external_ref": f"AB-{i:06d}", **base}
    if i in BAD:
        field, value = BAD[i].split(":", 1)
        row[field] = json.loads(value)
    out.append({"type": "RECORD", "stream": "orders", "record": row})
    if i % 5 == 0:
        out.append({"type": "STATE", "value": {"bookmarks": {"orders": {"order_id": i}}}})
sys.stdout.write("".join(json.dumps(m) + "\n" for m in out))
"""


def pipeline(tmp_path, bad, *validate_args):
    """tap | dativo validate | target-csv: (mapper exit code, stderr, CSV rows, target states)."""
    (tmp_path / "tap.py").write_text(TAP)
    (tmp_path / "target.json").write_text(json.dumps({"output_path": str(tmp_path / "out")}))
    (tmp_path / "out").mkdir()
    errors = (tmp_path / "validate.err").open("wb")
    tap = subprocess.Popen([sys.executable, str(tmp_path / "tap.py"), *bad], stdout=subprocess.PIPE)
    mapper = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dativo_core.contracts.cli",
            "--contract",
            str(EXAMPLES / "orders.odcs.yaml"),
            *validate_args,
        ],
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=errors,
    )
    tap.stdout.close()
    target = subprocess.run(
        [TARGET_CSV, "--config", str(tmp_path / "target.json")],
        stdin=mapper.stdout,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    mapper.stdout.close()
    assert mapper.wait(timeout=60) is not None and tap.wait(timeout=60) == 0
    errors.close()
    assert target.returncode == 0, target.stderr.decode()
    out_file = tmp_path / "out" / "orders.csv"
    rows = list(csv.DictReader(out_file.open())) if out_file.exists() else []
    states = [json.loads(line) for line in target.stdout.decode().splitlines() if line.strip()]
    return mapper.returncode, (tmp_path / "validate.err").read_text(), rows, states


@pytest.mark.slow
def test_quarantine_between_a_tap_and_target_csv(tmp_path):
    bad = [
        '3=quantity:"three"',
        '7=customer_email:"not-an-email"',
        '12=status:"lost"',
        "15=order_id:14",
    ]
    rc, stderr, rows, states = pipeline(
        tmp_path,
        bad,
        "--policy",
        "quarantine",
        "--quarantine-file",
        str(tmp_path / "q.jsonl"),
        "--batch-rows",
        "4",
    )
    assert rc == 0, stderr
    loaded = [int(r["order_id"]) for r in rows]
    assert loaded == [i for i in range(1, 21) if i not in (3, 7, 12, 15)]
    assert rows[0]["customer_email"] == "ann@example.com"
    assert states[-1] == {"bookmarks": {"orders": {"order_id": 20}}}
    quarantined = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert [(q["record"]["order_id"], q["_dativo_rule"]) for q in quarantined] == [
        (3, "type"),
        (7, "format"),
        (12, "invalidValues"),
        (14, "primaryKey"),
    ]
    assert quarantined[0]["_dativo_source_line"] == 4  # SCHEMA is line 1
    assert "stream 'orders': 20 records checked, 4 broke the contract (quarantined)" in stderr
    for rule in ("format", "invalidValues", "primaryKey", "type"):
        assert f"    {rule}" in stderr


@pytest.mark.slow
def test_fail_stops_the_pipe_before_the_bad_record_and_its_state(tmp_path):
    rc, stderr, rows, states = pipeline(
        tmp_path, ["8=amount:-3"], "--policy", "fail", "--batch-rows", "2"
    )
    assert rc == 1
    assert (
        "line 10, stream 'orders', field 'amount': contract rule 'minimum' broken: -3.0 is below"
        in stderr
    )
    # orders 6..10 (between two STATEs) were checked together; none of them, nor the STATE
    # for order 10, reached the target
    assert [int(r["order_id"]) for r in rows] == [1, 2, 3, 4, 5]
    assert states[-1] == {"bookmarks": {"orders": {"order_id": 5}}}


@pytest.mark.slow
def test_warn_loads_everything(tmp_path):
    rc, stderr, rows, _ = pipeline(tmp_path, ['2=currency:"euro"'], "--policy", "warn")
    assert rc == 0
    assert len(rows) == 20
    assert "line 3, field 'currency': maxLength: 'euro' is longer than 3 characters" in stderr


def test_invalid_contract_is_refused_with_its_path(tmp_path):
    broken = (
        (EXAMPLES / "customers.odcs.yaml")
        .read_text()
        .replace("logicalType: boolean", "logicalType: bool")
    )
    (tmp_path / "c.yaml").write_text(broken)
    done = subprocess.run(
        [sys.executable, "-m", "dativo_core.contracts.cli", "--contract", str(tmp_path / "c.yaml")],
        input=b"",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "invalid contract" in done.stderr.decode()
    assert "at $.schema[0].properties[9].logicalType: 'bool' is not one of" in done.stderr.decode()


def test_contract_rules_that_cannot_run_are_refused_before_any_record(tmp_path):
    text = (EXAMPLES / "orders.odcs.yaml").read_text()
    (tmp_path / "c.yaml").write_text(text.replace('"^[A-Z]{3}$"', '"^(?=[A-Z])[A-Z]{3}$"'))
    done = subprocess.run(
        [sys.executable, "-m", "dativo_core.contracts.cli", "--contract", str(tmp_path / "c.yaml")],
        input=b'{"type": "STATE", "value": {}}\n',
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == b""
    assert "schema object 'orders': field 'currency': pattern" in done.stderr.decode()
    assert "not supported by the RE2 engine" in done.stderr.decode()


def test_quarantine_needs_a_file(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dativo_core.contracts.cli",
            "--contract",
            str(EXAMPLES / "orders.odcs.yaml"),
            "--policy",
            "quarantine",
        ],
        input=b"",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--quarantine-file" in done.stderr.decode()


def test_settings_from_a_config_file_as_meltano_passes_them(tmp_path):
    config = {
        "contract": str(EXAMPLES / "customers.odcs.yaml"),
        "policy": "quarantine",
        "quarantine_file": str(tmp_path / "q.jsonl"),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    good = {
        "customer_id": 1,
        "email": "a@b.co",
        "signed_up_at": "2024-01-01T00:00:00+01:00",
        "is_active": True,
        "preferred_contact_time": "08:00:00",
    }
    messages = [
        {"type": "RECORD", "stream": "crm_customers", "record": good},
        {"type": "RECORD", "stream": "crm_customers", "record": {**good, "customer_id": 2}},
        {"type": "STATE", "value": {"done": True}},
    ]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dativo_core.contracts.cli",
            "--config",
            str(tmp_path / "config.json"),
        ],
        input="".join(json.dumps(m) + "\n" for m in messages).encode(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert [json.loads(line)["type"] for line in done.stdout.splitlines()] == ["RECORD", "STATE"]
    [bad] = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert (bad["_dativo_rule"], bad["record"]["customer_id"]) == ("unique", 2)
    assert "email = 'a@b.co' appears more than once" in bad["_dativo_reason"]


def test_about_describes_the_config_file_keys_as_json_and_markdown():
    about = json.loads(
        subprocess.run(
            [sys.executable, "-m", "dativo_core.contracts.cli", "--about"],
            capture_output=True, check=True, timeout=60,
        ).stdout
    )
    settings = about["settings"]
    assert (about["name"], about["capabilities"], settings["required"]) == (
        "dativo-validate", ["about"], ["contract"]
    )
    assert list(settings["properties"]) == list(CONFIG_KEYS)
    assert settings["properties"]["policy"]["enum"] == ["fail", "quarantine", "warn"]
    assert settings["properties"]["policy"]["default"] == "fail"
    assert settings["properties"]["batch_rows"] == {
        "type": "integer", "minimum": 1, "default": 50000,
        "description": "Records checked together (uniqueness holds across batches).",
    }
    assert "default" not in settings["properties"]["quarantine_file"]
    markdown = subprocess.run(
        [sys.executable, "-m", "dativo_core.contracts.cli", "--about", "--format", "markdown"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert "| replace_schema | boolean | false | Forward the contract's schema" in markdown


def test_without_a_contract_the_usage_error_names_both_ways_to_give_one():
    done = subprocess.run(
        [sys.executable, "-m", "dativo_core.contracts.cli"], input=b"", capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert "Missing option '--contract' (or `contract` in the --config file)" in done.stderr.decode()
