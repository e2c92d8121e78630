"""Snapshot × Snapshot → the list of changes a reader would name.

Pure and deterministic. Paragraphs are aligned first (difflib over their comparison forms), so a
paragraph inserted at the top does not make every later paragraph look edited; the unmatched
paragraphs of each replaced block are then paired by similarity (edited) or left alone
(added/removed), and re-joined or re-cut paragraphs are reported as split/merged, relocated ones
as moved. Inside a paragraph the diff is word-level, with CJK text compared per character and
Thai per character cluster, since neither puts spaces between words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from bot.core.anchors import names, numbers, quotations
from bot.core.extract import Snapshot
from bot.core.normalize import comparison_form, is_nospace_char
from bot.core.sensitivity import Sensitivity

__all__ = [
    "SEARCH_TITLE_CHANGED",
    "Change",
    "Segment",
    "diff_snapshots",
    "for_sensitivity",
    "is_substantive",
    "split_tokens",
    "summarize",
    "tokenize",
    "word_diff",
]

SegmentOp = Literal["equal", "delete", "insert"]
ChangeKind = Literal["headline", "search_title", "edited", "added", "removed", "moved", "split", "merged"]

# Two paragraphs of a replaced block at least this similar (word-level ratio) are one paragraph
# edited; below it they are one removed and one added. Rewrites keep far more than half.
PAIR_THRESHOLD = 0.5
# A replaced block of exactly one paragraph on each side is read as that paragraph rewritten
# as long as the two still share this much (a rewritten lede keeps its names and places).
REWRITE_THRESHOLD = 0.2
# A relocated paragraph this similar to the original is "moved" rather than removed + added.
MOVE_THRESHOLD = 0.9
# A paragraph left without a partner by the alignment (a desk rewrote it: new wording, clauses
# reordered, often moved) is still the same paragraph when it shares this much of its words,
# weighted by rarity in the article, and keeps a name, a number or a quote; or, with nothing
# to anchor it, this much more. Unrelated paragraphs of one story share well under 0.25.
REWORD_THRESHOLD = 0.4
REWORD_BARE_THRESHOLD = 0.55
_REWORD_MIN_WORDS = 5
# A paragraph and the concatenation of 2+ neighbours this similar: split / merged.
SPLIT_THRESHOLD = 0.8
_MAX_SPLIT_PARTS = 6


@dataclass(frozen=True)
class Segment:
    """A run of tokens; ``text`` keeps the whitespace that precedes each token."""

    op: SegmentOp
    text: str


@dataclass(frozen=True)
class Change:
    """One thing a reader would notice: the headline or one paragraph changed.

    ``old_count``/``new_count`` say how many paragraphs a split or merge spans (1 otherwise);
    for those, ``old``/``new`` hold the paragraphs joined with a newline.
    """

    kind: ChangeKind
    old_index: int | None
    new_index: int | None
    old: str
    new: str
    segments: tuple[Segment, ...] = ()
    substantive: bool = True
    old_count: int = field(default=1)
    new_count: int = field(default=1)


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # without surrounding whitespace
    space: bool  # whitespace preceded it in the source
    key: str  # comparison form


def _is_cluster_script(ch: str) -> bool:
    """Thai, Lao, Khmer, Myanmar: no spaces between words, so compare per grapheme cluster."""
    cp = ord(ch)
    return 0x0E00 <= cp <= 0x0EFF or 0x1000 <= cp <= 0x109F or 0x1780 <= cp <= 0x17FF


def _is_wordish(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM" and not is_nospace_char(ch)


_JOINERS = frozenset(".,:'’-‐‑/_")
_EMOJI_GLUE = frozenset("\u200d\ufe0f\ufe0e")


def _raw_tokens(text: str) -> list[tuple[str, bool]]:
    """Split into (token, preceded-by-space) pairs.

    Words are runs of letters, digits and combining marks, kept whole across inner
    apostrophes, hyphens and number separators ("don't", "Covid-19", "162,000", "18,4").
    """
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    space = False
    while i < n:
        ch = text[i]
        if ch.isspace():
            space = True
            i += 1
            continue
        j = i + 1
        if is_nospace_char(ch):
            pass  # one CJK character per token
        elif _is_cluster_script(ch):
            while j < n and unicodedata.category(text[j])[0] == "M":
                j += 1
        elif _is_wordish(ch):
            while j < n:
                c = text[j]
                if _is_wordish(c) and not _is_cluster_script(c):
                    j += 1
                elif (
                    c in _JOINERS
                    and j + 1 < n
                    and _is_wordish(text[j + 1])
                    and (not _is_cluster_script(text[j + 1]))
                ):
                    j += 2
                else:
                    break
        else:  # punctuation, symbols, emoji (with their joiners and modifiers)
            while j < n and (
                text[j] in _EMOJI_GLUE
                or unicodedata.category(text[j]) in ("Mn", "Me", "Sk")
                or (text[j - 1] == "\u200d" and not text[j].isspace())
            ):
                j += 1
        out.append((text[i:j], space))
        space = False
        i = j
    return out


def split_tokens(text: str) -> list[tuple[str, bool]]:
    """Tokens with a flag saying whether whitespace preceded each (for re-joining)."""
    return _raw_tokens(text)


def tokenize(text: str) -> list[str]:
    """Word-level tokens of ``text`` (CJK per character, Thai per cluster)."""
    return [t for t, _ in _raw_tokens(text)]


def _tokens(text: str) -> list[_Token]:
    return [_Token(t, s, comparison_form(t)) for t, s in _raw_tokens(text)]


# --------------------------------------------------------------------------------------------
# Word diff
# --------------------------------------------------------------------------------------------


def _join(tokens: Sequence[_Token], first_space: bool) -> str:
    parts = []
    for k, t in enumerate(tokens):
        sp = t.space if k else first_space
        parts.append((" " if sp else "") + t.text)
    return "".join(parts)


def _absorbable(tokens: Sequence[_Token]) -> bool:
    """A tiny equality between two changes ("a", "of", a comma, one CJK character) reads
    better inside the change than as a one-word island: ``<s>talks on</s> <b>visit</b>``."""
    if len(tokens) != 1:
        return False
    key = tokens[0].key
    if any(c.isdigit() for c in key):
        return False
    return len(key) <= 3


_Group = tuple[str, list[_Token], list[_Token]]
_Opcode = tuple[str, int, int, int, int]

# Above this many tokens difflib's exhaustive matching (autojunk=False) can go quadratic on
# repetitive text; its "popular element" heuristic keeps such inputs fast instead.
_EXHAUSTIVE_TOKENS = 300


def _matcher(a: Sequence[str], b: Sequence[str]) -> SequenceMatcher:
    return SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > _EXHAUSTIVE_TOKENS)


def _opcodes(a: list[str], b: list[str]) -> tuple[list[_Opcode], float]:
    """difflib opcodes and similarity ratio, after trimming the common prefix and suffix.

    An edit usually touches a few words of a long paragraph: trimming first keeps the
    expensive matching small and exact.
    """
    pre = 0
    limit = min(len(a), len(b))
    while pre < limit and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < limit - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    mid_a, mid_b = a[pre : len(a) - suf], b[pre : len(b) - suf]
    sm = _matcher(mid_a, mid_b)
    opcodes: list[_Opcode] = []
    if pre:
        opcodes.append(("equal", 0, pre, 0, pre))
    matched = pre + suf
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        opcodes.append((op, i1 + pre, i2 + pre, j1 + pre, j2 + pre))
        if op == "equal":
            matched += i2 - i1
    if suf:
        opcodes.append(("equal", len(a) - suf, len(a), len(b) - suf, len(b)))
    # merge neighbouring equal opcodes produced by the trimming
    merged: list[_Opcode] = []
    for code in opcodes:
        if code[1] == code[2] and code[3] == code[4]:
            continue
        if merged and merged[-1][0] == code[0] == "equal":
            prev = merged.pop()
            code = ("equal", prev[1], code[2], prev[3], code[4])
        merged.append(code)
    total = len(a) + len(b)
    return merged, (2.0 * matched / total if total else 1.0)


def _chars(tokens: Sequence[_Token]) -> int:
    return sum(len(t.text) for t in tokens)


def _cleanup(groups: list[_Group], rewrite: bool) -> list[_Group]:
    """Absorb equalities that would leave one-word islands between changes.

    Always: a tiny equality ("a", "of", a comma, one CJK character). For a rewritten
    paragraph (less than half of it kept) also a short equality (≤ 4 words) no longer than a
    change next to it, in the spirit of diff-match-patch's semantic cleanup: a rewrite then
    reads as "<s>old clause</s> <b>new clause</b>" instead of a patchwork of shared words.
    """
    changed, passes = True, 0
    while changed and passes < 8:  # each pass merges neighbours; a few reach a fixed point
        changed, passes = False, passes + 1
        out: list[_Group] = []
        for k, g in enumerate(groups):
            if (
                g[0] == "equal"
                and 0 < k < len(groups) - 1
                and groups[k - 1][0] == "change"
                and groups[k + 1][0] == "change"
            ):
                size = _chars(g[1])
                before = max(_chars(groups[k - 1][1]), _chars(groups[k - 1][2]))
                after = max(_chars(groups[k + 1][1]), _chars(groups[k + 1][2]))
                if _absorbable(g[1]) or (rewrite and len(g[1]) <= 4 and (size <= before or size <= after)):
                    g = ("change", g[1], g[1])
                    changed = True
            if out and out[-1][0] == "change" and g[0] == "change":
                prev = out.pop()
                g = ("change", prev[1] + g[1], prev[2] + g[2])
            out.append(g)
        groups = out
    return groups


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """Word-level segments turning ``old`` into ``new``; adjacent changes merged into runs."""
    a, b = _tokens(old), _tokens(new)
    ka, kb = [t.key for t in a], [t.key for t in b]
    # groups: ("equal", tokens) or ("change", deleted tokens, inserted tokens)
    groups: list[tuple[str, list[_Token], list[_Token]]] = []
    opcodes, ratio = _opcodes(ka, kb)
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            # keep a space where either side had one, so "<s>A</s> B" never reads "<s>A</s>B"
            toks = [
                _Token(tb.text, ta.space or tb.space, tb.key)
                for ta, tb in zip(a[i1:i2], b[j1:j2], strict=True)
            ]
            groups.append(("equal", toks, []))
        else:
            groups.append(("change", a[i1:i2], b[j1:j2]))
    merged = _cleanup(groups, rewrite=ratio < PAIR_THRESHOLD)
    segments: list[Segment] = []
    first = True
    for kind, x, y in merged:
        if kind == "equal":
            segments.append(Segment("equal", _join(x, not first and x[0].space)))
        else:
            if x:
                segments.append(Segment("delete", _join(x, not first and x[0].space)))
            if y:
                segments.append(Segment("insert", _join(y, not first and y[0].space)))
        first = False
    return tuple(segments)


# --------------------------------------------------------------------------------------------
# Substantive or not
# --------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def _within_one_edit(x: str, y: str) -> bool:
    """Damerau–Levenshtein distance ≤ 1 (one letter added, dropped, swapped or transposed)."""
    if x == y:
        return True
    if abs(len(x) - len(y)) > 1:
        return False
    if len(x) == len(y):
        diffs = [k for k in range(len(x)) if x[k] != y[k]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and x[diffs[0]] == y[diffs[1]]
            and x[diffs[1]] == y[diffs[0]]
        )
    short, long_ = sorted((x, y), key=len)
    k = 0
    while k < len(short) and short[k] == long_[k]:
        k += 1
    return short[k:] == long_[k + 1 :]


def _words(text: str) -> list[str]:
    """Tokens with punctuation removed and case folded: what a typo fix may not touch."""
    out = []
    for t in tokenize(text):
        w = "".join(c for c in t if unicodedata.category(c)[0] != "P").casefold()
        if w:
            out.append(w)
    return out


def is_substantive(old: str, new: str) -> bool:
    """False for punctuation-, case- or single-letter typo fixes; True otherwise.

    A changed number or an added/removed question mark always counts ("will" → "will?"), as
    does any change to a short word ("now" → "not") or to a CJK character, where one character
    is a whole word.
    """
    a, b = comparison_form(old), comparison_form(new)
    if a == b:
        return False
    if _DIGITS.findall(a) != _DIGITS.findall(b) or a.count("?") != b.count("?"):
        return True
    wa, wb = _words(a), _words(b)
    if wa == wb:
        return False
    fixes = 0
    for op, i1, i2, j1, j2 in _opcodes(wa, wb)[0]:
        if op == "equal":
            continue
        if op != "replace" or i2 - i1 != j2 - j1:
            return True
        for x, y in zip(wa[i1:i2], wb[j1:j2], strict=True):
            if min(len(x), len(y)) < 4 or any(is_nospace_char(c) for c in x + y):
                return True
            if not _within_one_edit(x, y):
                return True
            fixes += 1
    return fixes > 2


# --------------------------------------------------------------------------------------------
# Paragraph alignment
# --------------------------------------------------------------------------------------------


class _Paras:
    """One snapshot's paragraphs with their comparison keys and tokens, computed once."""

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.text = list(paragraphs)
        self.key = [comparison_form(p) for p in paragraphs]
        self._tok: dict[int, list[str]] = {}

    def tokens(self, i: int) -> list[str]:
        if i not in self._tok:
            self._tok[i] = [t.key for t in _tokens(self.text[i])]
        return self._tok[i]


