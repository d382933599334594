"""Text addressed to AI systems (or to reviewers) that tries to steer a review: rules, no LM.

Two kinds of evidence. Standalone signals are phrasings no paper needs ("ignore your previous
instructions", "new instructions:", "as an AI reviewer, you ...", chat-template tokens). A review
outcome ("rate this paper highly", "recommend acceptance", "emphasise the strengths", "ignore the
weaknesses") counts only when it is directed at someone: an imperative at the start of a clause, a
modal after an addressee ("reviewers should ..."), a vocative or label ("LLM: ...", "Note to
automated reviewers: ..."), or a second-person request ("you must ...", "please ...").
Descriptive text ("we evaluate the model", "reviewers noted", "the model should rank items") has no
review outcome about the paper, so it gives nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from abplan.papers.textutil import INVISIBLE, LineIndex, Span, excerpt
from abplan.schema import Finding

MAX_FINDINGS = 20


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile with every space matching any run of white space, LaTeX ties or invisible characters."""
    sep = rf"[\s~{INVISIBLE}]"
    return re.compile(pattern.replace(" ?", sep + "*").replace(" ", sep + "+"), re.IGNORECASE)


_AI = (
    r"(?:(?:AI|LLM|automated|automatic|machine|model|language[- ]model|bot)(?:[- ]based)?[- ]?"
    r"(?:reviewers?|referees?|reviewing (?:systems?|tools?)|judges?|graders?|evaluators?|assessors?|"
    r"systems?|assistants?|agents?|models?|tools?)"
    r"|(?:large )?language models?|LLMs?|AI|assistants?|chatbots?|(?:Chat)?GPT(?:-?\d[\w.]*)?|Claude|Gemini)"
)
_ANY = rf"(?:{_AI}|reviewers?|referees?|area chairs?|meta-?reviewers?|models?|graders?|judges?|evaluators?)"
_WORK = (
    r"(?:(?:this|the|our|present|current|attached|following|submitted|above)(?: \w+)? "
    r"(?:paper|submission|manuscript|work|article|study|preprint))"
)
_PAPER = rf"(?:{_WORK}|it)"
_HIGH = (
    r"(?:very |extremely )?(?:highly|high|higher|favou?rably|positively|generously|leniently|kindly|"
    r"as (?:excellent|outstanding|strong|groundbreaking|exceptional|(?:a )?(?:strong )?accept))"
)
_GOOD = (
    r"(?:high|higher|highest|top|maximum|max|perfect|excellent|positive|favou?rable|glowing|strong|"
    r"good|full) (?:possible )?"
)
# "a high score" alone is annotation-guideline language; "a glowing review" is not.
_SCORE = rf"{_GOOD}(?:score|rating|grade|marks?|review|evaluation|assessment|recommendation)s?"
_REVIEW = rf"{_GOOD}(?:review|evaluation|assessment|recommendation)s?"
_FLAWS = (
    r"(?:weakness(?:es)?|limitations?|flaws?|shortcomings?|negatives?|negative aspects|criticisms?|"
    r"drawbacks|concerns|issues|problems|errors|mistakes)"
)
# A review outcome, starting with its verb in the base form (so that it reads as an imperative).
_OUTCOME = _rx(
    r"\b(?:"
    r"recommend(?:ing)? (?:(?:the |its |a |an )?(?:immediate |strong |clear )?(?:acceptance|accepting|publication|"
    rf"publishing|accept)|to accept|{_PAPER} for (?:acceptance|publication|an? (?:award|oral|spotlight)))"
    rf"|(?:accept|approve|champion|endorse|praise|favou?r|promote) {_WORK}\b"  # not "accept it" (MCMC)
    rf"|(?:rate|score|grade|rank|review|evaluate|assess|judge|mark|treat|consider|view) {_PAPER} {_HIGH}"
    rf"|(?:rate|score|grade) {_PAPER} (?:(?:a|as|with|at) )?(?:8|9|10|ten|nine)(?:/10| out of 10)?\b"
    rf"|(?:give|assign|award|provide|write) (?:{_PAPER}|this) (?:a |an |the |only )?(?:very )?{_SCORE}"
    rf"|(?:give|assign|award|provide|write) (?:a |an |the |only )?(?:very )?{_REVIEW}"
    r"|(?:emphasi[sz]e|highlight|stress|play up|celebrate|praise|focus (?:only )?on) (?:only )?"
    r"(?:the |its |our |this paper's |the paper's )?(?:strengths?|positives?|merits?|positive (?:aspects|points)|novelty)"
    r"|(?:ignore|overlook|downplay|disregard|omit|excuse|forgive|not (?:mention|point out|discuss|critici[sz]e|"
    r"highlight|penali[sz]e|report|list)|avoid (?:mentioning|pointing out|critici[sz]ing|discussing)|"
    rf"refrain from (?:mentioning|critici[sz]ing)) (?:any |all |the |its |our |this paper's )?(?:minor )?{_FLAWS}"
    r")"
)
# Who the outcome is asked of, in the clause before it.
_DIRECTED = [
    _rx(
        rf"\b{_ANY}\b[^.!?;]{{0,40}}\b(?:should|must|shall|need to|needs to|have to|has to|ought to|will|"
        r"(?:are|is) (?:asked|instructed|required|expected|requested|encouraged|advised|told|supposed|to)(?: to)?|"
        r"please)\b[^.!?;]{0,60}$"
    ),
    _rx(rf"(?:^|[^\w-]){_ANY}\s*[:,]\s*(?:please )?$"),
    _rx(
        r"\byou\b[^.!?;]{0,20}\b(?:should|must|shall|will|need to|have to|are (?:asked|instructed|required|"
        r"expected|requested|to))\b[^.!?;]{0,60}$"
    ),
    _rx(r"\bplease(?: do)?\b[^.!?;]{0,20}$"),
    _rx(
        rf"\b(?:note|message|instructions?|hint|attention|reminder|notice|memo|request|guidance)s? (?:to|for) "
        rf"(?:all |any )?(?:the )?{_ANY}\b[^.!?]{{0,80}}$"
    ),
]
_LATEX_CMD = re.compile(r"\\[a-zA-Z@]+\*?(?:\[[^\]]*\]|\{[^{}]*\})*|[{}]")
_CLAUSE_ENDS = (". ", "? ", "! ", ".\n", "?\n", "!\n", "\n\n", ": ", ":\n", "; ", "\\\\")
_STANDALONE = _rx(
    r"\b(?:"
    r"(?:ignore|disregard|forget|override|discard|abandon|bypass) (?:all |any |every )?(?:of )?(?:the |these |those )?"
    r"(?:(?:previous|prior|above|earlier|preceding|original|initial|former|system|existing|old) "
    r"(?:instructions?|prompts?|directions|directives|guidelines|rules|context|guidance|commands)|"
    r"your (?:\w+ )?(?:instructions?|prompts?|directions|directives|guidelines|rules|programming|training)|"
    r"(?:all|any) (?:instructions|prompts|directions|directives|guidelines))"
    r"|(?:new|updated|revised|real|actual|secret|hidden|override) (?:instructions?|system prompt|prompt|task)"
    rf"(?: for (?:the )?{_ANY})? ?:"
    r"|(?:end of|ignore the) (?:the )?(?:system )?prompt|system prompt ?:"
    r"|you are (?:now )?no longer|from now on,? you"
    rf"|as an? {_AI}[,;]? (?:\w+ ){{0,3}}?you\b"
    rf"|if you are (?:an? |the )?{_AI}\b"
    rf"|(?:note|message|instructions?|hint|attention|reminder|memo) (?:to|for) (?:all |any )?(?:the )?{_AI}\b ?(?::|—|--)"
    rf"|you are (?:now )?(?:an? |the )(?:helpful |expert |friendly |harmless |lenient |kind )?(?:{_AI}|reviewer)\b"
    r")"
    r"|<\|(?:im_start|im_end|system|endoftext)\|>|<<SYS>>|\[/?INST\]"
)


