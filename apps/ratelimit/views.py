"""Ops views: /ops/ratelimits (bucket levels as JSON) and /metrics (Prometheus), for staff
sessions or the ops token (`Authorization: Bearer <MORTAR_OPS_TOKEN>`); POST
/ops/ratelimits/<app>/reset fills an application's buckets, for the ops token only."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from models_registry.models import Application

from . import metrics
from .backends import BackendUnavailable, backend
from .status import bucket_levels


def ops_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the caller may see ops data; else 401 (who are you?) or 403 (not staff)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _is_ops_token(token.strip()):
        return None
    if user is not None and user.is_authenticated and not token:
        return JsonResponse({"error": "Ops data is for staff users; ask an admin to mark "
                                      "your user as staff."}, status=403)
    response = JsonResponse({"error": "Log in to the admin as a staff user, or send "
                                      "Authorization: Bearer <MORTAR_OPS_TOKEN>."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="mortar-ops"'
    return response


def _is_ops_token(token: str) -> bool:
    expected = settings.MORTAR_OPS_TOKEN
    if not expected or not token:
        return False
    # digests have one length, so the comparison takes the same time whatever was sent
    return hmac.compare_digest(hashlib.sha256(token.encode()).digest(),
                               hashlib.sha256(expected.encode()).digest())


@require_GET
def ratelimits(request: HttpRequest) -> HttpResponse:
    refusal = ops_refusal(request)
    if refusal is not None:
        return refusal
    try:
        levels = bucket_levels(request.GET.get("app"))
    except Application.DoesNotExist as error:
        return JsonResponse({"error": str(error)}, status=404)
    except BackendUnavailable:
        return JsonResponse({"error": "The bucket levels cannot be read now: the rate-limit "
                                      "backend (Redis) does not answer."}, status=503)
    except DatabaseError:
        return JsonResponse({"error": "The applications cannot be read now: the database "
                                      "does not answer."}, status=503)
    return JsonResponse({"backend": backend().name,
                         "applications": [entry.as_json() for entry in levels]})


# No CSRF check: only the ops token may reset, and browsers never send it on their own.
@csrf_exempt
@require_POST
def reset_ratelimits(request: HttpRequest, slug: str) -> HttpResponse:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not (scheme.lower() == "bearer" and _is_ops_token(token.strip())):
        response = JsonResponse({"error": "Resetting buckets needs Authorization: Bearer "
                                          "<MORTAR_OPS_TOKEN> (or `manage.py ratelimit reset`)."},
                                status=401)
        response["WWW-Authenticate"] = 'Bearer realm="mortar-ops"'
        return response
    application = Application.objects.filter(slug=slug).first()
    if application is None:
        return JsonResponse({"error": f"There is no application {slug!r}."}, status=404)
    try:
        backend().reset(application.pk)
    except BackendUnavailable:
        return JsonResponse({"error": "The buckets cannot be reset now: the rate-limit "
                                      "backend (Redis) does not answer."}, status=503)
    return JsonResponse({"reset": slug, "backend": backend().name})


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    refusal = ops_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
