"""Sign-in through a province's unified identity service (统一身份认证), as an OpenID Connect relying party.

Authorization code flow with PKCE (S256), a fresh state and nonce per attempt. ``begin()`` gives the URL to
send the browser to and a ``PendingSignIn`` the caller keeps server-side (in the session); ``complete()``
takes the callback's query parameters, exchanges the code and returns the verified identity. No HTTP
framework here: the routes that call these functions own cookies, sessions and redirects.

Every ``OidcError`` carries a Chinese message that is safe to show; ``detail`` says what actually went wrong,
for the logs only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

with warnings.catch_warnings():
    # authlib 1.9 (pinned) would rather use the httpx2 fork and warns once on import that plain httpx is
    # deprecated; the httpx fallback is what we test against, so the warning is noise in every log.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

__all__ = [
    "MAX_PENDING_AGE",
    "OidcError",
    "OidcIdentity",
    "OidcProvider",
    "PendingSignIn",
    "begin",
    "clear_caches",
    "complete",
    "verify_id_token",
]

#: Seconds a sign-in may take between ``begin()`` and ``complete()``.
MAX_PENDING_AGE = 10 * 60

_CACHE_TTL = 10 * 60
_HTTP_TIMEOUT = httpx.Timeout(10.0)

# Asymmetric only: with an HS* algorithm the "key" would be the client secret, which a provider's JWKS must
# never be able to supply, and "none" is no signature at all.
_ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
    "Ed448",
)
_ASYMMETRIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})

_UNAVAILABLE = "统一身份认证服务暂时无法访问，请稍后再试"
_RESTART = "登录请求已失效，请重新登录"
_BAD_TOKEN = "统一身份认证返回的身份凭证无效，请重新登录"


class OidcError(Exception):
    """``str(error)`` is a Chinese message safe to show to the person signing in."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class OidcProvider:
    """One tenant's identity-provider settings."""

    issuer: str
    client_id: str
    client_secret: str
    id_number_claim: str = "id_number"
    name_claim: str = "name"
    scope: str = "openid profile"