# The first word of every alternative of _OUTCOME and _STANDALONE: matching is tried only where one
# starts (found with str.find), which is several times faster than a regex scan of every position.
_OUTCOME_STARTS = (
    "recommend",
    "accept",
    "approve",
    "champion",
    "endorse",
    "praise",
    "favor",
    "favour",
    "promote",
    "rate",
    "score",
    "grade",
    "rank",
    "review",
    "evaluate",
    "assess",
    "judge",
    "mark",
    "treat",
    "consider",
    "view",
    "give",
    "assign",
    "award",
    "provide",
    "write",
    "emphasi",
    "highlight",
    "stress",
    "play",
    "celebrate",
    "focus",
    "ignore",
    "overlook",
    "downplay",
    "disregard",
    "omit",
    "excuse",
    "forgive",
    "not",
    "avoid",
    "refrain",
)
_STANDALONE_STARTS = (
    "ignore",
    "disregard",
    "forget",
    "override",
    "discard",
    "abandon",
    "bypass",
    "new",
    "updated",
    "revised",
    "real",
    "actual",
    "secret",
    "hidden",
    "end",
    "system",
    "you",
    "from",
    "as",
    "if",
    "note",
    "message",
    "instruction",
    "hint",
    "attention",
    "reminder",
    "memo",
    "<|",
    "<<sys",
    "[inst",
    "[/inst",
)


