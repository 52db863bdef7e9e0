"""Who is calling: nobody, an end user (a JWT), or an action script (a server key)."""

from __future__ import annotations

from dataclasses import dataclass, field

from models_registry.models import Application

from . import server_keys, tokens


class Unauthenticated(Exception):
    """A credential was sent and is not good: the message tells the client what to do."""


@dataclass(frozen=True)
class Principal:
    kind: str  # "anonymous", "user" or "server"
    user_id: int | None = None
    auth_profile: str | None = None
    roles: tuple[str, ...] = ()
    claims: dict = field(default_factory=dict, compare=False)
    key: str | None = field(default=None, compare=False)  # a server key's `mk_<prefix>`

    @property
    def actions(self) -> bool:
        """The actions context: a server key, which may do anything."""
        return self.kind == "server"

    @property
    def actor(self) -> dict:
        """Who this is, as change events and the audit log say."""
        if self.kind == "user":
            return {"kind": "user", "profile": self.auth_profile, "id": self.user_id}
        if self.kind == "server" and self.key:
            return {"kind": "server", "key": self.key}
        return {"kind": self.kind}


ANONYMOUS = Principal("anonymous")
SERVER = Principal("server")  # a server key's powers, whichever key (in-process callers)


def authenticate(application: Application, authorization: str | None) -> Principal:
    """The principal of an `Authorization` header (absent: anonymous)."""
    if not authorization:
        return ANONYMOUS
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("Send the token as Authorization: Bearer <token>.")
    if server_keys.looks_like_a_key(credential):
        key = server_keys.find(application, credential)
        if key is None:
            raise Unauthenticated("This server key is unknown, revoked or expired for this "
                                  "application; create one in the admin.")
        return Principal("server", key=f"{server_keys.PREFIX}{key.prefix}")
    family = tokens.unverified_family(credential)
    generation, revoked = tokens.token_state(application, family)
    try:
        claims = tokens.verify(application, credential, generation)
    except tokens.InvalidToken:
        raise Unauthenticated("The token is invalid or expired; log in again or use "
                              "refreshToken.") from None
    if revoked and claims.get("sid") == family:
        raise Unauthenticated("This login was revoked; log in again.")
    sub, roles = claims.get("sub"), claims.get("roles") or []
    # Signed by us, but the claims are still checked: a `sub` that is no integer, or `roles`
    # that are no list of names, come from no login of Mortar's.
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit()) or not (
            isinstance(roles, list) and all(isinstance(r, str) for r in roles)):
        raise Unauthenticated("The token's claims are not those of a login (sub must be a "
                              "user id, roles a list of names); log in again.")
    return Principal("user", int(sub), claims.get("auth_profile"), tuple(roles), claims)
