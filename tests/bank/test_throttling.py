"""Sign-in throttling: attempts counted per account and per client address, in the shared cache."""

import pytest
import redis
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from bank.models import AuthToken
from bank.throttling import key_part
from tests.bank.helpers import NEW_PASSWORD, assert_error, login
from tests.conftest import token_client
from tests.factories import PASSWORD

# A window far longer than any test, so no test ever straddles two windows.
WINDOW = 10**8
LIMIT = 3


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


@pytest.fixture
def account_limit(settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = LIMIT
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 1000
    settings.LOGIN_ATTEMPT_WINDOW_SECONDS = WINDOW


@pytest.fixture
def address_limit(settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 1000
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = LIMIT
    settings.LOGIN_ATTEMPT_WINDOW_SECONDS = WINDOW


def fail_logins(username: str = "member", *, times: int = LIMIT, community: str = "alpha", address: str = "10.0.0.1"):
    for _ in range(times):
        assert_error(login(community, username, "wrong-password", REMOTE_ADDR=address), 401, "invalid_credentials")


def assert_throttled(response) -> None:
    assert_error(response, 429, "too_many_attempts")
    assert 0 < int(response["Retry-After"]) <= WINDOW + 1


def web_login(username: str, password: str, *, address: str = "10.0.0.1"):
    """Sign in through the web page; returns the client, signed in or not, and the response."""
    client = Client(REMOTE_ADDR=address)
    return client, client.post("/c/alpha/login/", {"username": username, "password": password})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Per account


def test_an_account_is_locked_after_too_many_attempts_even_with_the_right_password(world, account_limit):
    fail_logins("member")

    assert_throttled(login("alpha", "member", REMOTE_ADDR="10.0.0.1"))
    assert not AuthToken.objects.exists()


def test_failures_from_other_addresses_do_not_lock_the_member_out(world, account_limit):
    for index in range(LIMIT):
        fail_logins("member", address=f"10.0.0.{index + 1}")
        assert_throttled(login("alpha", "member", REMOTE_ADDR=f"10.0.0.{index + 1}"))

    assert login("alpha", "member", REMOTE_ADDR="10.0.9.9").status_code == 200


# Per account from everywhere: slowed, not locked


@pytest.fixture
def slowdown(settings, account_limit):
    settings.LOGIN_ATTEMPTS_BEFORE_SLOWDOWN = 2 * LIMIT
    settings.LOGIN_SLOWDOWN_SECONDS = 60


def test_an_account_failed_from_everywhere_takes_one_attempt_at_a_time(world, slowdown):
    for index in range(2):
        fail_logins("member", address=f"10.0.0.{index + 1}")

    # The first attempt past the ceiling takes the account's turn, from any address ...
    assert login("alpha", "member", REMOTE_ADDR="10.0.9.9").status_code == 200
    # ... and the next, even with the right password, waits for the next turn.
    response = login("alpha", "member", REMOTE_ADDR="10.0.9.8")
    assert_error(response, 429, "too_many_attempts")
    assert response["Retry-After"] == "60"
    # Other accounts are not slowed.
    assert login("alpha", "admin", REMOTE_ADDR="10.0.9.8").status_code == 200


def test_below_the_ceiling_an_account_is_not_slowed(world, slowdown):
    fail_logins("member", address="10.0.0.1")
    fail_logins("member", times=LIMIT - 1, address="10.0.0.2")

    for address in ("10.0.9.9", "10.0.9.8"):
        assert login("alpha", "member", REMOTE_ADDR=address).status_code == 200


def test_any_text_may_be_a_username(world, account_limit):
    """Typed usernames reach cache keys only as digests: no character or length is a server error."""
    for username in ("\U00086a94 \x18\xa0", "tab\tand space"):
        fail_logins(username, times=1)


def test_unknown_accounts_are_counted_too(world, account_limit):
    fail_logins("nobody")

    assert_throttled(login("alpha", "nobody", "wrong-password", REMOTE_ADDR="10.0.0.1"))


def test_other_accounts_are_unaffected_by_a_locked_account(world, account_limit):
    fail_logins("member")

    assert login("alpha", "admin", REMOTE_ADDR="10.0.0.1").status_code == 200
    # The same handle in another community is another account.
    assert login("beta", "member", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_the_account_is_the_handle_in_any_case(world, account_limit):
    fail_logins("MEMBER")

    assert_throttled(login("alpha", "member", REMOTE_ADDR="10.0.0.1"))


def test_successful_sign_ins_are_not_counted(world, account_limit):
    for _ in range(LIMIT + 2):
        assert login("alpha", "member", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_wrong_old_passwords_count_as_failed_sign_ins(world, account_limit):
    client = token_client(world.a.member)
    for _ in range(LIMIT):
        response = client.post(
            "/c/alpha/api/auth/change_password",
            {"old_password": "wrong-password", "new_password": NEW_PASSWORD},
            format="json",
        )
        assert_error(response, 400, "invalid_input", field="old_password")

    response = client.post(
        "/c/alpha/api/auth/change_password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert_throttled(response)
    world.a.member.user.refresh_from_db()
    assert world.a.member.user.check_password(PASSWORD)


# Per address


def test_an_address_is_locked_after_too_many_attempts_on_any_accounts(world, address_limit):
    for username in ("someone", "someone-else", "admin"):
        fail_logins(username, times=1, address="10.0.0.1")

    assert_throttled(login("alpha", "member", REMOTE_ADDR="10.0.0.1"))


def test_other_addresses_are_unaffected_by_a_locked_address(world, address_limit):
    fail_logins("member", address="10.0.0.1")

    assert login("alpha", "member", REMOTE_ADDR="10.0.0.2").status_code == 200


# The web sign-in page


def test_the_web_page_is_locked_by_api_attempts(world, account_limit):
    fail_logins("member")

    client, response = web_login("member", PASSWORD)

    assert response.status_code == 400
    assert not is_signed_in(client)
    assert any("Too many failed sign-in attempts" in error for error in response.context["form"].non_field_errors())


def test_the_api_is_locked_by_web_page_attempts(world, account_limit):
    for _ in range(LIMIT):
        client, response = web_login("member", "wrong-password")
        assert response.status_code == 400 and not is_signed_in(client)

    assert_throttled(login("alpha", "member", REMOTE_ADDR="10.0.0.1"))


def test_the_web_page_signs_in_below_the_limit(world, account_limit):
    fail_logins("member", times=LIMIT - 1)

    client, response = web_login("member", PASSWORD)

    assert response.status_code == 302 and is_signed_in(client)


# Django admin's sign-in


def admin_login(username: str, password: str, *, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/admin/login/", {"username": username, "password": password})


def test_the_admin_sign_in_is_throttled_like_the_api(world, account_limit):
    username = world.a.member.user.username
    for _ in range(LIMIT):
        assert admin_login(username, "wrong-password").status_code == 200

    response = admin_login(world.a.admin.user.username, PASSWORD)
    assert response.status_code == 302  # another account from the same address

    response = admin_login(username, PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= WINDOW + 1
    assert "Too many failed sign-in attempts" in response.content.decode()
    # The member's own counter: the API refuses it from that address too.
    assert_throttled(login("alpha", "member", REMOTE_ADDR="10.0.0.1"))


def test_api_failures_lock_the_admin_sign_in(world, account_limit):
    fail_logins("admin")

    response = admin_login(world.a.admin.user.username, PASSWORD)

    assert response.status_code == 429


def test_right_passwords_of_logins_that_are_no_admins_count_as_failures(world, account_limit):
    for _ in range(LIMIT):
        assert admin_login(world.a.member.user.username, PASSWORD).status_code == 200

    assert admin_login(world.a.member.user.username, PASSWORD).status_code == 429


# The real cache


@pytest.mark.redis
def test_the_counters_live_in_redis(world, account_limit, redis_cache, settings):
    """Another process sees the same counts: a fresh Redis connection reads what the API wrote."""
    other_process = redis.Redis.from_url(settings.TEST_REDIS_URL)
    try:
        fail_logins("member", address="10.0.0.7")

        account, address = key_part(f"{world.a.community.pk}:member"), key_part("10.0.0.7")
        account_keys = list(other_process.scan_iter(f"{redis_cache}:*throttle:login:account:{account}:address:*"))
        address_keys = list(other_process.scan_iter(f"{redis_cache}:*throttle:login:address:{address}:*"))
        assert [other_process.get(key) for key in account_keys] == [str(LIMIT).encode()]
        assert [other_process.get(key) for key in address_keys] == [str(LIMIT).encode()]

        # A count written elsewhere is obeyed here: reset the account's counter and the lock lifts.
        other_process.set(account_keys[0], 0)
        assert login("alpha", "member", REMOTE_ADDR="10.0.0.7").status_code == 200
        assert other_process.get(account_keys[0]) == b"0"  # a success is not counted
    finally:
        keys = list(other_process.scan_iter(f"{redis_cache}:*"))
        if keys:
            other_process.delete(*keys)
        other_process.close()


# Rate-limit headers: every answer of a request that consulted the throttle says where it stands


def rate_limit(response) -> tuple[int, int, int]:
    """The answer's (RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset)."""
    return tuple(int(response[name]) for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))


def test_a_failed_sign_in_says_how_many_failures_are_left(world, account_limit):
    limit, remaining, reset = rate_limit(login("alpha", "member", "wrong-password", REMOTE_ADDR="10.0.0.1"))

    assert (limit, remaining) == (LIMIT, LIMIT - 1)
    assert 0 < reset <= WINDOW + 1


def test_a_successful_sign_in_says_so_too_and_uses_nothing(world, account_limit):
    fail_logins("member", times=1)

    response = login("alpha", "member", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 200
    assert rate_limit(response)[:2] == (LIMIT, LIMIT - 1)


def test_the_refusal_has_nothing_left_and_resets_when_it_may_be_retried(world, account_limit):
    fail_logins("member")

    response = login("alpha", "member", REMOTE_ADDR="10.0.0.1")

    assert_throttled(response)
    limit, remaining, reset = rate_limit(response)
    assert (limit, remaining, reset) == (LIMIT, 0, int(response["Retry-After"]))


def test_the_counter_nearest_its_limit_is_the_one_said(world, address_limit):
    for username in ("someone", "someone-else"):
        fail_logins(username, times=1, address="10.0.0.1")

    response = login("alpha", "member", "wrong-password", REMOTE_ADDR="10.0.0.1")

    assert rate_limit(response)[:2] == (LIMIT, 0)  # the address's, though the account failed only once


def test_a_slowed_account_says_one_attempt_per_pause(world, slowdown):
    for index in range(2):
        fail_logins("member", address=f"10.0.0.{index + 1}")
    login("alpha", "member", REMOTE_ADDR="10.0.9.9")  # takes the account's turn

    response = login("alpha", "member", REMOTE_ADDR="10.0.9.8")

    assert_error(response, 429, "too_many_attempts")
    assert rate_limit(response) == (1, 0, 60)


def test_a_wrong_old_password_says_where_it_stands(world, account_limit):
    response = token_client(world.a.member).post(
        "/c/alpha/api/auth/change_password",
        {"old_password": "wrong-password", "new_password": NEW_PASSWORD},
        format="json",
    )

    assert_error(response, 400, "invalid_input", field="old_password")
    assert rate_limit(response)[:2] == (LIMIT, LIMIT - 1)


def test_the_sign_in_pages_say_it_too(world, account_limit):
    _, page = web_login("member", "wrong-password")
    assert rate_limit(page)[:2] == (LIMIT, LIMIT - 1)

    admin_page = admin_login(world.a.member.user.username, "wrong-password")
    assert rate_limit(admin_page)[:2] == (LIMIT, LIMIT - 2)


def test_answers_that_never_consulted_the_throttle_say_nothing(world, account_limit):
    fail_logins("member", times=1)

    response = token_client(world.a.member).get("/c/alpha/api/auth/whoami")

    assert response.status_code == 200
    assert "RateLimit-Limit" not in response and "RateLimit-Remaining" not in response


def test_the_headers_reach_the_answer_under_asgi(world, account_limit):
    """Production serves ASGI, where the view runs in a thread of its own: the headers still reach the answer."""
    client = AsyncClient(REMOTE_ADDR="10.0.0.1")
    body = {"username": "member", "password": "wrong-password"}

    response = async_to_sync(client.post)("/c/alpha/api/auth/login", body, content_type="application/json")

    assert response.status_code == 401
    assert rate_limit(response)[:2] == (LIMIT, LIMIT - 1)
