"""Verify downloaded receipts against downloaded public records, with no server and no Django.

    python -m ledger.offline receipts.json records.txt

``receipts.json`` is ``/c/<slug>/receipts.json`` (or ``{receipts: [...]}`` pages of ``user/receipts``),
``records.txt`` is ``/c/<slug>/public/records.txt``. Per receipt it checks both signatures (and, when the
receipt carries one, the identity key's certificate of the key that signed it), that the
receipt's hash is the RECEIPT_HASH of its record (line ``receipt_id + 1``), that the record's amount and
time are the receipt's, and that the receipt's LEDGER_HASH is the previous record's (GENESIS for 0);
and that the records run from receipt 0 without a gap. Exit code 0 when everything verifies.

Needs only the standard library, ``cryptography``, ``ledger.formats`` and ``core.crypto.signatures``.
"""

import json
import sys

from core.crypto import p256, signatures
from ledger import formats


def receipt_problem(
    text: str,
    member_signature: bytes,
    server_signature: bytes,
    *,
    member_key: str,
    server_key: str,
    record: formats.Record | None,
    previous: formats.Record | None,
    identity_key: str = "",
    certificate: bytes = b"",
) -> str | None:
    """Why a receipt does not hold against its record and the one before it (None when it holds).

    ``member_key`` signed it; when ``certificate`` is given, ``identity_key`` must have certified ``member_key``.
    """
    try:
        receipt = formats.parse_receipt(text)
    except ValueError as exc:
        return f"malformed receipt: {exc}"
    if record is None or record.receipt_id != receipt.receipt_id:
        return "no public record for this receipt"
    if not p256.signature_valid(member_key, member_signature, text.encode()):
        return "member signature invalid"
    if certificate and not signatures.receipt_key_certified(identity_key, member_key, certificate):
        return "receipt key not certified by the member's identity key"
    if not signatures.server_signature_valid(
        server_key, server_signature, formats.server_signed_bytes(text, member_signature)
    ):
        return "server signature invalid"
    if formats.receipt_hash(text, member_signature, server_signature) != record.receipt_hash:
        return "receipt hash differs from the public record"
    if (record.amount, record.utc) != (receipt.amount, receipt.utc):
        return "amount or time differs from the public record"
    expected = previous.ledger_hash if previous is not None else formats.GENESIS
    if receipt.ledger_hash != expected or (previous is None) != (receipt.receipt_id == 0):
        return "ledger hash differs from the previous public record"
    return None


def chain_problem(records: list[formats.Record]) -> str | None:
    """The records must be receipts 0..n in order, nothing missing or repeated."""
    for position, record in enumerate(records):
        if record.receipt_id != position:
            return f"records are not continuous: line {position + 1} is receipt {record.receipt_id}"
    return None


def verify(document: dict, record_lines: list[str]) -> tuple[list[tuple[object, str | None]], str | None]:
    """``([(receipt_id, problem or None), ...], problem of the records file or None)``."""
    try:
        records = [formats.parse_record(line) for line in record_lines if line]
    except ValueError as exc:
        return [], f"malformed records: {exc}"
    chain = chain_problem(records)
    results = []
    for item in document.get("receipts", []):
        receipt_id = item.get("receipt_id")
        try:
            member_signature = bytes.fromhex(item["member_signature"])
            server_signature = bytes.fromhex(item["server_signature"])
            server_key = item.get("server_public_key") or document["server_public_key"]
            position = int(item["receipt_id"])
            problem = receipt_problem(
                item["text"],
                member_signature,
                server_signature,
                member_key=item["member_public_key"],
                identity_key=item.get("identity_public_key", ""),
                certificate=bytes.fromhex(item.get("key_certificate", "")),
                server_key=server_key,
                record=records[position] if 0 <= position < len(records) else None,
                previous=records[position - 1] if 0 < position <= len(records) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"malformed receipt: {exc!r}"
        results.append((receipt_id, problem))
    return results, chain


def report(results: list[tuple[object, str | None]], chain: str | None, out=sys.stdout) -> int:
    """Print one line per receipt and a summary; the exit code (0 when all verify)."""
    lines = [f"receipt {receipt_id}: {problem or 'OK'}" for receipt_id, problem in results]
    if chain:
        lines.append(f"records: {chain}")
    bad = sum(1 for _, problem in results if problem)
    lines.append(
        f"{len(results) - bad} of {len(results)} receipts verified" + ("; records file invalid" if chain else "")
    )
    out.write("".join(f"{line}\n" for line in lines))
    return 1 if bad or chain else 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m ledger.offline receipts.json records.txt", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as receipts, open(argv[1], encoding="utf-8") as records:
        document, lines = json.load(receipts), records.read().splitlines()
    return report(*verify(document, lines))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