def _similarity(x: list[str], y: list[str]) -> float:
    if not x or not y:
        return 0.0
    sm = _matcher(x, y)
    if sm.real_quick_ratio() < PAIR_THRESHOLD or sm.quick_ratio() < PAIR_THRESHOLD:
        return sm.quick_ratio() * 0.99  # cheap upper bound, already too low to pair
    return sm.ratio()


def _edited(o: _Paras, n: _Paras, i: int, j: int) -> Change:
    old, new = o.text[i], n.text[j]
    return Change("edited", i, j, old, new, word_diff(old, new), is_substantive(old, new))


def _has_text(s: str) -> bool:
    return any(c.isalnum() for c in s)


# Blocks up to this many candidate pairs get the exact treatment (optimal alignment, split and
# merge detection); bigger ones (a whole article rewritten) a windowed greedy pass, so a diff
# stays well under a second however large the page.
_EXACT_PAIRS = 400
_WINDOW = 4


def _find_splits(
    o: _Paras, n: _Paras, olds: list[int], news: list[int], used_o: set[int], used_n: set[int]
) -> list[Change]:
    """One old paragraph ≈ several consecutive new ones (split), or the reverse (merged)."""
    changes: list[Change] = []
    for kind in ("split", "merged"):
        singles, multis = (olds, news) if kind == "split" else (news, olds)
        s_par, m_par = (o, n) if kind == "split" else (n, o)
        s_used, m_used = (used_o, used_n) if kind == "split" else (used_n, used_o)
        for s in singles:
            if s in s_used:
                continue
            best: tuple[float, int, int] | None = None
            size = len(s_par.tokens(s))
            for start in range(len(multis)):
                for k in range(2, min(_MAX_SPLIT_PARTS, len(multis) - start) + 1):
                    run = multis[start : start + k]
                    if any(r in m_used for r in run):
                        break
                    # ratio ≤ 2·min/(sum): lengths alone rule most runs out
                    joined_size = sum(len(m_par.tokens(r)) for r in run)
                    if joined_size > size * 1.5:
                        break
                    if joined_size < size * 0.66:
                        continue
                    joined = [t for r in run for t in m_par.tokens(r)]
                    score = _similarity(s_par.tokens(s), joined)
                    if score < SPLIT_THRESHOLD or (best is not None and score <= best[0]):
                        continue
                    single = max(_similarity(s_par.tokens(s), m_par.tokens(r)) for r in run)
                    if score > single + 0.1:
                        best = (score, start, k)
            if best is None:
                continue
            _, start, k = best
            run = multis[start : start + k]
            s_used.add(s)
            m_used.update(run)
            stacked = "\n".join(m_par.text[r] for r in run)
            flat = " ".join(m_par.text[r] for r in run)
            if kind == "split":
                changes.append(
                    Change(
                        "split",
                        s,
                        run[0],
                        o.text[s],
                        stacked,
                        word_diff(o.text[s], flat),
                        is_substantive(o.text[s], flat),
                        1,
                        k,
                    )
                )
            else:
                changes.append(
                    Change(
                        "merged",
                        run[0],
                        s,
                        stacked,
                        n.text[s],
                        word_diff(flat, n.text[s]),
                        is_substantive(flat, n.text[s]),
                        k,
                        1,
                    )
                )
    return changes


