"""clientMutationId on the identity mutations (login, refreshToken, revokeRefreshToken,
generateJwt), echoed as on the per-model ones."""

from .conftest import LOGIN, REFRESH


def test_identity_mutations_echo_it(caller, profile):
    login = LOGIN.replace("password: $password)", "password: $password, "
                                                  'clientMutationId: "sign-in")')
    body = caller.post(login, {"uuid": str(profile.uuid), "username": "betty@example.com",
                               "password": "betty-demo-1"}).json()
    assert body["data"]["login"]["isValid"] is True
    assert body["extensions"] == {"clientMutationId": {"login": "sign-in"}}
    refresh = REFRESH.replace("refreshToken(token: $token)",
                              'renewed: refreshToken(token: $token, clientMutationId: "r1")')
    body = caller.post(refresh, {"token": body["data"]["login"]["refreshToken"]}).json()
    assert body["data"]["renewed"]["isValid"] is True
    assert body["extensions"] == {"clientMutationId": {"renewed": "r1"}}


def test_every_mutation_takes_it(caller, profile):
    fields = caller.data('{ __type(name: "Mutation") { fields { name args { name } } } }')[
        "__type"]["fields"]
    assert [f["name"] for f in fields if "clientMutationId" not in
            [a["name"] for a in f["args"]]] == []
