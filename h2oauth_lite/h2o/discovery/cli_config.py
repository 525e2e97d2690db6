"""The H2O CLI configuration file (``~/.h2oai/h2o-cli-config.toml``): where it is, what it says.

The CLI writes a flat TOML file of ``Key = "value"`` lines. Python 3.11+
reads it with ``tomllib``; older Pythons get a reader for exactly that flat
form, which says clearly when a file holds anything else rather than guess.
Parsing (:func:`parse_cli_config`) is pure; :func:`load_cli_config` reads the
file.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ... import settings
from ..._redact import mask
from ...errors import ConfigError

__all__ = [
    "DEFAULT_CLI_CONFIG_PATH",
    "CliConfig",
    "cli_config_path",
    "load_cli_config",
    "parse_cli_config",
    "parse_flat_toml",
]

DEFAULT_CLI_CONFIG_PATH = "~/.h2oai/h2o-cli-config.toml"


@dataclass(frozen=True)
class CliConfig:
    """What discovery uses from the CLI config: the environment and refresh tokens by client id."""

    endpoint: Optional[str] = None
    tokens: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}))

    def __repr__(self) -> str:
        shown = {client_id: mask(token) for client_id, token in self.tokens.items()}
        return f"CliConfig(endpoint={self.endpoint!r}, tokens={shown!r})"


_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$")
_BASIC_STRING = re.compile(r'^"((?:[^"\\\n]|\\["\\btnfr])*)"\s*(?:#.*)?$')
_LITERAL_STRING = re.compile(r"^'([^'\n]*)'\s*(?:#.*)?$")
_ESCAPES = {'"': '"', "\\": "\\", "b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r"}


def parse_flat_toml(text: str, source: str = "the H2O CLI config") -> dict[str, str]:
    """``Key = "value"`` lines (plus comments and blank lines) as a dict; ConfigError otherwise."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        value: Optional[str] = None
        if match:
            basic = _BASIC_STRING.match(match.group(2))
            literal = _LITERAL_STRING.match(match.group(2))
            if basic:
                value = re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], basic.group(1))
            elif literal:
                value = literal.group(1)
        if match is None or value is None:
            # The line itself may hold a token: say where, never what.
            raise ConfigError(
                f"{source}, line {number}: only flat 'Key = \"value\"' lines can be read on "
                f"Python {sys.version_info[0]}.{sys.version_info[1]} (3.11+ reads any TOML)"
            )
        values[match.group(1)] = value
    return values


def _parse_toml(text: str, source: str) -> Mapping[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    return parse_flat_toml(text, source)


def parse_cli_config(text: str, source: str = "the H2O CLI config") -> CliConfig:
    """The ``Endpoint`` and the ``ClientID``/``Token`` and ``PlatformClientID``/``PlatformToken``
    pairs of a CLI config file's text."""
    data = _parse_toml(text, source)

    def string(name: str) -> Optional[str]:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {name} must be a string")
        return value.strip() or None

    tokens: dict[str, str] = {}
    for id_key, token_key in (("ClientID", "Token"), ("PlatformClientID", "PlatformToken")):
        client_id, token = string(id_key), string(token_key)
        if client_id is not None and token is not None:
            tokens[client_id] = token
    return CliConfig(endpoint=string("Endpoint"), tokens=types.MappingProxyType(tokens))


PathLike = Union[str, "os.PathLike[str]"]


def cli_config_path(
    config_path: Optional[PathLike] = None, environ: Optional[Mapping[str, str]] = None
) -> Optional[str]:
    """The file to read: ``config_path``, else ``H2OCONFIG``, else the CLI's default, if present."""
    if config_path is not None:
        return os.fspath(config_path)
    from_env = settings.cloud_environment(environ).cli_config_path
    if from_env is not None:
        return from_env
    default = os.path.expanduser(DEFAULT_CLI_CONFIG_PATH)
    return default if os.path.isfile(default) else None


def load_cli_config(path: Optional[str]) -> CliConfig:
    """The CLI config at ``path`` (an empty one for None); ConfigError if it cannot be read."""
    if path is None:
        return CliConfig()
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the H2O CLI config {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the H2O CLI config {path} is not UTF-8 text") from None
    return parse_cli_config(text, source=f"the H2O CLI config {path}")
