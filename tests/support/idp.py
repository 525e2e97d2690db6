"""A real OpenID provider (the npm package ``oidc-provider``) for interop tests.

The provider runs as a Node.js child process on a free loopback port. Its
stdin is a pipe held by this process, so it exits as soon as pytest does,
however pytest dies. Logins, consents and device confirmations are driven
headlessly over plain HTTP through the provider's development interaction
pages, which accept any user name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.support.processes import read_log, stop_child

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
SERVER_SCRIPT = OIDC_DIR / "server.mjs"
CLIENTS_FILE = OIDC_DIR / "clients.json"
READY_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"
MAX_HOPS = 30


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason: str) -> None:
    # CI must prove interop; a silent skip there would hide a broken install.
    if _truthy(os.environ.get("CI")):
        pytest.fail(f"oidc-provider is required under CI: {reason}", pytrace=False)
    pytest.skip(f"oidc-provider not available: {reason} (run `make test` to install it)")


def _require_node() -> str:
    node = shutil.which("node")
    if node is None:
        _unavailable("`node` is not on PATH")
    elif not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable(f"{OIDC_DIR / 'node_modules'} is missing (npm ci in tests/oidc)")
    assert node is not None
    return node


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


class _Form:
    def __init__(self, attrs: Mapping[str, Optional[str]]) -> None:
        self.id = attrs.get("id") or ""
        self.action = unescape(attrs.get("action") or "")
        self.method = (attrs.get("method") or "get").lower()
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}


class _PageParser(HTMLParser):
    """Collects forms, their fields and the links of a provider page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.links: list[str] = []
        self._current: Optional[_Form] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._current = _Form(a)
            self.forms.append(self._current)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag in {"input", "button"} and a.get("name"):
            # Buttons may sit outside their form and point at it with form=.
            owner = self._current
            if a.get("form"):
                owner = next((f for f in self.forms if f.id == a["form"]), owner)
            if owner is None:
                return
            name = a["name"] or ""
            if tag == "button":
                owner.buttons[name] = a.get("value") or ""
            else:
                owner.fields[name] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


class InteractionError(AssertionError):
    """The provider showed a page the headless driver does not understand."""


