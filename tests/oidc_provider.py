"""A real OpenID provider for the sign-in tests: ``oidc-provider-mock`` run as a subprocess.

Import the fixture where it is needed::

    from tests.oidc_provider import oidc_provider  # noqa: F401

The provider accepts any client_id, client_secret and redirect_uri. Its authorization endpoint answers a GET
with a form and a POST of that form (to the same URL, query string included) with ``sub=<subject>`` to sign in
as that user, or ``action=deny`` to refuse; either way it redirects (302) to the redirect_uri.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

#: The user the tests sign in as; every claim goes into the ID token (standard ones like ``name`` only with
#: the scope that covers them, here ``profile``).
APPLICANT_CLAIMS: dict[str, str] = {
    "sub": "applicant-1",
    "name": "张三",
    "id_number": "622826198501306421",
    "sfzh": "62282619850130642X",
}

_STARTUP_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(process: subprocess.Popen[bytes], issuer: str, log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    url = f"{issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oidc-provider-mock exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"oidc-provider-mock did not answer {url} within {_STARTUP_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """Base URL of a running provider, which is also its issuer (``http://127.0.0.1:<port>``)."""
    executable = Path(sys.executable).parent / "oidc-provider-mock"
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as scratch:
        # A file, not a pipe: the provider logs every request, and a full pipe nobody reads would block it.
        log = Path(scratch) / "provider.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    str(executable),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--user-claims",
                    json.dumps(APPLICANT_CLAIMS, ensure_ascii=False),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
        try:
            _wait_until_ready(process, issuer, log)
            yield issuer
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
