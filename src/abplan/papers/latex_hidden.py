"""Text in LaTeX sources that the typeset paper does not show a reader, as spans of the flattened source.

Techniques: text in the page or box background colour (any xcolor model, aliases), near-zero font
sizes and scaling, TikZ and `transparent` opacity, invisible render mode, `\\phantom`, false
conditionals, and macros or environments defined to do any of these (or to drop their argument).
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from abplan.papers import latex_colour as col
from abplan.papers.latex_scope import args, env_end, number, option, points, scope_end
from abplan.papers.textutil import Span

WHITE: col.RGB = (1.0, 1.0, 1.0)
TINY_PT = 2.0  # text under this size is unreadable (the PDF scan uses the same bound)
TINY_SCALE = 0.2
CLEAR = 0.1  # opacity under this is invisible
OFF_PAGE_PT = 800.0  # a raise larger than a page

_COLOUR_STOP = re.compile(r"\\(?:color|normalcolor)(?![a-zA-Z@])")
_SIZE_STOP = re.compile(
    r"\\(?:fontsize|tiny|scriptsize|footnotesize|small|normalsize|large|Large|LARGE|huge|Huge)(?![a-zA-Z@])"
)
# A switch stops at the next use of the same command (which starts its own span): linear, not quadratic.
_SAME = re.compile(r"\\(?:transparent|pdfrender|pdfliteral|special)(?![a-zA-Z@])")
_IF_MACROS = frozenset(
    [
        "ifthenelse",
        "ifstrequal",
        "ifstrempty",
        "ifdefstring",
        "ifbool",
        "iftoggle",
        "ifnumcomp",
        "ifdimcomp",
        "ifdef",
        "ifundef",
        "ifcsdef",
        "ifcsundef",
        "ifdefempty",
        "ifblank",
        "ifdefmacro",
        "ifnumequal",
        "ifnumgreater",
        "ifnumless",
        "ifboolexpr",
        "ifcsvoid",
        "ifdefvoid",
        "ifmtarg",
    ]
)
_TIKZ_HEAD = re.compile(
    r"\\begin\s*\{(tikzpicture|scope)\}|\\tikz(?![a-zA-Z@])|\\(?:node|draw|path|fill|filldraw|matrix)(?![a-zA-Z@])"
    r"|(?<![\\\w])node\b"
)
_PATH_START = re.compile(r"\\(?:tikz|node|draw|path|fill|filldraw|matrix|end)(?![a-zA-Z@])")
_NODE_TAIL = re.compile(r"\s*(?:\([^()]*\)\s*)?(?:at\s*\([^()]*\)\s*)?")
_MODEL = r"(?:\[\s*([A-Za-z]+)\s*\])?"
_SPEC = r"\{([^{}]*)\}"


@dataclass
class Macro:
    """A user macro that hides some of its arguments or, as a switch, what follows it."""

    name: str
    nargs: int
    optional: bool  # the first argument is optional ([default] or an `o` argument)
    hidden_args: dict[int, Span]  # 1-based argument -> how it is hidden
    switch: Span | None = None


@dataclass
class Context:
    aliases: dict[str, col.RGB] = field(default_factory=dict)
    pages: list[tuple[int, col.RGB]] = field(default_factory=list)  # \pagecolor positions
    backgrounds: list[tuple[int, int, col.RGB | None]] = field(default_factory=list)
    macros: dict[str, Macro] = field(default_factory=dict)
    envs: dict[str, Span] = field(default_factory=dict)
    tikz_styles: set[str] = field(default_factory=set)
    ifs: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # argument-free macros whose body is one word
    _index: tuple[int, list[int], list[int]] | None = None
    _page_starts: list[int] = field(default_factory=list)  # background lookup, rebuilt when they change

    def colour(self, model: str | None, spec: str) -> col.RGB | None:
        spec = spec.strip()
        if spec.startswith("\\") and spec[1:] in self.words:
            spec = self.words[spec[1:]]  # \newcommand{\bg}{white} ... \color{\bg}
        return col.colour_of(model, spec, self.aliases)

    def page_at(self, pos: int) -> col.RGB:
        """The page colour in effect at `pos` (the last \\pagecolor before it; pages are in text order)."""
        if len(self._page_starts) != len(self.pages):
            self._page_starts = [p for p, _c in self.pages]
        j = bisect.bisect_right(self._page_starts, pos) - 1
        return self.pages[j][1] if j >= 0 else WHITE

    def background_at(self, pos: int) -> tuple[col.RGB | None, bool]:
        """The colour behind `pos` (None if unknown) and whether it is the page's."""
        if self._index is None or self._index[0] != len(self.backgrounds):
            self._index = (len(self.backgrounds), *innermost(self.backgrounds))
        _n, starts, which = self._index
        j = bisect.bisect_right(starts, pos) - 1
        if j < 0 or which[j] < 0:
            return self.page_at(pos), True
        return self.backgrounds[which[j]][2], False


