"""The OpenID Connect client against a real provider process (oidc-provider-mock)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from joserfc import jwk, jwt

from accounts import oidc
from accounts.oidc import (
    MAX_PENDING_AGE,
    OidcError,
    OidcProvider,
    PendingSignIn,
    begin,
    complete,
    verify_id_token,
)
from tests.oidc_provider import APPLICANT_CLAIMS, oidc_provider  # noqa: F401

REDIRECT_URI = "https://zhicheng.example/t/gansu/auth/oidc/callback"


@pytest.fixture
def provider(oidc_provider: str) -> OidcProvider:  # noqa: F811
    return OidcProvider(
        issuer=oidc_provider, client_id="zhicheng-gansu", client_secret="s3cret+/=甘肃-0123456789"
    )


async def _sign_in_at_provider(authorization_url: str, *, sub: str | None = "applicant-1") -> dict[str, str]:
    """What the browser does at the provider: load the form, submit it (choosing the user, or denying), and
    stop at the redirect back to us. Returns the redirect's query parameters."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        form = await browser.get(authorization_url)
        assert form.status_code == 200, form.text
        answer = await browser.post(authorization_url, data={"sub": sub} if sub else {"action": "deny"})
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return dict(parse_qsl(location.query))


async def _issued_id_token(provider: OidcProvider) -> tuple[str, str]:
    """A real ID token from the provider and the nonce it was issued for, fetched without our code."""
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)
    async with httpx.AsyncClient(timeout=10) as client:
        discovery = (await client.get(f"{provider.issuer}/.well-known/openid-configuration")).json()
        response = await client.post(
            discovery["token_endpoint"],
            auth=(provider.client_id, provider.client_secret),
            data={
                "grant_type": "authorization_code",
                "code": callback["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pending.code_verifier,
            },
        )
    response.raise_for_status()
    return response.json()["id_token"], pending.nonce


@pytest.fixture
async def issued(provider: OidcProvider) -> tuple[str, str, dict[str, Any]]:
    id_token, nonce = await _issued_id_token(provider)
    async with httpx.AsyncClient(timeout=10) as client:
        jwks = (await client.get(f"{provider.issuer}/jwks")).json()
    return id_token, nonce, jwks


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


# --- the whole flow -----------------------------------------------------------------------------------------


async def test_sign_in_returns_the_identity(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)

    callback = await _sign_in_at_provider(url)
    identity = await complete(provider, pending, callback)

    assert identity.issuer == provider.issuer
    assert identity.subject == "applicant-1"
    assert identity.id_number == "622826198501306421"
    assert identity.name == "张三"
    assert identity.claims["nonce"] == pending.nonce


async def test_the_id_number_claim_is_configurable(provider: OidcProvider) -> None:
    provider = replace(provider, id_number_claim="sfzh")
    url, pending = await begin(provider, REDIRECT_URI)

    identity = await complete(provider, pending, await _sign_in_at_provider(url))

    assert identity.id_number == APPLICANT_CLAIMS["sfzh"]
    assert identity.name == "张三"


async def test_the_authorization_url_asks_for_a_code_with_pkce(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{provider.issuer}/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == provider.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split() == ["openid", "profile"]
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == _b64(hashlib.sha256(pending.code_verifier.encode()).digest())
    assert 43 <= len(pending.code_verifier) <= 128
    assert abs(pending.started_at - time.time()) < 5

    _, second = await begin(provider, REDIRECT_URI)
    assert {second.state, second.nonce, second.code_verifier}.isdisjoint(
        {pending.state, pending.nonce, pending.code_verifier}
    )


async def test_pending_sign_in_survives_a_session_round_trip(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)

    restored = PendingSignIn.from_dict(json.loads(json.dumps(pending.to_dict())))

    assert restored == pending
    identity = await complete(provider, restored, await _sign_in_at_provider(url))
    assert identity.subject == "applicant-1"


async def _register_client(issuer: str, method: str) -> OidcProvider:
    """A client the provider knows, so that it checks the secret, the auth method and the redirect_uri
    (unregistered client ids are accepted with any secret)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{issuer}/oauth2/clients",
            json={"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": method},
        )
    response.raise_for_status()
    registered = response.json()
    return OidcProvider(
        issuer=issuer, client_id=registered["client_id"], client_secret=registered["client_secret"]
    )


async def test_the_provider_checks_our_client_secret(oidc_provider: str) -> None:  # noqa: F811
    provider = await _register_client(oidc_provider, "client_secret_basic")
    url, pending = await begin(provider, REDIRECT_URI)
    assert (await complete(provider, pending, await _sign_in_at_provider(url))).subject == "applicant-1"

    wrong = replace(provider, client_secret=provider.client_secret + "x")
    url, pending = await begin(wrong, REDIRECT_URI)
    with pytest.raises(OidcError, match="暂时无法访问") as refused:
        await complete(wrong, pending, await _sign_in_at_provider(url))
    assert "invalid_client" in refused.value.detail


async def test_client_secret_post_when_discovery_offers_only_that(oidc_provider: str) -> None:  # noqa: F811
    provider = await _register_client(oidc_provider, "client_secret_post")
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)
    # The mock's discovery document does not list token_endpoint_auth_methods_supported (so Basic, by
    # default); this provider's cached document is swapped for one that allows only the form body.
    real = await oidc._discovery(provider)
    oidc._discovery_cache[provider.issuer] = oidc._Cached(
        {**real, "token_endpoint_auth_methods_supported": ["client_secret_post"]}, time.monotonic() + 60
    )
    try:
        assert (await complete(provider, pending, callback)).subject == "applicant-1"
    finally:
        oidc.clear_caches()


async def test_keys_are_refetched_after_a_rotation(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)
    # As if the provider had signed with another key when we cached its JWKS.
    retired = jwk.RSAKey.generate_key(2048, parameters={"kid": "retired"})
    oidc._jwks_cache[provider.issuer] = oidc._Cached(
        {"keys": [retired.as_dict(private=False)]}, time.monotonic() + 600
    )
    try:
        assert (await complete(provider, pending, callback)).subject == "applicant-1"
        assert oidc._jwks_cache[provider.issuer].value["keys"][0].get("kid") != "retired"
    finally:
        oidc.clear_caches()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"state": "s"},
        {**dict.fromkeys(("state", "nonce", "code_verifier", "redirect_uri"), "x"), "started_at": "1"},
    ],
)
def test_a_malformed_pending_sign_in_asks_to_start_again(data: dict[str, Any]) -> None:
    with pytest.raises(OidcError, match="重新登录"):
        PendingSignIn.from_dict(data)


# --- refused callbacks --------------------------------------------------------------------------------------


async def test_a_state_mismatch_is_refused(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)

    for state in ("forged", "", pending.state[:-1]):
        with pytest.raises(OidcError, match="登录请求已失效"):
            await complete(provider, pending, {**callback, "state": state})
    callback.pop("state")
    with pytest.raises(OidcError, match="登录请求已失效"):
        await complete(provider, pending, callback)


async def test_an_error_callback_is_refused(provider: OidcProvider) -> None:
    _, pending = await begin(provider, REDIRECT_URI)

    callback = {"error": "access_denied", "error_description": "user said no", "state": pending.state}
    with pytest.raises(OidcError, match="您已取消") as refused:
        await complete(provider, pending, callback)
    assert "access_denied" in refused.value.detail

    with pytest.raises(OidcError, match="未能完成登录"):
        await complete(provider, pending, {"error": "server_error", "state": pending.state})


async def test_denying_at_the_provider_is_refused(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)

    callback = await _sign_in_at_provider(url, sub=None)

    assert callback["error"] == "access_denied"
    # oidc-provider-mock 0.3.4 leaves state out of its error redirect (RFC 6749 §4.1.2.1 wants it back), so
    # this is refused as a stray callback rather than as a cancellation; either way nobody is signed in.
    with pytest.raises(OidcError):
        await complete(provider, pending, callback)


async def test_a_stale_pending_sign_in_is_refused(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)

    with pytest.raises(OidcError, match="登录等待时间过长"):
        await complete(provider, pending, callback, now=pending.started_at + MAX_PENDING_AGE + 1)

    # Refused before the code was spent: within the ten minutes the same callback still works.
    identity = await complete(provider, pending, callback, now=pending.started_at + MAX_PENDING_AGE - 1)
    assert identity.subject == "applicant-1"


async def test_a_code_works_once(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)
    await complete(provider, pending, callback)

    with pytest.raises(OidcError, match="重新登录") as refused:
        await complete(provider, pending, callback)
    assert "invalid_grant" in refused.value.detail


async def test_a_callback_from_another_issuer_is_refused(provider: OidcProvider) -> None:
    url, pending = await begin(provider, REDIRECT_URI)
    callback = await _sign_in_at_provider(url)

    with pytest.raises(OidcError, match="登录请求已失效"):
        await complete(provider, pending, {**callback, "iss": "https://other-province.example"})


async def test_a_provider_naming_another_issuer_is_refused(provider: OidcProvider) -> None:
    # The provider calls itself http://127.0.0.1:<port>, without the slash.
    with pytest.raises(OidcError, match="暂时无法访问") as refused:
        await begin(replace(provider, issuer=provider.issuer + "/"), REDIRECT_URI)
    assert "discovery names issuer" in refused.value.detail


async def test_an_unreachable_provider_is_reported_in_chinese() -> None:
    nowhere = OidcProvider(issuer="http://127.0.0.1:9", client_id="c", client_secret="s")
    with pytest.raises(OidcError, match="统一身份认证服务暂时无法访问"):
        await begin(nowhere, REDIRECT_URI)


async def test_a_plain_http_provider_off_loopback_is_refused() -> None:
    remote = OidcProvider(issuer="http://idp.gansu.example", client_id="c", client_secret="s")
    with pytest.raises(OidcError, match="暂时无法访问") as refused:
        await begin(remote, REDIRECT_URI)
    assert "https" in refused.value.detail


# --- the ID token -------------------------------------------------------------------------------------------


def _verify(
    token: str, jwks: dict[str, Any], provider: OidcProvider, nonce: str, **kwargs: Any
) -> dict[str, Any]:
    options: dict[str, Any] = {"issuer": provider.issuer, "client_id": provider.client_id, "nonce": nonce}
    options.update(kwargs)
    return verify_id_token(token, jwks, **options)


async def test_the_untampered_token_passes(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]]
) -> None:
    id_token, nonce, jwks = issued

    claims = _verify(id_token, jwks, provider, nonce)

    assert claims["sub"] == "applicant-1"
    assert claims["id_number"] == "622826198501306421"
    assert claims["iss"] == provider.issuer


async def test_a_tampered_payload_is_refused(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]]
) -> None:
    id_token, nonce, jwks = issued
    header, payload, signature = id_token.split(".")
    forged_claims = {**_payload(id_token), "sub": "applicant-2"}
    forged = ".".join([header, _b64(json.dumps(forged_claims).encode()), signature])

    with pytest.raises(OidcError, match="身份凭证无效"):
        _verify(forged, jwks, provider, nonce)

    # One character of the payload: still refused.
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    with pytest.raises(OidcError):
        _verify(".".join([header, flipped, signature]), jwks, provider, nonce)


async def test_a_token_signed_by_another_key_is_refused(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]]
) -> None:
    id_token, nonce, jwks = issued
    intruder = jwk.RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256"}, _payload(id_token), intruder)

    with pytest.raises(OidcError, match="身份凭证无效"):
        _verify(forged, jwks, provider, nonce)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"nonce": "another-nonce"}, "身份凭证无效"),
        ({"client_id": "zhicheng-ningxia"}, "身份凭证无效"),
        ({"issuer": "https://idp.ningxia.example"}, "身份凭证无效"),
        ({"now": time.time() + 3 * 3600}, "身份凭证已过期"),
        ({"now": time.time() - 3600}, "身份凭证无效"),  # issued "in the future"
    ],
)
async def test_claims_that_do_not_match_are_refused(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]], change: dict[str, Any], message: str
) -> None:
    id_token, nonce, jwks = issued
    nonce = change.pop("nonce", nonce)

    with pytest.raises(OidcError, match=message):
        _verify(id_token, jwks, provider, nonce, **change)


async def test_an_unsigned_token_is_refused(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]]
) -> None:
    id_token, nonce, jwks = issued
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = id_token.split(".")[1]

    for unsigned in (f"{header}.{body}.", f"{header}.{body}.{id_token.split('.')[2]}"):
        with pytest.raises(OidcError, match="身份凭证无效") as refused:
            _verify(unsigned, jwks, provider, nonce)
        assert "'none'" in refused.value.detail


async def test_a_token_signed_with_the_client_secret_is_refused(
    provider: OidcProvider, issued: tuple[str, str, dict[str, Any]]
) -> None:
    id_token, nonce, jwks = issued
    secret = jwk.OctKey.import_key(provider.client_secret.encode())
    hs256 = jwt.encode({"alg": "HS256"}, _payload(id_token), secret, algorithms=["HS256"])
    # Even a JWKS that (wrongly) publishes a symmetric key does not make HS256 acceptable.
    with_oct = {"keys": [*jwks["keys"], secret.as_dict()]}

    for keys in (jwks, with_oct):
        with pytest.raises(OidcError, match="身份凭证无效"):
            _verify(hs256, keys, provider, nonce)


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "e30.e30.", "x" * 50, "a.b.c.d.e"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(OidcError):
        verify_id_token(garbage, {"keys": []}, issuer="https://idp.example", client_id="c", nonce="n")


def test_several_audiences_need_azp_naming_us() -> None:
    # The mock always issues a single audience, so this one signs its own tokens.
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})
    jwks = {"keys": [key.as_dict(private=False)]}
    now = int(time.time())
    base = {"iss": "https://idp.example", "sub": "s", "iat": now, "exp": now + 300, "nonce": "n"}

    def check(**claims: Any) -> dict[str, Any]:
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, {**base, **claims}, key)
        return verify_id_token(token, jwks, issuer="https://idp.example", client_id="me", nonce="n")

    assert check(aud=["me", "other"], azp="me")["sub"] == "s"
    assert check(aud="me")["sub"] == "s"
    with pytest.raises(OidcError):
        check(aud=["me", "other"])
    with pytest.raises(OidcError):
        check(aud=["me", "other"], azp="other")
    with pytest.raises(OidcError):
        check(aud="me", azp="other")
    with pytest.raises(OidcError):
        check(aud=["other"])
