"""The offline planner: an ablation plan from what the paper's text says, with no LM at all.

It finds the method's components (subsection headings, "we propose/introduce/add ...", defined
acronyms, loss and regulariser terms), hyperparameters with stated values, named alternatives
("instead of Y"), the paper's metrics and, in reviewer mode, the ablations the paper already has.
Candidates are ranked by centrality (title, abstract, contribution claims, method-section mentions).
Pure Python, deterministic, well under a second per paper.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from abplan.lm.client import LMClient
from abplan.planners.base import PlanOptions, register_planner
from abplan.schema import Ablation, Evidence, Paper, Plan, Section
from abplan.text_match import STOP, content_tokens, overlap, split_sentences

METHOD_HEAD = re.compile(
    r"(?i)\b(method|methods|methodology|approach|model|models|architecture|framework|proposed|our|algorithm|"
    r"training|objective|loss|formulation|modifications?|design|network|learning|overview|pipeline|module)\b"
)
SKIP_HEAD = re.compile(
    r"(?i)\b(introduction|related works?|background|prior works?|conclusion|conclusions|references|bibliography|"
    r"acknowledg|appendix|discussion|limitations|future work|abstract|front matter|experiment|experiments|"
    r"results|evaluation|setup|implementation details|datasets?|baselines?)\b"
)
ABLATION_HEAD = re.compile(
    r"(?i)\b(ablations?|sensitivity|analysis|effect of|impact of|importance of|role of|examining|varying)\b"
)
RESULT_HEAD = re.compile(r"(?i)\b(experiments?|results?|evaluation|benchmark|comparison)\b")

METRICS = [
    ("top-1 accuracy", r"top-?1(?: accuracy)?"),
    ("top-5 accuracy", r"top-?5(?: accuracy)?"),
    ("accuracy", r"accuracy|acc\."),
    ("F1", r"\bF1(?:[- ]score)?\b|\bF-?measure\b"),
    ("precision", r"\bprecision\b"),
    ("recall", r"\brecall\b"),
    ("BLEU", r"\bBLEU\b"),
    ("ROUGE", r"\bROUGE(?:-[L12])?\b"),
    ("METEOR", r"\bMETEOR\b"),
    ("CIDEr", r"\bCIDEr\b"),
    ("mAP", r"\bmAP\b"),
    ("AP", r"\bAP(?:50|75)?\b"),
    ("mIoU", r"\bmIoU\b"),
    ("IoU", r"\bIoU\b"),
    ("FID", r"\bFID\b"),
    ("Inception Score", r"\binception score\b|\bIS\b(?= score)"),
    ("PSNR", r"\bPSNR\b"),
    ("SSIM", r"\bSSIM\b"),
    ("LPIPS", r"\bLPIPS\b"),
    ("perplexity", r"\bperplexity\b|\bPPL\b"),
    ("negative log-likelihood", r"\bNLL\b|negative log[- ]likelihood"),
    ("bits per dimension", r"bits? per (?:dim(?:ension)?|sub-?pixel)|\bbits/dim\b|\bbpd\b"),
    ("log-likelihood", r"\blog[- ]likelihood\b"),
    ("AUC", r"\bAUC\b|\bAUROC\b"),
    ("error rate", r"\berror rate\b|\btest error\b|\bclassification error\b"),
    ("reward", r"\b(?:average |mean |episode |final )?reward\b"),
    ("success rate", r"\bsuccess rate\b"),
    ("RMSE", r"\bRMSE\b"),
    ("MAE", r"\bMAE\b"),
    ("MSE", r"\bMSE\b"),
    ("WER", r"\bWER\b|word error rate"),
    ("exact match", r"\bexact match\b|\bEM\b"),
    ("Chamfer distance", r"\bchamfer distance\b"),
    ("human-normalised score", r"human[- ]normali[sz]ed score"),
    ("training time", r"\btraining time\b|\bwall[- ]clock\b"),
    ("runtime", r"\brun(?:ning)? time\b|\bruntime\b|\blatency\b|\bFLOPs\b"),
    ("sample quality", r"\bsample quality\b|\bperceptual quality\b"),
]
_METRIC_RES = [(name, re.compile(rx, re.I if not re.search(r"[A-Z]{2}", rx) else 0)) for name, rx in METRICS]

HYPER = re.compile(
    r"(?P<name>\b(?:(?:[λαβγτημερ]|\\?(?:lambda|alpha|beta|gamma|tau|eta|epsilon|rho))(?:_?\{?[A-Za-z0-9]{1,4}\}?)?|"
    r"temperature|margin|dropout(?: rate| probability)?|"
    r"learning rate|batch size|weight decay|momentum|number of (?:layers|heads|steps|iterations|epochs|samples|experts|clusters|components|mixture components|neighbou?rs|frames)|"
    r"window size|hidden size|embedding size|kernel size|patch size|mixture components|k|K|T|N|M)\b)"
    r"\s*(?:=|is set to|was set to|set to|of|equal to|:)\s*(?P<value>\d+(?:\.\d+)?(?:e-?\d+)?)(?!\s*[%)]?\s*(?:of|times))"
)
GREEK = r"(?:[λαβγτημερ]|\\?(?:lambda|alpha|beta|gamma|tau|eta|epsilon|rho))(?:_?\{?[A-Za-z0-9]{1,4}\}?)?"
# "λVR, λPC, λRP are weighting terms", "the loss is weighted by β", "a trade-off coefficient α"
WEIGHT_NAMED = re.compile(
    rf"(?P<names>{GREEK}(?:\s*(?:,|and)\s*{GREEK})*)\s+(?:is|are)\s+(?:the\s+|a\s+)?(?:\w+\s+)?"
    r"(?:weight(?:ing)?|coefficient|trade-?off|balancing)\w*"
    rf"|(?:weight(?:ed|ing)?|coefficient|trade-?off|balanced?)\w*\s+(?:term\s+|factor\s+|parameter\s+)?(?:by\s+|of\s+)?(?P<name>{GREEK})\b",
    re.I,
)
HYPER_BEFORE = re.compile(
    r"(?P<value>\d+(?:\.\d+)?)\s+(?P<name>(?:mixture components|layers|heads|experts|clusters|look-ahead frames|frames|"
    r"ResNet layers|residual layers|blocks|samples|neighbou?rs|iterations|filters|feature maps))\b"
)
PROPOSE = re.compile(
    r"(?i)\b(?:we|our method|our model|our approach|this paper)\s+(?:propose|introduce|present|add|use|apply|employ|adopt|"
    r"design|develop|incorporate|augment \w+ with|replace \w+ with)s?\s+(?:a |an |the |two |several |)(?:novel |new |simple |)"
    r"(?P<np>[A-Za-z][\w\-]*(?:\s+[\w\-]+){0,6})"
)
ALTERNATIVE = re.compile(
    r"(?i)\b(?:instead of|rather than|as opposed to|in place of|unlike|versus|vs\.)\s+(?:the |a |an |)(?P<np>[\w\-]+(?:\s+[\w\-]+){0,5})"
)
ACRONYM = re.compile(
    r"(?P<long>(?:[A-Z]?[a-z][\w\-]*\s+){1,5}[A-Za-z][\w\-]*)\s+\((?P<short>[A-Z][A-Za-z0-9\-]{1,9})\)"
)
LOSS = re.compile(
    r"(?i)\b(?P<np>(?:[\w\-]+\s+){0,3}(?:loss|regulari[sz](?:ation|er)|penalty|objective|constraint|reward|bonus|term))\b"
)
MODULE = re.compile(
    r"(?i)\b(?P<np>(?:[\w\-]+\s+){0,3}(?:module|layer|layers|block|blocks|attention|connection|connections|encoder|decoder|"
    r"network|head|gate|gates|mechanism|embedding|embeddings|pooling|normali[sz]ation|dropout|augmentation|memory|"
    r"sampling|initiali[sz]ation|schedule|distribution|likelihood|mixture|prior|classifier|discriminator|generator|critic|"
    r"adapter|tokeni[sz]ation|aggregation|fusion|input|inputs|features|offsets|objective|curriculum|replay|buffer))\b"
)
NP_STOP = re.compile(
    r"(?i)\s+\b(?:that|which|to|for|in|on|with|by|from|at|as|is|are|was|were|and|or|but|where|when|so|because|while|"
    r"whose|this|these|we|it|than|into|of the|can|could|would|will|has|have)\b.*$"
)
ADDITIVE = re.compile(
    r"(?i)\b(loss|regulari|penalty|dropout|auxiliary|short-?cut|skip|residual|attention|gate|augment|"
    r"module|connection|term|bonus|memory|replay|curriculum|pretrain|pre-train|normali|prior|confusion|"
    r"adapter|head|branch|offsets|input|inputs)"
)
REMOVAL_OPTION = re.compile(r"(?i)\b(remove|without|no |none|disable|drop)")
WITHOUT = re.compile(r"(?i)\b(?:w/o|without|removing|no)\s+(?:the\s+)?(?P<np>[\w\-]+(?:\s+[\w\-]+){0,4})")
GENERIC = {
    "the model",
    "model",
    "method",
    "approach",
    "network",
    "our model",
    "loss",
    "objective",
    "the loss",
    "layer",
    "input",
    "inputs",
    "the input",
    "features",
    "term",
    "data",
    "the data",
    "results",
    "this",
    "following",
    "same",
    "standard",
    "simple",
    "training",
    "distribution",
    "performance",
    "experiments",
    "the network",
    "term in",
    "terms",
    "reward",
    "the reward",
    "memory",
    "the same",
    "other",
    "each layer",
    "all layers",
}


@dataclass
class Candidate:
    text: str
    kind: str  # component | hyper | alternative
    quote: str
    section: str
    value: str | None = None
    alternatives: list[str] = field(default_factory=list)
    score: float = 0.0
    sources: set[str] = field(default_factory=set)


def _clean_np(np: str) -> str:
    np = NP_STOP.sub("", np.strip())
    np = re.sub(
        r"^(?:a|an|the|our|this|these|its|their|two|several|novel|new|simple|proposed)\s+", "", np, flags=re.I
    )
    np = re.sub(r"[\s,.;:()\-]+$", "", np)
    np = re.sub(r"\s+", " ", np)
    return np.strip()


def _heading_text(h: str) -> str:
    """A heading as a phrase: no number, and ordinary words in lower case (acronyms such as PixelCNN kept)."""
    h = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-H](?:\.\d+)*\.?|[IVX]+\.)\s+", "", h).strip()
    if h.isupper():
        return h.lower()
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in h.split())


def _usable(np: str) -> bool:
    low = np.lower()
    if len(np) < 3 or len(np) > 80 or low in GENERIC or not content_tokens(np):
        return False
    return not re.fullmatch(r"[\d\W]+", np)


def _number(heading: str) -> str | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)*)\.?\s", heading)
    return m.group(1) if m else None


def _depth(s: Section) -> int:
    num = _number(s.heading)
    return num.count(".") + 1 if num else s.level


_BEFORE = re.compile(
    r"(?i)\b(introduction|related works?|background|preliminar(?:y|ies)|prior works?|motivation|problem (?:setting|statement|formulation))\b"
)
_END = re.compile(r"(?i)\b(references|bibliography|acknowledge?ments?|appendix|appendices)\b")


def method_sections(paper: Paper) -> list[Section]:
    """The method: the span between the background sections and the experiments, plus method-named
    sections elsewhere (not under a skipped section, not after the references), with their subsections."""
    secs = list(paper.sections)
    end = next((i for i, s in enumerate(secs) if _END.search(s.heading)), len(secs))
    secs = secs[:end]
    levels = [s.level for s in secs if s.heading != "[front matter]"]
    base = min(levels) if levels else 1

    def top(s: Section) -> bool:
        num = _number(s.heading)
        return "." not in num if num else s.level <= base

    tops = [(i, s) for i, s in enumerate(secs) if top(s) and s.heading != "[front matter]"]
    last_before = max((i for i, s in tops if _BEFORE.search(s.heading)), default=-1)
    # The span starts at the first top-level section after the background (its subsections excluded).
    start = next((i for i, _ in tops if i > last_before), len(secs)) - 1 if last_before >= 0 else -1
    stop = next(
        (
            i
            for i, s in tops
            if i > start and RESULT_HEAD.search(s.heading) and not METHOD_HEAD.search(s.heading)
        ),
        len(secs),
    )
    span = set(range(start + 1, stop)) if start >= 0 or stop < len(secs) else set()
    skipped = False
    taking = False  # inside a method-named top-level section: its subsections come along
    picked: list[Section] = []
    for i, s in enumerate(secs):
        if top(s):
            skipped = bool(SKIP_HEAD.search(s.heading)) and not METHOD_HEAD.search(s.heading)
            taking = bool(METHOD_HEAD.search(s.heading)) and not skipped
        if s.heading == "[front matter]" or ABLATION_HEAD.search(s.heading):
            continue
        in_span = i in span and not (top(s) and SKIP_HEAD.search(s.heading))
        named = bool(METHOD_HEAD.search(s.heading)) and not SKIP_HEAD.search(s.heading) and not skipped
        if in_span or named or taking:
            picked.append(s)
    if not picked:
        picked = [
            s
            for s in secs
            if s.text.strip() and not SKIP_HEAD.search(s.heading) and s.heading != "[front matter]"
        ]
    return picked or [s for s in paper.sections if s.text.strip()]


def find_metrics(paper: Paper) -> list[str]:
    counts: Counter[str] = Counter()
    weights = [(s.text, 3 if RESULT_HEAD.search(s.heading) else 1) for s in paper.sections]
    weights.append((paper.abstract, 2))
    for text, w in weights:
        for name, rx in _METRIC_RES:
            n = len(rx.findall(text))
            if n:
                counts[name] += n * w
    # "top-1 accuracy" subsumes "accuracy" when both are found.
    if counts.get("top-1 accuracy") and "accuracy" in counts:
        counts["accuracy"] = 0
    if counts.get("negative log-likelihood") and counts.get("log-likelihood"):
        counts["log-likelihood"] = 0
    ranked = counts.most_common()
    if not ranked or ranked[0][1] == 0:
        return []
    top = ranked[0][1]
    # A metric mentioned once in passing is not one the paper reports.
    return [m for m, c in ranked if c > 0 and c >= max(2, 0.25 * top)][:3] or [ranked[0][0]]


def existing_ablations(paper: Paper) -> list[tuple[str, str]]:
    """(phrase, section) of ablations the paper already reports."""
    found: list[tuple[str, str]] = []
    for s in paper.sections:
        if ABLATION_HEAD.search(s.heading):
            found.append((_heading_text(s.heading), s.heading))
            for m in WITHOUT.finditer(s.text):
                np = _clean_np(m.group("np"))
                if _usable(np):
                    found.append((np, s.heading))
        for sent in split_sentences(s.text):
            if re.search(
                r"(?i)\bablat|\bw/o\b|we (?:remove|vary|replace)\b|sensitivity to|effect of (?:the|varying)",
                sent,
            ):
                hit = re.search(
                    r"(?i)(?:ablat\w*|w/o|remov\w*|vary\w*|replac\w*|effect of|sensitivity to)\s+(?:the\s+|of the\s+|of\s+)?(?P<np>[\w\-]+(?:\s+[\w\-]+){0,4})",
                    sent,
                )
                if hit:
                    np = _clean_np(hit.group("np"))
                    if _usable(np):
                        found.append((np, s.heading))
    seen: set[str] = set()
    out = []
    for np, sec in found:
        if np.lower() not in seen:
            seen.add(np.lower())
            out.append((np, sec))
    return out


def _weight_sweep(name: str, value: str | None) -> list[str]:
    first = name.split(", ")[0]
    opts = ["0 (term removed)", f"{first} × 0.1", f"{first} × 10"]
    return (
        opts
        if value is None
        else [opts[0], f"{first} = {float(value) * 0.1:g}", f"{first} = {float(value) * 10:g}"]
    )


def _neighbours(value: str, name: str) -> list[str]:
    v = float(value)
    integer = "." not in value and "e" not in value.lower()
    low = name.lower()
    if integer:
        if v <= 1:
            opts = [v + 1, v + 3]
        else:
            opts = [max(0, round(v / 2)), round(v * 2)]
            if v > 2:
                opts.insert(0, 1 if v > 3 else 0)
        vals = [str(int(o)) for o in opts if int(o) != int(v)]
    else:
        vals = [
            f"{v * f:g}"
            for f in (0.1, 0.5, 2, 10)
            if not (low.startswith(("dropout", "momentum")) and v * f >= 1)
        ]
    if re.search(r"(?i)λ|lambda|α|alpha|β|beta|γ|gamma|weight|coefficient|dropout", name):
        vals.insert(0, "0 (term removed)")
    out: list[str] = []
    for x in vals:
        label = f"{name} = {x}" if not x.startswith("0 (") else x
        if label not in out:
            out.append(label)
    return out[:5]


LEAD_VERB = re.compile(
    r"(?i)^(?:adding|using|examining|improving|introducing|incorporating|applying|regularization using|"
    r"regularisation using|towards?)\s+"
)
FUNCTION_WORDS = frozenset(
    """a an the of and or for to in on with by from at as is are was were be been being this that these
    those it its their our we us they which who when where how than then there here into onto over under
    about between through during without within using used use via each per all any both some such more
    most less very also only not no can could may might will would should must do does did has have had
    case cases way order terms addition first second third final further thus hence however while since
    because so if following same similar standard several many few other another given simple new novel
    proposed large small high low full entire whole different""".split()  # noqa: SIM905
)
VERBISH = re.compile(r"(?i)^(?:\w+(?:ed|es|izes|ises))$")
HEAD_NOUN = re.compile(
    r"(?i)^(?:loss|losses|regulari[sz](?:ation|er)|penalty|objective|constraint|bonus|term|module|layer|layers|block|blocks|"
    r"attention|connection|connections|encoder|decoder|network|head|gate|gates|mechanism|embedding|embeddings|pooling|"
    r"normali[sz]ation|dropout|augmentation|memory|sampling|initiali[sz]ation|schedule|likelihood|mixture|prior|"
    r"classifier|discriminator|generator|critic|adapter|tokeni[sz]ation|aggregation|fusion|input|inputs|features|"
    r"offsets|curriculum|replay|buffer|vector|representation|representations|latents?|variables|hierarchy|"
    r"convolutions?|units|stream|streams|target|targets|policy|function|estimator|distillation|transfer|"
    r"pretraining|pre-training|fine-tuning|warmup|masking|scheduler|weighting|weights|coefficient|confusion)$"
)
WORD = re.compile(r"[A-Za-zα-ωΑ-Ω][\w\-]*|\d+(?:\.\d+)?")


def clean_heading(h: str) -> tuple[str, list[str]]:
    """Heading text without its number or a leading verb; "X versus Y" gives alternatives [Y]."""
    t = _heading_text(h)
    t = LEAD_VERB.sub("", t)
    t = (
        re.sub(r"(?i)^(?:\w+\s+)?(?:using|with|via)\s+", "", t)
        if re.match(r"(?i)^\w+\s+(?:using|with|via)\s", t)
        else t
    )
    m = re.match(r"(?i)^(.+?)\s+(?:versus|vs\.?|instead of|rather than|over)\s+(.+)$", t)
    if m:
        return m.group(1).strip(), [m.group(2).strip()]
    return t.strip(), []


def _phrases(sent: str) -> list[str]:
    """Noun phrases of 1-4 content words that end in a component head noun."""
    words = WORD.findall(sent)
    out: list[str] = []
    for i, w in enumerate(words):
        if not HEAD_NOUN.match(w):
            continue
        j = i
        while j > 0 and i - j < 3:
            prev = words[j - 1]
            low = prev.lower()
            if (
                low in FUNCTION_WORDS
                or low in STOP
                or VERBISH.match(prev)
                or prev[0].isdigit()
                or low.endswith("ly")
            ):
                break
            j -= 1
        if j < i:
            out.append(" ".join(words[j : i + 1]))
    return out


def _components(paper: Paper, msecs: list[Section]) -> list[Candidate]:
    cands: list[Candidate] = []
    depths = [_depth(s) for s in msecs]
    min_depth = min(depths) if depths else 1
    full = paper.text.lower()
    for s, d in zip(msecs, depths, strict=True):
        h, alts = clean_heading(s.heading)
        if d > min_depth and _usable(h) and not METHOD_HEAD.fullmatch(h.lower()):
            want = content_tokens(h)
            sents = [x for x in split_sentences(s.text) if len(x) <= 400]
            scored = sorted(sents, key=lambda x: -len(want & content_tokens(x)))
            first = scored[:1] if scored and want & content_tokens(scored[0]) else sents[:1]
            cands.append(
                Candidate(
                    text=h,
                    kind="component",
                    quote=first[0] if first else s.heading,
                    section=s.heading,
                    alternatives=alts,
                    sources={"heading"},
                )
            )
        for sent in split_sentences(s.text):
            for m in PROPOSE.finditer(sent):
                np = _clean_np(m.group("np"))
                np = (
                    " ".join(w for w in np.split() if w.lower() not in FUNCTION_WORDS)
                    if len(np.split()) > 1
                    else np
                )
                if _usable(np) and len(np.split()) <= 5:
                    cands.append(
                        Candidate(
                            text=np, kind="component", quote=sent, section=s.heading, sources={"propose"}
                        )
                    )
            for np in _phrases(sent):
                if _usable(np) and full.count(np.lower()) >= 2:
                    cands.append(
                        Candidate(
                            text=np,
                            kind="component",
                            quote=sent,
                            section=s.heading,
                            sources={"loss" if LOSS.search(np) else "module"},
                        )
                    )
            for m in ACRONYM.finditer(sent):
                words = [w for w in m.group("long").split() if w.lower() not in FUNCTION_WORDS]
                long = " ".join(words[-len(m.group("short")) :]) if words else ""
                if _usable(long) and len(long.split()) >= 2:
                    cands.append(
                        Candidate(
                            text=f"{long} ({m.group('short')})",
                            kind="component",
                            quote=sent,
                            section=s.heading,
                            sources={"acronym"},
                        )
                    )
            for m in ALTERNATIVE.finditer(sent):
                alt = _clean_np(m.group("np"))
                if _usable(alt):
                    cands.append(
                        Candidate(
                            text="",
                            kind="alternative",
                            quote=sent,
                            section=s.heading,
                            alternatives=[alt],
                            sources={"alternative"},
                        )
                    )
    return cands


def _hypers(msecs: list[Section], paper: Paper) -> list[Candidate]:
    out: list[Candidate] = []
    secs = msecs + [
        s for s in paper.sections if re.search(r"(?i)implementation|setup|training details|hyper", s.heading)
    ]
    for s in secs:
        for sent in split_sentences(s.text):
            for m in WEIGHT_NAMED.finditer(sent):
                names = (
                    re.split(r"\s*(?:,|and)\s*", m.group("names")) if m.group("names") else [m.group("name")]
                )
                for n in names:
                    out.append(
                        Candidate(
                            text=n,
                            kind="hyper",
                            quote=sent,
                            section=s.heading,
                            value=None,
                            sources={"hyper", "weight"},
                        )
                    )
            for m in HYPER.finditer(sent):
                name = m.group("name")
                if name in ("k", "K", "T", "N", "M") and not re.search(rf"\b{name}\s*=", sent):
                    continue
                out.append(
                    Candidate(
                        text=name,
                        kind="hyper",
                        quote=sent,
                        section=s.heading,
                        value=m.group("value"),
                        sources={"hyper"},
                    )
                )
            for m in HYPER_BEFORE.finditer(sent):
                if float(m.group("value")) > 1:
                    out.append(
                        Candidate(
                            text=f"number of {m.group('name')}",
                            kind="hyper",
                            quote=sent,
                            section=s.heading,
                            value=m.group("value"),
                            sources={"hyper"},
                        )
                    )
    return out


def _merge(cands: list[Candidate]) -> list[Candidate]:
    merged: list[Candidate] = []
    for c in cands:
        for m in merged:
            if m.kind == c.kind and (
                m.text.lower() == c.text.lower()
                or (
                    overlap(m.text, c.text) >= 0.8
                    and min(len(content_tokens(m.text)), len(content_tokens(c.text))) >= 2
                )
            ):
                m.sources |= c.sources
                m.value = m.value or c.value
                if "heading" not in m.sources and (
                    "acronym" in c.sources or (len(c.text) < len(m.text) and "acronym" not in m.sources)
                ):
                    m.text = c.text
                break
        else:
            merged.append(
                Candidate(
                    text=c.text,
                    kind=c.kind,
                    quote=c.quote,
                    section=c.section,
                    value=c.value,
                    alternatives=list(c.alternatives),
                    sources=set(c.sources),
                )
            )
    return merged


def _weight_families(hypers: list[Candidate]) -> list[Candidate]:
    """λVR = 1, λRP = 1 and "λPC is a weighting term" are one experiment: the loss weights λVR, λRP, λPC."""
    out: list[Candidate] = []
    families: dict[str, Candidate] = {}
    for h in hypers:
        base = h.text[0] if h.text and h.text[0] in "λαβγτημερ" else None
        weighty = "weight" in h.sources or re.search(r"(?i)weight|coefficient|loss", h.quote)
        if base is None or not weighty:
            out.append(h)
            continue
        fam = families.get(base)
        if fam is None:
            fam = Candidate(
                text=h.text,
                kind="hyper",
                quote=h.quote,
                section=h.section,
                value=h.value,
                sources=set(h.sources) | {"weight"},
            )
            families[base] = fam
            out.append(fam)
        elif h.text not in fam.text.split(", "):
            fam.text = f"{fam.text}, {h.text}"
            fam.value = fam.value or h.value
            fam.sources |= h.sources
    return out


def _score(c: Candidate, paper: Paper, method_text: str, contrib_text: str) -> float:
    toks = content_tokens(c.text)
    if not toks:
        return 0.0

    def hits(text: str) -> float:
        t = content_tokens(text)
        return len(toks & t) / len(toks)

    low = method_text.lower()
    mentions = low.count(c.text.lower()) if len(c.text) > 3 else 0
    s = 1.0 * hits(paper.title) + 1.5 * hits(paper.abstract) + 1.5 * hits(contrib_text)
    s += 0.8 * math.log1p(mentions)
    s += {"heading": 2.0, "propose": 1.2, "acronym": 0.8, "loss": 0.8, "module": 0.3, "hyper": 0.6}.get(
        max(
            c.sources,
            key=lambda x: {"heading": 5, "propose": 4, "acronym": 3, "loss": 2, "hyper": 1}.get(x, 0),
        ),
        0,
    )
    s += 0.3 * (len(c.sources) - 1)
    if c.kind == "hyper":
        s += 0.5 * hits(paper.abstract + " " + contrib_text)
    if c.alternatives:
        s += 0.8
    return round(s, 4)


def _contributions(paper: Paper) -> str:
    text = paper.abstract
    for s in paper.sections[:4]:
        for sent in split_sentences(s.text):
            if re.search(
                r"(?i)\b(we propose|we introduce|our contributions?|we present|1\)|2\)|we make|we show that)\b",
                sent,
            ):
                text += " " + sent
    return text


def _to_ablation(c: Candidate, metrics: list[str], section_text: str = "") -> Ablation:
    """The candidate as an ablation: a sweep for a hyperparameter, REPLACE for a named alternative or a
    core part that cannot simply be removed, REMOVE otherwise."""
    head = c.text.split()[-1].lower() if c.text.split() else ""
    part = c.text
    replacement: list[str] | None = None
    if c.kind == "hyper" and "weight" in c.sources:
        what = "loss weights" if ", " in c.text else "loss weight"
        fixed = f"; set to {c.value} in the paper" if c.value else ""
        name, part = (
            f"Sensitivity to the {what} {c.text}",
            f"{what} {c.text} (weighting terms of the objective{fixed})",
        )
        replacement = _weight_sweep(c.text, c.value)
        why = f"The objective weights its terms by {c.text}; a sweep, including removing a term, shows what each term contributes."
    elif c.kind == "hyper":
        name, part = f"Sensitivity to {c.text}", f"{c.text} (set to {c.value} in the paper)"
        replacement = _neighbours(c.value or "1", c.text)
        why = f"The paper fixes {c.text} = {c.value}; a sweep shows how sensitive the results are to it."
    elif c.alternatives:
        name = f"{c.text[:1].upper()}{c.text[1:]} vs. {c.alternatives[0]}"
        replacement = [*c.alternatives, f"no {c.text}"] if ADDITIVE.search(c.text) else list(c.alternatives)
        why = f"The paper chooses {c.text} over {c.alternatives[0]}; comparing them isolates that design choice."
    elif CORE_HEAD.match(head):
        std = standard_alternative(c, section_text)
        name = f"Standard {head} instead of {c.text}" if c.text.lower() != head else f"Alternative {head}"
        replacement = [std] if std else [f"the standard {head} of the base method"]
        why = f"A {head} cannot simply be removed; replacing {c.text} with the standard choice measures its contribution."
    else:
        name = f"Without {c.text[:1].lower() + c.text[1:] if not c.text[:2].isupper() else c.text}"
        why = f"The paper introduces {c.text}; removing it measures its contribution."
    return Ablation(
        name=name,
        ablated_part=part,
        action="REPLACE" if replacement else "REMOVE",
        replacement=replacement,
        metrics=metrics,
        evidence=[Evidence(quote=c.quote[:400], section=c.section, verified=True)],
        score=c.score,
        rationale=why,
    )


CORE_HEAD = re.compile(
    r"(?i)^(likelihood|distribution|encoder|decoder|architecture|backbone|pooling|normali[sz]ation|sampling|sampler|"
    r"initiali[sz]ation|fusion|aggregation|tokeni[sz]ation|schedule|scheduler|optimi[sz]er|parameteri[sz]ation|"
    r"representation|embedding|embeddings|objective|estimator|policy|prior|weighting)$"
)
_STANDARD = re.compile(
    r"(?i)\b(?:standard|original|conventional|vanilla|usual|common|previous|typical)\b[^.]{0,160}?"
    r"\b(?:as|uses?|using|with|is|via)\s+(?:a|an|the)?\s*(?P<alt>(?:full\s+|simple\s+)?[\w\-]+(?:\s+[\w\-]+){0,3})"
)


def standard_alternative(c: Candidate, section_text: str) -> str | None:
    """What the paper says the standard method uses instead (e.g. "a full 256-way softmax")."""
    for sent in split_sentences(c.quote) + split_sentences(section_text):
        m = _STANDARD.search(sent)
        if m:
            alt = _clean_np(m.group("alt"))
            if _usable(alt) and overlap(alt, c.text) < 0.5:
                return alt
    return None


def _attach_alternatives(comps: list[Candidate], alts: list[Candidate]) -> None:
    for a in alts:
        best: Candidate | None = None
        best_s = 0.0
        for c in comps:
            if c.kind != "component" or c.section != a.section:
                continue
            sc = 2.0 if c.text.lower() in a.quote.lower() else overlap(c.text, a.quote) * 0.9
            if sc > best_s:
                best, best_s = c, sc
        alt = a.alternatives[0]
        if (
            best is not None
            and best_s >= 0.6
            and alt.lower() not in best.text.lower()
            and alt not in best.alternatives
            and overlap(alt, best.text) < 0.8
        ):
            best.alternatives.append(alt)
            best.sources.add("alternative")


def own_model_name(title: str) -> str | None:
    """ "MWFormer" in "MWFormer: Mesh Understanding with ...": removing the whole model is no ablation."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and 0 < len(head.split()) <= 2 and len(head) >= 3 else None


