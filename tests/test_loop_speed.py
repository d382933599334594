"""The cheaper paths a benchmark task takes on the event loop give what the general ones give: each
fast path is compared with the plain computation it replaces, on inputs chosen to trip it."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import math
import os
import random
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import pytest

from abplan import limits, prompts
from abplan.bench.paper_folder import join_name
from abplan.bench.scoring import ndcg
from abplan.bench.tasks import load_dataset, load_task_paper
from abplan.errors import ConfigError, InputError, LMError
from abplan.fsutil import canonical_json
from abplan.lm import FakeModel, LMClient, register_fake, unregister_fake
from abplan.lm.cache import ResponseCache, _row, _stored_row
from abplan.lm.client import _answered
from abplan.lm.types import _SURROGATE, LMRequest, LMResponse, ProviderError, clean_text, usage_of
from abplan.papers import load_paper
from abplan.papers.hidden import scan_markup
from abplan.papers.invisible import scan_characters
from abplan.papers.latex import read_capped
from abplan.papers.markdown import split_markdown
from abplan.papers.textutil import LineIndex, file_name, file_suffix
from abplan.parsing import _TAG, _tag_blocks
from abplan.prompts.datablock import neutralise
from abplan.schema import Section, Usage
from abplan.text_match import content_tokens
from synthetic import make_dataset

TRICKY = [
    "",
    "plain ascii",
    'quote " backslash \\ slash / tab \t newline \n nul \x00 unit \x1f del \x7f',
    "é ☃ 😀 \u2028 \u2029 \ufeff zero\u200bwidth",
    "lone \ud800 surrogate",
    "</paper_source> <discussion> {{ not jinja }} {% raw %}",
    "x" * 3000,
]


class _Opaque(str):
    """A string whose cheap tests say nothing: it looks non-ASCII and to hold every substring, so a
    scanner given it skips no work (its content, which the regexes read, is the same)."""

    def isascii(self) -> bool:
        return False

    def __contains__(self, _item: object) -> bool:
        return True


# -- prompts -------------------------------------------------------------------------------------
def _template_names() -> list[str]:
    folder = Path(prompts.__file__).parent
    return sorted(p.stem for p in folder.glob("*.j2"))


def test_render_gives_what_jinja_render_gives_for_every_template() -> None:
    env = prompts._env.__wrapped__()  # a fresh environment, its templates' globals left as loaded
    assert isinstance(env.get_template("repair.j2").globals, collections.ChainMap)
    rendered = 0
    for name in _template_names():
        source = env.loader.get_source(env, f"{name}.j2")[0]  # type: ignore[union-attr]
        names = jinja2.meta.find_undeclared_variables(env.parse(source))
        if not names:
            continue
        for value in [*TRICKY, 3]:
            variables: dict[str, Any] = {n: value for n in names}
            try:
                want = env.get_template(f"{name}.j2").render(**variables).strip()
            except Exception as e:  # a template that needs other types: the same error, both ways
                with pytest.raises(type(e)):
                    prompts.render(name, **variables)
                continue
            assert prompts.render(name, **variables) == want, (name, value)
            rendered += 1
    assert rendered >= 40  # most templates took every value: the comparison happened


def test_render_still_refuses_a_missing_variable() -> None:
    with pytest.raises(jinja2.UndefinedError):
        prompts.render("planner_author", title="t", abstract="a", k=3)


# -- request keys and cache rows -----------------------------------------------------------------
def _requests() -> list[LMRequest]:
    reqs = [LMRequest.chat("fake/x", s, u) for s in TRICKY[:4] for u in TRICKY]
    reqs += [
        LMRequest.chat("openai/gpt-4o", "s", "u", json_schema={"b": [1, 2.5, None], "a": "é"}, seed=3),
        LMRequest.chat("m", "s", "u", temperature=None, top_p=0.95, seed=0, max_tokens=1),
        LMRequest.chat("m", "s", "u", temperature=1e-20, top_p=1.0),
        LMRequest.chat("m", "s", "u", temperature=float("nan")),
        LMRequest.chat("m", "s", "u", temperature=float("inf")),
        LMRequest.chat("m", "s", "u", max_tokens=True),  # a bool is written as JSON true
        LMRequest.chat("m", "s", "u", temperature=2),  # an int temperature stays an int
        LMRequest.chat("é/model\x7f", "s", "u"),
        LMRequest(model="m", messages=()),
        LMRequest(
            model="m", messages=(("system", "s"), ("user", "u"), ("assistant", "a\x7f"), ("user", "é"))
        ),
        LMRequest(model="m", messages=(("user", ["not", "text"]),)),  # type: ignore[arg-type]
    ]
    return reqs


def test_request_keys_hash_the_canonical_json_of_the_request() -> None:
    for req in _requests():
        want = hashlib.sha256(canonical_json(req.to_json()).encode("utf-8", "surrogatepass")).hexdigest()
        assert req.key == want, req
        assert req.stored_json == json.dumps(req.to_json()), req
        fresh = LMRequest(**{f: getattr(req, f) for f in ("model", "messages", "temperature", "max_tokens")})
        assert fresh.stored_json == json.dumps(fresh.to_json())  # asked for before the key too


def test_the_stored_row_is_the_row_of_the_request_json() -> None:
    resp = LMResponse(text="the answer é \x7f", input_tokens=3, output_tokens=4, model="x")
    for req in _requests():
        assert _stored_row(req, resp)[:4] == _row(req.key, req.to_json(), resp)[:4]


def test_every_ascii_character_escapes_alike_in_both_encodings_but_del() -> None:
    differ = [c for c in map(chr, range(128)) if json.dumps(c) != json.dumps(c, ensure_ascii=False)]
    assert differ == ["\x7f"]  # the one exception the shared escape allows for


# -- reply parsing -------------------------------------------------------------------------------
def test_tag_blocks_capture_what_the_tag_regex_captures() -> None:
    pieces = ["<predictions>", "</predictions>", "< Predictions >", "</ predictions >", "<PREDICTIONS\n>"]
    pieces += ["<discussion>", "</discussion>", "x", "\n", '{"a": 1}', " ", "<", ">", "</", "predictions"]
    rng = random.Random(7)
    texts = ["", "\n", "<predictions>\n", "<predictions>a\n\n", "<predictions>a</predictions>\n"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))) for _ in range(20000)]
    blocks = 0
    for text in texts:
        for tag in ("predictions", "discussion"):
            want = [m.group(1) for m in re.finditer(_TAG.format(tag), text, re.S | re.I)]
            assert _tag_blocks(text, tag) == want, (text, tag)
            blocks += len(want)
    assert blocks > 10000


# -- paper loading -------------------------------------------------------------------------------
def test_the_character_and_markup_scans_find_what_the_full_scans_find() -> None:
    texts = [
        *TRICKY,
        "a <!-- hidden --> b",
        "[x]: # (a comment)\n",
        '<span style="display:none">x</span>',
        "ig\u200bnore \U000e0041\U000e0042 tags",
        "no markup at all, only ] and : apart",
    ]
    for text in texts:
        assert scan_characters(text) == scan_characters(_Opaque(text)), text
        assert scan_markup(text) == scan_markup(_Opaque(text)), text
    assert scan_markup("[x]: # (a comment)\n") and scan_characters("a\u200bb")[0]  # both can find


def test_line_numbers_are_those_of_counting_newlines() -> None:
    text = "a\nbb\n\nccc\n" * 5 + "end"
    index = LineIndex(text)
    assert [index.line(i) for i in range(len(text) + 1)] == [
        text.count("\n", 0, i) + 1 for i in range(len(text) + 1)
    ]


_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


def _split_markdown_everywhere(text: str) -> tuple[str, list[Section]]:
    """The heading split testing every line for a fence and a heading."""
    title, sections, heading, level, buf, in_fence = "", [], None, 1, [], False

    def flush() -> None:
        body = "\n".join(buf).strip()
        if heading is not None:
            sections.append(Section(heading=heading, text=body, level=level))
        elif body:
            sections.append(Section(heading="[front matter]", text=body, level=1))

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _ATX.match(line)
        if m is None:
            buf.append(line)
            continue
        h_level, h_text = len(m.group(1)), m.group(2).strip()
        if not title and (h_level == 1 or (not sections and heading is None)):
            flush()
            title, heading, buf = h_text, None, []
            continue
        flush()
        heading, level, buf = h_text, h_level, []
    flush()
    return title, sections


def test_markdown_headings_split_as_when_every_line_is_tested() -> None:
    lines = ["# T", "## A", "####### seven", "#nospace", " # indented", "```", "~~~py", "  ```", "text", ""]
    lines += ["## B ##", "#\tTab", "\u2028", "###### six"]
    rng = random.Random(3)
    for _ in range(3000):
        text = "\n".join(rng.choice(lines) for _ in range(rng.randint(0, 12)))
        assert split_markdown(text) == _split_markdown_everywhere(text), text


def test_a_paper_is_read_whole_from_files_and_pipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in (0, 1, 4095, 4096, 70000):
        (tmp_path / f"f{n}").write_bytes(bytes(range(256)) * (n // 256) + b"x" * (n % 256))
        assert read_capped(tmp_path / f"f{n}") == (tmp_path / f"f{n}").read_bytes()
    with pytest.raises(InputError, match=r"cannot read .*directory"):
        read_capped(tmp_path)
    fifo = tmp_path / "p.md"
    os.mkfifo(fifo)

    def write() -> None:  # in pieces, with pauses: each read gets only what the pipe holds
        with fifo.open("wb") as w:
            for i in range(5):
                w.write(bytes([65 + i]) * 300)
                w.flush()
                time.sleep(0.02)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert read_capped(fifo) == b"".join(bytes([65 + i]) * 300 for i in range(5))
    finally:
        writer.join(10)
    monkeypatch.setattr(limits, "MAX_TEXT_INPUT_BYTES", 4095)
    with pytest.raises(InputError, match="larger than"):
        read_capped(tmp_path / "f4096")
    assert len(read_capped(tmp_path / "f4095")) == 4095


@pytest.mark.parametrize("title", ["", "Given title", "  spaced  "])
@pytest.mark.parametrize("abstract", ["", "Given abstract."])
def test_a_task_paper_has_the_dataset_title_as_a_copy_of_the_read_paper_had(
    tmp_path: Path, title: str, abstract: str
) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    record = json.loads((ds / "tasks.jsonl").read_text())
    record.update(paper_title=title, paper_abstract=abstract)
    (ds / "tasks.jsonl").write_text(json.dumps(record) + "\n")
    (task,) = load_dataset(str(ds))
    read = load_paper(Path(task.paper_path or "") / "paper.md")
    update = {k: v for k, v in (("title", title), ("abstract", abstract)) if v}
    want = read.model_copy(update=update)
    got = load_task_paper(task)
    assert got == want and got.model_fields_set == want.model_fields_set
    assert got.title == (title or "Paper 0")


# -- the client, the planner's usage, the lexical judge and scoring -------------------------------
def test_usage_of_sums_as_adding_each_response_in_turn() -> None:
    rs = [
        LMResponse(text="a", input_tokens=3, output_tokens=5, cost_usd=0.1),
        LMResponse(text="b", input_tokens=7, output_tokens=1, cost_usd=0.2, cached=True),
        LMResponse(text="c", input_tokens=0, output_tokens=2, cost_usd=0.7),
    ]
    for n in range(len(rs) + 1):
        want = Usage()
        for r in rs[:n]:
            one = Usage(
                calls=0 if r.cached else 1,
                cached_calls=1 if r.cached else 0,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                cost_usd=r.cost_usd,
            )
            want = want.add(one)
        got = usage_of(rs[:n])
        assert got == want and got.model_fields_set == want.model_fields_set, n
    assert usage_of(rs).cost_usd == (0.0 + 0.1) + 0.2 + 0.7  # the float sum, in order


def test_an_answer_is_the_response_replaced_with_its_key_and_clean_text() -> None:
    class Tagged(LMResponse):
        pass

    for text in ["plain", "é", "lone \ud800 surrogate", ""]:
        for resp in (
            LMResponse(
                text=text, finish_reason="length", input_tokens=1, output_tokens=2, cost_usd=0.5, model="m"
            ),
            LMResponse(text=text, cached=True, key="old"),
            Tagged(text=text),
        ):
            got = _answered(resp, "k")
            want = replace(resp, text=_SURROGATE.sub("\ufffd", resp.text), key="k", cached=False)
            assert got == want and type(got) is type(want)
            assert clean_text(text) == _SURROGATE.sub("\ufffd", text)


def test_content_tokens_name_greek_letters_as_the_full_path_does() -> None:
    for text in [*TRICKY, "λVR and lambda_VR", "α-β gate", "No gate", "loss weight", "Σ ω-net"]:
        assert content_tokens(text) == content_tokens(_Opaque(text)), text
    assert content_tokens("λVR") == {"lambda", "vr"}


def test_ndcg_adds_the_same_discounts_as_computing_each() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        relevant = [rng.random() < 0.4 for _ in range(rng.randint(0, 80))]
        n_gold = rng.randint(0, 90)
        k = min(len(relevant), n_gold)
        want = 0.0
        if k:
            dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
            want = dcg / sum(1 / math.log2(i + 2) for i in range(k))
        assert ndcg(relevant, n_gold) == want  # equal floats, not approximately


def test_neutralise_changes_what_the_full_scan_changes() -> None:
    texts = [
        *TRICKY,
        "a </Paper_Source > b",
        "&lt;/discussion&gt;",
        "\\u003c/predictions\\u003e",
        "＜side_a＞",
    ]
    texts += ["﹤/official_review﹥", "no tags here", "x < y and z > w", "&amp; only", "back\\slash"]
    changed = 0
    for text in texts:
        want = neutralise(_Opaque(text))
        assert neutralise(text) == want, text
        changed += want != text
    assert changed >= 5  # the full scan did neutralise tags in these


def test_a_paper_path_is_joined_and_named_as_pathlib_does() -> None:
    parts = ["", ".", "..", "/", "//", "a", "b.c", ".md", "x.", "papers", "t0001", " ", "é"]
    rng = random.Random(11)
    folders = ["", ".", "/", "//", "///a", "./a", "a/.", "a/./b", "a//b", "a/", "/a/b", "..", "../a"]
    folders += ["".join(rng.choice(parts) for _ in range(rng.randint(1, 6))) for _ in range(3000)]
    for folder in folders:
        for name in ("paper.md", "t0001.md", ".md", "a.b.md", "x.txt", "noext", "é.markdown"):
            joined = join_name(folder, name)
            assert joined == str(Path(folder, name)), (folder, name)
            assert file_name(joined) == Path(joined).name and file_suffix(joined) == Path(joined).suffix
        plain = str(Path(folder))
        assert file_name(plain) == Path(plain).name and file_suffix(plain) == Path(plain).suffix, folder
    assert join_name("/d/papers/t1", "paper.md") == "/d/papers/t1/paper.md"  # the usual case, written out


def test_identical_concurrent_requests_share_one_call_and_its_outcome(tmp_path: Path) -> None:
    fake = register_fake("share", FakeModel(lambda r: "the answer", latency=0.05))
    failing = register_fake(
        "share-fail", FakeModel([ProviderError("refused", retryable=False)], latency=0.05)
    )
    try:

        async def go() -> tuple[list[LMResponse], list[BaseException | LMResponse], bool]:
            async with LMClient(cache_dir=tmp_path) as lm:
                req = LMRequest.chat("fake/share", "s", "q")
                got = await asyncio.gather(*(lm.complete(req) for _ in range(3)))
                bad = LMRequest.chat("fake/share-fail", "s", "q")
                errors = await asyncio.gather(*(lm.complete(bad) for _ in range(2)), return_exceptions=True)
                # A waiter cancelled midway leaves the call and the other callers alone.
                other = LMRequest.chat("fake/share", "s", "other")
                first = asyncio.ensure_future(lm.complete(other))
                second = asyncio.ensure_future(lm.complete(other))
                await asyncio.sleep(0.01)
                second.cancel()
                answer = await first
                return got, [*errors, answer], second.cancelled()

        got, outcomes, cancelled = asyncio.run(go())
    finally:
        unregister_fake("share")
        unregister_fake("share-fail")
    assert len(fake.calls) == 2 and len(failing.calls) == 1
    assert [r.cached for r in got] == [False, True, True] and {r.text for r in got} == {"the answer"}
    assert all(isinstance(e, LMError) and "refused" in str(e) for e in outcomes[:2])
    assert isinstance(outcomes[2], LMResponse) and outcomes[2].text == "the answer" and cancelled


def test_an_unreadable_cache_entry_is_the_guarded_one_line_error(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache._db.execute("INSERT INTO responses VALUES ('k', 'm', '{}', 'not json', 0)")
    with pytest.raises(ConfigError, match=r"holds an unreadable entry \(JSONDecodeError\)"):
        cache.get("k")
    with pytest.raises(ConfigError) as guarded, cache._guard():
        json.loads("not json")
    with pytest.raises(ConfigError) as direct:
        cache.get("k")
    assert str(direct.value) == str(guarded.value) and type(direct.value.__cause__) is json.JSONDecodeError
    cache.close()
    with pytest.raises(ConfigError, match="is unusable"):
        cache.get("k")  # a closed database: sqlite's error, translated the same way
