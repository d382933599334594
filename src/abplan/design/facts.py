"""What a paper states about its own setting, found by rules: datasets, compute figures, seeds, the
main configuration and the contributions it claims. Every fact carries the sentence that states it.

Pure functions of a `Paper`; nothing here guesses. A fact the text does not state is simply absent,
and the design says "unknown" for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from abplan.grounding import quote_in_text
from abplan.schema import Evidence, Figure, Paper
from abplan.text_match import content_tokens, split_sentences

_SKIP = re.compile(r"(?i)references|bibliography|acknowledg")
_SETUP = re.compile(
    r"(?i)experiment|setup|set-up|implementation|training|details|hyper|evaluation|result|architecture"
)
_END = re.compile(r"(?i)conclusion|discussion|related work|limitation|broader impact")
_ANALYSIS = re.compile(r"(?i)ablat|examin|effect of|impact of|analys|varying|sensitiv|qualitative")
_NUM = (
    r"(?:(?:\d[\d,.]*\s*[kKMB]?|one|two|three|four|five|six|eight|ten|sixteen|thirty-two|sixty-four)"
    r"(?:\s*(?:million|billion|thousand))?)"
)
_KNOWN_DATA = (
    r"CIFAR-?10{1,2}|ImageNet(?:-1[kK]|-21[kK])?|MNIST|Fashion-MNIST|SVHN|CelebA(?:-HQ)?|LSUN|FFHQ|"
    r"MS[- ]?COCO|COCO|Pascal VOC|Cityscapes|WMT\s?'?\d{2}|GLUE|SuperGLUE|SQuAD(?:\s?v?[12](?:\.\d)?)?|"
    r"Penn Treebank|WikiText-\d+|enwik8|text8|LibriSpeech|Kinetics(?:-\d+)?|OpenWebText|C4|The Pile|"
    r"MMLU|GSM8K|HumanEval|Atari|MuJoCo|D4RL|ShapeNet|ModelNet\d*"
)
DATASET = re.compile(
    rf"\b(?P<known>{_KNOWN_DATA})\b|\b(?P<named>[A-Z][\w\-]*\d[\w\-]*|[A-Z]{{2,}}[\w\-]*)\s+(?:data\s?set|benchmark|corpus)\b"
)
FIGURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "accelerators",
        re.compile(
            rf"\b{_NUM}\s*(?:x\s*|×\s*)?(?:NVIDIA\s+)?(?:(?:Tesla\s+)?[A-Z]?\d{{2,4}}\w*\s+|TITAN\s+\w+\s+)?"
            r"(?:GPUs?|TPUs?(?:\s*v\d)?(?:\s+cores|\s+chips|\s+pods?)?)\b",
            re.I,
        ),
    ),
    ("time", re.compile(rf"\b{_NUM}\s*(?:GPU[- ]|TPU[- ])?(?:hours?|days?|weeks?)\b", re.I)),
    ("steps", re.compile(rf"\b{_NUM}\s*(?:training\s+|gradient\s+)?(?:steps|iterations|updates)\b", re.I)),
    ("epochs", re.compile(rf"\b{_NUM}\s*epochs\b", re.I)),
    ("batch size", re.compile(r"\bbatch(?:\s|-)size\s+(?:of\s+)?\d[\d,]*", re.I)),
)
SEEDS = re.compile(
    rf"\b(?:{_NUM}|several|multiple)\s+(?:random\s+|different\s+|independent\s+)?(?:training\s+)?(?:seeds|runs|trials|repetitions)\b"
    r"|\baverag\w*\s+over\s+\w+\s+(?:seeds|runs|trials)\b|\bstandard deviation\b|\b±",
    re.I,
)
# A configuration value: a number next to what it counts, or a named hyperparameter with its value.
_CONFIG = re.compile(
    r"(?i)\b\d[\d,.]*[kKM]?\s*(?:[×x]\s*\d+\s*)?(?:[\w-]+\s+){0,2}"
    r"(?:layers?|blocks?|feature maps|hidden units|units|channels|heads|filters|epochs|steps|iterations|"
    r"updates|neurons|dimensions|experts|tokens)\b"
    r"|\b(?:learning rate|batch size|dropout(?: rate)?|weight decay|momentum|warm-?up|temperature|"
    r"hidden size|embedding size|beam size)\s+(?:of\s+|is\s+|=\s*|to\s+)?\d"
)
# Steps, epochs and time count as training compute only in a sentence about training.
_TRAINING = re.compile(r"(?i)\btrain|\bconverge|\bpre-?train|\bfine-?tun")
_NOT_TRAINING = re.compile(r"(?i)\btest(?:ing)?\b|\bevaluat|\bepisodes?\b|\binference\b|\boffsets?\b")
_CLAIM = re.compile(
    r"(?i)\b(?:we|our)\b[^.]*?\b(?:propose|introduce|use|present|show|find|demonstrate|condition|"
    r"regulari[sz]e|develop|design|add|replace|employ|adopt|apply|extend)\w*\b"
    # or a sentence whose subject is the authors' method: "Our approach utilizes ...", "Finally, we ..."
    r"|^(?:\(?\d{1,2}\)\s*)?(?:[A-Z]\w*,\s+)?(?:we|our\s+(?:approach|model|method|framework|system|"
    r"formulation|algorithm|architecture)|the presented (?:approach|formulation|method|model))\s+\w+"
)
# Sentences that announce results or experiments rather than a contribution of the method.
_RESULT_ONLY = re.compile(
    r"(?i)state-of-the-art\s+(?:\w+\s+){0,3}(?:results|performance)|\bwe (?:present|report) (?:\w+\s+){0,4}results"
    r"|\boutperform|\bachieves? (?:\w+\s+){0,3}(?:performance|results|accuracy)|\bwe (?:conduct|evaluate|run)\b"
)
_NUMBERED = re.compile(r"(?<=[.!?])\s+(?=\(?\d{1,2}\)\s)")


def sentences(paper: Paper, *, setup_only: bool = False) -> Iterator[tuple[str, str]]:
    """(sentence, section heading) over the paper body, references skipped; numbered items split.

    `setup_only`: the experiments part only, from the first set-up or experiments heading up to a
    conclusion (its subsections too, whatever their titles)."""
    inside = False
    for sec in paper.sections:
        if _SETUP.search(sec.heading):
            inside = True
        elif _END.search(sec.heading):
            inside = False
        if _SKIP.search(sec.heading) or (setup_only and not inside):
            continue
        for sent in split_sentences(sec.text):
            for part in _NUMBERED.split(sent):
                if 3 < len(part) <= 500:
                    yield part.strip(), sec.heading


def _checked(paper: Paper, quote: str, section: str | None) -> Evidence:
    return Evidence(quote=quote, section=section, verified=quote_in_text(quote, paper.text))


def find_datasets(paper: Paper) -> tuple[list[str], list[Evidence]]:
    """Dataset names the paper uses, each with the first sentence naming it."""
    names: list[str] = []
    quotes: list[Evidence] = []
    for sent, heading in [*sentences(paper, setup_only=True), *sentences(paper)]:
        for m in DATASET.finditer(sent):
            name = m.group("known") or m.group("named")
            if name and name.lower() not in {n.lower() for n in names}:
                names.append(name)
                quotes.append(_checked(paper, sent, heading))
    return names[:6], quotes[:6]


def find_figures(paper: Paper) -> list[Figure]:
    """Compute figures (accelerators, time, steps, epochs, batch size) with the sentence stating each."""
    out: list[Figure] = []
    seen: set[tuple[str, str]] = set()
    for sent, heading in sentences(paper):
        about_training = bool(_TRAINING.search(sent)) and not _NOT_TRAINING.search(sent)
        for kind, rx in FIGURES:
            if kind in ("time", "steps", "epochs") and not about_training:
                continue
            for m in rx.finditer(sent):
                value = " ".join(m.group(0).split())
                if (kind, value.lower()) in seen:
                    continue
                seen.add((kind, value.lower()))
                ok = quote_in_text(sent, paper.text)
                out.append(Figure(kind=kind, value=value, quote=sent, section=heading, verified=ok))
    return out[:12]


def find_seeds(paper: Paper) -> Evidence | None:
    """The sentence that says how many seeds or runs the paper's numbers come from, if one does."""
    for sent, heading in sentences(paper):
        if SEEDS.search(sent):
            return _checked(paper, sent, heading)
    return None


