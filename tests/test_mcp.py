"""The ``ask`` tool over MCP (Gradio's MCP server, on with ROLEBOT_MCP=1 or `rolebot serve --mcp`), listed and
called by the ``mcp`` package's own client against the page served on 127.0.0.1."""

from __future__ import annotations

import ast
import asyncio

import httpx
import pytest
from helpers import free_port

pytest.importorskip("mcp")

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

QUESTION = "What tools do ML engineers use?"


def serve(bot, mcp: bool):
    from bot import server, web

    engine = server.SharedEngine(bot)
    app = web.build_app(engine)
    _, url, _ = app.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        mcp_server=mcp,
        **web.LAUNCH_OPTIONS,
        **server.launch_options(engine),
    )
    return app, url


@pytest.fixture(scope="module")
def site(bot):
    app, url = serve(bot, mcp=True)
    yield url
    app.close()


async def _session(url: str, work):
    async with (
        streamablehttp_client(f"{url}gradio_api/mcp/") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await work(session)


def test_the_ask_tool_is_listed_with_its_description(site):
    tools = asyncio.run(_session(site, lambda s: s.list_tools())).tools
    assert [t.name for t in tools] == ["ask"]  # the page's own events are not tools
    ask = tools[0]
    assert "from the article only" in ask.description and "sources" in ask.description
    assert list(ask.inputSchema["properties"]) == ["question"]


def test_calling_ask_gives_the_engines_reply(site, bot):
    result = asyncio.run(_session(site, lambda s: s.call_tool("ask", {"question": QUESTION})))
    assert not result.isError
    reply = ast.literal_eval(result.content[0].text)  # Gradio's MCP server sends str(result): a Python literal
    assert reply == bot.ask(QUESTION, []).to_dict()
    assert reply["in_scope"] and reply["sources"] and "XGBoost" in reply["answer"]


def test_mcp_is_off_unless_asked(bot):
    app, url = serve(bot, mcp=False)
    try:
        assert httpx.post(f"{url}gradio_api/mcp/", json={}, timeout=10).status_code == 404
    finally:
        app.close()