def innermost(regions: list[tuple[int, int, col.RGB | None]]) -> tuple[list[int], list[int]]:
    """Breakpoints and, from each, the index of the innermost (latest-starting) region there, or -1.

    A sweep with a heap, O(n log n): a table of thousands of coloured cells stays fast."""
    points = sorted({r[0] for r in regions} | {r[1] for r in regions})
    order = sorted(range(len(regions)), key=lambda i: regions[i][0])
    heap: list[tuple[int, int, int]] = []
    starts: list[int] = []
    which: list[int] = []
    k = 0
    for p in points:
        while k < len(order) and regions[order[k]][0] <= p:
            i = order[k]
            heapq.heappush(heap, (-regions[i][0], -i, regions[i][1]))
            k += 1
        while heap and heap[0][2] <= p:
            heapq.heappop(heap)
        starts.append(p)
        which.append(-heap[0][1] if heap else -1)
    return starts, which


def _colour_hides(ctx: Context, rgb: col.RGB | None, pos: int) -> tuple[str, str] | None:
    """(technique, detail) if text of colour `rgb` at `pos` is the colour behind it."""
    if rgb is None:
        return None
    bg, is_page = ctx.background_at(pos)
    if bg is None or not col.close(rgb, bg):
        return None
    if is_page and not col.close(bg, WHITE):
        return "latex-page-colour", "LaTeX text in the page colour (\\pagecolor)"
    if col.close(rgb, WHITE):
        return "latex-white-text", "LaTeX white text"
    return "latex-background-colour", "LaTeX text in the colour of the box behind it"


def colour_spans(text: str, ctx: Context) -> list[Span]:
    out: list[Span] = []
    for m in re.finditer(rf"\\textcolor\s*{_MODEL}\s*{_SPEC}", text):
        got = args(text, m.end(), 1)
        why = _colour_hides(ctx, ctx.colour(m.group(1), m.group(2)), m.start())
        if got and why:
            out.append(Span(m.start(), got[0][1] + 1, *why))
    for m in re.finditer(rf"\\color\s*{_MODEL}\s*{_SPEC}", text):
        if re.search(r"=\s*$", text[max(0, m.start() - 8) : m.start()]):
            continue  # a key's value (`backgroundcolor=\color{white}` in listings, tcolorbox): no text
        why = _colour_hides(ctx, ctx.colour(m.group(1), m.group(2)), m.start())
        if why:
            out.append(Span(m.start(), scope_end(text, m.end(), _COLOUR_STOP), *why))
    return out


def size_spans(text: str) -> list[Span]:
    out: list[Span] = []
    for m in re.finditer(r"\\fontsize\s*\{([^{}]*)\}\s*\{[^{}]*\}", text):
        size = points(m.group(1))
        if size is not None and size < TINY_PT:
            detail = f"LaTeX font size {m.group(1).strip()}"
            out.append(Span(m.start(), scope_end(text, m.end(), _SIZE_STOP), "latex-tiny-font", detail))
    for m in re.finditer(r"\\(?:scalefont|relscale)\s*\{([^{}]*)\}", text):
        f = number(m.group(1))
        if f is not None and f < TINY_SCALE:
            out.append(
                Span(m.start(), scope_end(text, m.end(), _SIZE_STOP), "latex-tiny-font", "LaTeX font scaled")
            )
    for m in re.finditer(r"\\scalebox\s*\{([^{}]*)\}\s*(?:\[([^\]]*)\])?", text):
        fs = [number(x) for x in (m.group(1), m.group(2) or "1")]
        got = args(text, m.end(), 1)
        if got and any(f is not None and abs(f) < TINY_SCALE for f in fs):
            detail = f"LaTeX \\scalebox{{{m.group(1).strip()}}}"
            out.append(Span(m.start(), got[0][1] + 1, "latex-scalebox", detail))
    for m in re.finditer(r"\\resizebox\*?\s*\{([^{}]*)\}\s*\{([^{}]*)\}", text):
        dims = [points(x) for x in (m.group(1), m.group(2)) if x.strip() != "!"]
        got = args(text, m.end(), 1)
        if got and any(d is not None and abs(d) < TINY_PT for d in dims):
            detail = f"LaTeX \\resizebox{{{m.group(1).strip()}}}{{{m.group(2).strip()}}}"
            out.append(Span(m.start(), got[0][1] + 1, "latex-resizebox", detail))
    return out


