"""How many failed logins are tolerated before a username at an address must wait."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoginThrottlePolicy:
    max_failures: int = 5
    window_seconds: int = 15 * 60

    def is_locked(self, recent_failures: int) -> bool:
        return recent_failures >= self.max_failures

    def allows_attempt(self, attempt_number: int) -> bool:
        """Attempts are counted before the password is checked; a success clears the count."""
        return attempt_number <= self.max_failures


def throttle_key(username: str, address: str) -> str:
    """Failures count per (username, client address), so one attacker cannot lock out everyone."""
    return f"{username.strip().lower()}|{address}"