def main_setting(paper: Paper, limit: int = 4) -> list[Evidence]:
    """Sentences of the experiments and set-up sections that fix a configuration value (a number and a
    configuration word): what every variant of an ablation keeps."""
    out: list[Evidence] = []
    for sent, heading in sentences(paper, setup_only=True):
        if _ANALYSIS.search(heading) or len(sent) > 300:
            continue
        if _CONFIG.search(sent) and not re.search(r"(?i)table \d+ shows", sent):
            out.append(_checked(paper, sent, heading))
            if len(out) == limit:
                break
    return out


def find_claims(paper: Paper, limit: int = 8) -> list[Evidence]:
    """Contributions the paper claims: abstract sentences (then the introduction's) in which the
    authors say what they propose, use or introduce. Sentences that only announce results are left out."""
    abstract = [(s, "Abstract") for s in split_sentences(paper.abstract) for s in _NUMBERED.split(s)]
    intro = [
        (s, sec.heading)
        for sec in paper.sections
        if re.search(r"(?i)introduction|contribution", sec.heading)
        for s in split_sentences(sec.text)
    ]
    out: list[Evidence] = []
    for sent, heading in abstract or intro:
        sent = sent.strip()
        if _CLAIM.search(sent) and not _RESULT_ONLY.search(sent) and len(sent) <= 400:
            out.append(_checked(paper, sent, heading))
    return [e for e in out if e.verified][:limit]


def tests_claim(part: str, claim: str) -> float:
    """Share of the ablated part's content words the claim contains (0 to 1)."""
    want = content_tokens(part)
    return len(want & content_tokens(claim)) / len(want) if want else 0.0
