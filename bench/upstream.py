"""The upstream model for the benchmarks: FakeNexai streaming a fixed answer at a model's pace.

``python -m bench.upstream --tokens 300 --token-delay 0.02`` serves it in a process of its
own (so its CPU does not count against the driver or the bot): it prints
``URL <base_url> <api_key>`` once listening, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal

from tests.fakes.nexai import FakeNexai

URL_LINE = "URL"
DEFAULT_TOKENS = 300
DEFAULT_CHARS_PER_TOKEN = 4  # one SSE chunk per "token"
DEFAULT_TOKEN_DELAY_S = 0.02
_PROSE = (
    "the bot streams each answer into one message and edits it about once a second while "
    "tokens arrive from the model so people see text early and the final answer stays whole"
)


def answer_text(
    tokens: int = DEFAULT_TOKENS, chars_per_token: int = DEFAULT_CHARS_PER_TOKEN
) -> str:
    """Prose of exactly ``tokens * chars_per_token`` characters, ending with a full stop."""
    size = tokens * chars_per_token
    text = ""
    for word in itertools.cycle(_PROSE.split()):
        if len(text) + len(word) + 2 > size:
            break
        text += word + " "
    text = text.rstrip() + "."
    return text + "." * (size - len(text))


def make_fake_nexai(
    tokens: int = DEFAULT_TOKENS,
    chars_per_token: int = DEFAULT_CHARS_PER_TOKEN,
    token_delay_s: float = DEFAULT_TOKEN_DELAY_S,
) -> FakeNexai:
    api = FakeNexai(api_key="sk-billing-bench", reply=answer_text(tokens, chars_per_token))
    api.chunk_size = chars_per_token
    api.chunk_delay_s = token_delay_s
    return api


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with make_fake_nexai(args.tokens, args.chars_per_token, args.token_delay) as api:
        print(URL_LINE, api.base_url, api.api_key, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream", description=__doc__)
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS)
    parser.add_argument("--chars-per-token", type=int, default=DEFAULT_CHARS_PER_TOKEN)
    parser.add_argument("--token-delay", type=float, default=DEFAULT_TOKEN_DELAY_S)
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