def _align_exact(o: _Paras, n: _Paras, olds: list[int], news: list[int]) -> list[tuple[int, int]]:
    """Monotonic pairing maximising total similarity (the classic alignment DP)."""
    m, k = len(olds), len(news)
    sim = [[_similarity(o.tokens(i), n.tokens(j)) for j in news] for i in olds]
    # one paragraph replaced by one: a rewrite as long as they still share a little
    if m == k == 1 and _matcher(o.tokens(olds[0]), n.tokens(news[0])).ratio() >= REWRITE_THRESHOLD:
        sim[0][0] = max(sim[0][0], PAIR_THRESHOLD)
    score = [[0.0] * (k + 1) for _ in range(m + 1)]
    for x in range(1, m + 1):
        for y in range(1, k + 1):
            best = max(score[x - 1][y], score[x][y - 1])
            s = sim[x - 1][y - 1]
            if s >= PAIR_THRESHOLD:
                best = max(best, score[x - 1][y - 1] + s)
            score[x][y] = best
    pairs = []
    x, y = m, k
    while x and y:
        s = sim[x - 1][y - 1]
        if s >= PAIR_THRESHOLD and score[x][y] == score[x - 1][y - 1] + s:
            pairs.append((olds[x - 1], news[y - 1]))
            x, y = x - 1, y - 1
        elif score[x][y] == score[x - 1][y]:
            x -= 1
        else:
            y -= 1
    return pairs[::-1]


