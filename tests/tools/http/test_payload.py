"""Body decoding, error mapping and request shaping of UpstreamClient (httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.scripted_http import Script, json_response, mock_client
from tools.http.errors import BadPayload, NotFound
from tools.http.retry_after import parse_retry_after

MIS_BODY = '{"msgArray":[{"c":"2330","z":"-","y":"839.0000"}],"rtcode":"0000"}'


@pytest.mark.parametrize(
    "body",
    ["<!DOCTYPE html><html><body>Service maintenance</body></html>", "\n  <html>oops</html>"],
)
async def test_html_with_status_200_is_bad_payload(clock: ManualClock, body: str) -> None:
    script = Script(httpx.Response(200, text=body, headers={"content-type": "application/json"}))
    async with mock_client(script, clock) as client:
        with pytest.raises(BadPayload, match="HTML"):
            await client.get_json("/studies")
    assert len(script.requests) == 1


@pytest.mark.parametrize("body", ['{"studies": [', "", "not json"])
async def test_malformed_json_is_bad_payload(clock: ManualClock, body: str) -> None:
    script = Script(httpx.Response(200, text=body))
    async with mock_client(script, clock) as client:
        with pytest.raises(BadPayload, match="malformed JSON"):
            await client.get_json("/studies")


async def test_json_served_as_text_html_parses(clock: ManualClock) -> None:
    response = httpx.Response(200, text=MIS_BODY, headers={"content-type": "text/html;charset=UTF-8"})
    async with mock_client(Script(response), clock, name="mis", base_url="https://mis.test") as client:
        data = await client.get_json("/stock/api/getStockInfo.jsp", {"ex_ch": "tse_2330.tw", "json": 1})
    assert data["msgArray"][0]["c"] == "2330"


async def test_utf8_bom_is_tolerated(clock: ManualClock) -> None:
    script = Script(httpx.Response(200, content=b"\xef\xbb\xbf" + b'{"stat":"OK"}'))
    async with mock_client(script, clock) as client:
        assert await client.get_json("/x") == {"stat": "OK"}


async def test_404_is_not_found_and_keeps_the_body(clock: ManualClock) -> None:
    body = '{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found"}}}'
    script = Script(httpx.Response(404, text=body), default=json_response())
    async with mock_client(script, clock, name="yahoo") as client:
        with pytest.raises(NotFound) as caught:
            await client.get_json("/v8/finance/chart/MDLY")
    assert caught.value.body == body and caught.value.upstream == "yahoo"
    assert "/v8/finance/chart/MDLY" in caught.value.message and len(script.requests) == 1


async def test_redirects_are_followed(clock: ManualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/NCT00000001"):
            return httpx.Response(301, headers={"Location": "/api/v2/studies/NCT09999999"})
        return json_response({"nctId": request.url.path.rsplit("/", 1)[1]})

    async with mock_client(handler, clock) as client:
        assert await client.get_json("/studies/NCT00000001") == {"nctId": "NCT09999999"}


async def test_base_url_path_user_agent_and_params(clock: ManualClock) -> None:
    script = Script(default=json_response())
    async with mock_client(script, clock) as client:
        await client.get_json("/studies", {"query.cond": "melanoma", "pageToken": None}, headers={"X-Test": "1"})
        assert await client.get_text("/version") == '{"ok":true}'
    first = script.requests[0]
    assert first.url.path == "/api/v2/studies" and first.url.host == "upstream.test"
    assert dict(first.url.params) == {"query.cond": "melanoma"}
    assert first.headers["user-agent"] == "trialstock-test/1" and first.headers["x-test"] == "1"
    assert script.requests[1].url.path == "/api/v2/version"


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "120"})) == 120.0
    assert parse_retry_after(httpx.Headers({})) is None
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon-ish"})) is None
    past = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert parse_retry_after(past, now=lambda: 1_900_000_000.0) == 0.0
    future = httpx.Headers({"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"})
    assert parse_retry_after(future, now=lambda: 40.0) == 60.0
