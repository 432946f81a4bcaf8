"""The member's receipts page, and the downloads for verifying offline: the public records (anyone) and
a member's signed receipts."""

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bank.pages import member_page, page_member, paged, sign_in_redirect
from core.crypto.server import server_public_key_hex
from ledger import selectors
from trust import page_data
from trust import selectors as trust_selectors


@require_GET
def records_txt(request: HttpRequest) -> StreamingHttpResponse:
    lines = (f"{record}\n" for record in selectors.records_lines(community=request.community))
    return StreamingHttpResponse(lines, content_type="text/plain; charset=utf-8")


@require_GET
def receipts_json(request: HttpRequest) -> HttpResponse:
    """All my receipts in one document, the input of ``python -m ledger.offline``."""
    member = page_member(request)
    if member is None:
        return sign_in_redirect(request)
    account = trust_selectors.account_of(member=member)
    document = {
        "community": request.community.slug,
        "server_public_key": server_public_key_hex(),
        "receipts": selectors.receipts_all(account=account),
    }
    response = JsonResponse(document)
    response["Content-Disposition"] = f'attachment; filename="receipts-{request.community.slug}.json"'
    return response


@require_GET
@member_page
def receipts(request: HttpRequest) -> HttpResponse:
    """What I paid (with tax and fees) and received, newest first, with the signed receipts to download."""
    account = trust_selectors.account_of(member=request.member)
    page = paged(request, trust_selectors.settled_payments_of(account=account))
    rows = [page_data.settled_payment_row(payment, account) for payment in page]
    return render(request, "ledger/receipts.html", {"member": request.member, "page": page, "rows": rows})