def _align_greedy(o: _Paras, n: _Paras, olds: list[int], news: list[int]) -> list[tuple[int, int]]:
    """Walk both sides together, looking a few paragraphs ahead for the best partner."""
    pairs = []
    x = y = 0
    while x < len(olds) and y < len(news):
        best: tuple[float, int, int] | None = None
        for dx in range(_WINDOW):
            for dy in range(_WINDOW):
                if x + dx >= len(olds) or y + dy >= len(news):
                    continue
                s = _similarity(o.tokens(olds[x + dx]), n.tokens(news[y + dy]))
                # prefer the nearest partner: distance costs a little similarity
                s -= 0.02 * (dx + dy)
                if s >= PAIR_THRESHOLD - 0.02 * (dx + dy) and (best is None or s > best[0]):
                    best = (s, dx, dy)
            if best is not None and best[1] == 0 and best[2] == 0:
                break
        if best is None:
            x += 1
            y += 1
            continue
        _, dx, dy = best
        pairs.append((olds[x + dx], news[y + dy]))
        x, y = x + dx + 1, y + dy + 1
    return pairs


def _pair_block(
    o: _Paras, n: _Paras, olds: list[int], news: list[int]
) -> tuple[list[Change], list[int], list[int]]:
    """Pair the paragraphs of one replaced block; return changes and the leftovers."""
    used_o: set[int] = set()
    used_n: set[int] = set()
    changes: list[Change] = []
    exact = len(olds) * len(news) <= _EXACT_PAIRS
    if exact and olds and news and len(olds) + len(news) > 2:
        changes += _find_splits(o, n, olds, news, used_o, used_n)
    rest_o = [i for i in olds if i not in used_o]
    rest_n = [j for j in news if j not in used_n]
    if rest_o and rest_n:
        align = _align_exact if exact else _align_greedy
        for i, j in align(o, n, rest_o, rest_n):
            used_o.add(i)
            used_n.add(j)
            changes.append(_edited(o, n, i, j))
    return (
        changes,
        [i for i in olds if i not in used_o],
        [j for j in news if j not in used_n],
    )


