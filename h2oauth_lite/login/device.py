"""The device authorization grant (RFC 8628): log in on another device with a short code.

The flow asks the server for a device code, shows the user where to go
(``verification_uri_complete``, else ``verification_uri`` and the user
code), then polls the token endpoint every ``interval`` seconds until the
user approves (a token), denies (AccessDeniedError), the code expires
(DeviceCodeExpiredError) or the caller's timeout runs out (FlowTimeoutError).
Sleeping and the clock are injectable, so every path is tested without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from .._redact import mask
from ..durations import Duration, to_seconds
from ..errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    FlowTimeoutError,
    InvalidTokenResponseError,
    TokenEndpointError,
)
from ..token import MAX_LIFETIME, Token, json_seconds
from ..wire.answers import located
from .common import DEFAULT_LOGIN_TIMEOUT, Output, open_in_browser, to_stderr
from .server import LoginServer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..grants.options import TransportOptions

__all__ = ["DeviceAuthorization", "DeviceFlow"]

DEFAULT_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0


@dataclass(frozen=True)
class DeviceAuthorization:
    """The server's answer to a device authorization request (RFC 8628 section 3.2)."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: Optional[str] = None
    expires_in: Optional[float] = None
    interval: float = DEFAULT_INTERVAL

    @property
    def uri(self) -> str:
        """Where the user goes: the complete URI (code included) when there is one."""
        return self.verification_uri_complete or self.verification_uri

    def __repr__(self) -> str:
        return (
            f"DeviceAuthorization(device_code={mask(self.device_code)}, "
            f"user_code={self.user_code!r}, verification_uri={self.verification_uri!r}, "
            f"expires_in={self.expires_in!r}, interval={self.interval!r})"
        )


def parse_device_authorization(data: Any) -> DeviceAuthorization:
    """Validate a device authorization response; InvalidTokenResponseError naming the field."""

    def invalid(reason: str) -> InvalidTokenResponseError:
        return InvalidTokenResponseError(200, detail=f"device authorization response {reason}")

    if not isinstance(data, Mapping):
        raise invalid("is not a JSON object")
    values: dict[str, str] = {}
    for name in ("device_code", "user_code", "verification_uri"):
        value = data.get(name)
        if name == "verification_uri" and value is None:
            value = data.get("verification_url")  # the spelling of early drafts, still served
        if not isinstance(value, str) or not value:
            raise invalid(f"has no '{name}'" if value is None else f"has an invalid '{name}'")
        values[name] = value
    complete = data.get("verification_uri_complete")
    return DeviceAuthorization(
        device_code=values["device_code"],
        user_code=values["user_code"],
        verification_uri=values["verification_uri"],
        verification_uri_complete=complete if isinstance(complete, str) and complete else None,
        expires_in=_seconds(data, "expires_in", invalid),
        interval=_seconds(data, "interval", invalid) or DEFAULT_INTERVAL,
    )


def _seconds(
    data: Mapping[str, Any], name: str, invalid: Callable[[str], InvalidTokenResponseError]
) -> Optional[float]:
    """A positive number of seconds from the device response, capped at ten years; None
    when absent or not positive (the default applies). As for ``expires_in`` of a
    token response, a value that is not a number is refused."""
    value = data.get(name)
    if value is None:
        return None
    seconds = json_seconds(value)
    if seconds is None:
        raise invalid(f"member '{name}' is not a number of seconds")
    return min(seconds, MAX_LIFETIME) if seconds > 0 else None


class DeviceFlow:
    """Log in with the device authorization grant; ``run()`` (or ``get_token()``) returns a Token.

    ``output`` receives the instructions for the user (default: stderr);
    ``open_browser=True`` also opens the verification page locally.
    ``timeout`` bounds the whole wait (default 600 s; the device code's own
    ``expires_in`` may end it sooner). ``sleep`` and ``clock`` (monotonic)
    are injectable; other keyword arguments go to the HTTP client (session,
    ``verify``, ``ssl_context``...).
    """

    def __init__(
        self,
        config: LoginServer,
        *,
        output: Output = to_stderr,
        open_browser: bool = False,
        timeout: Duration = DEFAULT_LOGIN_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        **client_options: Unpack[TransportOptions],
    ) -> None:
        self.config = config
        self._client = config.token_endpoint_client(**client_options)
        self._output = output
        self._open_browser = open_browser
        self._timeout = to_seconds(timeout, "timeout")
        self._sleep = sleep
        self._clock = clock

    def start(self) -> DeviceAuthorization:
        """Ask the server for a device code and a user code."""
        url = self.config.endpoint_url(self._client, "device_authorization_endpoint")
        form: dict[str, Any] = {}
        if not self.config.is_py_oidc_auth and self.config.scope:
            form["scope"] = self.config.scope
        if not self.config.is_py_oidc_auth and self._client.resource:
            form["resource"] = self._client.resource  # RFC 8707 section 2.1
        what = "device authorization request"
        answer = self._client.post(url, form, what=what)
        with located(what, url):
            return parse_device_authorization(answer)

    def show(self, authorization: DeviceAuthorization) -> None:
        """Tell the user where to log in (and open the browser when asked)."""
        if authorization.verification_uri_complete:
            self._output(f"To log in, open {authorization.verification_uri_complete}")
            self._output(f"and check that it shows the code {authorization.user_code}")
        else:
            self._output(
                f"To log in, open {authorization.verification_uri} "
                f"and enter the code {authorization.user_code}"
            )
        if self._open_browser:
            open_in_browser(authorization.uri)

    def poll(self, authorization: DeviceAuthorization) -> Token:
        """Poll the token endpoint until the login ends one way or the other."""
        started = self._clock()
        caller_deadline = started + self._timeout
        code_deadline = (
            math.inf if authorization.expires_in is None else started + authorization.expires_in
        )
        deadline = min(caller_deadline, code_deadline)
        interval = authorization.interval
        form = self.config.device_form(authorization.device_code)
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                if code_deadline <= caller_deadline:
                    raise _expired(authorization)
                raise FlowTimeoutError(
                    f"the login was not completed within {self._timeout:g} s; "
                    "run it again and approve it in the browser"
                )
            self._sleep(min(interval, remaining))
            try:
                return self._client.request_token(form)
            except TokenEndpointError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += SLOW_DOWN_STEP
                    continue
                if exc.error == "access_denied":
                    raise AccessDeniedError(
                        exc.status_code, exc.error, exc.error_description, exc.error_uri
                    ) from None
                if exc.error == "expired_token":
                    raise DeviceCodeExpiredError(
                        exc.status_code, exc.error, exc.error_description, exc.error_uri
                    ) from None
                raise

    def run(self) -> Token:
        """The whole flow: start, show, poll."""
        authorization = self.start()
        self.show(authorization)
        return self.poll(authorization)

    get_token = run

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"DeviceFlow({self.config!r})"


def _expired(authorization: DeviceAuthorization) -> DeviceCodeExpiredError:
    return DeviceCodeExpiredError(
        400,
        "expired_token",
        detail=f"the device code expired after {authorization.expires_in:g} s "
        "before the login was completed",
    )
