"""Variant synonyms: the phrases a mutation is written as in trial records.

:func:`expand` reads a mutation as an agent writes it and returns the phrases to search, the
canonical one first:

- a protein change in 1- or 3-letter amino-acid notation, with or without ``p.``
  (``L858R`` = ``Leu858Arg`` = ``p.L858R`` = ``p.Leu858Arg``; a stop as ``*``, ``X`` or ``Ter``);
- an exon phrasing: ``exon 19 deletion`` (= ``exon 19 del``, ``ex19del``, ``19del``),
  ``exon 20 insertion`` (= ``ex20ins``, ``20ins``), ``exon 14 skipping``;
- a gene from :mod:`tools.clinical_trials.gene_aliases` in front, any spelling of it
  (``HER2`` = ``ERBB2``); the phrases then name the gene (approved symbol first, then its
  aliases). Without a gene the change alone is searched (``L858R exon 21`` -> ``L858R`` ...).

Filler words (mutation, mutant, variant, positive ...) are dropped and an exon number given
next to a protein change (``L858R exon 21``) only qualifies it. Anything else is searched
literally, as one phrase (with the gene's aliases when it starts with a known gene):
``ALK fusion`` -> ``ALK fusion``; ``HER2 amplification`` -> ``ERBB2 amplification``,
``HER2 amplification`` .... Never raises: text that cannot be read is its own phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.clinical_trials.gene_aliases import canonical_gene, gene_names

#: At most this many phrases are searched for one mutation (canonical forms come first).
MAX_PHRASES = 12

_ONE_TO_THREE: dict[str, str] = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
}  # fmt: skip
_THREE_TO_ONE = {three.upper(): one for one, three in _ONE_TO_THREE.items()}
_CHANGE = re.compile(r"^(?:p\.)?(?P<ref>[A-Za-z]{3}|[A-Za-z])(?P<pos>[1-9][0-9]{0,4})(?P<alt>[A-Za-z]{3}|[A-Za-z*])$")
_FILLER = frozenset(
    "mutation mutations mutant mutated variant variants positive alteration alterations substitution".split()
)
_KINDS = {"del": "deletion", "deletion": "deletion", "deletions": "deletion"} | {
    "ins": "insertion",
    "insertion": "insertion",
    "insertions": "insertion",
    "skip": "skipping",
    "skipping": "skipping",
}
_KIND = r"(?P<kind>deletions?|insertions?|skipping|skip|del|ins)"
_EXON_FORMS = (
    re.compile(rf"\b(?:exon|ex)\s*(?P<n>[0-9]{{1,2}})\s*{_KIND}\b", re.IGNORECASE),
    re.compile(rf"\b{_KIND}\s+(?:(?:in|of)\s+)?(?:exon|ex)\s*(?P<n>[0-9]{{1,2}})\b", re.IGNORECASE),
    re.compile(r"\b(?P<n>[0-9]{1,2})(?P<kind>del|ins)\b", re.IGNORECASE),
)
_EXON_ALONE = re.compile(r"\b(?:exon|ex)\s*[0-9]{1,2}\b", re.IGNORECASE)
_GENE_LIKE = re.compile(r"^(?=.*[A-Z])[A-Z0-9][A-Z0-9-]{1,9}$")


@dataclass(frozen=True, slots=True)
class Change:
    """A protein substitution (or nonsense change): ``ref`` and ``alt`` as 1-letter codes."""

    ref: str
    position: int
    alt: str

    def forms(self) -> list[str]:
        one = f"{self.ref}{self.position}"
        three = f"{_ONE_TO_THREE[self.ref]}{self.position}{_ONE_TO_THREE[self.alt]}"
        ones = [one + self.alt] + ([one + "X"] if self.alt == "*" else [])
        return [*ones, three, *(f"p.{form}" for form in (ones[0], three))]


@dataclass(frozen=True, slots=True)
class Exon:
    """An exon-level change: ``kind`` is deletion, insertion or skipping."""

    number: int
    kind: str

    def forms(self) -> list[str]:
        n = self.number
        short = {"deletion": "del", "insertion": "ins", "skipping": "skip"}[self.kind]
        forms = [f"exon {n} {self.kind}", f"exon {n} {self.kind}s" if self.kind != "skipping" else f"ex{n} skipping"]
        forms += [f"exon {n} {short}", f"ex{n}{short}"]
        return forms + ([f"{n}{short}"] if self.kind != "skipping" else [])


def parse_change(word: str) -> Change | None:
    """``L858R``, ``Leu858Arg``, ``p.L858R``, ``p.leu858arg``, ``R213*``, ``Arg213Ter`` -> a Change."""
    found = _CHANGE.match(word)
    if found is None:
        return None
    ref, alt = _amino(found.group("ref")), _amino(found.group("alt"), stop_x=True)
    if ref is None or alt is None or ref == "*":
        return None
    return Change(ref, int(found.group("pos")), alt)


def expand(mutation: str) -> list[str]:
    """The phrases to search for ``mutation``, canonical first, at most MAX_PHRASES."""
    text = " ".join(mutation.split())
    rest, exon = _take_exon(text)
    rest = _EXON_ALONE.sub(" ", rest)  # 'L858R exon 21': the exon number only qualifies the change
    gene: str | None = None
    aliases: tuple[str, ...] = ()
    changes: list[Change] = []
    for index, word in enumerate(rest.split()):
        if word.lower() in _FILLER:
            continue
        change = parse_change(word)
        symbol = canonical_gene(word) if index == 0 or gene is None else None
        if change is not None and symbol is None:
            changes.append(change)
        elif gene is None and symbol is not None:
            gene, aliases = symbol, gene_names(symbol)[1:]
        elif gene is None and index == 0 and _GENE_LIKE.match(word):
            gene = word
        else:
            return _literal(text)
    variant = changes[0] if len(changes) == 1 and exon is None else exon if not changes else None
    if variant is None or (exon is not None and changes):
        return _literal(text)
    forms = variant.forms()
    if gene is None:
        return _unique(forms)
    return _unique([f"{gene} {form}" for form in forms] + [f"{alias} {forms[0]}" for alias in aliases])


def _take_exon(text: str) -> tuple[str, Exon | None]:
    for form in _EXON_FORMS:
        found = form.search(text)
        if found:
            exon = Exon(int(found.group("n")), _KINDS[found.group("kind").lower()])
            return text[: found.start()] + " " + text[found.end() :], exon
    return text, None


def _literal(text: str) -> list[str]:
    """The text as one phrase; with a known gene first, the same words after each of its names."""
    words = text.split(" ")
    symbol = canonical_gene(words[0]) if words and words[0] else None
    if symbol is None:
        return [text] if text else []
    tail = " ".join(words[1:])
    return _unique([f"{name} {tail}".strip() for name in gene_names(symbol)])


def _amino(code: str, stop_x: bool = False) -> str | None:
    if len(code) == 3:
        return _THREE_TO_ONE.get(code.upper())
    upper = code.upper()
    if upper == "X" and stop_x:
        return "*"
    return upper if upper in _ONE_TO_THREE else None


def _unique(phrases: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for phrase in phrases:
        seen.setdefault(phrase.upper(), phrase)
    return list(seen.values())[:MAX_PHRASES]