def tikz_hidden(opts: str, styles: set[str]) -> bool:
    vals: dict[str, float] = {}
    for m in re.finditer(r"(?:^|,)\s*((?:text |fill |draw )?opacity)\s*=\s*([-\d.]+)", opts):
        v = number(m.group(2))
        if v is not None:
            vals[m.group(1)] = v
    t = vals.get("text opacity", vals.get("fill opacity", vals.get("opacity")))
    keys = {k.strip() for k in opts.split(",")}
    return (t is not None and t < CLEAR) or bool(keys & styles)


def opacity_spans(text: str, ctx: Context) -> list[Span]:
    out: list[Span] = []
    for m in _TIKZ_HEAD.finditer(text):
        got = option(text, m.end())
        if not got or not tikz_hidden(got[0], ctx.tikz_styles):
            continue
        opts_end = got[1]
        if m.group(1):
            end = env_end(text, m.group(1), opts_end)[1]
        elif m.group(0).lstrip("\\") == "node":
            tail = _NODE_TAIL.match(text, opts_end)
            body = args(text, tail.end() if tail else opts_end, 1)
            end = body[0][1] + 1 if body else opts_end
        else:
            # To the end of the path (its ';'), never past the next path command: linear on hostile input.
            nxt = _PATH_START.search(text, opts_end)
            bound = nxt.start() if nxt else len(text)
            semi = text.find(";", opts_end, bound)
            end = scope_end(text, opts_end, limit=semi + 1 if semi != -1 else bound)
        out.append(Span(m.start(), end, "latex-tikz-opacity", "TikZ text at zero opacity"))
    for m in re.finditer(r"\\transparent\s*\{([^{}]*)\}", text):
        v = number(m.group(1))
        if v is not None and v < CLEAR:
            out.append(
                Span(
                    m.start(),
                    scope_end(text, m.end(), _SAME),
                    "latex-transparent",
                    "LaTeX \\transparent text",
                )
            )
    for m in re.finditer(r"\\texttransparent\s*\{([^{}]*)\}", text):
        v, grp = number(m.group(1)), args(text, m.end(), 1)
        if v is not None and v < CLEAR and grp:
            out.append(Span(m.start(), grp[0][1] + 1, "latex-transparent", "LaTeX \\texttransparent text"))
    return out


def render_mode_spans(text: str) -> list[Span]:
    """Invisible text rendering (PDF `3 Tr`) through pdfrender or a literal."""
    out: list[Span] = []
    inv = r"TextRenderingMode\s*=\s*(?:3|Invisible)"
    white = (
        r"\b1(?:\.0*)?\s+(?:1(?:\.0*)?\s+1(?:\.0*)?\s+rg|g)\b|color\s+push\s+(?:rgb\s+1\s+1\s+1|gray\s+1)\b"
    )
    for m in re.finditer(rf"\\(?:pdfliteral|special)\s*\{{[^{{}}]*(?:{white})[^{{}}]*\}}", text):
        end = scope_end(text, m.end(), _SAME)
        out.append(Span(m.start(), end, "latex-white-text", "LaTeX white text through a PDF literal"))
    for m in re.finditer(rf"\\textpdfrender\s*\{{[^{{}}]*{inv}[^{{}}]*\}}", text):
        got = args(text, m.end(), 1)
        if got:
            out.append(Span(m.start(), got[0][1] + 1, "latex-render-mode-3", "LaTeX invisible render mode"))
    for m in re.finditer(
        rf"\\pdfrender\s*\{{[^{{}}]*{inv}[^{{}}]*\}}|\\(?:pdfliteral|special)\s*\{{[^{{}}]*\b3\s+Tr\b[^{{}}]*\}}",
        text,
    ):
        out.append(
            Span(
                m.start(),
                scope_end(text, m.end(), _SAME),
                "latex-render-mode-3",
                "LaTeX invisible render mode",
            )
        )
    return out


def phantom_spans(text: str) -> list[Span]:
    """\\phantom text (only long runs: short ones align formulas), and boxes raised off the page."""
    out: list[Span] = []
    for m in re.finditer(r"\\raisebox\s*\{([^{}]*)\}\s*(?:\[[^\]]*\]\s*){0,2}", text):
        d, got = points(m.group(1)), args(text, m.end(), 1)
        if d is not None and abs(d) > OFF_PAGE_PT and got:
            out.append(
                Span(m.start(), got[0][1] + 1, "latex-off-page", f"LaTeX \\raisebox{{{m.group(1).strip()}}}")
            )
    for m in re.finditer(r"\\(?:phantom|hphantom|vphantom)\s*(?=\{)", text):
        got = args(text, m.end(), 1)
        if got and got[0][1] - got[0][0] > 20:
            out.append(Span(m.start(), got[0][1] + 1, "latex-phantom", "LaTeX \\phantom text"))
    return out