def _find_moves(o: _Paras, n: _Paras, removed: list[int], added: list[int]) -> list[Change]:
    """A paragraph removed in one place and added in another is a move."""
    changes: list[Change] = []
    by_key: dict[str, list[int]] = {}
    for j in added:
        by_key.setdefault(n.key[j], []).append(j)
    fuzzy = len(removed) * len(added) <= _EXACT_PAIRS
    for i in list(removed):
        same = by_key.get(o.key[i])
        if same:
            j = same.pop(0)
            best_j, exact_match = j, True
        elif fuzzy:
            best_j, best_s = None, 0.0
            for j in added:
                s = _similarity(o.tokens(i), n.tokens(j))
                if s > best_s:
                    best_j, best_s = j, s
            if best_j is None or best_s < MOVE_THRESHOLD:
                continue
            exact_match = False
        else:
            continue
        removed.remove(i)
        added.remove(best_j)
        if not exact_match and n.key[best_j] in by_key:
            by_key[n.key[best_j]] = [x for x in by_key[n.key[best_j]] if x != best_j]
        old, new = o.text[i], n.text[best_j]
        if exact_match:
            changes.append(Change("moved", i, best_j, old, new, (), False))
        else:
            changes.append(
                Change("moved", i, best_j, old, new, word_diff(old, new), is_substantive(old, new))
            )
    return changes


