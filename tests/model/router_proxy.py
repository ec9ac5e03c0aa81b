"""A minimal OpenAI-compatible proxy process around a real `litellm.Router`: the shape of a
LiteLLM proxy (or any OpenAI-compatible router) in front of many inference servers.

Why not `litellm --config` itself: the proxy needs litellm's `proxy` extra (fastapi,
uvicorn...), which sorg does not install; the routing is the same `litellm.Router`. sorg
reaches it with an ordinary litellm model string, `openai/<name>` and `api_base=<proxy>/v1`.

    python -m tests.model.router_proxy --port 0 --name fake --backend http://127.0.0.1:p1/v1 ...

Prints `PORT <n>` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys


async def _serve(name: str, backends: list[str], port: int) -> None:
    import litellm
    from aiohttp import web

    # A dead backend is taken out of the rotation (cooldown after its first failure) and the
    # failed request retried on another: before, a router that kept sending to a dead backend
    # failed 3 of 24 trials and the run still counted as complete.
    router = litellm.Router(
        model_list=[{"model_name": name, "litellm_params": {"model": f"openai/{name}", "api_base": b,
                                                             "api_key": "sk-proxy-to-backend"}}
                    for b in backends],
        routing_strategy="least-busy", num_retries=max(2, len(backends)), allowed_fails=0, cooldown_time=60,
        retry_after=0)

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        # Every parameter goes through (response_format included: dropping it meant judge JSON
        # was never asked for through the proxy); only the routing name and streaming are ours.
        kw = {k: v for k, v in body.items() if k not in ("model", "stream", "stream_options")}
        resp = await router.acompletion(model=body["model"], **kw)
        return web.Response(text=resp.model_dump_json(), content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    sock = site._server.sockets[0]  # type: ignore[union-attr]  # the port the OS chose
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--name", default="fake")
    ap.add_argument("--backend", action="append", required=True)
    a = ap.parse_args()
    try:
        asyncio.run(_serve(a.name, a.backend, a.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