def plan_offline(paper: Paper, opts: PlanOptions) -> Plan:
    k = opts.top_k
    msecs = method_sections(paper)
    section_texts = {s.heading: s.text for s in paper.sections}
    method_text = "\n".join(s.text for s in msecs)
    metrics = find_metrics(paper) or ["the paper's main evaluation metric"]
    raw = _components(paper, msecs)
    comps = _merge([c for c in raw if c.kind == "component"])
    _attach_alternatives(comps, [c for c in raw if c.kind == "alternative"])
    hypers = _weight_families(_merge(_hypers(msecs, paper)))
    contrib = _contributions(paper)
    own = own_model_name(paper.title)
    pool = [c for c in comps + hypers if not (own and own.lower() in c.text.lower())]
    for c in pool:
        c.score = _score(c, paper, method_text, contrib)
        if opts.mode == "reviewer" and "weight" in c.sources:
            c.score += 1.5  # reviewers ask for the sensitivity to loss weights more than anything else
    existing = existing_ablations(paper) if opts.mode == "reviewer" else []
    excluded: list[str] = []
    if existing:
        keep = []
        for c in pool:
            if any(overlap(c.text, e) >= 0.67 for e, _ in existing):
                excluded.append(c.text)
            else:
                keep.append(c)
        pool = keep
    pool.sort(key=lambda c: (-c.score, c.text.lower()))
    chosen: list[Candidate] = []
    for c in pool:
        if any(overlap(c.text, o.text) >= 0.6 for o in chosen):
            continue
        chosen.append(c)
        if len(chosen) >= k:
            break
    # A prior from how ablations are requested: reviewers ask first for the sensitivity to the objective's
    # weighting terms, and authors sweep them too. The best weight family gets a slot of its own.
    weights = [c for c in pool if "weight" in c.sources]
    slot = min(k, 2 if opts.mode == "reviewer" else 3) - 1
    if weights and weights[0] not in chosen and slot >= 0:
        chosen = chosen[:slot] + [weights[0]] + [c for c in chosen[slot:] if c is not weights[0]]
        chosen = chosen[:k]
    ablations = [_to_ablation(c, metrics, section_texts.get(c.section, "")) for c in chosen]
    trace = _trace(paper, opts, msecs, comps, hypers, metrics, existing, excluded, chosen)
    warnings = [] if ablations else ["no method components could be found in the text"]
    return Plan(
        paper_id=paper.id,
        paper_title=paper.title,
        mode=opts.mode,
        planner="offline",
        model="rules",
        k=k,
        reasoning_trace=trace,
        ablations=ablations,
        warnings=warnings,
        findings=list(paper.findings),
    )


