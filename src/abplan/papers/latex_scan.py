"""The LaTeX hidden-text scan: read the definitions (colours, page colours, boxes, conditionals, macros,
environments, TikZ styles), find the hidden spans, report and remove them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from abplan.papers import latex_colour as col
from abplan.papers.instructions import find_instructions
from abplan.papers.invisible import scan_characters, smuggled_instructions
from abplan.papers.latex import braced
from abplan.papers.latex_alias import aliases, canonical, mapped
from abplan.papers.latex_hidden import WHITE, Context, Macro, primitive_spans, tikz_hidden
from abplan.papers.latex_scope import args, env_end, forget, option, scope_end
from abplan.papers.textutil import LineIndex, Span, cut, outermost, span_findings
from abplan.schema import Finding

_NAME = r"(?:\{\s*\\([a-zA-Z@]+)\s*\}|\\([a-zA-Z@]+))"
_NEWCOMMAND = re.compile(
    rf"\\(?:(?:re)?newcommand|providecommand|DeclareRobustCommand)\*?\s*{_NAME}\s*(?:\[\s*(\d)\s*\])?\s*(\[)?"
)
_DEF = re.compile(r"\\[gex]?def\s*\\([a-zA-Z@]+)\s*((?:#\d)*)\s*(?=\{)")
_DOCCOMMAND = re.compile(rf"\\(?:New|Renew|Provide|Declare)DocumentCommand\s*{_NAME}\s*\{{([^{{}}]*)\}}")
_NEWENV = re.compile(r"\\(?:re)?newenvironment\*?\s*\{([^{}]+)\}\s*(?:\[\s*(\d)\s*\])?\s*(\[)?")
_DOCENV = re.compile(r"\\(?:New|Renew|Provide|Declare)DocumentEnvironment\s*\{([^{}]+)\}\s*\{([^{}]*)\}")
_ARG = "\ue000{}\ue001"
_TAIL = "\ue000T\ue001"


def _colours(text: str, ctx: Context) -> None:
    rx = re.compile(
        r"\\(?:definecolor|providecolor)\s*(?:\[[^\]]*\])?\s*\{([^{}]+)\}\s*\{([^{}]+)\}\s*\{([^{}]*)\}"
        r"|\\colorlet\s*\{([^{}]+)\}\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}"
        r"|\\(nopagecolor)\b|\\pagecolor\s*(?:\[\s*([A-Za-z]+)\s*\])?\s*\{([^{}]*)\}"
        r"|\\setbeamercolor\*?\s*\{\s*background canvas\s*\}\s*\{[^{}]*\bbg\s*=\s*([^,{}]+)"
    )
    for m in rx.finditer(text):
        if m.group(1):
            name, rgb = m.group(1).strip(), col.from_model(m.group(2).split("/")[0], m.group(3).split("/")[0])
        elif m.group(4):
            name, rgb = m.group(4).strip(), col.resolve(m.group(6), ctx.aliases)
        elif m.group(10):  # a beamer slide background is the page
            ctx.pages.append((m.start(), col.resolve(m.group(10), ctx.aliases) or WHITE))
            continue
        else:
            page = WHITE if m.group(7) else col.colour_of(m.group(8), m.group(9), ctx.aliases)
            ctx.pages.append((m.start(), page or WHITE))
            continue
        if rgb is None:
            ctx.aliases.pop(name, None)
        else:
            ctx.aliases[name] = rgb


def _backgrounds(text: str, ctx: Context) -> None:
    model = r"(?:\[\s*([A-Za-z]+)\s*\])?"
    for m in re.finditer(
        rf"\\colorbox\s*{model}\s*\{{([^{{}}]*)\}}|\\fcolorbox\s*{model}\s*\{{[^{{}}]*\}}\s*\{{([^{{}}]*)\}}",
        text,
    ):
        rgb = col.colour_of(m.group(1) or m.group(3), m.group(2) or m.group(4) or "", ctx.aliases)
        got = args(text, m.end(), 1)
        if got:
            ctx.backgrounds.append((got[0][0], got[0][1], rgb))
    cells = re.compile(r"\\(cellcolor|rowcolor)\s*" + model + r"\s*\{([^{}]*)\}")
    cell_ends: list[int] = []
    row_ends: list[int] = []
    if cells.search(text):
        # Where a cell ends (& or \\\\ or \\end) and where a row ends, found once for every cell.
        cell_ends = [m.start() for m in re.finditer(r"\\\\|&|\\end\b", text)]
        row_ends = [m.start() for m in re.finditer(r"\\\\|\\end\b", text)]
    for m in cells.finditer(text):
        rgb = col.colour_of(m.group(2), m.group(3), ctx.aliases)
        ends = cell_ends if m.group(1) == "cellcolor" else row_ends
        j = bisect.bisect_left(ends, m.end())
        ctx.backgrounds.append((m.end(), ends[j] if j < len(ends) else len(text), rgb))
    for m in re.finditer(
        r"\\begin\s*\{(tikzpicture|tabular\*?|tabularx|longtable|tcolorbox|mdframed)\}", text
    ):
        body_end = env_end(text, m.group(1), m.end())[1]
        if m.group(1) in ("tcolorbox", "mdframed"):
            opt = option(text, m.end())
            key = re.search(r"(?:colback|backgroundcolor)\s*=\s*([^,\]]+)", opt[0]) if opt else None
            if key:
                ctx.backgrounds.append((m.end(), body_end, col.resolve(key.group(1), ctx.aliases)))
        elif m.group(1) == "tikzpicture" or text.find("\\columncolor", m.end(), body_end) != -1:
            ctx.backgrounds.append((m.end(), body_end, None))  # colours behind the text are unknown
    tikz = re.compile(r"\\tikz(?![a-zA-Z@])")
    for m in tikz.finditer(text):
        ctx.backgrounds.append((m.end(), scope_end(text, m.end(), tikz), None))


def _ifs_and_styles(text: str, ctx: Context) -> None:
    for m in re.finditer(r"\\newif\s*\\if([a-zA-Z@]+)", text):
        ctx.ifs.setdefault(m.group(1), []).append((m.start(), False))
    if ctx.ifs:
        names = "|".join(re.escape(n) for n in ctx.ifs)
        for m in re.finditer(rf"\\({names})(true|false)(?![a-zA-Z@])", text):
            ctx.ifs[m.group(1)].append((m.start(), m.group(2) == "true"))
    for m in re.finditer(r"/\.style\s*=\s*(?=\{)", text):
        name = re.search(r"[\w ]{1,40}$", text[max(0, m.start() - 40) : m.start()])
        got = braced(text, m.end())
        if name and got and tikz_hidden(got[0], ctx.tikz_styles):
            ctx.tikz_styles.add(name.group(0).strip())


def _analyse(body: str, nargs: int, ctx: Context) -> tuple[dict[int, Span], Span | None]:
    """Which arguments a macro body hides, and whether it hides what follows it (a switch)."""
    synth = re.sub(r"#(\d)", lambda m: _ARG.format(m.group(1)), body) + _TAIL
    spans = primitive_spans(synth, ctx)

    def hiding(pos: int) -> Span | None:
        return next((s for s in spans if s.start <= pos < s.end), None)

    hidden: dict[int, Span] = {}
    for i in range(1, nargs + 1):
        k = synth.find(_ARG.format(i))
        how = (
            Span(0, 0, "latex-discarding-macro", "LaTeX macro that drops its argument")
            if k == -1
            else hiding(k)
        )
        if how is not None:
            hidden[i] = how
    return hidden, hiding(synth.find(_TAIL))


def _doc_args(spec: str) -> tuple[int, bool]:
    kinds = re.findall(r"[+!>]*(?:[mMsSlu]|[oOdDrRgGeEtT](?:\{[^{}]*\}|..)?)", spec)
    kinds = [k.lstrip("+!>")[:1] for k in kinds if k.lstrip("+!>")[:1] not in ("s", "S", "t", "T")]
    return len(kinds), bool(kinds) and kinds[0] in ("o", "O", "d", "D")


def _after_default(text: str, pos: int) -> int:
    """The position after a `[default]` argument starting at `pos`."""
    got = option(text, pos)
    return got[1] if got else pos + 1


@dataclass(frozen=True)
class _Def:
    start: int
    end: int
    kind: str  # "cmd" or "env"
    name: str
    nargs: int
    optional: bool
    bodies: list[str]


def _found_definitions(text: str) -> list[_Def]:
    out: list[_Def] = []

    def add(m: re.Match[str], pos: int, n_groups: int, kind: str, name: str, nargs: int, opt: bool) -> None:
        got = args(text, pos, n_groups)
        if got is not None:
            out.append(_Def(m.start(), got[-1][1] + 1, kind, name, nargs, opt, [text[a:b] for a, b in got]))

    for m in _NEWCOMMAND.finditer(text):
        pos = _after_default(text, m.end() - 1) if m.group(4) else m.end()
        add(m, pos, 1, "cmd", m.group(1) or m.group(2), int(m.group(3) or 0), bool(m.group(4)))
    for m in _DEF.finditer(text):
        add(m, m.end(), 1, "cmd", m.group(1), m.group(2).count("#"), False)
    for m in _DOCCOMMAND.finditer(text):
        n, optional = _doc_args(m.group(3))
        add(m, m.end(), 1, "cmd", m.group(1) or m.group(2), n, optional)
    for m in _NEWENV.finditer(text):
        pos = _after_default(text, m.end() - 1) if m.group(3) else m.end()
        add(m, pos, 2, "env", m.group(1).strip(), 0, False)
    for m in _DOCENV.finditer(text):
        add(m, m.end(), 2, "env", m.group(1).strip(), 0, False)
    return sorted(out, key=lambda d: d.start)


def _definitions(text: str, ctx: Context) -> list[tuple[int, int]]:
    """Read macro and environment definitions in order (each may use earlier ones); their extents."""
    defs = _found_definitions(text)
    for d in defs:
        if d.kind == "cmd":
            hidden, switch = _analyse(d.bodies[0], d.nargs, ctx)
            if hidden or switch:
                ctx.macros[d.name] = Macro(d.name, d.nargs, d.optional, hidden, switch)
            else:
                ctx.macros.pop(d.name, None)
            if d.nargs == 0 and re.fullmatch(r"\s*[\w!.-]+\s*", d.bodies[0]):
                ctx.words[d.name] = d.bodies[0].strip()
            continue
        # \begin{name} opens a group: a switch in the begin code hides the whole body.
        how = _analyse(d.bodies[0], 0, ctx)[1]
        if re.search(r"\\comment(?![a-zA-Z@])", d.bodies[0]):
            how = Span(0, 0, "latex-comment-environment", "LaTeX environment defined as a comment")
        if how is not None:
            ctx.envs[d.name] = how
    for m in re.finditer(r"\\excludecomment\s*\{([^{}]+)\}", text):
        ctx.envs[m.group(1).strip()] = Span(
            0, 0, "latex-comment-environment", "LaTeX \\excludecomment environment"
        )
    return [(d.start, d.end) for d in defs]


def latex_spans(text: str, back: Callable[[int], int]) -> tuple[list[Span], Callable[[int], int]]:
    """The hidden spans of `text` (outside definitions), and `back` passed through for mapping them."""
    ctx = Context()
    _colours(text, ctx)
    _ifs_and_styles(text, ctx)
    extents = _merged(_definitions(text, ctx))
    _backgrounds(text, ctx)
    return [s for s in primitive_spans(text, ctx) if not _inside(extents, s.start)], back


def _inside(extents: list[tuple[int, int]], pos: int) -> bool:
    """Is `pos` inside one of the definition extents (disjoint, sorted: see `_merged`)?"""
    j = bisect.bisect_right(extents, (pos, 1 << 62)) - 1
    return j >= 0 and pos < extents[j][1]


def _merged(extents: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(extents):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _empty(text: str, s: Span) -> bool:
    """Nothing but white space and \\else/\\fi tokens (only short spans are looked at)."""
    return (
        s.end - s.start < 64 and not re.sub(r"\\(?:else|fi)(?![a-zA-Z@])", "", text[s.start : s.end]).strip()
    )


def scan_latex(flat: str, keep_hidden: bool = False) -> tuple[str, list[Finding]]:
    """The flattened source the planner sees (hidden spans cut unless `keep_hidden`) and the findings."""
    try:
        spans = mapped(*latex_spans(*canonical(flat, aliases(flat))))
    finally:
        forget()
    spans = [s for s in spans if not _empty(flat, s)]
    char_spans, decoded = scan_characters(flat)
    outer = outermost(spans + char_spans)
    findings = span_findings(flat, outer, removed=not keep_hidden)
    findings += smuggled_instructions(flat, decoded, keep_hidden)
    end = flat.rfind("\\end{document}")
    after = LineIndex(flat).line(end) if end != -1 else None
    for f in find_instructions(flat, hidden=outer if not keep_hidden else ()):
        if after is not None and f.line is not None and f.line >= after:
            # Never typeset, never shown to the planner (the body stops at \end{document}).
            f = f.model_copy(update={"technique": "latex-after-end-document", "removed": True})
        findings.append(f)
    return (flat if keep_hidden else cut(flat, outer)), findings