def _macro_use(text: str, m: re.Match[str], mac: Macro) -> list[Span]:
    """What one use of a hiding macro hides: what follows a switch, or its hidden arguments."""
    name = mac.name
    if mac.switch is not None:
        s = mac.switch
        # Up to the end of the group, or the next use (which starts its own span): linear, not quadratic.
        stop = re.compile(re.escape("\\" + name) + r"(?![a-zA-Z@])")
        return [Span(m.start(), scope_end(text, m.end(), stop), s.technique, f"{s.detail} (via \\{name})")]
    pos = m.end()
    numbered: dict[int, tuple[int, int]] = {}
    opt = option(text, pos) if mac.optional else None
    if opt is not None:
        numbered[1] = (text.index("[", pos) + 1, opt[1] - 1)
        pos = opt[1]
    first = 2 if mac.optional else 1
    got = args(text, pos, mac.nargs - (first - 1))
    if got is None:
        return []
    numbered.update(enumerate(got, start=first))
    return [
        Span(numbered[i][0] - 1, numbered[i][1] + 1, how.technique, f"{how.detail} (via \\{name})")
        for i, how in mac.hidden_args.items()
        if i in numbered
    ]


def macro_spans(text: str, ctx: Context) -> list[Span]:
    """Uses of hiding macros and environments (one pass for all macros)."""
    out: list[Span] = []
    if ctx.macros:
        names = "|".join(re.escape(n) for n in sorted(ctx.macros, key=len, reverse=True))
        for m in re.finditer(rf"\\({names})(?![a-zA-Z@])", text):
            out += _macro_use(text, m, ctx.macros[m.group(1)])
    for name, how in ctx.envs.items():
        for m in re.finditer(r"\\begin\s*\{" + re.escape(name) + r"\}", text):
            _s, e = env_end(text, name, m.end())
            out.append(Span(m.start(), e, how.technique, f"{how.detail} (environment {name})"))
    return out


def conditional_spans(text: str, truth: Callable[[str, int], bool | None]) -> list[Span]:
    """Branches of \\iffalse / false \\newif conditionals (and \\else of true ones) that TeX skips."""
    out: list[Span] = []
    stack: list[tuple[str, int, int, bool | None, tuple[int, int] | None]] = []
    for m in re.finditer(r"\\(if[a-zA-Z@]*|else|fi)(?![a-zA-Z@])", text):
        tok = m.group(1)
        if tok.startswith("if"):
            before = text[max(0, m.start() - 12) : m.start()]
            if re.search(r"\\(?:newif|def|let|gdef|edef|csname|expandafter)\s*\{?$|\\newif\s*$", before):
                continue  # being defined, not tested
            if tok in _IF_MACROS or re.match(r"\s*\{", text[m.end() : m.end() + 20]):
                continue  # \ifthenelse{..}{..}{..} and etoolbox tests take arguments and have no \fi
            stack.append((tok, m.start(), m.end(), truth(tok, m.start()), None))
        elif tok == "else" and stack:
            name, s, e, t, _ = stack[-1]
            stack[-1] = (name, s, e, t, (m.start(), m.end()))
        elif tok == "fi" and stack:
            name, s, e, t, els = stack.pop()
            technique = "latex-iffalse" if name == "iffalse" else "latex-false-conditional"
            detail = f"LaTeX \\{name} block"
            if t is False:
                out.append(Span(s, els[1] if els else m.end(), technique, detail))
                if els:
                    out.append(Span(m.start(), m.end(), technique, detail))
            elif t is True and els:
                out.append(Span(els[0], m.end(), technique, f"LaTeX \\else branch of \\{name}"))
    return out


def primitive_spans(text: str, ctx: Context) -> list[Span]:
    """Every hiding construct in `text`, given the definitions in `ctx`."""
    return (
        colour_spans(text, ctx)
        + size_spans(text)
        + opacity_spans(text, ctx)
        + render_mode_spans(text)
        + phantom_spans(text)
        + macro_spans(text, ctx)
        + conditional_spans(text, lambda name, pos: if_truth(ctx, name, pos))
    )


def if_truth(ctx: Context, name: str, pos: int) -> bool | None:
    if name == "iffalse":
        return False
    if name == "iftrue":
        return True
    state: bool | None = None
    for p, v in ctx.ifs.get(name[2:], []):
        if p > pos:
            break
        state = v
    return state
