"""How many failed logins are tolerated before a username at an address must wait."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoginThrottlePolicy:
    max_failures: int = 5
    window_seconds: int = 15 * 60
    max_failures_per_address: int = 50
    """Failures from one address across all usernames (password spraying), higher than `max_failures`
    so that an office behind one NAT address is not locked out by a few people's typos."""

    def is_locked(self, recent_failures: int) -> bool:
        return recent_failures >= self.max_failures

    def allows_attempt(self, attempt_number: int) -> bool:
        """Attempts are counted before the password is checked; a success clears the count."""
        return attempt_number <= self.max_failures

    def allows_address(self, address_failures: int) -> bool:
        return address_failures < self.max_failures_per_address


def throttle_key(username: str, address: str) -> str:
    """Failures count per (username, client address), so one attacker cannot lock out everyone."""
    return f"{username.strip().lower()}|{address}"


def address_throttle_key(address: str) -> str:
    """Failures of every username from one client address."""
    return f"address|{address}"
