"""Generated glob patterns and keys, drawn from the characters the dialect treats specially
(and a few it does not, multi-byte ones included), for tests comparing the tiers' matching."""

from __future__ import annotations

import random

KEY_CHARS = ["a", "b", "z", "-", "]", "[", "^", "!", "*", "?", "\\", "é", "臺", ":"]
PATTERN_PIECES = ["*", "?", "[", "]", "!", "^", "-", "\\", "a", "b", "z", "é", "臺", ":"]


def generated_patterns(count: int, seed: int = 20240611) -> list[str]:
    """``count`` patterns of 1-7 pieces (some have a reversed range: the dialect refuses those)."""
    rng = random.Random(seed)
    return ["".join(rng.choice(PATTERN_PIECES) for _ in range(rng.randint(1, 7))) for _ in range(count)]


def generated_keys(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct keys of 0-5 characters."""
    rng = random.Random(seed)
    keys: dict[str, None] = {}
    while len(keys) < count:
        keys["".join(rng.choice(KEY_CHARS) for _ in range(rng.randint(0, 5)))] = None
    return list(keys)
