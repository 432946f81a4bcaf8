"""A member downloads receipts.json and records.txt and verifies them offline (ledger.offline, verify_receipts)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from ledger import formats, offline
from tests.factories import PASSWORD


@pytest.fixture
def downloads(books, tmp_path) -> tuple[Path, Path]:
    """Alice's receipts.json (signed in on the web) and the public records.txt (anyone), saved to files."""
    alice = Client()
    assert alice.login(username=books.alice.member.user.username, password=PASSWORD)
    response = alice.get("/c/river/receipts.json")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    records = Client().get("/c/river/public/records.txt")
    receipts_file, records_file = tmp_path / "receipts.json", tmp_path / "records.txt"
    receipts_file.write_bytes(response.content)
    records_file.write_bytes(b"".join(records.streaming_content))
    return receipts_file, records_file


def run(*files: Path) -> subprocess.CompletedProcess:
    """``python -m ledger.offline`` in a fresh interpreter with no Django settings."""
    return subprocess.run(
        [sys.executable, "-m", "ledger.offline", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_downloaded_receipts_verify_offline(books, downloads):
    document = json.loads(downloads[0].read_text())
    assert document["community"] == "river" and len(document["receipts"]) == 3
    result = run(*downloads)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 3 and "3 of 3 receipts verified" in result.stdout


def test_offline_imports_no_django():
    result = subprocess.run(
        [sys.executable, "-c", "import sys, ledger.offline; print('django' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )
    assert result.stdout.strip() == "False", result.stderr


def flip(text: str, at: int) -> str:
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :]


def test_a_changed_receipt_is_reported_and_fails(books, downloads):
    receipts_file, records_file = downloads
    document = json.loads(receipts_file.read_text())
    changed = document["receipts"][1]
    changed["text"] = flip(changed["text"], changed["text"].index("|") + 1 + len("alice@river|") - 3)
    receipts_file.write_text(json.dumps(document))
    result = run(receipts_file, records_file)
    assert result.returncode == 1
    assert f"receipt {changed['receipt_id']}: member signature invalid" in result.stdout
    assert result.stdout.count(": OK") == 2 and "2 of 3 receipts verified" in result.stdout


def test_a_changed_record_fails_the_receipt_it_belongs_to(books, downloads):
    receipts_file, records_file = downloads
    receipt = json.loads(receipts_file.read_text())["receipts"][0]
    lines = records_file.read_text().splitlines()
    line = lines[receipt["receipt_id"]]
    lines[receipt["receipt_id"]] = flip(line, len(line) - 1)  # a byte of its RECEIPT_HASH
    records_file.write_text("\n".join(lines) + "\n")
    result = run(receipts_file, records_file)
    assert result.returncode == 1
    assert f"receipt {receipt['receipt_id']}: receipt hash differs from the public record" in result.stdout


def test_a_gap_in_the_records_fails(books, downloads):
    receipts_file, records_file = downloads
    lines = records_file.read_text().splitlines()
    records_file.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    result = run(receipts_file, records_file)
    assert result.returncode == 1 and "records are not continuous: line 2 is receipt 2" in result.stdout


def test_a_receipt_checked_against_the_wrong_previous_record_fails(books, downloads):
    receipts_file, records_file = downloads
    records = [formats.parse_record(line) for line in records_file.read_text().splitlines()]
    item = next(r for r in json.loads(receipts_file.read_text())["receipts"] if r["receipt_id"] > 0)
    problem = offline.receipt_problem(
        item["text"],
        bytes.fromhex(item["member_signature"]),
        bytes.fromhex(item["server_signature"]),
        member_key=item["member_public_key"],
        server_key=item["server_public_key"],
        record=records[item["receipt_id"]],
        previous=records[item["receipt_id"]]._replace(ledger_hash="f" * 64),
    )
    assert problem == "ledger hash differs from the previous public record"


def test_the_management_command_verifies_against_a_file_or_the_database(books, downloads, capsys):
    receipts_file, records_file = downloads
    call_command("verify_receipts", str(receipts_file), "--records", str(records_file))
    call_command("verify_receipts", str(receipts_file))  # records from this instance's database
    assert capsys.readouterr().out.count("3 of 3 receipts verified") == 2

    document = json.loads(receipts_file.read_text())
    document["receipts"][0]["server_signature"] = document["receipts"][1]["server_signature"]
    receipts_file.write_text(json.dumps(document))
    with pytest.raises(CommandError):
        call_command("verify_receipts", str(receipts_file))
    assert "server signature invalid" in capsys.readouterr().out


def test_receipts_json_needs_a_signed_in_member(books, client):
    response = client.get("/c/river/receipts.json")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_receipts_page_links_both_downloads(books):
    alice = Client()
    assert alice.login(username=books.alice.member.user.username, password=PASSWORD)
    page = alice.get("/c/river/receipts/").content.decode()
    assert 'href="/c/river/receipts.json"' in page and 'href="/c/river/public/records.txt"' in page
