#!/usr/bin/python3
"""Reference renderer for chat templates: Debian's python3-jinja2 configured exactly the way
Hugging Face transformers' apply_chat_template configures it (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, {% generation %}, the tojson override, raise_exception,
strftime_now), plus transformers' continue_final_message cut.

Usage: render.py CASES.json OUT.json
CASES.json: a list of {"template": str, "messages": [...], "add_generation_prompt": bool,
"continue_final_message": bool, "vars": {...}}; "vars" holds the special tokens and extra variables.
OUT.json: a list, per case, of {"ok": rendered} or {"error": message}.
Run with /usr/bin/python3 (Debian's, which has jinja2).
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationBlock(Extension):
    """transformers' AssistantTracker without mask tracking: {% generation %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


_compiled = {}


def render_case(env, case):
    messages = case.get("messages", [])
    add_gen = bool(case.get("add_generation_prompt", False))
    cont = bool(case.get("continue_final_message", False))
    if cont and add_gen:
        raise ValueError("continue_final_message and add_generation_prompt are not compatible")
    template = _compiled.get(case["template"])
    if template is None:  # transformers caches compiled templates the same way
        template = _compiled[case["template"]] = env.from_string(case["template"])
    variables = {"tools": None, "documents": None}
    variables.update(case.get("vars", {}))
    rendered = template.render(messages=messages, add_generation_prompt=add_gen, **variables)
    if cont:
        final = messages[-1]["content"]
        if isinstance(final, (list, tuple)):
            for block in reversed(final):
                if "text" in block:
                    final = block["text"]
                    break
            else:
                raise ValueError("no text to continue in the final message")
        if final.strip() not in rendered:
            raise ValueError("final message does not appear in the rendered chat")
        loc = rendered.rindex(final.strip())
        if rendered[loc: loc + len(final.lstrip())] == final:
            rendered = rendered[: loc + len(final.lstrip())]
        else:
            rendered = rendered[: loc + len(final.strip())]
    return rendered


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    env = make_env()
    out = []
    for case in cases:
        try:
            out.append({"ok": render_case(env, case)})
        except Exception as e:  # the C++ side only checks that it fails too
            out.append({"error": f"{type(e).__name__}: {e}"})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
