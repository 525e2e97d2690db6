"""The Lua scripts of RedisTokenStore, and the parsing of what they store. Pure.

An entry is one string: ``<generation> <server ms> <json>``. The server
time is stamped by the write script from Redis' own ``TIME``, and the read
script returns Redis' ``TIME`` too, so a reader learns how long ago the
entry was written on one clock, Redis'. Token expiries travel as "seconds
left when written", rebased on the reader's clock: hosts whose clocks
differ by minutes still agree on when a token expires.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..token import Token
from .base import StoredEntry

__all__ = ["ASIDE", "READ", "RELEASE", "WRITE", "decode_entry", "encode_entry"]

# KEYS[1] entry. Returns {type, value, seconds, microseconds}.
READ = """
local kind = redis.call('TYPE', KEYS[1]).ok
local now = redis.call('TIME')
local value = ''
if kind == 'string' then value = redis.call('GET', KEYS[1]) end
return {kind, value, now[1], now[2]}
"""

# KEYS[1] entry; ARGV generation, json, ttl ms. Refuses (0) when the store holds a newer
# generation: a process that refreshed while cut off never rolls the store back.
WRITE = """
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local held = tonumber(string.match(redis.call('GET', KEYS[1]), '^(%d+) '))
  if held and held > tonumber(ARGV[1]) then return 0 end
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. string.format('%.0f', ms) .. ' ' .. ARGV[2],
           'PX', ARGV[3])
return 1
"""

# KEYS[1] lock; ARGV[1] owner. Only the owner deletes: a holder whose lease ran out
# must not release the lock of the process that took it over.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS[1] entry, KEYS[2] where to move it; ARGV[1] the value read, ARGV[2] ttl ms.
# Moves a corrupt or foreign entry aside, unless a writer replaced it meanwhile.
ASIDE = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return 0 end
if kind ~= 'string' or redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


def encode_entry(entry: StoredEntry, now: float) -> str:
    """The JSON part of an entry; the expiry as seconds left at ``now`` (the writer's clock)."""
    data = entry.token.to_dict()
    expires_at = data.pop("expires_at", None)
    body: dict[str, Any] = {
        "token": data,
        "expires_in": None if expires_at is None else float(expires_at) - now,
    }
    if entry.client_id:
        body["client_id"] = entry.client_id
    if entry.seed:
        body["seed"] = entry.seed
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def decode_entry(value: str, server_ms: float, now: float) -> Optional[StoredEntry]:
    """The entry in ``value``, its expiry rebased on ``now``; None when it is not one of ours."""
    head = value.split(" ", 2)
    if len(head) != 3 or not head[0].isdigit():
        return None
    try:
        written_ms = float(head[1])
        body = json.loads(head[2])
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("token"), dict):
        return None
    data = dict(body["token"])
    expires_in = body.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        age = max(0.0, (server_ms - written_ms) / 1000.0)
        data["expires_at"] = now + expires_in - age
    elif expires_in is not None:
        return None
    try:
        token = Token.from_dict(data)
    except (ValueError, TypeError):
        return None
    client_id, seed = body.get("client_id"), body.get("seed")
    return StoredEntry(
        token,
        client_id=client_id if isinstance(client_id, str) and client_id else None,
        generation=int(head[0]),
        seed=seed if isinstance(seed, str) and seed else None,
    )
