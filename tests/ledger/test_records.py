"""Public records: anyone may page through a community's records (JSON) or download them (text)."""

from ledger.models import Entry


def records_of(community) -> list[str]:
    return list(Entry.objects.filter(community=community).order_by("receipt_id").values_list("record", flat=True))


def as_line(record: dict) -> str:
    return "|".join(str(record[k]) for k in ("type", "utc", "receipt_id", "amount", "ledger_hash", "receipt_hash"))


def test_records_page_through_in_receipt_order_without_signing_in(books, api_client):
    expected = records_of(books.community)
    assert len(expected) >= 5
    seen, page = [], api_client.get("/c/river/api/public/records", {"limit": 2}).json()
    while True:
        assert len(page["records"]) <= 2
        seen += [as_line(record) for record in page["records"]]
        if not page["next"]:
            break
        assert "after=" in page["next"]
        page = api_client.get(page["next"]).json()
    assert seen == expected
    assert api_client.get("/c/river/api/public/records", {"after": 0}).json()["records"][0]["receipt_id"] == 1
    assert api_client.get("/c/river/api/public/records", {"after": 2**63 - 1}).json() == {"records": [], "next": None}


def test_another_communitys_records_are_never_mixed_in(books, api_client):
    lake = [as_line(r) for r in api_client.get("/c/lake/api/public/records").json()["records"]]
    assert lake == records_of(books.ann.member.community) and lake
    assert not set(lake) & set(records_of(books.community))


def test_an_unknown_community_has_no_records(db, api_client):
    assert api_client.get("/c/nowhere/api/public/records").status_code == 404
    assert api_client.get("/c/nowhere/public/records.txt").status_code == 404


def test_a_bad_cursor_is_named(books, api_client):
    for params in ({"after": "-1"}, {"after": "x"}, {"limit": "0"}):
        response = api_client.get("/c/river/api/public/records", params)
        assert response.status_code == 400 and response.json()["error"]["fields"].keys() == params.keys()


def test_records_txt_streams_one_line_per_record(books, client):
    response = client.get("/c/river/public/records.txt")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/plain")
    assert b"".join(response.streaming_content).decode().splitlines() == records_of(books.community)
