"""MCP prompts: ready-made requests that walk an agent through this server's tools.

Each prompt validates its arguments (a bad one is a JSON-RPC invalid-params error naming it,
raised as ``MCPError`` because the SDK rewords any other exception as "Error rendering
prompt") and returns one user message that says which tools to call with which arguments,
written as ``tool(argument=value)``, and how to present the answer. The tool and argument
names in the texts are the published ones (a test holds them to the tool list).
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

import json
import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import Field

from tools.clinical_trials.values import nct_id

TEXT_CHARS = 500
"""Longest condition or location a prompt takes (as the search tools)."""

MUTATION_CHARS = 80
SYMBOL_CHARS = 32
_AGE = re.compile(r"^(\d{1,3})(?:\s*(?:y|yr|yrs|year|years)(?:\s+old)?)?$", re.IGNORECASE)
_SEXES = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}


class PromptArgumentError(MCPError):
    """A prompt argument that cannot be used: invalid params, with a message naming it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(INVALID_PARAMS, f"Invalid argument {name!r}: {message}", {"argument": name})


def _text(name: str, value: str | None, limit: int, *, required: bool = False, example: str = "") -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise PromptArgumentError(name, f"must not be empty, e.g. {example!r}")
    if len(text) > limit:
        raise PromptArgumentError(name, f"at most {limit} characters")
    return text