# Letters that look like Latin ones (Cyrillic, Greek, fullwidth), read as those when matching phrases.
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅ", "aeopcyxijsdhlqwABEKMHOPCTXIJS", strict=True)),
        **dict(zip("οαεικνρτυχΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", "oaeikvptuxABEHIKMNOPTXYZ", strict=True)),
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
    }
)


# Below this length each start word is first tested with `in` (most are absent, and `in` costs less than
# a `find` call); above it the test could cost a second scan of the text for a word found late.
PRECHECK_BELOW = 4096


def _matches(rx: re.Pattern[str], starts: Sequence[str], text: str) -> Iterator[re.Match[str]]:
    """`rx.finditer(text)`, trying only at word starts that begin one of `starts`."""
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lowered: scan the plain way
        yield from rx.finditer(text)
        return
    at: set[int] = set()
    short = len(low) < PRECHECK_BELOW
    for word in starts:
        if short and word not in low:  # most are absent: `in` says so cheaper than a `find` call
            continue
        i = low.find(word)
        while i != -1:
            if i == 0 or not (low[i - 1].isalnum() or low[i - 1] == "_") or not word[0].isalnum():
                at.add(i)
            i = low.find(word, i + 1)
    end = -1
    for i in sorted(at):
        if i >= end and (m := rx.match(text, i)):
            end = m.end()
            yield m


def _directed(text: str, start: int) -> bool:
    """Is the outcome at `start` asked of someone (imperative, addressee, vocative, label, 'you', 'please')?"""
    back = text[max(0, start - 200) : start]
    cut = max(back.rfind(end) for end in _CLAUSE_ENDS)
    clause = back[cut + 1 :] if cut != -1 else back
    if not _LATEX_CMD.sub("", clause).strip(" \t\n~*#>-•\"'()[]\\"):
        return True  # an imperative at the start of a clause
    return any(rx.search(clause) for rx in _DIRECTED)


def find_instructions(
    text: str,
    *,
    technique_prefix: str = "",
    limit: int = MAX_FINDINGS,
    hidden: Sequence[Span] = (),
    line: int | None = None,
) -> list[Finding]:
    """Findings (kind "ai-instruction", with technique and line) for text that tries to steer an AI review.

    A phrase inside one of the `hidden` spans is marked removed (it goes with them); `line`, when
    given, is the line reported for every finding (text decoded from elsewhere).
    """
    lines = LineIndex(text)
    plain = text if text.isascii() else text.translate(_LOOKALIKES)  # same length: positions hold
    hits = [(m.start(), m.end(), "ai-override") for m in _matches(_STANDALONE, _STANDALONE_STARTS, plain)]
    for m in _matches(_OUTCOME, _OUTCOME_STARTS, plain):
        if _directed(plain, m.start()):
            hits.append((m.start(), m.end(), "ai-review-request"))
    out: list[Finding] = []
    seen_lines: set[int] = set()
    for s, e, technique in sorted(hits):
        at = lines.line(s)
        if at in seen_lines:
            continue
        seen_lines.add(at)
        inside = any(h.start <= s < h.end for h in hidden)
        phrase = excerpt(text[s:e], 100)
        out.append(
            Finding(
                kind="ai-instruction",
                detail=f"text addressed to AI systems or reviewers{' (in hidden text)' if inside else ''}: "
                f"{phrase!r}",
                excerpt=excerpt(text[max(0, s - 80) : e + 80]),
                removed=inside,
                technique=technique_prefix + technique,
                line=line if line is not None else at,
            )
        )
        if len(out) >= limit:
            break
    return out