class _Rarity:
    """Words weighted by how few paragraphs (of both versions) use them: inverse document
    frequency, so "the" and "said" count little and "Onwurah" or "67,000" a lot."""

    def __init__(self, o: _Paras, n: _Paras) -> None:
        self.bags = {
            side: [
                Counter(t.casefold() for t in p.tokens(i) if any(c.isalnum() for c in t))
                for i in range(len(p.text))
            ]
            for side, p in (("o", o), ("n", n))
        }
        df: Counter[str] = Counter(w for bags in self.bags.values() for bag in bags for w in bag)
        total = sum(len(bags) for bags in self.bags.values())
        self.weight = {w: math.log((total + 1) / k) for w, k in df.items()}

    def share(self, i: int, j: int) -> float:
        """Weighted share of words paragraphs old ``i`` and new ``j`` have in common (0..1)."""
        x, y = self.bags["o"][i], self.bags["n"][j]
        if min(sum(x.values()), sum(y.values())) < _REWORD_MIN_WORDS:
            return 0.0
        w = self.weight
        common = sum(min(c, y[t]) * w[t] for t, c in x.items() if t in y)
        total = sum(c * w[t] for t, c in x.items()) + sum(c * w[t] for t, c in y.items())
        return 2 * common / total if total else 0.0


def _anchored(old: str, new: str, old_key: str, new_key: str) -> bool:
    """Do two paragraphs keep a name, a number or a quotation in common?"""
    return bool(
        (names(old) & names(new))
        or (numbers(old) & numbers(new))
        or (quotations(old_key) & quotations(new_key))
    )


# Above this many candidate pairs only paragraphs near their expected new place are compared.
_REWORD_PAIRS = 10_000
_REWORD_REACH = 20


def _find_reworded(o: _Paras, n: _Paras, removed: list[int], added: list[int]) -> list[Change]:
    """Pair leftover removed and added paragraphs that are one paragraph reworded (and maybe
    moved): best-scoring pairs first, each paragraph used once."""
    if not removed or not added:
        return []
    rarity = _Rarity(o, n)
    near = len(removed) * len(added) > _REWORD_PAIRS
    scale = len(n.text) / max(1, len(o.text))
    scored: list[tuple[float, int, int]] = []
    for i in removed:
        for j in added:
            if near and abs(j - i * scale) > _REWORD_REACH:
                continue
            share = rarity.share(i, j)
            if share < REWORD_THRESHOLD:
                continue
            if share >= REWORD_BARE_THRESHOLD or _anchored(o.text[i], n.text[j], o.key[i], n.key[j]):
                scored.append((share, i, j))
    changes: list[Change] = []
    # best first; among equals the nearer pair, then the earlier paragraph (deterministic)
    for _, i, j in sorted(scored, key=lambda s: (-s[0], abs(s[2] - s[1] * scale), s[1], s[2])):
        if i in removed and j in added:
            removed.remove(i)
            added.remove(j)
            changes.append(_edited(o, n, i, j))
    return changes


