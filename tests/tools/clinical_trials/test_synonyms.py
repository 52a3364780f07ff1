"""Variant and gene synonyms: every notation of EGFR L858R finds the same recorded trials."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fixtures import load_json
from tests.support.recorded_upstream import RecordedUpstream
from tools.clinical_trials import query
from tools.clinical_trials.gene_aliases import GENE_ALIASES, canonical_gene, gene_names
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.mutation import locate
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.synonyms import MAX_PHRASES, expand, parse_change
from tools.errors import InvalidInput

NSCLC = Criteria(condition="non-small cell lung cancer")
L858R = ["EGFR L858R", "EGFR Leu858Arg", "EGFR p.L858R", "EGFR p.Leu858Arg", "HER1 L858R", "ERBB1 L858R"]
GENELESS_L858R = ["L858R", "Leu858Arg", "p.L858R", "p.Leu858Arg"]
#: Every notation the issue names, each with the phrases it must be searched as.
NOTATIONS = {
    "EGFR L858R": L858R,
    "EGFR Leu858Arg": L858R,
    "EGFR p.L858R": L858R,
    "EGFR p.Leu858Arg": L858R,
    "egfr p.leu858arg": L858R,
    "HER1 L858R mutation": L858R,
    "EGFR exon 21 L858R": L858R,
    "L858R exon 21": GENELESS_L858R,
    "p.Leu858Arg": GENELESS_L858R,
}


def recorded(nct: str) -> dict[str, Any]:
    return load_json(f"ctgov/biomcp_get_{nct.lower()}_20260811.json")


@pytest.mark.parametrize(("notation", "phrases"), NOTATIONS.items())
def test_each_notation_expands_to_the_same_phrases_canonical_first(notation: str, phrases: list[str]) -> None:
    assert expand(notation) == phrases


@pytest.mark.parametrize("notation", NOTATIONS)
async def test_each_notation_finds_the_recorded_egfr_trials(
    notation: str, service: TrialsService, upstream: RecordedUpstream
) -> None:
    result = await service.search_mutation(notation, NSCLC, page_size=50)
    assert [m.trial.nct_id for m in result.matches] == ["NCT06604689"]
    assert result.matches[0].found_in == ["inclusion"]
    assert [t.nct_id for t in result.excluded] == ["NCT06382129"]
    assert result.searched == NOTATIONS[notation]
    sent = upstream.params(0)["query.term"]
    group = "(" + " OR ".join(f'"{p}"' for p in NOTATIONS[notation]) + ")"
    assert f"AREA[EligibilityCriteria]{group}" in sent and f"AREA[Keyword]{group}" in sent


@pytest.mark.parametrize("notation", NOTATIONS)
def test_each_notation_is_recognised_in_the_recorded_eligibility_texts(notation: str) -> None:
    assert locate(recorded("NCT06604689"), notation).places == ("inclusion",)
    assert locate(recorded("NCT06382129"), notation).exclusion_only


@pytest.mark.parametrize("written", ["EGFR p.Leu858Arg", "EGFR Leu858Arg", "EGFR p.L858R", "ERBB1 L858R"])
def test_a_text_in_another_notation_is_recognised(written: str) -> None:
    text = {
        "protocolSection": {
            "eligibilityModule": {
                "eligibilityCriteria": f"Inclusion Criteria:\n* {written}\nExclusion Criteria:\n* none"
            }
        }
    }
    assert locate(text, "EGFR L858R").places == ("inclusion",)


@pytest.mark.parametrize(
    "notation",
    [
        "EGFR exon 19 deletion",
        "EGFR exon 19 del",
        "EGFR ex19del",
        "EGFR 19DEL",
        "EGFR deletion in exon 19",
        "ERBB1 ex19del",
    ],
)
def test_each_exon_19_notation_sorts_the_recorded_trials_the_same(notation: str) -> None:
    # NCT06604689 writes 'EGFR exon 19 deletion' (inclusion), NCT06382129 'EGFR 19DEL mutation'
    # (exclusion): every notation must find both, in the same place.
    assert locate(recorded("NCT06604689"), notation).places == ("inclusion",)
    assert locate(recorded("NCT06382129"), notation).exclusion_only


def test_exon_phrasings_and_the_recorded_19del() -> None:
    deletion = ["EGFR exon 19 deletion", "EGFR exon 19 deletions", "EGFR exon 19 del", "EGFR ex19del", "EGFR 19del"]
    for text in ("EGFR exon 19 deletion", "EGFR ex19del", "EGFR 19DEL", "EGFR deletion in exon 19"):
        assert expand(text)[:5] == deletion, text
    # NCT06604689 includes 'EGFR exon 19 deletion'; NCT06382129 excludes 'EGFR 19DEL mutation'.
    assert locate(recorded("NCT06604689"), "EGFR ex19del").places == ("inclusion",)
    assert locate(recorded("NCT06382129"), "EGFR exon 19 deletion").exclusion_only
    assert expand("HER2 exon 20 insertion")[:4] == [
        "ERBB2 exon 20 insertion",
        "ERBB2 exon 20 insertions",
        "ERBB2 exon 20 ins",
        "ERBB2 ex20ins",
    ]
    assert "HER2 exon 20 insertion" in expand("ERBB2 ex20ins")
    assert expand("MET exon 14 skipping")[0] == "MET exon 14 skipping"


def test_gene_aliases_name_one_approved_symbol_each() -> None:
    assert canonical_gene("her2") == canonical_gene("HER-2") == canonical_gene("ERBB2") == "ERBB2"
    assert gene_names("ERBB2") == ("ERBB2", "HER2", "HER-2", "NEU")
    names = [name.upper() for symbol, aliases in GENE_ALIASES.items() for name in (symbol, *aliases)]
    assert len(names) == len(set(names))
    assert expand("HER2 V777L")[:2] == ["ERBB2 V777L", "ERBB2 Val777Leu"] and "HER2 V777L" in expand("HER2 V777L")
    assert expand("HER2 amplification") == [
        "ERBB2 amplification",
        "HER2 amplification",
        "HER-2 amplification",
        "NEU amplification",
    ]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("L858R", ("L", 858, "R")),
        ("p.Leu858Arg", ("L", 858, "R")),
        ("R213*", ("R", 213, "*")),
        ("Arg213Ter", ("R", 213, "*")),
        ("R213X", ("R", 213, "*")),
    ],
)
def test_protein_changes_in_both_notations(word: str, expected: tuple[str, int, str]) -> None:
    change = parse_change(word)
    assert change is not None and (change.ref, change.position, change.alt) == expected


@pytest.mark.parametrize(
    "word", ["L858", "858R", "B858R", "Xaa858Arg", "*858R", "Ter858Arg", "L0R", "L123456R", "Leu858Zzz"]
)
def test_words_that_are_not_protein_changes(word: str) -> None:
    assert parse_change(word) is None


@pytest.mark.parametrize(
    "text",
    ["ALK fusion", "hello world", "p.", "xyz 123", "EGFR L858R T790M", "c.2573T>G", "L858R exon 19 deletion", "a"],
)
def test_unreadable_text_is_searched_literally(text: str) -> None:
    assert expand(text)[0] == text
    assert query.mutation_term(text).startswith(f'(AREA[EligibilityCriteria]("{text}"')


def test_phrases_are_bounded_and_never_empty_for_valid_text() -> None:
    for text in ("ERBB2 exon 20 insertion", "CDKN2A R80*", "KIT exon 11 deletion", "x"):
        assert 1 <= len(expand(text)) <= MAX_PHRASES
    assert expand("   ") == []


@pytest.mark.parametrize(
    "text", ['EGFR "L858R"', "EGFR p.(Leu858Arg)", "L858R\u00a0EGFR\u200b", "ＥＧＦＲ L858R", "EGFR [L858R]"]
)
async def test_hostile_mutation_text_is_refused_before_any_request(
    text: str, service: TrialsService, upstream: RecordedUpstream
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.search_mutation(text, NSCLC)
    assert caught.value.field == "mutation"
    assert upstream.count("/api/v2/studies") == 0