@dataclass(frozen=True)
class PendingSignIn:
    """Kept server-side between ``begin()`` and ``complete()``; the browser only ever sees ``state``."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingSignIn:
        # Session data outlives deployments; a shape we no longer understand means "start again", not a 500.
        try:
            values = {name: data[name] for name in ("state", "nonce", "code_verifier", "redirect_uri")}
            started_at = data["started_at"]
        except (KeyError, TypeError) as exc:
            raise OidcError(_RESTART, detail=f"pending sign-in is missing {exc}") from exc
        if not all(isinstance(value, str) and value for value in values.values()):
            raise OidcError(_RESTART, detail="pending sign-in has a non-string field")
        if isinstance(started_at, bool) or not isinstance(started_at, int | float):
            raise OidcError(_RESTART, detail="pending sign-in has no start time")
        return cls(**values, started_at=float(started_at))


@dataclass(frozen=True)
class OidcIdentity:
    issuer: str
    subject: str
    id_number: str | None
    name: str | None
    claims: dict[str, Any]


# --- discovery and keys -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    value: dict[str, Any]
    expires_at: float


_discovery_cache: dict[str, _Cached] = {}
_jwks_cache: dict[str, _Cached] = {}


def clear_caches() -> None:
    """Forget every discovery document and JWKS (tests, or after changing a tenant's provider)."""
    _discovery_cache.clear()
    _jwks_cache.clear()


def _require_secure(url: str, what: str) -> None:
    # Codes, secrets and tokens travel over these URLs. Plain HTTP is tolerated only on the loopback
    # interface, where test and development providers run.
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        if parts.hostname == "localhost":
            return
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise OidcError(_UNAVAILABLE, detail=f"{what} {url!r} is not an https URL")


async def _fetch_json(url: str, what: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(_UNAVAILABLE, detail=f"fetching {what} {url}: {exc!r}") from exc
    if not isinstance(document, dict):
        raise OidcError(_UNAVAILABLE, detail=f"{what} {url} is not a JSON object")
    return document


async def _discovery(provider: OidcProvider) -> dict[str, Any]:
    cached = _discovery_cache.get(provider.issuer)
    if cached is not None and cached.expires_at > time.monotonic():
        return cached.value

    _require_secure(provider.issuer, "issuer")
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = await _fetch_json(url, "discovery document")
    # OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked, or its tokens
    # could be passed off as another tenant's.
    if document.get("issuer") != provider.issuer:
        raise OidcError(
            _UNAVAILABLE,
            detail=f"discovery names issuer {document.get('issuer')!r}, configured {provider.issuer!r}",
        )
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(endpoint)
        if not isinstance(value, str):
            raise OidcError(_UNAVAILABLE, detail=f"discovery document has no {endpoint}")
        _require_secure(value, endpoint)

    _discovery_cache[provider.issuer] = _Cached(document, time.monotonic() + _CACHE_TTL)
    return document


async def _jwks(
    provider: OidcProvider, discovery: Mapping[str, Any], *, refresh: bool = False
) -> dict[str, Any]:
    cached = _jwks_cache.get(provider.issuer)
    if not refresh and cached is not None and cached.expires_at > time.monotonic():
        return cached.value

    document = await _fetch_json(discovery["jwks_uri"], "JWKS")
    if not isinstance(document.get("keys"), list):
        raise OidcError(_UNAVAILABLE, detail="JWKS has no keys list")
    _jwks_cache[provider.issuer] = _Cached(document, time.monotonic() + _CACHE_TTL)
    return document


def _token_auth_method(discovery: Mapping[str, Any], provider: OidcProvider) -> str:
    # Discovery's default when the field is absent is client_secret_basic.
    supported = discovery.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    # RFC 6749 §2.3.1 has Basic credentials percent-encoded first, and some providers compare them without
    # decoding; when the id or secret has characters that encoding changes, the form body is unambiguous.
    needs_encoding = any(
        quote(value, safe="") != value for value in (provider.client_id, provider.client_secret)
    )
    preference = ("client_secret_basic", "client_secret_post")
    for method in reversed(preference) if needs_encoding else preference:
        if method in supported:
            return method
    raise OidcError(_UNAVAILABLE, detail=f"token endpoint supports none of our auth methods: {supported!r}")


def _client_secret_basic(
    auth: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    # authlib 1.9 skips the percent-encoding RFC 6749 §2.3.1 asks for and encodes as Latin-1: a provider that
    # decodes would see a secret with "%" changed, and one with Chinese characters cannot be sent at all.
    credentials = f"{quote(auth.client_id, safe='')}:{quote(auth.client_secret, safe='')}"
    headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return uri, headers, body


def _oauth_client(
    provider: OidcProvider, redirect_uri: str, *, token_endpoint_auth_method: str | None = None
) -> AsyncOAuth2Client:
    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=token_endpoint_auth_method,
        scope=_scope(provider),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=_HTTP_TIMEOUT,
        follow_redirects=False,
    )
    client.register_client_auth_method(("client_secret_basic", _client_secret_basic))
    return client


def _scope(provider: OidcProvider) -> str:
    # Without "openid" the provider runs plain OAuth and sends no ID token.
    scopes = provider.scope.split()
    return " ".join(scopes if "openid" in scopes else ["openid", *scopes])


# --- the flow -----------------------------------------------------------------------------------------------


async def begin(provider: OidcProvider, redirect_uri: str) -> tuple[str, PendingSignIn]:
    """Authorization URL (authorization code flow, PKCE S256, fresh random state and nonce)."""
    discovery = await _discovery(provider)
    pending = PendingSignIn(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        # RFC 7636 asks for 43–128 characters; 64 random bytes give 86.
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
        started_at=time.time(),
    )
    async with _oauth_client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            discovery["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
    return url, pending


async def complete(
    provider: OidcProvider,
    pending: PendingSignIn,
    callback: Mapping[str, str],
    *,
    now: float | None = None,
) -> OidcIdentity:
    """Checks state (constant-time), an `error` parameter, the pending sign-in's age (≤ 10 minutes),
    exchanges the code with the code_verifier at the token endpoint (client_secret_basic or _post, whatever
    the discovery document allows), then verifies the ID token with verify_id_token."""
    current = time.time() if now is None else now

    # A callback whose state is not ours may have been planted by someone else (login CSRF): nothing in it,
    # not even its error, is trusted.
    state = callback.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise OidcError(_RESTART, detail="state does not match the pending sign-in")

    error = callback.get("error")
    if error:
        detail = f"provider returned error={error!r} ({callback.get('error_description', '')!r})"
        if error == "access_denied":
            raise OidcError("您已取消统一身份认证登录", detail=detail)
        raise OidcError("统一身份认证未能完成登录，请稍后再试", detail=detail)

    if current - pending.started_at > MAX_PENDING_AGE:
        raise OidcError(
            "登录等待时间过长，请重新登录",
            detail=f"pending sign-in is {current - pending.started_at:.0f} s old",
        )

    # RFC 9207: a provider that names itself in the callback lets us catch a response from another tenant's
    # provider (mix-up attack).
    if "iss" in callback and callback["iss"] != provider.issuer:
        raise OidcError(_RESTART, detail=f"callback iss {callback['iss']!r} is not {provider.issuer!r}")

    code = callback.get("code")
    if not code:
        raise OidcError(_RESTART, detail="callback has no code")

    discovery = await _discovery(provider)
    client = _oauth_client(
        provider, pending.redirect_uri, token_endpoint_auth_method=_token_auth_method(discovery, provider)
    )
    try:
        async with client:
            token = await client.fetch_token(
                discovery["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
    except OAuthError as exc:
        message = _RESTART if exc.error == "invalid_grant" else _UNAVAILABLE
        raise OidcError(message, detail=f"token endpoint: {exc.error} {exc.description}") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(_UNAVAILABLE, detail=f"token endpoint: {exc!r}") from exc

    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise OidcError(_UNAVAILABLE, detail="token response has no id_token")

    claims = await _verify_with_provider_keys(provider, discovery, id_token, pending.nonce, now)
    return OidcIdentity(
        issuer=provider.issuer,
        subject=claims["sub"],
        id_number=_string_claim(claims, provider.id_number_claim),
        name=_string_claim(claims, provider.name_claim),
        claims=claims,
    )


async def _verify_with_provider_keys(
    provider: OidcProvider, discovery: Mapping[str, Any], id_token: str, nonce: str, now: float | None
) -> dict[str, Any]:
    def verify(jwks: Mapping[str, Any]) -> dict[str, Any]:
        return verify_id_token(
            id_token, jwks, issuer=provider.issuer, client_id=provider.client_id, nonce=nonce, now=now
        )

    jwks = await _jwks(provider, discovery)
    kid = _unverified_header(id_token).get("kid")
    if kid is not None:
        if kid not in {key.get("kid") for key in jwks["keys"] if isinstance(key, dict)}:
            # The provider has rotated its keys since we cached them.
            jwks = await _jwks(provider, discovery, refresh=True)
        return verify(jwks)
    try:
        return verify(jwks)
    except OidcError:
        # Without a kid a rotation only shows as a failed signature. The token came straight from the token
        # endpoint, so this refetch is not something a stranger can trigger at will.
        fresh = await _jwks(provider, discovery, refresh=True)
        if fresh["keys"] == jwks["keys"]:
            raise
        return verify(fresh)


def _string_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


# --- ID token -----------------------------------------------------------------------------------------------


def _unverified_header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    # Three parts is a JWS; five would be an encrypted ID token, which we never ask for.
    if len(parts) != 3:
        raise OidcError(_BAD_TOKEN, detail=f"ID token has {len(parts)} parts, not 3")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise OidcError(_BAD_TOKEN, detail=f"ID token header is not base64url JSON: {exc!r}") from exc
    if not isinstance(header, dict):
        raise OidcError(_BAD_TOKEN, detail="ID token header is not a JSON object")
    return header


def _signing_keys(jwks: Mapping[str, Any]) -> KeySet:
    # Only public signing keys: a symmetric ("oct") key in a JWKS would reopen the HS* door.
    keys = [
        key
        for key in jwks.get("keys") or []
        if isinstance(key, dict)
        and key.get("kty") in _ASYMMETRIC_KEY_TYPES
        and key.get("use") in (None, "sig")
    ]
    if not keys:
        raise OidcError(_UNAVAILABLE, detail="JWKS holds no asymmetric signing key")
    try:
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcError(_UNAVAILABLE, detail=f"JWKS does not import: {exc!r}") from exc


def verify_id_token(
    id_token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: float | None = None,
    leeway: int = 60,
) -> dict[str, Any]:
    """Signature against the provider's JWKS (asymmetric algorithms only: refuse alg none and HS*), iss, aud
    (and azp when aud has several values), exp, iat, nonce. Raises OidcError."""
    alg = _unverified_header(id_token).get("alg")
    if alg not in _ALLOWED_ALGORITHMS:
        raise OidcError(_BAD_TOKEN, detail=f"ID token algorithm {alg!r} is not accepted")

    key_set = _signing_keys(jwks)
    try:
        token = jwt.decode(id_token, key_set, algorithms=_ALLOWED_ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcError(_BAD_TOKEN, detail=f"ID token signature: {exc!r}") from exc

    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=None if now is None else int(now),
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise OidcError("统一身份认证返回的身份凭证已过期，请重新登录", detail=f"ID token: {exc}") from exc
    except JoseError as exc:
        raise OidcError(_BAD_TOKEN, detail=f"ID token claims: {exc}") from exc

    # OpenID Connect Core §3.1.3.7: with several audiences the token must say it was issued to us (azp).
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise OidcError(_BAD_TOKEN, detail=f"ID token azp {azp!r} is not {client_id!r}")
    return dict(claims)
