#!/usr/bin/python3
"""Soak test of `usermirror serve` (issue 14 item 3, docs/reliability.md "Soak").

Starts `usermirror serve` on a tiny random-weight model (written on first use with `usermirror model
init`), drives a bounded mixed load on loopback from a few client threads and checks:

  * 0 crashes: the server process is alive at the end and exits 0 on SIGTERM;
  * 0 wrong answers to valid requests: every answer is well-formed JSON (or a well-formed event
    stream), has the asked number of choices, usage counts that add up, and the same seeded request
    gets the same answer every time (streamed or not);
  * hostile requests (malformed JSON, wrong types, oversized bodies and headers, garbage request
    lines, clients that disconnect mid-request, mid-body or mid-stream) get a 4xx answer in the
    OpenAI error format or a closed connection, never a 5xx;
  * resident memory (VmRSS of /proc/PID/status) and open descriptors (/proc/PID/fd) flat: memory
    growth from the warm point (20 % into the mixed load) to the end is reported and bounded by
    --max-rss-growth-mb; descriptors after the sequential warm-up vs the end, bounded by
    --max-fd-growth.

Fixed request count (--requests, what ctest runs) or a duration (--seconds, bench/serve_soak.sh).
Exit status: 0 pass, 1 a check failed, 77 skipped (tokenizer missing outside CI).
Only the Python standard library is used.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(*a):
    print(*a, flush=True)


class Failures:
    def __init__(self):
        self.mu = threading.Lock()
        self.items = []

    def add(self, what):
        with self.mu:
            self.items.append(what)
            if len(self.items) <= 20:
                log("FAIL:", what)


def proc_stats(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])  # kB
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


# ---- valid requests: a fixed set, each seeded, so each has one right answer ----------------------

def valid_requests(model):
    sys_msg = {"role": "system", "content": "You are a user of a movie site. Answer with a letter."}
    reqs = []
    for i in range(4):
        reqs.append(("chat", "/v1/chat/completions", {
            "model": model, "seed": 11 + i, "max_tokens": 6 + i, "temperature": 0.8, "n": 1 + i % 2,
            "messages": [sys_msg, {"role": "user", "content": f"Scene {i}: pick A, B or C. é ✓"}]}))
        reqs.append(("completion", "/v1/completions", {
            "model": model, "seed": 21 + i, "max_tokens": 5, "temperature": 1.0, "logprobs": 2,
            "prompt": [f"The user watched film {i} and", "Then"] if i % 2 else f"History: item {i}. Next:"}))
        reqs.append(("simulate", "/v1/simulate", {
            "model": model, "seed": 31 + i, "options": 3 + i,
            "messages": [sys_msg, {"role": "user", "content": f"Options for user {i}: A) x B) y C) z"}]}))
    reqs.append(("simulate", "/v1/simulate", {
        "model": model, "seed": 41, "mode": "reasoning", "n": 2, "max_tokens": 8, "options": 4,
        "messages": [sys_msg, {"role": "user", "content": "Reasoning scene: A) a B) b C) c D) d"}]}))
    return reqs


def canonical(kind, body):
    """The part of an answer that must be identical across repeats (ids and timestamps removed)."""
    if kind == "simulate":
        return json.dumps(body, sort_keys=True)
    out = {"usage": body.get("usage"), "model": body.get("model"), "choices": []}
    for c in body.get("choices", []):
        if kind == "chat":
            out["choices"].append((c.get("index"), c["message"]["content"], c.get("finish_reason")))
        else:
            lp = c.get("logprobs") or {}
            out["choices"].append((c.get("index"), c["text"], c.get("finish_reason"), lp.get("tokens")))
    return json.dumps(out, sort_keys=True)


def check_shape(kind, req, body):
    """Structural checks of one answer; returns an error string or None."""
    if kind == "simulate":
        d = body.get("distribution")
        if not isinstance(d, dict) or not d:
            return "simulate: no distribution"
        s = sum(d.values())
        if abs(s - 1.0) > 1e-6 or any(p < 0 for p in d.values()):
            return f"simulate: distribution sums to {s}"
        if body.get("choice") not in d:
            return "simulate: choice not among the letters"
        if req.get("mode") == "reasoning" and len(body.get("rationales", [])) != req.get("n", 1):
            return "simulate: rationale count"
        return None
    n = req.get("n", 1)
    prompts = len(req["prompt"]) if kind == "completion" and isinstance(req["prompt"], list) else 1
    choices = body.get("choices")
    if not isinstance(choices, list) or len(choices) != n * prompts:
        return f"{kind}: {len(choices or [])} choices, want {n * prompts}"
    if sorted(c.get("index") for c in choices) != list(range(n * prompts)):
        return f"{kind}: choice indices"
    u = body.get("usage") or {}
    if not (u.get("prompt_tokens", 0) > 0 and 0 < u.get("completion_tokens", 0) <= req["max_tokens"] * n * prompts
            and u.get("total_tokens") == u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)):
        return f"{kind}: usage {u}"
    for c in choices:
        if c.get("finish_reason") not in ("stop", "length"):
            return f"{kind}: finish_reason {c.get('finish_reason')}"
        if kind == "completion" and req.get("logprobs") is not None:
            lp = c.get("logprobs") or {}
            if len(lp.get("tokens", [])) != len(lp.get("token_logprobs", [])) or "".join(lp.get("tokens", [])) != c["text"]:
                return "completion: logprobs tokens do not make up the text"
    return None


def read_stream(resp):
    """Parses a server-sent-event answer into its JSON events; raises ValueError when malformed."""
    events, done = [], False
    data = resp.read().decode("utf-8")
    for block in data.split("\n\n"):
        if not block.strip():
            continue
        if not block.startswith("data: "):
            raise ValueError(f"bad event {block[:80]!r}")
        payload = block[len("data: "):]
        if payload == "[DONE]":
            done = True
            continue
        if done:
            raise ValueError("event after [DONE]")
        events.append(json.loads(payload))
    if not done:
        raise ValueError("stream without [DONE]")
    return events


def stream_to_body(kind, events):
    """Rebuilds the non-streamed answer (choices with text, finish_reason, usage) from a stream."""
    texts, finish, usage, model, tokens = {}, {}, None, None, {}
    for e in events:
        model = e.get("model", model)
        if "error" in e:
            raise ValueError(f"error event {e}")
        if e.get("usage"):
            usage = e["usage"]
        for c in e.get("choices", []):
            i = c["index"]
            piece = c["delta"].get("content") if kind == "chat" else c.get("text")
            texts[i] = texts.get(i, "") + (piece or "")
            if kind == "completion" and c.get("logprobs"):
                tokens.setdefault(i, []).extend(c["logprobs"].get("tokens", []))
            if c.get("finish_reason"):
                finish[i] = c["finish_reason"]
    choices = []
    for i in sorted(texts):
        if kind == "chat":
            choices.append({"index": i, "message": {"content": texts[i]}, "finish_reason": finish.get(i)})
        else:
            lp = {"tokens": tokens.get(i, [])}
            lp["token_logprobs"] = lp["tokens"]  # counts only: check_shape compares lengths
            choices.append({"index": i, "text": texts[i], "finish_reason": finish.get(i), "logprobs": lp})
    return {"choices": choices, "usage": usage, "model": model}


# ---- hostile requests: raw sockets ---------------------------------------------------------------

def raw_exchange(port, data, read=True, timeout=10.0):
    """Sends bytes, returns (status, body) of the answer, or (None, bytes) when the server closed
    or reset the connection without an HTTP answer. The write side stays open: httplib 0.11 drops a
    request whose client half-closed (shutdown(SHUT_WR)) after sending it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before reading everything
        if not read:
            return None, b""
        buf = b""
        while True:
            if b"\r\n\r\n" in buf:
                head, body = buf.split(b"\r\n\r\n", 1)
                length = [int(h.split(b":", 1)[1]) for h in head.split(b"\r\n")[1:]
                          if h.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
        if not buf.startswith(b"HTTP/1."):
            return None, buf
        status = int(buf.split(b" ", 2)[1])
        return status, buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
    finally:
        s.close()


def post_bytes(path, body, extra_headers=""):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra_headers}\r\n").encode() + body