def _age(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    match = _AGE.match(text)
    if match is None or int(match.group(1)) > 120:
        raise PromptArgumentError("age", "a whole number of years from 0 to 120, e.g. '54'")
    return int(match.group(1))


def _sex(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text not in _SEXES:
        raise PromptArgumentError("sex", "'female' or 'male'")
    return _SEXES[text]


def _nct_id(value: str | None) -> str:
    try:
        return nct_id(value or "")
    except ValueError:
        raise PromptArgumentError("nct_id", "'NCT' followed by 8 digits, e.g. 'NCT04280705'") from None


def _symbol(value: str | None) -> str:
    text = (value or "").strip()
    if not text or len(text) > SYMBOL_CHARS or any(char.isspace() for char in text):
        raise PromptArgumentError(
            "symbol", f"one stock symbol of 1 to {SYMBOL_CHARS} characters, e.g. '2330' or 'AAPL'"
        )
    return text


def _q(value: Any) -> str:
    """``value`` as it goes in a tool call written in the text (JSON: quoted, escaped)."""
    return json.dumps(value, ensure_ascii=False)


def match_patient_to_trials(
    condition: Annotated[str, Field(description="The patient's condition, e.g. 'non-small cell lung cancer'.")],
    mutation: Annotated[str, Field(description="Gene mutation, e.g. 'EGFR L858R'.")] = "",
    age: Annotated[str, Field(description="Age in years, e.g. '54'.")] = "",
    sex: Annotated[str, Field(description="'female' or 'male'.")] = "",
    location: Annotated[str, Field(description="City, state or country to search near, e.g. 'Taiwan'.")] = "",
) -> str:
    """Find recruiting trials a patient could join, check their eligibility, and explain why."""
    condition = _text("condition", condition, TEXT_CHARS, required=True, example="non-small cell lung cancer")
    mutation = _text("mutation", mutation, MUTATION_CHARS)
    place = _text("location", location, TEXT_CHARS)
    years, gender = _age(age), _sex(sex)
    where = f", location={_q(place)}" if place else ""
    facts = [f"condition: {condition}", f"mutation: {mutation or 'none given'}"]
    facts += [f"age: {years if years is not None else 'not given'}", f"sex: {gender or 'not given'}"]
    facts.append(f"location: {place or 'anywhere'}")
    if mutation:
        search = (
            f"1. Call search_trials_by_mutation(mutation={_q(mutation)}, condition={_q(condition)}{where}, "
            'statuses=["open"], page_size=10). Its `matches` are trials whose records name the mutation where '
            "carriers can take part (`found_in` says where, `excerpt` quotes it); trials in `excluded` name it "
            "only as an exclusion, so the patient cannot join them. If `matches` is empty, also call "
            f'search_trials(condition={_q(condition)}{where}, statuses=["open"], page_size=10) and check the '
            "mutation against each candidate's criteria in step 2."
        )
    else:
        search = f'1. Call search_trials(condition={_q(condition)}{where}, statuses=["open"], page_size=10).'
    return "\n".join(
        [
            "Find clinical trials this patient could join, using this server's tools.",
            "",
            "Patient: " + "; ".join(facts) + ".",
            "",
            search,
            "   More results: call again with page_token set to the answer's `next_page_token`. If a location "
            "gives nothing, search without it and say so.",
            '2. For the 3 to 5 best candidates (recruiting, nearest, fitting the condition), call get_trial(nct_id="NCT...") '
            "and read `eligibility`: `inclusion` and `exclusion` criteria, `sex`, `minimum_age`, `maximum_age`. "
            "Compare them with the patient's facts above; `locations` lists recruiting sites, `contacts` whom to ask.",
            "3. Answer with:",
            "   - the trials the patient could join: NCT id and `url`, title, phase, status, nearest recruiting site, "
            "and why it fits (the inclusion criteria the facts meet);",
            "   - what to check with the care team for each: criteria that need facts not given (earlier "
            "treatments, test results, other conditions) and any exclusion criterion that might apply;",
            "   - in one line each, promising trials ruled out and why.",
            "Do not state that the patient is eligible: only the trial team decides. This is not medical advice.",
        ]
    )


def summarise_trial(
    nct_id: Annotated[str, Field(description="ClinicalTrials.gov id, e.g. 'NCT04280705'.")],
) -> str:
    """Summarise one clinical trial: design, population, interventions, outcomes, status, results."""
    plain = _nct_id(nct_id)
    trial = _q(plain)
    return "\n".join(
        [
            f"Summarise clinical trial {plain} for a reader who is not a specialist.",
            "",
            f"1. Call get_trial(nct_id={trial}). If `requested_id` is present, the id was an old alias: say so.",
            f"2. If `has_results` is true, call get_trial_results(nct_id={trial}) for the posted results.",
            "3. Write the summary under these headings, from the record only (say when something is missing):",
            "   - Design: `study_type`, `phases`, `allocation`, `primary_purpose`, `enrollment`, the `arms`.",
            "   - Population: `conditions`; the key `inclusion` and `exclusion` criteria; `sex`, `minimum_age`, "
            "`maximum_age`, `healthy_volunteers`.",
            "   - Interventions: each of `interventions` and the arms that receive it.",
            "   - Outcomes: `primary_outcomes` and the main `secondary_outcomes`, with their time frames.",
            "   - Status: `status` (and `why_stopped`), `start_date`, `primary_completion_date`, `completion_date`, "
            "`last_update`, `sponsor`, and how many sites (`locations`) are recruiting.",
            "   - Results: the primary outcomes' values and analyses (p-value, estimate and its CI) as reported, "
            "and the most frequent serious adverse events per group; otherwise 'no results posted'.",
            "End with the trial's `url`.",
        ]
    )


def technical_read_of_stock(
    symbol: Annotated[str, Field(description="Stock symbol, e.g. '2330' (TSMC) or 'AAPL'.")],
) -> str:
    """A plain-words technical read of one stock: what it is, its recent prices and its signals."""
    plain = _symbol(symbol)
    ticker = _q(plain)
    return "\n".join(
        [
            f"Give a technical read of the stock {plain} in plain words.",
            "",
            f"1. Call get_stock_info(symbol={ticker}): what it is (`name`, `market`, `exchange`, `currency`).",
            f'2. Call get_price_history(symbol={ticker}, period="3mo"): the trend of the daily `close`, the '
            "high and low of the period, and whether recent `volume` is above or below its usual level.",
            f"3. Call analyze_stock(symbol={ticker}, days=10): `moving_averages` (close against `ma5`, `ma20`, "
            "`ma60`), `latest_signal`, and for recent `signals` which `buy_rules` or `sell_rules` held and whether "
            "the `buy_gate` or `sell_gate` let a signal through.",
            "4. Present: what the stock is; the price trend and where the close sits against its moving averages; "
            "the latest signal and what drove it; what would change the picture. Give the date of the data "
            "(`as_of`) and say when an answer's `cache` is `stale`.",
            "Describe what past prices and the indicators show; do not recommend buying or selling. Say plainly "
            "that this is not investment advice and that past prices do not predict future ones.",
        ]
    )


PROMPTS = (
    (match_patient_to_trials, "Match a patient to clinical trials"),
    (summarise_trial, "Summarise a clinical trial"),
    (technical_read_of_stock, "Technical read of a stock"),
)


class CheckedPrompt(Prompt):
    """A prompt whose missing or unknown arguments are invalid-params errors naming them (the
    SDK's own checks surface as an internal error)."""

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:
        known = {argument.name: argument for argument in self.arguments or []}
        for name in arguments or {}:
            if name not in known:
                raise PromptArgumentError(name, f"not an argument of {self.name}; it takes {', '.join(known)}")
        for name, argument in known.items():
            if argument.required and name not in (arguments or {}):
                raise PromptArgumentError(name, "required")
        return await super().render(arguments, context)


def add_prompts(mcp: MCPServer[Any]) -> None:
    """Publish the prompts on ``mcp``."""
    for fn, title in PROMPTS:
        mcp.add_prompt(CheckedPrompt.from_function(fn, title=title))
