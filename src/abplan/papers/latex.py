"""LaTeX sources: find the main file, flatten \\input/\\include/\\subfile, strip comments, read title and abstract.

The body stays LaTeX: language models read it well, and converting it would lose structure.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from abplan import limits
from abplan.errors import InputError
from abplan.papers.instructions import find_instructions
from abplan.papers.textutil import LineIndex, file_name
from abplan.schema import Finding, Section

VERBATIM_ENVS = ("verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "comment")
MAX_DEPTH = 32
MAX_FLAT_CHARS = 20_000_000

_INPUT = re.compile(r"\\(input|include|subfile)\s*\{([^{}]+)\}|\\(input)\s+([^\s{}\\]+\.tex)")
_IMPORT = re.compile(r"\\(?:sub)?import\*?\s*\{([^{}]*)\}\s*\{([^{}]+)\}")
_SECTION = re.compile(
    r"\\(part|chapter|section|subsection|subsubsection|paragraph)\*?\s*(?:\[[^\]]*\])?\s*\{"
)
_LEVEL = {"part": 1, "chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}


_TOKEN = re.compile(r"\\\\|\\%|%|\\begin\{(" + "|".join(re.escape(e) for e in VERBATIM_ENVS) + r")\}")


def _strip_once(text: str) -> str:
    out: list[str] = []
    blank = True  # is the output since the last newline only white space?
    i, n = 0, len(text)

    def emit(chunk: str) -> None:
        nonlocal blank
        if not chunk:
            return
        out.append(chunk)
        k = chunk.rfind("\n")
        blank = not chunk[k + 1 :].strip() if k != -1 else blank and not chunk.strip()

    while i < n:
        m = _TOKEN.search(text, i)
        if m is None:
            emit(text[i:])
            break
        tok = m.group(0)
        if tok in ("\\\\", "\\%"):
            emit(text[i : m.end()])
            i = m.end()
            continue
        emit(text[i : m.start()])
        if tok == "%":
            eol = text.find("\n", m.end())
            eol = n if eol == -1 else eol
            if blank:
                # A comment-only line goes entirely, with its indentation and newline.
                if out:
                    last = out[-1]
                    k = last.rfind("\n")
                    out[-1] = last[: k + 1] if k != -1 else last.rstrip(" \t")
                i = eol + 1
            else:
                emit("%")
                i = eol
            continue
        name = m.group(1)
        end_tok = f"\\end{{{name}}}"
        stop = text.find(end_tok, m.end())
        stop = n if stop == -1 else stop + len(end_tok)
        if name != "comment":
            emit(text[m.start() : stop])
        elif blank and text.startswith("\n", stop):
            stop += 1  # the environment filled its lines: drop them whole
        i = stop
    return "".join(out)


def strip_comments(text: str) -> str:
    """Remove % comments and comment environments; leave verbatim-like environments untouched.

    A line that was only a comment is dropped; a comment at the end of a line keeps its '%'
    (so the line-joining meaning of a trailing % is preserved) but loses the text. Applied until
    nothing changes, so the result is stable under a second application.
    """
    for _ in range(8):
        new = _strip_once(text)
        if new == text:
            break
        text = new
    return text


def braced(text: str, start: int) -> tuple[str, int] | None:
    """The balanced {...} group starting at or after `start` (skipping spaces and one [...] option)."""
    i = start
    while i < len(text) and text[i] in " \t\n":
        i += 1
    if i < len(text) and text[i] == "[":
        close = text.find("]", i)
        if close == -1:
            return None
        i = close + 1
        while i < len(text) and text[i] in " \t\n":
            i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        c = text[j]
        if c == "\\":
            continue
        if c == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif c == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
    return None


def latex_to_plain(s: str) -> str:
    """A rough plain-text rendering for titles and abstracts."""
    s = re.sub(r"\\(thanks|footnote|label|cite\w*|ref|eqref)\s*(\[[^\]]*\])?\{[^{}]*\}", "", s)
    s = re.sub(r"\\\\(\[[^\]]*\])?", " ", s)
    s = re.sub(r"\\[a-zA-Z@]+\*?\s*(\[[^\]]*\])?\{([^{}]*)\}", r"\2", s)
    s = re.sub(r"\\[a-zA-Z@]+\*?", " ", s)
    s = s.replace("{", "").replace("}", "").replace("~", " ")
    return re.sub(r"\s+", " ", s).strip()


@dataclass
class Flattener:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    total: int = 0

    def _resolve(self, base: Path, name: str) -> Path | None:
        name = name.strip()
        candidates = [base / name, self.root / name]
        out: list[Path] = []
        for c in candidates:
            out += [c] if c.suffix else [c.with_name(c.name + ".tex"), c]
        for c in out:
            try:
                r = c.resolve()
            except OSError:
                continue
            if r.is_file() and (r == self.root or self.root in r.parents):
                return r
        return None

    def flatten(self, path: Path, stack: tuple[Path, ...] = ()) -> str:
        if path in stack:
            chain = " -> ".join(p.name for p in (*stack, path))
            raise InputError(f"\\input cycle: {chain}")
        if len(stack) >= MAX_DEPTH:
            raise InputError(f"\\input nesting deeper than {MAX_DEPTH} files at {path.name}")
        text = read_tex(path, self.findings)
        self.total += len(text)
        self.findings.extend(comment_payloads(text, path.name))
        if self.total > MAX_FLAT_CHARS:
            raise InputError(f"LaTeX sources exceed {MAX_FLAT_CHARS // 1_000_000} MB of text once flattened")
        text = strip_comments(text)
        base = path.parent

        def expand(m: re.Match[str]) -> str:
            if m.re is _IMPORT:
                sub, name = m.group(1), m.group(2)
                target = self._resolve(base / sub, name)
            else:
                name = m.group(2) or m.group(4)
                target = self._resolve(base, name)
            if target is None:
                self.findings.append(
                    Finding(kind="missing-input", detail=f"{path.name}: {m.group(0)} not found")
                )
                return f"% [missing: {m.group(0)[1:]}]"
            body = self.flatten(target, (*stack, path))
            return body if m.group(0).startswith("\\input") else f"\n{body}\n"

        text = _INPUT.sub(expand, _IMPORT.sub(expand, text))
        # Joining files can put a trailing % at the start of a line: strip once more at the top.
        return text if stack else strip_comments(text)


_COMMENT_ENV = re.compile(r"\\begin\{comment\}(.*?)(?:\\end\{comment\}|\Z)", re.S)


def comment_payloads(text: str, name: str) -> list[Finding]:
    """Comments are never shown to the planner, but text in them addressed to AI systems is reported
    (technique "latex-comment", line in file `name`)."""
    lines = LineIndex(text)
    parts = [(m.start(1), m.group(1)) for m in re.finditer(r"(?<!\\)%(.*)$", text, re.M)]
    parts += [(m.start(1), m.group(1)) for m in _COMMENT_ENV.finditer(text)]
    out: list[Finding] = []
    for pos, comment in parts:
        for f in find_instructions(comment):
            out.append(
                f.model_copy(
                    update={
                        "line": lines.line(pos) + (f.line or 1) - 1,
                        "kind": "hidden-text",
                        "detail": f"{name}: LaTeX comment addressed to AI systems",
                        "removed": True,
                        "technique": "latex-comment",
                    }
                )
            )
        if len(out) >= 20:
            break
    return out


def read_capped(path: Path | str) -> bytes:
    """The bytes of a text input, refused past `limits.MAX_TEXT_INPUT_BYTES` (reads at most cap+1).
    A string `path` is one written as pathlib writes paths (its name is the part after the last "/")."""
    cap = limits.MAX_TEXT_INPUT_BYTES
    try:
        # The descriptor itself, not a buffered file object: a benchmark reads a paper per task, and
        # `open` costs two more system calls (its own fstat and a tty check) and three objects.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            size = os.fstat(fd).st_size
            if size > cap:  # refused unread; the bounded reads below still hold for pipes, growing files
                raise _too_big(path, cap)
            # As many bytes as the file said it has, plus one to see it grew: asking for cap + 1 at once
            # would allocate the whole cap for every small file (most of the cost of reading one).
            data = _read_fd(fd, size + 1)
            if len(data) > size:
                data += _read_fd(fd, cap + 1 - len(data))
        finally:
            os.close(fd)
    except OSError as e:
        raise InputError(f"{file_name(path)}: cannot read ({e.strerror or e})") from None
    if len(data) > cap:
        raise _too_big(path, cap)
    return data


def _read_fd(fd: int, n: int) -> bytes:
    """Up to `n` bytes, fewer only at the end of the file (as a buffered file's `read(n)`: a pipe
    gives what it holds at each read)."""
    first = os.read(fd, n)
    if len(first) == n or not first:
        return first
    parts = [first]
    got = len(first)
    while got < n and (more := os.read(fd, n - got)):
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _too_big(path: Path | str, cap: int) -> InputError:
    return InputError(f"{file_name(path)}: larger than the {cap / limits.MIB:g} MiB read for a text input")


def read_tex(path: Path, findings: list[Finding]) -> str:
    data = read_capped(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        findings.append(Finding(kind="encoding", detail=f"{path.name} is not UTF-8; read as Latin-1"))
        return data.decode("latin-1")


def files_under(root: Path, suffix: str) -> list[Path]:
    """Regular files named *suffix under `root`, walked without recursion (any depth) or symlinks."""
    out: list[Path] = []
    stack, seen = [root], 0
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            seen += 1
            if seen > limits.MAX_ARCHIVE_MEMBERS:
                raise InputError(
                    f"{root}: more than {limits.MAX_ARCHIVE_MEMBERS:,} files in the LaTeX folder"
                )
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))
            elif e.is_file(follow_symlinks=False) and e.name.endswith(suffix):
                out.append(Path(e.path))
    return sorted(out)


def find_main(root: Path) -> Path:
    """The main file: has \\documentclass and \\begin{document}. Ties prefer conventional names, then size."""
    texs = files_under(root, ".tex")
    if not texs:
        raise InputError(f"{root}: no .tex file found")
    mains = []
    for p in texs:
        with p.open("rb") as f:
            head = strip_comments(f.read(2_000_000).decode("utf-8", "replace"))
        if "\\documentclass" in head and "\\begin{document}" in head:
            mains.append(p)
    if not mains:
        raise InputError(f"{root}: no main .tex file (none has \\documentclass and \\begin{{document}})")
    preferred = ("main.tex", "paper.tex", "ms.tex", "article.tex")
    return sorted(
        mains, key=lambda p: (p.name not in preferred, len(p.relative_to(root).parts), -p.stat().st_size)
    )[0]


def inline_bbl(text: str, main: Path, root: Path) -> str:
    bbl = main.with_suffix(".bbl")
    if not bbl.is_file():
        found = files_under(root, ".bbl")
        bbl = found[0] if len(found) == 1 else bbl
    if not bbl.is_file():
        return text
    content = read_capped(bbl).decode("utf-8", "replace")
    pattern = re.compile(r"\\bibliography\s*\{[^{}]*\}|\\printbibliography\b")
    if pattern.search(text):
        return pattern.sub(lambda _m: content, text, count=1)
    return text


def split_latex_sections(body: str) -> list[Section]:
    sections: list[Section] = []
    marks = list(_SECTION.finditer(body))
    front = body[: marks[0].start()] if marks else body
    if front.strip():
        sections.append(Section(heading="[front matter]", text=front.strip(), level=1))
    for i, m in enumerate(marks):
        got = braced(body, m.end() - 1)
        heading, end = (latex_to_plain(got[0]), got[1]) if got else ("[untitled]", m.end())
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        sections.append(
            Section(heading=heading or "[untitled]", text=body[end:stop].strip(), level=_LEVEL[m.group(1)])
        )
    return sections


def parse_latex_text(flat: str) -> tuple[str, str, list[Section], str]:
    """(title, abstract, sections, body) from flattened, comment-free LaTeX."""
    title = ""
    m = re.search(r"\\title\s*(?=[\[{])", flat)
    if m:
        got = braced(flat, m.end())
        title = latex_to_plain(got[0]) if got else ""
    abstract = ""
    m2 = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", flat, re.S)
    if m2:
        abstract = m2.group(1).strip()
    else:
        m3 = re.search(r"\\abstract\s*(?=\{)", flat)
        if m3 and (got := braced(flat, m3.end())):
            abstract = got[0].strip()
    b = flat.find("\\begin{document}")
    e = flat.rfind("\\end{document}")
    body = flat[b + len("\\begin{document}") : e if e > b else len(flat)] if b != -1 else flat
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    return title, latex_to_plain(abstract), split_latex_sections(body), body


def flatten_tree(root: Path, main: Path | None = None) -> tuple[str, Path, list[Finding]]:
    root = root.resolve()
    main = (main or find_main(root)).resolve()
    fl = Flattener(root=root)
    flat = fl.flatten(main)
    flat = inline_bbl(flat, main, root)
    return flat, main, fl.findings