def mutate(rng, text):
    b = bytearray(text.encode())
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        pos = rng.randrange(len(b)) if b else 0
        if op == 0 and b:
            del b[pos:pos + rng.randint(1, 8)]
        elif op == 1:
            b[pos:pos] = rng.choice([b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\\ud800", b"\xff\xfe",
                                     b"\x00", b"1e999", b"-9223372036854775809", b"null", b"true"])
        elif op == 2:
            del b[pos:]
        elif op == 3 and b:
            b[pos] ^= 1 << rng.randrange(8)
        elif op == 4:
            b[pos:pos] = b[:rng.randint(0, 40)]
        else:
            b = bytearray(b.replace(b'"max_tokens": ', b'"max_tokens": ' + rng.choice([b"-", b"1e9", b"\"5\", "])))
    return bytes(b)


MSG = [{"role": "user", "content": "x"}]
# Well-formed JSON that each endpoint must refuse (unknown fields are ignored, as OpenAI's API does,
# so each list holds only that endpoint's own fields).
WRONG_TYPES = {
    "/v1/chat/completions": [
        {"messages": "hi"}, {"messages": []}, {"messages": [{"role": 5, "content": "x"}]}, {"prompt": "x"},
        {"messages": MSG, "max_tokens": -1}, {"messages": MSG, "max_tokens": 100000}, {"messages": MSG, "n": 1000},
        {"messages": MSG, "temperature": "hot"}, {"messages": MSG, "stop": [1, 2]},
        {"messages": MSG, "logprobs": True, "top_logprobs": 99}, {"messages": MSG, "seed": 1e300},
        {"messages": MSG, "model": "no-such-model"}, {"messages": MSG, "allowed_token_ids": [999999999]}],
    "/v1/completions": [
        {"prompt": [[-1, 2]]}, {"prompt": [99999999999]}, {"prompt": []}, {"prompt": {"a": 1}}, {"messages": MSG},
        {"prompt": "x", "allowed_token_ids": [-5]}, {"prompt": "x", "logprobs": 50}, {"prompt": "x", "n": -2},
        {"prompt": ["a"] * 20, "n": 8}, {"prompt": "x", "max_tokens": 1e999},
        # Token ids outside the model's vocabulary (answered 502 before util::InvalidInput).
        {"prompt": [1, 999999999]}, {"prompt": [[5], [2147483647]]}, {"prompt": "x", "allowed_token_ids": [999999999]},
        {"prompt": "x", "max_tokens": 1, "logprobs": 1, "allowed_token_ids": [999999999]}],
    # Raw bodies (not dumped from a dict): a number beyond double's range.
    "raw": [b'{"model":"M","prompt":"x","max_tokens":999999991e308}',
            b'{"model":"M","messages":[{"role":"user","content":"x"}],"temperature":1e400}',
            b'{"model":"M","options":3,"messages":[{"role":"user","content":"x"}],"seed":-1e999}'],
    "/v1/simulate": [
        {"options": 0, "messages": MSG}, {"options": 100000, "messages": MSG}, {"letters": [], "messages": MSG},
        {"scene": {"text": {"profile": 1}}}, {"text": "x"}, {"mode": "sideways", "options": 3, "messages": MSG},
        {"options": 3}, {"mode": "reasoning", "options": 3, "messages": MSG, "n": 0},
        {"mode": "reasoning", "options": 3, "messages": MSG, "max_tokens": 0},
        {"letters": ["A", 5], "messages": MSG}, {"options": 3, "messages": MSG, "mode": 5},
        {"letters": ["A", "B", "A"], "messages": MSG}, {"options": 2, "messages": MSG, "letter_token_ids": [-1, 5]},
        {"options": 2, "messages": MSG, "letter_token_ids": [32, 999999999]}],
}


