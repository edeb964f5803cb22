"""Corpus BLEU (Papineni et al. 2002), computed the way sacreBLEU does by default.

    BLEU = BP * exp(mean_{n=1..4} log p_n),   BP = min(1, exp(1 - r / c))

p_n are clipped n-gram precisions summed over the corpus, c the total hypothesis length and
r the total reference length (one reference per sentence here). Text is tokenized with the
13a rules (`data.tokenize`), case-sensitive; an n-gram order with no match gets sacreBLEU's
default "exp" smoothing (the k-th such order counts as 1 / 2^k matches). The score is on
sacreBLEU's 0-100 scale. What is not here: multiple references, other tokenizers.
"""

from __future__ import annotations

import math
from collections import Counter

from .data import tokenize


def ngrams(tokens: list[str], max_order: int = 4) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for n in range(1, max_order + 1) for i in range(len(tokens) - n + 1))


def corpus_bleu(hypotheses: list[str], references: list[str], max_order: int = 4) -> float:
    """BLEU on a 0-100 scale of detokenized hypothesis strings against one reference each."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    correct, total = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for hypothesis, reference in zip(hypotheses, references):
        hyp, ref = tokenize(hypothesis.rstrip()), tokenize(reference.rstrip())
        hyp_len, ref_len = hyp_len + len(hyp), ref_len + len(ref)
        hyp_counts, ref_counts = ngrams(hyp, max_order), ngrams(ref, max_order)
        for gram, count in hyp_counts.items():
            n = len(gram) - 1
            total[n] += count
            correct[n] += min(count, ref_counts.get(gram, 0))
    if not any(correct):
        return 0.0
    log_precisions, smooth = [], 1.0
    for n in range(max_order):
        if total[n] == 0:
            break  # sacreBLEU stops here; the missing orders then count as log(0)
        if correct[n] == 0:
            smooth *= 2
            log_precisions.append(math.log(100.0 / (smooth * total[n])))
        else:
            log_precisions.append(math.log(100.0 * correct[n] / total[n]))
    log_precisions += [-9999999999.0] * (max_order - len(log_precisions))  # sacreBLEU's log(0)
    brevity = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
    return brevity * math.exp(sum(log_precisions) / max_order)
