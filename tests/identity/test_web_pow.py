"""The identity page's proof of work: static/identity/pow.js (SHA-256 and the solver, run here under
Node against hashlib and identity.pow), its Web Worker, and the page that registers and answers
challenges through the API with the session and CSRF token."""

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from identity import pow
from identity.models import Identity
from identity.services import challenges, registration
from tests.factories import PASSWORD, MemberFactory

STATIC = Path(settings.BASE_DIR) / "static" / "identity"
SCRIPTS = ["identity/pow.js", "identity/pow-worker.js", "identity/identity.js"]

# Reads {pow, worker, inputs, challenge, bits, start, progressChunk, workerChallenge, workerBits} on stdin;
# runs pow-worker.js as a browser would (its own global, importScripts beside it, postMessage out).
NODE_SCRIPT = r"""
const fs = require("fs"), path = require("path"), vm = require("vm");
const job = JSON.parse(fs.readFileSync(0, "utf8"));
const pow = require(job.pow);
const progress = [];
const out = {
  digests: job.inputs.map((hex) => pow.toHex(pow.sha256(pow.fromHex(hex)))),
  nonce: pow.solve(pow.fromHex(job.challenge), job.bits, 0, (tried) => progress.push(tried), job.progressChunk),
  fromStart: pow.solve(pow.fromHex(job.challenge), 8, job.start),
  messages: [],
};
out.progress = progress;
const worker = { postMessage: (message) => out.messages.push(message) };
worker.self = worker;
const beside = (name) => fs.readFileSync(path.join(path.dirname(job.worker), name), "utf8");
worker.importScripts = (name) => vm.runInContext(beside(name), worker);
vm.createContext(worker);
vm.runInContext(fs.readFileSync(job.worker, "utf8"), worker);
worker.onmessage({ data: { challengeHex: job.workerChallenge, bits: job.workerBits } });
process.stdout.write(JSON.stringify(out));
"""


def node() -> str:
    found = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
    if found is None:
        pytest.fail("Node.js is needed to test static/identity/pow.js: install `node` (expected at /usr/bin/node).")
    return found