class Soak:
    def __init__(self, args, port, pid, model):
        self.args, self.port, self.pid, self.model = args, port, pid, model
        self.failures = Failures()
        self.reqs = valid_requests(model)
        self.expected = {}  # index -> canonical answer
        self.mu = threading.Lock()
        self.counts = {}
        self.done = 0
        self.stop_at = None
        self.samples = []  # (requests done, rss kB, fds, seconds into the load)
        self.t0 = time.monotonic()

    def count(self, what):
        with self.mu:
            self.counts[what] = self.counts.get(what, 0) + 1

    def compare(self, idx, kind, req, body, how):
        err = check_shape(kind, req, body)
        if err:
            self.failures.add(f"{how} {err}: {json.dumps(body)[:300]}")
            return
        c = canonical(kind, body)
        with self.mu:
            want = self.expected.setdefault(idx, c)
        if c != want:
            self.failures.add(f"{how} request {idx} answered differently:\n  first {want[:300]}\n  now   {c[:300]}")

    # valid -----------------------------------------------------------------------------------
    def valid(self, rng, conn_box):
        idx = rng.randrange(len(self.reqs))
        kind, path, req = self.reqs[idx]
        stream = kind != "simulate" and rng.random() < 0.4
        body = dict(req)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        for attempt in range(50):
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn = conn_box[0]
            try:
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
                resp = conn.getresponse()
                if resp.status == 429:
                    resp.read()
                    self.count("valid-429")
                    time.sleep(0.05 * (attempt + 1))
                    continue
                if resp.status != 200:
                    self.failures.add(f"valid {kind} got HTTP {resp.status}: {resp.read()[:300]!r}")
                    return
                if stream:
                    if not resp.getheader("Content-Type", "").startswith("text/event-stream"):
                        self.failures.add("stream without text/event-stream")
                    events = read_stream(resp)
                    self.compare(idx, kind, req, stream_to_body(kind, events), "stream")
                else:
                    ans = json.loads(resp.read())
                    if kind != "simulate" and (not ans.get("id") or ans.get("object") not in
                                               ("chat.completion", "text_completion")):
                        self.failures.add(f"{kind}: id/object {ans.get('id')} {ans.get('object')}")
                    self.compare(idx, kind, req, ans, "whole")
                self.count(f"valid-{kind}{'-stream' if stream else ''}")
                return
            except (ValueError, KeyError, TypeError) as e:
                self.failures.add(f"valid {kind} malformed answer: {e!r}")
                conn.close()
                conn_box[0] = None
                return
            except (http.client.HTTPException, OSError) as e:
                # A keep-alive connection the server closed (its 5 s idle timeout) is retried once on
                # a new connection; anything else on a fresh connection is a failure.
                conn.close()
                conn_box[0] = None
                if attempt == 0:
                    continue
                self.failures.add(f"valid {kind} connection error: {e!r}")
                return
        self.failures.add(f"valid {kind}: still 429 after 50 tries")

    # hostile -------------------------------------------------------------------------------
    def expect_4xx(self, what, status, body):
        if status is None:
            self.count(f"{what}-closed")
            return
        if not 400 <= status < 500:
            self.failures.add(f"{what}: HTTP {status} {body[:300]!r}")
            return
        try:
            err = json.loads(body)["error"]
            assert isinstance(err["message"], str) and err["type"]
        except Exception:  # noqa: BLE001 - any malformed error body is a failure
            self.failures.add(f"{what}: HTTP {status} without an OpenAI error body: {body[:200]!r}")
            return
        self.count(f"{what}-{status}")

    def hostile(self, rng):
        kind, path, req = self.reqs[rng.randrange(len(self.reqs))]
        op = rng.randrange(9)
        if op == 0:  # malformed JSON (mutated valid body)
            body = mutate(rng, json.dumps(req))
            status, ans = raw_exchange(self.port, post_bytes(path, body))
            if status == 200:
                self.count("mutated-accepted")  # a mutation can leave a valid request
            else:
                self.expect_4xx("malformed", status, ans)
        elif op == 1:  # well-formed JSON, wrong types or out-of-range values
            if rng.random() < 0.2:
                data = rng.choice(WRONG_TYPES["raw"]).replace(b'"M"', json.dumps(self.model).encode())
            else:
                bad = dict(rng.choice(WRONG_TYPES[path]))
                bad.setdefault("model", self.model)
                data = json.dumps(bad).encode()
            status, ans = raw_exchange(self.port, post_bytes(path, data))
            self.expect_4xx("bad-field", status, ans)
        elif op == 2:  # body over --max-body-bytes
            big = json.dumps({"model": self.model, "prompt": "x" * (self.args.max_body + 10)}).encode()
            status, ans = raw_exchange(self.port, post_bytes(path, big))
            self.expect_4xx("oversized-body", status, ans)
        elif op == 3:  # oversized header line / many headers
            if rng.random() < 0.5:
                extra = "X-Big: " + "a" * rng.choice([9000, 70000]) + "\r\n"
            else:
                extra = "".join(f"X-H{i}: v\r\n" for i in range(rng.choice([200, 2000])))
            status, ans = raw_exchange(self.port, post_bytes(path, json.dumps(req).encode(), extra))
            if status == 200:
                self.count("big-header-accepted")
            else:
                self.expect_4xx("oversized-header", status, ans)
        elif op == 4:  # garbage request line / bad HTTP
            data = rng.choice([b"GARBAGE\r\n\r\n", b"POST /v1/completions HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00",
                               b"POST /v1/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                               b"POST /v1/completions HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                               b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"])
            status, ans = raw_exchange(self.port, data)
            self.expect_4xx("bad-http", status, ans)
        elif op == 5:  # disconnect mid-body (Content-Length promises more)
            body = json.dumps(req).encode()
            data = post_bytes(path, body)
            raw_exchange(self.port, data[:len(data) - len(body) // 2], read=False)
            self.count("disconnect-mid-body")
        elif op == 6:  # disconnect right after sending a whole (slow) request
            slow = dict(req)
            if kind != "simulate":
                slow["max_tokens"] = 48
            raw_exchange(self.port, post_bytes(path, json.dumps(slow).encode()), read=False)
            self.count("disconnect-before-answer")
        elif op == 7 and kind != "simulate":  # disconnect mid-stream
            slow = dict(req, stream=True, max_tokens=48)
            s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            try:
                s.sendall(post_bytes(path, json.dumps(slow).encode()))
                got = b""
                while b"data: " not in got:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                if not got.startswith(b"HTTP/1.1 200"):
                    self.failures.add(f"stream for disconnect: {got[:200]!r}")
            finally:
                s.close()
            self.count("disconnect-mid-stream")
        else:  # unknown endpoint / method
            status, ans = raw_exchange(self.port, rng.choice([
                b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"DELETE /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]))
            self.expect_4xx("unknown-route", status, ans)

    # load ------------------------------------------------------------------------------------
    def take(self):
        with self.mu:
            if self.args.requests is not None:
                if self.done >= self.args.requests:
                    return None
            elif time.monotonic() >= self.stop_at:
                return None
            self.done += 1
            return self.done

    def worker(self, wid):
        rng = random.Random(self.args.seed * 1000 + wid)
        conn_box = [None]
        while self.take() is not None:
            if rng.random() < self.args.hostile_share:
                try:
                    self.hostile(rng)
                except OSError as e:
                    self.failures.add(f"hostile request: connection error {e!r}")
            else:
                self.valid(rng, conn_box)
        if conn_box[0] is not None:
            conn_box[0].close()

    def monitor(self, stop):
        while not stop.wait(0.5):
            try:
                rss, fds = proc_stats(self.pid)
            except FileNotFoundError:
                return
            with self.mu:
                self.samples.append((self.done, rss, fds, round(time.monotonic() - self.t0, 2)))

    def run(self):
        # Warm-up: every valid request twice on one connection (also fixes the answers).
        rng = random.Random(self.args.seed)
        conn_box = [None]
        for _ in range(len(self.reqs) * 2):
            self.valid(rng, conn_box)
        if conn_box[0] is not None:
            conn_box[0].close()
        # Every well-formed bad body once on its endpoint, and the raw ones on every endpoint, so a
        # short run covers them all; the mixed load below draws them again at random.
        for path, bodies in WRONG_TYPES.items():
            for bad in bodies:
                if path == "raw":
                    for p in ("/v1/chat/completions", "/v1/completions", "/v1/simulate"):
                        data = bad.replace(b'"M"', json.dumps(self.model).encode())
                        self.expect_4xx("bad-field", *raw_exchange(self.port, post_bytes(p, data)))
                else:
                    data = json.dumps(dict({"model": self.model}, **bad)).encode()
                    self.expect_4xx("bad-field", *raw_exchange(self.port, post_bytes(path, data)))
        time.sleep(0.5)
        self.rss0, self.fds0 = proc_stats(self.pid)
        log(f"after warm-up: VmRSS {self.rss0 / 1024:.1f} MB, {self.fds0} fds")
        stop = threading.Event()
        mon = threading.Thread(target=self.monitor, args=(stop,))
        mon.start()
        t0 = self.t0 = time.monotonic()
        if self.args.seconds is not None:
            self.stop_at = t0 + self.args.seconds
        threads = [threading.Thread(target=self.worker, args=(w,)) for w in range(self.args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.monotonic() - t0
        stop.set()
        mon.join()
        # Settle: connections of disconnected clients are closed by the server when it notices; wait
        # (bounded) for the descriptor count to come back to the warm-up count.
        for _ in range(40):
            rss, fds = proc_stats(self.pid)
            if fds <= self.fds0:
                break
            time.sleep(0.5)
        self.rss1, self.fds1 = proc_stats(self.pid)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--um", required=True, help="the usermirror binary")
    ap.add_argument("--tokenizer", help="tokenizer folder (default: $UM_SHARED_DIR or ../shared, tokenizers/qwen3)")
    ap.add_argument("--work", help="folder for the model and the server's stderr, kept (default: a temporary "
                    "folder under $TMPDIR, removed at the end)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--requests", type=int, help="fixed number of requests (ctest)")
    g.add_argument("--seconds", type=float, help="run for this long (bench)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--hostile-share", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-body", type=int, default=65536, help="--max-body-bytes given to serve")
    ap.add_argument("--max-rss-growth-mb", type=float, default=48.0)
    ap.add_argument("--max-fd-growth", type=int, default=2)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    tok = args.tokenizer
    if tok is None:
        src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        shared = os.environ.get("UM_SHARED_DIR") or os.path.join(os.path.dirname(src), "shared")
        tok = os.path.join(shared, "tokenizers", "qwen3")
    if not os.path.isfile(os.path.join(tok, "tokenizer.json")):
        if os.environ.get("CI") == "true":
            log(f"tokenizer {tok} is missing, and CI=true requires it")
            return 1
        log(f"SKIP: tokenizer {tok} not found")
        return SKIP

    if args.work is None:
        work = tempfile.mkdtemp(prefix="serve-soak-")
        try:
            return soak_in(args, tok, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.work, exist_ok=True)
    return soak_in(args, tok, args.work)


def soak_in(args, tok, work):
    model_dir = os.path.join(work, "tiny-qwen3")
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        subprocess.run([args.um, "model", "init", "--arch", "qwen3", "--layers", "2", "--hidden", "64", "--heads",
                        "4", "--kv-heads", "2", "--tie-embeddings", "--tokenizer", tok, "--out", model_dir,
                        "--seed", "3", "--dtype", "f32"], check=True, stdout=subprocess.DEVNULL)
    err_path = os.path.join(work, "serve.stderr")
    env = dict(os.environ, UM_NO_PROGRESS="1", OMP_WAIT_POLICY="PASSIVE")
    with open(err_path, "wb") as err:
        srv = subprocess.Popen([args.um, "serve", "--model", model_dir, "--port", "0", "--max-concurrent", "4",
                                "--max-queue", "16", "--max-tokens-limit", "64", "--max-n", "8",
                                "--max-body-bytes", str(args.max_body), "--drain-timeout", "5"],
                               stdout=subprocess.PIPE, stderr=err, env=env, text=True)
    try:
        line = srv.stdout.readline()
        if "http://" not in line:
            log(f"serve did not start: {line!r}; stderr in {err_path}")
            return 1
        port = int(line.strip().rsplit(":", 1)[1])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/v1/models")
        model = json.loads(c.getresponse().read())["data"][0]["id"]
        c.close()
        log(f"serve pid {srv.pid} on port {port}, model {model}; load average {os.getloadavg()}")
        soak = Soak(args, port, srv.pid, model)
        soak.run()
        alive = srv.poll() is None
        if not alive:
            soak.failures.add(f"serve exited with {srv.returncode} under load (stderr in {err_path})")
    finally:
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=60)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
    if alive and srv.returncode != 0:
        soak.failures.add(f"serve exited with {srv.returncode} after SIGTERM (stderr in {err_path})")
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    for bad in ("Sanitizer", "runtime error", "terminate called", "Segmentation", "Assertion"):
        if bad in stderr:
            soak.failures.add(f"serve stderr contains {bad!r} ({err_path})")

    # The warm point: 20 % into the mixed load. Memory taken by the first concurrent requests (each
    # server thread's malloc arena and stack, the engine's caches filling) is warm-up, not growth;
    # the sequential warm-up before the load does not reach it.
    warm = [s for s in soak.samples if s[3] >= 0.2 * soak.elapsed]
    rss_warm = warm[0][1] if warm else soak.rss0
    rss_growth = (soak.rss1 - rss_warm) / 1024
    peak = max([s[1] for s in soak.samples] + [soak.rss1]) / 1024
    fd_peak = max([s[2] for s in soak.samples] + [soak.fds1])
    valid = sum(v for k, v in soak.counts.items() if k.startswith("valid-") and k != "valid-429")
    log(f"requests: {soak.done} in {soak.elapsed:.1f} s from {args.clients} clients "
        f"({valid} valid answered and checked, {len(soak.expected)} distinct seeded requests)")
    for k in sorted(soak.counts):
        log(f"  {k}: {soak.counts[k]}")
    load_end = soak.samples[-1][1] / 1024 if soak.samples else soak.rss1 / 1024
    log(f"VmRSS: {soak.rss0 / 1024:.1f} MB after the sequential warm-up, {rss_warm / 1024:.1f} MB 20 % into "
        f"the load (warm point), {load_end:.1f} MB as the load ended, {soak.rss1 / 1024:.1f} MB at the end "
        f"(growth from the warm point {rss_growth:+.1f} MB), peak {peak:.1f} MB")
    log(f"open fds: {soak.fds0} after warm-up, {soak.fds1} at the end, peak {fd_peak}")
    if rss_growth > args.max_rss_growth_mb:
        soak.failures.add(f"VmRSS grew {rss_growth:.1f} MB (limit {args.max_rss_growth_mb})")
    if soak.fds1 - soak.fds0 > args.max_fd_growth:
        soak.failures.add(f"open fds grew from {soak.fds0} to {soak.fds1}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"requests": soak.done, "seconds": soak.elapsed, "clients": args.clients,
                       "valid_checked": valid, "counts": soak.counts, "rss_mb_sequential": soak.rss0 / 1024,
                       "rss_mb_warm": rss_warm / 1024,
                       "rss_mb_end": soak.rss1 / 1024, "rss_mb_peak": peak, "fds_warm": soak.fds0,
                       "fds_end": soak.fds1, "fds_peak": fd_peak, "samples": soak.samples,
                       "failures": soak.failures.items, "loadavg": os.getloadavg()}, f)
    log(f"failures: {len(soak.failures.items)}")
    if soak.failures.items and stderr.strip():
        log("serve stderr (last 3000 bytes):\n" + stderr[-3000:])
    return 1 if soak.failures.items else 0


if __name__ == "__main__":
    sys.exit(main())