class OIDCServer:
    """A running oidc-provider and headless drivers for its interactive pages."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        log_path: Path,
        access_token_ttl: int,
    ) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.access_token_ttl = access_token_ttl
        self.issuer = f"http://127.0.0.1:{port}"
        self.config: dict[str, Any] = json.loads(CLIENTS_FILE.read_text(encoding="utf-8"))
        self.metadata: dict[str, Any] = {}
        # Where tests may run the mutual-TLS terminator (tests/support/mtls_proxy.py), and the
        # secret it shows the provider; the provider advertises it as mtls_endpoint_aliases.
        self.mtls_port = 0
        self.proxy_secret = ""

    # -- lifecycle -------------------------------------------------------

    def _load_metadata(self) -> None:
        response = requests.get(
            f"{self.issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()
        self.metadata = response.json()

    def stop(self) -> None:
        stop_child(self.process, self.log_path, timeout=5)

    def log(self) -> str:
        """What the provider wrote to stderr, for failure messages."""
        return read_log(self.log_path)

    # -- static facts ----------------------------------------------------

    @property
    def token_endpoint(self) -> str:
        return str(self.metadata["token_endpoint"])

    @property
    def introspection_endpoint(self) -> str:
        return str(self.metadata["introspection_endpoint"])

    @property
    def revocation_endpoint(self) -> str:
        return str(self.metadata["revocation_endpoint"])

    @property
    def device_authorization_endpoint(self) -> str:
        return str(self.metadata["device_authorization_endpoint"])

    @property
    def authorization_endpoint(self) -> str:
        return str(self.metadata["authorization_endpoint"])

    @property
    def jwks_uri(self) -> str:
        return str(self.metadata["jwks_uri"])

    @property
    def default_resource(self) -> str:
        return str(self.config["default_resource"])

    @property
    def opaque_resource(self) -> str:
        return "urn:h2oauth-lite:opaque"

    def client(self, name: str) -> dict[str, Any]:
        """Registered metadata of a client: client_id, client_secret (if any), ..."""
        try:
            entry = dict(self.config["clients"][name])
        except KeyError:
            raise KeyError(f"no such test client: {name!r}") from None
        return entry

    def private_jwk(self, name: str) -> dict[str, Any]:
        """The private JWK (RSA or EC) a private_key_jwt client signs with."""
        key_file = self.client(name).get("private_jwk_file")
        if not key_file:
            raise KeyError(f"test client {name!r} has no private key")
        jwk: dict[str, Any] = json.loads((OIDC_DIR / key_file).read_text(encoding="utf-8"))
        return jwk

    def client_auth(self, name: str) -> tuple[Optional[tuple[str, str]], dict[str, str]]:
        """(basic auth pair or None, form fields) to authenticate ``name`` plainly."""
        entry = self.client(name)
        method = entry["token_endpoint_auth_method"]
        if method == "client_secret_basic":
            return (entry["client_id"], entry["client_secret"]), {}
        if method == "client_secret_post":
            return None, {"client_id": entry["client_id"], "client_secret": entry["client_secret"]}
        if method == "none":
            return None, {"client_id": entry["client_id"]}
        raise ValueError(f"client {name!r} uses {method}; sign an assertion for it instead")

    # -- headless interactions -------------------------------------------

    def _drive(
        self,
        session: requests.Session,
        response: requests.Response,
        *,
        approve: bool,
        login: str,
        user_code: Optional[str],
        done: Callable[[str], bool],
    ) -> tuple[Optional[str], requests.Response]:
        """Walk redirects and pages until ``done(location)`` or a final page.

        Returns (final redirect location or None, last response).
        """
        for _ in range(MAX_HOPS):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if done(location):
                    return location, response
                response = session.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
                continue
            if response.status_code != 200 or "html" not in response.headers.get(
                "Content-Type", ""
            ):
                return None, response
            page = _parse_page(response.text)
            action = self._act(page, approve=approve, login=login, user_code=user_code)
            if action is None:
                return None, response
            method, url, data, final = action
            url = urljoin(response.url, url)
            if method == "post":
                response = session.post(
                    url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
                )
            else:
                response = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            if final:
                # A device abort re-renders the code input page; that is the end.
                return None, response
        raise InteractionError(f"no end after {MAX_HOPS} steps at {response.url}")

    @staticmethod
    def _act(
        page: _PageParser, *, approve: bool, login: str, user_code: Optional[str]
    ) -> Optional[tuple[str, str, dict[str, str], bool]]:
        """The next step on ``page``: (method, url, form data, ends the walk)."""
        abort_links = [link for link in page.links if link.rstrip("/").endswith("/abort")]
        for form in page.forms:
            fields = dict(form.fields)
            prompt = fields.get("prompt")
            if prompt in {"login", "consent"}:
                if not approve and abort_links:
                    return "get", unescape(abort_links[0]), {}, False
                if prompt == "login":
                    fields.update(login=login, password="any-password")
                return "post", form.action, fields, False
            if form.id == "op.deviceInputForm":
                if not user_code:
                    raise InteractionError("the device page asks for a user code")
                fields["user_code"] = user_code
                return "post", form.action, fields, False
            if form.id == "op.deviceConfirmForm":
                if not approve:
                    fields.update(form.buttons)
                    return "post", form.action, fields, True
                return "post", form.action, fields, False
            if "xsrf" in fields or "user_code" in fields:
                # The auto-submitting form_post page that /device?user_code= serves.
                return "post", form.action, fields, False
        return None

    def complete_authorization(
        self, authorization_url: str, approve: bool = True, *, login: str = "alice"
    ) -> str:
        """Log in and consent (or cancel) for ``authorization_url``.

        Returns the final redirect URL toward the redirect_uri, not followed:
        it carries ``code`` and ``state``, or ``error=access_denied``.
        """
        query = dict(parse_qsl(urlsplit(authorization_url).query))
        redirect_uri = query.get("redirect_uri", DEFAULT_REDIRECT_URI)
        target = urlsplit(redirect_uri)

        def done(location: str) -> bool:
            parts = urlsplit(location)
            # Native loopback redirects may carry any port.
            return (
                parts.scheme == target.scheme
                and parts.hostname == target.hostname
                and parts.path == target.path
                and not location.startswith(self.issuer + "/")
            )

        with requests.Session() as session:
            response = session.get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            location, last = self._drive(
                session, response, approve=approve, login=login, user_code=None, done=done
            )
        if location is None:
            raise InteractionError(
                f"authorization ended without a redirect: {last.status_code} {last.url}\n"
                f"{last.text[:2000]}"
            )
        return location

    def complete_device(
        self,
        user_code_or_verification_uri_complete: str,
        approve: bool = True,
        *,
        login: str = "alice",
    ) -> str:
        """Confirm a device user code, log in and consent (or abort).

        Returns the provider's last page (HTML). The polling client then gets
        its token, or ``access_denied`` when ``approve`` is false.
        """
        value = user_code_or_verification_uri_complete
        user_code: Optional[str]
        if value.startswith(("http://", "https://")):
            url = value
            user_code = dict(parse_qsl(urlsplit(value).query)).get("user_code")
        else:
            url = f"{self.issuer}/device"
            user_code = value
        with requests.Session() as session:
            response = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            _, last = self._drive(
                session,
                response,
                approve=approve,
                login=login,
                user_code=user_code,
                done=lambda _location: False,
            )
        if last.status_code >= 500:
            raise InteractionError(f"device verification failed: {last.status_code}\n{last.text}")
        return last.text

    def login_code_flow(
        self,
        client: str = "app-basic",
        scope: str = "openid offline_access api:read",
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        approve: bool = True,
        extra: Optional[Mapping[str, str]] = None,
    ) -> dict[str, Any]:
        """Run the whole authorization code flow (PKCE S256, state) for ``client``.

        Returns the token endpoint's JSON (access_token, refresh_token, ...).
        With ``approve=False`` returns the error parameters of the redirect.
        """
        entry = self.client(client)
        verifier, challenge = _pkce_pair()
        state = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": entry["client_id"],
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if "offline_access" in scope.split():
            # oidc-provider drops offline_access unless consent is prompted for.
            params["prompt"] = "consent"
        params.update(extra or {})
        location = self.complete_authorization(
            f"{self.authorization_endpoint}?{urlencode(params)}", approve=approve
        )
        result = dict(parse_qsl(urlsplit(location).query))
        if result.get("state") != state:
            raise InteractionError(f"state mismatch in {location}")
        if "code" not in result:
            if approve:
                raise InteractionError(f"no code in {location}")
            return result
        basic, form = self.client_auth(client)
        form.update(
            grant_type="authorization_code",
            code=result["code"],
            redirect_uri=redirect_uri,
            code_verifier=verifier,
        )
        response = requests.post(self.token_endpoint, data=form, auth=basic, timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            raise InteractionError(
                f"code exchange failed: {response.status_code} {response.text}"
            )
        tokens: dict[str, Any] = response.json()
        return tokens


class DeviceUser:
    """A device flow's ``output`` and ``sleep``: approves (or denies) the URL shown, once."""

    def __init__(self, oidc: OIDCServer, approve: bool = True) -> None:
        self.oidc = oidc
        self.approve = approve
        self.shown: list[str] = []
        self.sleeps = 0
        self.logins = 0

    def output(self, message: str) -> None:
        self.shown.append(message)

    def sleep(self, _seconds: float) -> None:
        self.sleeps += 1
        urls = [m for line in self.shown for m in re.findall(r"http\S+user_code=\S+", line)]
        if urls and self.logins == 0:
            self.logins += 1
            self.oidc.complete_device(urls[-1], approve=self.approve)

    def options(self) -> dict[str, Any]:
        return {"output": self.output, "sleep": self.sleep}


