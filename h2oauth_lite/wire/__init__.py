"""The wire: the one HTTP path every request takes.

Sessions, timeouts, the retry policy, redirects refused, the https rule,
bounded bodies, the mapping of answers to errors, and OpenID metadata. May
import only the pure modules (token, errors, durations, logging); nothing
above it.
"""