def run_node(*args: str, stdin: str = "") -> str:
    done = subprocess.run([node(), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def solved() -> dict:
    """pow.js's answers to one job (one Node start for the whole module)."""
    inputs = [b"", b"abc", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", bytes(range(256)) * 4099]
    job = {
        "pow": str(STATIC / "pow.js"),
        "worker": str(STATIC / "pow-worker.js"),
        "inputs": [data.hex() for data in inputs],
        "challenge": hashlib.sha256(b"trustbank web pow").hexdigest(),
        "bits": 12,
        "progressChunk": 500,
        "start": 2**32 - 3,  # the solution is past 2**32: the nonce's high word is written too
        "workerChallenge": hashlib.sha256(b"trustbank worker 0").hexdigest(),
        "workerBits": 16,
    }
    return {"job": job, "inputs": inputs, **json.loads(run_node("-e", NODE_SCRIPT, stdin=json.dumps(job)))}


def test_sha256_matches_hashlib_on_known_vectors_and_a_megabyte(solved):
    assert solved["digests"][0] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert solved["digests"][1] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert solved["digests"] == [hashlib.sha256(data).hexdigest() for data in solved["inputs"]]
    assert len(solved["inputs"][-1]) > 1_000_000


def test_the_solver_finds_the_reference_solvers_first_nonce_and_reports_progress(solved):
    challenge, nonce = bytes.fromhex(solved["job"]["challenge"]), solved["nonce"]
    assert pow.proof_valid(challenge, nonce, 12)
    assert nonce == pow.solve(challenge, 12)  # the first one: no nonce below it was missed
    assert solved["progress"] == list(range(500, nonce + 1, 500))
    start = solved["job"]["start"]
    assert solved["fromStart"] == pow.solve(challenge, 8, start) > 2**32
    assert pow.proof_valid(challenge, solved["fromStart"], 8)


def test_the_worker_posts_progress_with_the_expected_work_then_the_nonce(solved):
    challenge = bytes.fromhex(solved["job"]["workerChallenge"])
    *progress, last = solved["messages"]
    nonce = last["nonce"]
    assert pow.proof_valid(challenge, nonce, 16) and nonce == pow.solve(challenge, 16)
    assert progress == [{"tried": tried, "expected": 2**16} for tried in range(50_000, nonce + 1, 50_000)]
    assert len(progress) >= 2


def test_the_page_scripts_parse():
    for name in SCRIPTS:
        run_node("--check", str(STATIC / Path(name).name))


# --- the page ------------------------------------------------------------------------------------


def page_client(member) -> Client:
    """Signed in with the password, as in a browser: the sign-in opens the member's identity (custody 0)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    registration.identity_open(member=member, passphrase=PASSWORD)
    return client


def page(client: Client, member) -> tuple[str, dict]:
    response = client.get(f"/c/{member.community.slug}/identity/")
    assert response.status_code == 200
    text = response.content.decode()
    live = re.search(r'<section class="card" id="identity-live"(.*?)>', text, re.S)
    return text, dict(re.findall(r'data-([a-z-]+)="([^"]*)"', live.group(1))) if live else {}


def api_post(client: Client, url: str, body: dict, csrf: str):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)


@pytest.mark.django_db
@override_settings(REGISTRATION_POW_BITS=10)
def test_an_unregistered_member_gets_the_register_button_and_registers_through_the_pages_urls():
    member = MemberFactory()
    client = page_client(member)
    text, data = page(client, member)
    slug = member.community.slug
    assert 'id="register-button"' in text and '<progress id="pow-progress"' in text and 'id="identity-status"' in text
    assert data["live"] == "register" and data["registration-bits"] == "10"
    assert data["register-url"] == f"/c/{slug}/api/identity/register"
    assert data["worker-url"] == "/static/identity/pow-worker.js"
    for name in ["identity/pow.js", "identity/identity.js"]:
        assert f'<script src="/static/{name}">' in text

    # What identity.js does: the key from my-identity, a seed, the proof, a POST with the page's CSRF token.
    pubkey = client.get(data["my-identity-url"]).json()["pubkey"]
    seed = os.urandom(pow.SEED_BYTES)
    nonce = pow.solve(pow.challenge_for(bytes.fromhex(pubkey), seed), 10)
    assert api_post(client, data["register-url"], {"seed": seed.hex(), "nonce": nonce}, "wrong").status_code == 403
    response = api_post(client, data["register-url"], {"seed": seed.hex(), "nonce": nonce}, data["csrf"])
    assert response.status_code == 201, response.content
    text, data = page(client, member)
    assert data["live"] == "challenges" and 'id="register-button"' not in text


def live_state(text: str) -> str:
    """The part of the live section that identity.js swaps for the server's fresh rendering, as text."""
    found = re.search(r'<div id="identity-live-state" data-live-section>(.*?)</div>', text, re.S)
    assert found, "no identity-live-state section"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.mark.django_db
@override_settings(REGISTRATION_POW_BITS=10)
def test_once_registered_the_live_section_shows_when_and_the_reputation_instead_of_how_to_register():
    member = MemberFactory()
    client = page_client(member)
    text, _ = page(client, member)
    assert live_state(text).startswith("Registration Registering proves 10 bits of work over your key")

    identity = Identity.objects.get(member=member)
    identity.registered_at = datetime(2031, 5, 3, 14, 2, tzinfo=UTC)
    identity.save(update_fields=["registered_at"])
    state = live_state(page(client, member)[0])
    assert state.startswith(
        "Registered Your identity was registered on 3 May 2031 14:02 and has 100 reputation points."
    )
    assert "Registering proves" not in state
    assert "each answer adds 10 points, each one missed costs 15" in state


@pytest.mark.django_db
def test_a_registered_member_answers_challenges_through_the_pages_urls():
    member = MemberFactory()
    client = page_client(member)
    Identity.objects.filter(member=member).update(registered_at=timezone.now())
    text, data = page(client, member)
    assert data["live"] == "challenges" and 'id="register-button"' not in text
    assert 'id="my-identity" data-live-section' in text and 'id="credit-score" data-live-section' in text
    assert '<script src="/static/identity/identity.js">' in text

    # identity.js's heartbeat: a POST with no body, hence no content type.
    assert client.generic("POST", data["heartbeat-url"], headers={"X-CSRFToken": data["csrf"]}).status_code == 204
    assert Identity.objects.get(member=member).last_seen_at is not None
    issued = challenges.challenge_issue(target=Identity.objects.get(member=member))
    (pending,) = client.get(data["challenges-url"]).json()
    nonce = pow.solve(bytes.fromhex(pending["challenge_data_hex"]), pending["difficulty_bits"])
    solve_url = re.sub(r"/0/solve$", f"/{pending['id']}/solve", data["solve-url"])  # as identity.js does
    response = api_post(client, solve_url, {"nonce": nonce}, data["csrf"])
    assert response.status_code == 200, response.content
    issued.refresh_from_db()
    assert issued.state == "solved" and Identity.objects.get(member=member).balance == 110
    assert ">110<" in page(client, member)[0]  # the section identity.js swaps in shows the new reputation


@pytest.mark.django_db
def test_the_scripts_are_served_and_collected_with_the_worker_beside_pow_js(tmp_path):
    client = Client()
    for name in SCRIPTS:
        assert finders.find(name), name
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == (STATIC / Path(name).name).read_bytes()
    production = {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES={**settings.STORAGES, **production}):
        call_command("collectstatic", interactive=False, verbosity=0)
    # The worker's importScripts("pow.js") is relative to the worker: the unhashed name is collected too.
    for name in SCRIPTS:
        assert (tmp_path / name).is_file()
    assert 'importScripts("pow.js")' in (tmp_path / "identity/pow-worker.js").read_text()
