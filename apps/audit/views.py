"""GET /ops/audit: the audit log for ops (the ops token or a staff session), newest first:
logins, token reuse and revocation, refused permissions, and every record change. Filtered by
application, action, model, record, actor and time (`app`, `action`, `model`, `record`,
`actor`, `actorId`, `since`, `until`); paged with cursors (`first`, `after`), or every
matching entry as JSON Lines (`format=jsonl`)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from apps.error_codes import ErrorCode
from apps.ratelimit.views import ops_refusal

from .reading import PAGE, BadQuery, Query, every_entry, page


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    refusal = ops_refusal(request)
    if refusal is not None:
        return refusal
    try:
        query = Query.parse(request.GET)
        if request.GET.get("format") == "jsonl":
            lines = (json.dumps(entry) + "\n" for entry in every_entry(query))
            response = StreamingHttpResponse(lines, content_type="application/jsonl")
            response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
            return response
        first = request.GET.get("first", str(PAGE))
        return JsonResponse(page(query, int(first) if first.isdigit() else 0,
                                 request.GET.get("after")))
    except BadQuery as error:
        return JsonResponse({"errors": [{"message": str(error),
                                         "extensions": {"code": ErrorCode.BAD_USER_INPUT}}]},
                            status=400)
