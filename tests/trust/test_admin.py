"""Trustlines and payments in Django admin, scoped to the admin's own communities; the income command."""

from io import StringIO

from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse

from tests.trust.factories import trust
from trust.models import Trustline
from trust.selectors import account_of
from trust.services.payments import payment_send

UNIT = 1_000_000


def _line(world, side: str) -> Trustline:
    members = getattr(world, side)
    return trust(account_of(member=members.admin), account_of(member=members.member), 40 * UNIT)


def test_admins_see_only_their_communitys_trustlines_and_payments(client, world):
    alpha_line, beta_line = _line(world, "a"), _line(world, "b")
    payment_send(payer=account_of(member=world.b.member), payee=account_of(member=world.b.admin), amount=UNIT)
    client.force_login(world.a.admin.user)

    lines = client.get(reverse("admin:trust_trustline_changelist"))
    payments = client.get(reverse("admin:trust_payment_changelist"))

    shown = set(lines.context["cl"].queryset)
    assert shown == set(Trustline.objects.filter(community=world.a.community))
    assert alpha_line in shown and beta_line not in shown
    assert list(payments.context["cl"].queryset) == []
    assert client.get(reverse("admin:trust_trustline_change", args=[beta_line.pk])).status_code == 302


def test_an_admin_changes_a_limit_through_the_service(client, world):
    line = _line(world, "a")
    client.force_login(world.a.admin.user)
    before = line.updated_at

    response = client.post(
        reverse("admin:trust_trustline_change", args=[line.pk]),
        {"limit_from_low": str(5 * UNIT), "limit_from_high": str(line.limit_from_high)},
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert line.limit_from_low == 5 * UNIT and line.updated_at > before


def test_the_commons_limit_action_applies_the_communitys_setting(client, world):
    community = world.a.community
    community.commons_limit = 7 * UNIT
    community.save()
    member_account = account_of(member=world.a.member)
    commons_line = Trustline.objects.get(
        Q(low__kind="commons", high=member_account) | Q(low=member_account, high__kind="commons")
    )
    other_line = _line(world, "a")
    client.force_login(world.a.admin.user)

    client.post(
        reverse("admin:trust_trustline_changelist"),
        {"action": "apply_commons_limit", "_selected_action": [commons_line.pk, other_line.pk]},
    )

    commons_line.refresh_from_db()
    other_line.refresh_from_db()
    assert (commons_line.limit_from_low, commons_line.limit_from_high) == (7 * UNIT, 7 * UNIT)
    assert other_line.limit_from_low + other_line.limit_from_high == 40 * UNIT  # not a commons line: untouched


def test_basic_income_command_reports_per_community(world):
    out = StringIO()

    call_command("basic_income", "--community", "alpha", stdout=out)

    assert out.getvalue() == "alpha: 0 share(s), 0.000000 TRUST in all\n"
