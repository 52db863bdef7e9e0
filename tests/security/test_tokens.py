"""A logged-out JWT stays logged out: the hourly purge keeps what revocation is read from
until no JWT of the login can still be valid (point 7 of the security review)."""

from datetime import timedelta

from django.utils import timezone

from apps.identity.models import RefreshToken
from apps.identity.tasks import purge_refresh_tokens

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from ..identity.conftest import ME, REVOKE, caller, profile  # noqa: F401  (the fixtures)


def test_a_revoked_jwt_is_refused_after_the_purge(caller, profile):  # noqa: F811
    # the admin allows a refresh token to live shorter than the JWT beside it
    profile.refresh_token_lifetime, profile.access_token_lifetime = 60, 3_600
    profile.save()
    pair = caller.login(profile)
    assert caller.data(REVOKE, {"token": pair["refreshToken"]})["revokeRefreshToken"]["removed"]
    # the refresh token has expired since; the JWT has 59 minutes left
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    purge_refresh_tokens.apply().get()

    response = caller.post(ME, token=pair["jwtToken"])
    assert response.status_code == 401
    assert response.json()["errors"][0] == {"message": "This login was revoked; log in again.",
                                            "extensions": {"code": "UNAUTHENTICATED"}}