def _paragraph_changes(o: _Paras, n: _Paras) -> list[Change]:
    sm = _matcher(o.key, n.key)
    changes: list[Change] = []
    removed: list[int] = []
    added: list[int] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        block_changes, rest_o, rest_n = _pair_block(o, n, list(range(i1, i2)), list(range(j1, j2)))
        changes.extend(block_changes)
        removed.extend(rest_o)
        added.extend(rest_n)
    changes += _find_moves(o, n, removed, added)
    changes += _find_reworded(o, n, removed, added)
    changes.extend(Change("removed", i, None, o.text[i], "", (), _has_text(o.text[i])) for i in removed)
    changes.extend(Change("added", None, j, "", n.text[j], (), _has_text(n.text[j])) for j in added)
    # order as the reader meets them in the new version; a removed paragraph sits right after
    # the new place of the old paragraph that preceded it
    where: dict[int, int] = {}
    for op, i1, i2, j1, _j2 in sm.get_opcodes():
        if op == "equal":
            where.update((i, j1 + i - i1) for i in range(i1, i2))
    for c in changes:
        if c.old_index is not None and c.new_index is not None:
            where.update((i, c.new_index) for i in range(c.old_index, c.old_index + c.old_count))

    def anchor(i: int) -> float:
        return next((where[k] + 0.5 for k in range(i - 1, -1, -1) if k in where), -0.5)

    changes.sort(
        key=lambda c: (
            (c.new_index, 1, 0)
            if c.new_index is not None
            else (anchor(c.old_index or 0), 0, c.old_index or 0)
        )
    )
    return changes


def _title_change(kind: ChangeKind, old: str, new: str) -> list[Change]:
    if comparison_form(old) == comparison_form(new):
        return []
    return [Change(kind, None, None, old, new, word_diff(old, new), is_substantive(old, new))]


def _same_words(a: Change, b: Change) -> bool:
    """Do two changes strike and insert the same words? The search title edited along with the
    headline, word for word, says nothing the headline line does not."""

    def words(c: Change, op: SegmentOp) -> list[str]:
        return [t.key for seg in c.segments if seg.op == op for t in _tokens(seg.text)]

    return all(words(a, op) == words(b, op) for op in ("delete", "insert"))


def diff_snapshots(old: Snapshot, new: Snapshot) -> list[Change]:
    """Headline change first, then the search/social title's, then paragraph changes in new
    order; [] when only noise moved.

    The search title counts only when both versions have one (versions stored before it was
    read have none, and a page that drops its metadata has not retitled the article), and only
    when it does not repeat the headline's change word for word.
    """
    changes = _title_change("headline", old.title, new.title)
    if old.search_title and new.search_title:
        search = _title_change("search_title", old.search_title, new.search_title)
        if not (search and changes and _same_words(search[0], changes[0])):
            changes += search
    changes.extend(_paragraph_changes(_Paras(old.paragraphs), _Paras(new.paragraphs)))
    return changes


# --------------------------------------------------------------------------------------------
# Filtering and wording
# --------------------------------------------------------------------------------------------


def for_sensitivity(changes: list[Change], sensitivity: str) -> list[Change]:
    """The changes a chat with this sensitivity (a ``Sensitivity`` value) is told about:
    headline only (the display headline's substantive changes, not the search/social
    title's), substantive (the default: all but typo/punctuation fixes and pure
    moves/re-paragraphing), or everything."""
    if sensitivity == Sensitivity.EVERYTHING:
        return list(changes)
    if sensitivity == Sensitivity.SUBSTANTIVE:
        return [c for c in changes if c.substantive]
    if sensitivity == Sensitivity.HEADLINE:
        return [c for c in changes if c.kind == "headline" and c.substantive]
    known = tuple(s.value for s in Sensitivity)
    raise ValueError(f"unknown sensitivity {sensitivity!r}; expected one of {known}")


# The search/social title's change in a summary ("headline changed, title in search and social
# changed, 1 paragraph edited") and at the head of its line in an announcement.
SEARCH_TITLE_CHANGED = "title in search and social changed"

_ORDER: tuple[ChangeKind, ...] = ("edited", "added", "removed", "moved", "split", "merged")


def summarize(changes: list[Change]) -> str:
    """ "headline changed, 2 paragraphs edited, 1 added" — the first line of a message."""
    parts = []
    if any(c.kind == "headline" for c in changes):
        parts.append("headline changed")
    if any(c.kind == "search_title" for c in changes):
        parts.append(SEARCH_TITLE_CHANGED)
    counts = Counter(c.kind for c in changes)
    first = True
    for kind in _ORDER:
        k = counts.get(kind, 0)
        if not k:
            continue
        if first:
            parts.append(f"{k} paragraph{'s' if k != 1 else ''} {kind}")
            first = False
        else:
            parts.append(f"{k} {kind}")
    return ", ".join(parts) if parts else "no changes"
