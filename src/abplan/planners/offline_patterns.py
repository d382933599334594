"""Patterns and word lists of the offline planner: what method sections, components, hyperparameters,
alternatives and metrics look like in a paper's text. Pure data."""

from __future__ import annotations

import re

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

METRIC_RES = [(name, re.compile(rx, re.I if not re.search(r"[A-Z]{2}", rx) else 0)) for name, rx in METRICS]

HYPER = re.compile(
    r"(?P<name>\b(?:(?:[λαβγτημερ]|\\?(?:lambda|alpha|beta|gamma|tau|eta|epsilon|rho))(?:_?\{?[A-Za-z0-9]{1,4}\}?)?|"
    r"temperature|margin|dropout(?: rate| probability)?|"
    r"learning rate|batch size|weight decay|momentum|number of (?:layers|heads|steps|iterations|epochs|samples|experts|clusters|components|mixture components|neighbou?rs|frames)|"
    r"window size|hidden size|embedding size|kernel size|patch size|mixture components|k|K|T|N|M)\b)"
    r"\s*(?:=|is set to|was set to|set to|of|equal to|:)\s*(?P<value>\d+(?:\.\d+)?(?:e-?\d+)?)(?!\s*[%)]?\s*(?:of|times))"
)

GREEK = r"(?:[λαβγτημερ]|\\?(?:lambda|alpha|beta|gamma|tau|eta|epsilon|rho))(?:_?\{?[A-Za-z0-9]{1,4}\}?)?"

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

BEFORE_HEAD = re.compile(
    r"(?i)\b(introduction|related works?|background|preliminar(?:y|ies)|prior works?|motivation|problem (?:setting|statement|formulation))\b"
)

END_HEAD = re.compile(r"(?i)\b(references|bibliography|acknowledge?ments?|appendix|appendices)\b")

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

CORE_HEAD = re.compile(
    r"(?i)^(likelihood|distribution|encoder|decoder|architecture|backbone|pooling|normali[sz]ation|sampling|sampler|"
    r"initiali[sz]ation|fusion|aggregation|tokeni[sz]ation|schedule|scheduler|optimi[sz]er|parameteri[sz]ation|"
    r"representation|embedding|embeddings|objective|estimator|policy|prior|weighting)$"
)

STANDARD_CHOICE = re.compile(
    r"(?i)\b(?:standard|original|conventional|vanilla|usual|common|previous|typical)\b[^.]{0,160}?"
    r"\b(?:as|uses?|using|with|is|via)\s+(?:a|an|the)?\s*(?P<alt>(?:full\s+|simple\s+)?[\w\-]+(?:\s+[\w\-]+){0,3})"
)
