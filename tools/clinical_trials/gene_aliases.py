"""Curated gene aliases for the commonly tested oncology genes.

Source: the HGNC (HUGO Gene Nomenclature Committee) symbol reports at genenames.org: each key is
the HGNC approved symbol, each value the alias and previous symbols of that report that trial
registrants actually write (HER2, HER-2 and NEU for ERBB2; HER1 and ERBB1 for EGFR). Hyphenated
spellings such as K-RAS and c-MET are the registrants' way of writing the same symbol (HGNC lists
KI-RAS / c-Met style variants); they are kept because eligibility texts use them. Chosen by hand,
not imported: aliases that are also common English or clinical words (ER, ROS, ARF, TRK) are left
out on purpose, since a phrase search on them would match unrelated trials.

Lookups are case-insensitive; every alias maps to exactly one approved symbol.
"""

from __future__ import annotations

#: HGNC approved symbol -> the aliases searched with it (in the order they are tried).
GENE_ALIASES: dict[str, tuple[str, ...]] = {
    "EGFR": ("HER1", "ERBB1"),
    "ERBB2": ("HER2", "HER-2", "NEU"),
    "ERBB3": ("HER3",),
    "ERBB4": ("HER4",),
    "ALK": (),
    "ROS1": (),
    "RET": (),
    "MET": ("c-MET", "HGFR"),
    "BRAF": (),
    "KRAS": ("K-RAS",),
    "NRAS": ("N-RAS",),
    "HRAS": ("H-RAS",),
    "PIK3CA": (),
    "NTRK1": ("TRKA",),
    "NTRK2": ("TRKB",),
    "NTRK3": ("TRKC",),
    "FGFR1": (),
    "FGFR2": (),
    "FGFR3": (),
    "IDH1": (),
    "IDH2": (),
    "KIT": ("c-KIT", "CD117"),
    "PDGFRA": (),
    "FLT3": (),
    "BRCA1": (),
    "BRCA2": (),
    "TP53": ("P53",),
    "CDKN2A": ("P16", "P16INK4A"),
    "STK11": ("LKB1",),
    "MAP2K1": ("MEK1",),
    "MAP2K2": ("MEK2",),
    "ESR1": (),
    "PTEN": (),
}

_BY_NAME: dict[str, str] = {
    name.upper(): symbol for symbol, aliases in GENE_ALIASES.items() for name in (symbol, *aliases)
}


def canonical_gene(name: str) -> str | None:
    """The approved symbol ``name`` stands for ('her2' -> 'ERBB2'), or None when not in the table."""
    return _BY_NAME.get(name.upper())


def gene_names(symbol: str) -> tuple[str, ...]:
    """The approved symbol first, then its aliases ('ERBB2' -> ERBB2, HER2, HER-2, NEU)."""
    return (symbol, *GENE_ALIASES.get(symbol, ()))