def _trace(
    paper: Paper,
    opts: PlanOptions,
    msecs: list[Section],
    comps: list[Candidate],
    hypers: list[Candidate],
    metrics: list[str],
    existing: list[tuple[str, str]],
    excluded: list[str],
    chosen: list[Candidate],
) -> str:
    def names(cs: list[Candidate], n: int = 8) -> str:
        top = sorted(cs, key=lambda c: -c.score)[:n]
        return ", ".join(f"{c.text}" + (f" = {c.value}" if c.value else "") for c in top) or "none"

    lines = [
        f"This plan was built from the paper's text by rules, without a language model (mode: {opts.mode}).",
        "",
        f"Method sections read: {', '.join(_heading_text(s.heading) for s in msecs[:8]) or 'none found'}.",
        f"Components found ({len(comps)}): {names(comps)}.",
        f"Hyperparameters with stated values ({len(hypers)}): {names(hypers, 5)}.",
        f"Metrics the paper reports: {', '.join(metrics)}.",
    ]
    if opts.mode == "reviewer":
        lines.append(
            f"Ablations the paper already reports ({len(existing)}): {', '.join(e for e, _ in existing[:8]) or 'none found'}"
            + (f"; excluded as already covered: {', '.join(excluded[:6])}." if excluded else ".")
        )
    lines.append("")
    lines.append(
        "Ranking: each candidate scores for appearing in the title, the abstract and the contribution claims, "
        "for its mentions in the method, and for how it was introduced (a subsection of its own ranks highest)."
    )
    for i, c in enumerate(chosen, 1):
        how = ", ".join(sorted(c.sources))
        lines.append(
            f"{i}. {c.text} (score {c.score:.2f}; found as: {how}; section: {_heading_text(c.section)})"
        )
    return "\n".join(lines)


@register_planner("offline")
class OfflinePlanner:
    name = "offline"
    needs_model = False

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        return plan_offline(paper, opts)