def _reader(stream: Any, lines: queue.Queue[Optional[str]]) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
    lines.put(None)


def start_oidc_server(access_token_ttl: int = 300, attempts: int = 3) -> OIDCServer:
    """Start a provider on a free loopback port and wait until it listens."""
    node = _require_node()
    last_error = ""
    for _ in range(attempts):
        port = _free_port()
        mtls_port = _free_port()
        proxy_secret = secrets.token_urlsafe(24)
        env = dict(os.environ)
        env.update(
            OIDC_PORT=str(port),
            OIDC_ACCESS_TOKEN_TTL=str(int(access_token_ttl)),
            OIDC_MTLS_PORT=str(mtls_port),
            OIDC_PROXY_SECRET=proxy_secret,
            NODE_ENV="test",
        )
        fd, log_name = tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")
        log_path = Path(log_name)
        with os.fdopen(fd, "wb") as log:
            process = subprocess.Popen(
                [node, str(SERVER_SCRIPT)],
                cwd=str(OIDC_DIR),
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        server = OIDCServer(process, port, log_path, int(access_token_ttl))
        server.mtls_port, server.proxy_secret = mtls_port, proxy_secret
        lines: queue.Queue[Optional[str]] = queue.Queue()
        threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        ready = False
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.strip() == f"READY {port}":
                ready = True
                break
        if ready:
            try:
                server._load_metadata()
            except requests.RequestException as exc:
                server.stop()
                last_error = f"discovery failed: {exc}\n{server.log()}"
                continue
            return server
        server.stop()
        last_error = f"no READY line within {READY_TIMEOUT:.0f}s\n{server.log()}"
        # The port may have been taken between probing and binding; try another.
    raise RuntimeError(f"oidc-provider did not start: {last_error}")


@pytest.fixture(scope="session")
def oidc() -> Iterator[OIDCServer]:
    """One provider shared by the whole session (access tokens live 300 s)."""
    server = start_oidc_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oidc_factory() -> Iterator[Callable[..., OIDCServer]]:
    """Start extra providers with other settings; all stop at teardown."""
    started: list[OIDCServer] = []

    def factory(access_token_ttl: int = 300) -> OIDCServer:
        server = start_oidc_server(access_token_ttl=access_token_ttl)
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()


# -- the client authentication of each confidential client of tests/oidc/clients.json --

# One client_credentials client per token endpoint authentication method.
ALL_CLIENTS = ["cc-basic", "cc-post", "cc-jwt", "cc-pkjwt-rs256", "cc-pkjwt-es256"]


def auth_for(oidc: OIDCServer, name: str) -> Any:
    """The library's method object for the method ``name`` is registered with."""
    from h2oauth_lite import ClientSecretBasic, ClientSecretJWT, ClientSecretPost, PrivateKeyJWT

    entry = oidc.client(name)
    method = entry["token_endpoint_auth_method"]
    if method == "client_secret_basic":
        return ClientSecretBasic(name, entry["client_secret"])
    if method == "client_secret_post":
        return ClientSecretPost(name, entry["client_secret"])
    if method == "client_secret_jwt":
        return ClientSecretJWT(name, entry["client_secret"])
    return PrivateKeyJWT(name, oidc.private_jwk(name), alg=entry["token_endpoint_auth_signing_alg"])
