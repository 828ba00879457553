"""The OpenAI-compatible client, against a small completions server on loopback.

The server is a stand-in for vLLM / SGLang / TGI: its "model" continues a
prompt with the rest of one of a few scripted documents, one character per
token, honouring ``stop``, ``max_tokens`` and the end-of-sequence mark, and
answers in the OpenAI completions format (with vLLM's ``stop_reason`` or
SGLang's ``matched_stop`` when asked to). Everything is bounded by short
timeouts; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prm_edu.adapters import OpenAIGenerator, ServerError
from prm_edu.adapters.generator import build_prompt
from prm_edu.adapters.standins import QWEN_TEMPLATE, char_tokenizer
from prm_edu.generation import complete
from prm_edu.protocols import StepGenerator

EOS = "<EOS>"
EOS_ID = 2
# What the served "model" writes: the prompt's document, continued.
DOCS = [
    "Solve 2x + 5 = 15\nSubtract 5 from both sides: 2x = 10\nDivide by 2: x = 5<EOS>",
    "Solve x + 1 = 3\nSubtract 1 from both sides: x = 2\n<EOS>",
]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and left: expected in these tests


class FakeServer:
    """A completions endpoint on 127.0.0.1 that records what it was sent."""

    def __init__(self, flavour="vllm", fail_first=0, fail_code=503, delay=0.0):
        self.flavour, self.fail_first, self.fail_code = flavour, fail_first, fail_code
        self.delay = delay
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    failing = len(server.requests) <= server.fail_first
                time.sleep(server.delay)
                if self.path != "/v1/completions":
                    return self._send(404, {"error": f"no route {self.path}"})
                if failing:
                    return self._send(server.fail_code, {"error": "try later"})
                if body.get("model") != "tiny":
                    return self._send(400, {"error": "model 'x' does not exist"})
                self._send(200, server.complete(body))

            def _send(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def complete(self, body: dict) -> dict:
        prompt = body["prompt"]
        doc = next((d for d in DOCS if d.startswith(prompt)), None)
        rest = doc[len(prompt) :] if doc else EOS
        text, reason, matched, used = "", "length", None, 0
        while used < body["max_tokens"]:
            if rest.startswith(EOS):
                reason, matched = "stop", EOS_ID
                used += 1
                break
            stop = next((s for s in body.get("stop") or [] if rest.startswith(s)), None)
            if stop:
                reason, matched = "stop", stop
                used += len(stop)
                break
            text, rest, used = text + rest[0], rest[1:], used + 1
        choice = {"index": 0, "text": text, "finish_reason": reason}
        if self.flavour == "vllm":
            choice["stop_reason"] = None if matched == EOS_ID else matched
        elif self.flavour == "sglang":
            choice["matched_stop"] = matched
        return {
            "object": "text_completion",
            "model": body["model"],
            "choices": [choice],
            "usage": {"completion_tokens": used},
        }

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    servers = []

    def start(**kwargs):
        servers.append(FakeServer(**kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def client(server, **kwargs) -> OpenAIGenerator:
    kwargs.setdefault("timeout", 5.0)
    return OpenAIGenerator(server.url, "tiny", **kwargs)


def test_one_step_per_state_stopping_at_the_separator(serve):
    server = serve(flavour="vllm")
    gen = client(server)
    assert isinstance(gen, StepGenerator)
    states = [
        ("Solve 2x + 5 = 15", []),
        ("Solve 2x + 5 = 15", ["Subtract 5 from both sides: 2x = 10"]),
        ("Solve x + 1 = 3", []),
    ]
    steps = gen.next_steps(states, temperature=0)
    assert [(s.text, s.final) for s in steps] == [
        ("Subtract 5 from both sides: 2x = 10", False),
        ("Divide by 2: x = 5", True),  # EOS inside the step: vLLM says so
        ("Subtract 1 from both sides: x = 2", False),
    ]
    sent = sorted(server.requests, key=lambda r: r["prompt"])
    assert [r["prompt"] for r in sent] == sorted(
        [
            "Solve 2x + 5 = 15\n",
            "Solve 2x + 5 = 15\nSubtract 5 from both sides: 2x = 10\n",
            "Solve x + 1 = 3\n",
        ]
    )
    for r in sent:
        assert r["stop"] == ["\n"] and r["max_tokens"] == 256 and r["model"] == "tiny"
        assert r["temperature"] == 0.0 and "seed" not in r
    # Tokens as the server counts them: each step, plus its "\n" or EOS.
    assert [s.n_tokens for s in steps] == [36, 19, 34]
    assert gen.usage.tokens == 36 + 19 + 34 and gen.usage.forward_passes == 36


def test_sglang_matched_stop_and_servers_that_say_nothing(serve):
    state = [("Solve 2x + 5 = 15", ["Subtract 5 from both sides: 2x = 10"])]
    sglang = client(serve(flavour="sglang"))
    assert sglang.next_steps(state)[0].final is True
    plain = client(serve(flavour="plain"))
    assert plain.next_steps(state)[0].final is False  # cannot tell: goes on
    # A step cut by max_tokens is a runaway step: it ends the solution.
    short = client(serve(flavour="plain"), max_step_tokens=5)
    [step] = short.next_steps([("Solve 2x + 5 = 15", [])])
    assert (step.text, step.final, step.n_tokens) == ("Subtr", True, 5)


def test_peek_finds_eos_right_after_a_separator(serve):
    # The course's convention: "step\n" then EOS. Without a peek the client
    # cannot see the end; with it, one more 1-token request shows EOS.
    server = serve(flavour="plain")
    state = [("Solve x + 1 = 3", [])]
    assert client(server).next_steps(state)[0].final is False
    gen = client(server, peek_eos=True)
    [step] = gen.next_steps(state, seed=4)
    assert (step.text, step.final) == ("Subtract 1 from both sides: x = 2", True)
    peek = server.requests[-1]
    assert peek["prompt"] == "Solve x + 1 = 3\nSubtract 1 from both sides: x = 2\n"
    assert peek["max_tokens"] == 1 and "stop" not in peek
    # Not the end: the peek writes a character, which is dropped.
    [step] = gen.next_steps([("Solve 2x + 5 = 15", [])])
    assert (step.text, step.final) == ("Subtract 5 from both sides: 2x = 10", False)


def test_each_state_gets_its_own_reproducible_seed(serve):
    server = serve()
    gen = client(server)
    states = [("Solve x + 1 = 3", [])] * 3
    gen.next_steps(states, temperature=0.7, seed=11)
    gen.next_steps(states, temperature=0.7, seed=11)
    seeds = [r["seed"] for r in server.requests]
    assert len(set(seeds[:3])) == 3  # the same prompt, three samples
    assert sorted(seeds[:3]) == sorted(seeds[3:])  # and again the same three


def test_whole_solutions_and_chat_prompts(serve):
    server = serve()
    gen = client(server, peek_eos=True)
    done = complete(gen, [("Solve x + 1 = 3", []), ("Solve 2x + 5 = 15", [])])
    assert [(c.steps, c.finished) for c in done] == [
        (("Subtract 1 from both sides: x = 2",), True),
        (("Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"), True),
    ]
    tok = char_tokenizer(
        dict(eos_token="<|im_end|>", unk_token="<unk>"), chat_template=QWEN_TEMPLATE
    )
    chat = client(
        server,
        separator="\n\n",
        prompt_format=functools.partial(build_prompt, tok, separator="\n\n"),
        extra_body={"top_p": 0.9},
    )
    chat.next_steps([("What is 1+1?", ["It is 2."])])
    last = server.requests[-1]
    assert last["prompt"] == (
        "<|im_start|>user\nWhat is 1+1?<|im_end|>\n<|im_start|>assistant\nIt is 2.\n\n"
    )
    assert last["stop"] == ["\n\n"] and last["top_p"] == 0.9


def test_retries_server_errors_then_succeeds(serve):
    server = serve(fail_first=2)
    gen = client(server, retries=2, api_key="sk-test")
    [step] = gen.next_steps([("Solve x + 1 = 3", [])])
    assert step.text == "Subtract 1 from both sides: x = 2"
    assert len(server.requests) == 3
    assert server.headers[-1]["Authorization"] == "Bearer sk-test"
    with pytest.raises(ServerError, match="HTTP 503"):
        client(serve(fail_first=5), retries=1).next_steps([("Q", [])])


def test_request_errors_are_explained_and_not_retried(serve):
    server = serve()
    wrong_model = OpenAIGenerator(server.url, "x", timeout=5.0)
    with pytest.raises(ServerError, match="HTTP 400.*does not exist"):
        wrong_model.next_steps([("Q", [])])
    assert len(server.requests) == 1
    wrong_root = OpenAIGenerator(server.url[: -len("/v1")], "tiny", timeout=5.0)
    with pytest.raises(ServerError, match="HTTP 404"):
        wrong_root.next_steps([("Q", [])])
    with pytest.raises(ValueError, match="http://"):
        OpenAIGenerator("localhost:8000/v1", "tiny")


def test_unreachable_and_slow_servers_fail_fast(serve):
    closed = serve()
    url = closed.url
    closed.close()
    start = time.monotonic()
    gen = OpenAIGenerator(url, "tiny", timeout=1.0, retries=1)
    with pytest.raises(ServerError, match="could not reach.*is the server running"):
        gen.next_steps([("Q", [])])
    slow = serve(delay=1.5)
    gen = OpenAIGenerator(slow.url, "tiny", timeout=0.3, retries=0)
    with pytest.raises(ServerError, match="could not reach"):
        gen.next_steps([("Q", [])])
    assert time.monotonic() - start < 5
