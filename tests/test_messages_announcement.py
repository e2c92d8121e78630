"""render_*(): the message format, escaping, and Telegram's length and entity limits."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.diff import Change, diff_snapshots, word_diff
from bot.core.extract import Snapshot, extract
from bot.messages.announcement import MessageContext, render_announcement, render_diff, render_plain
from bot.messages.limits import MAX_LENGTH, count_entities, utf16_len, visible_len
from bot.messages.time import format_elapsed
from tests.corpus import fixture_html

CTX = MessageContext(
    site="theguardian.com",
    url='https://www.theguardian.com/world/2016/oct/11/putin?src=a&x="q"',
    title="Vladimir Putin cancels Paris visit amid Syria row",
    old_version=2,
    new_version=3,
    elapsed=timedelta(minutes=35),
    article_number=4,
)

ALLOWED = {"b", "s", "a", "i", "code"}
ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")


class _TagChecker(HTMLParser):
    """Telegram's parser is strict: only its tags, all closed, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag <{tag}>")
        if tag == "a" and [k for k, _ in attrs] != ["href"]:
            self.errors.append(f"<a> attributes {attrs}")
        if tag != "a" and attrs:
            self.errors.append(f"<{tag}> has attributes")
        if self.stack and tag in self.stack:
            self.errors.append(f"<{tag}> nested in itself")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")


def assert_telegram_html(message: str) -> None:
    checker = _TagChecker()
    checker.feed(message)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    assert not ENTITY.search(message), "bare & or unsupported entity"
    assert utf16_len(message) <= 4096
    assert count_entities(message) <= 100


def headline_story() -> list[Change]:
    return diff_snapshots(extract(fixture_html("article_v1.html")), extract(fixture_html("article_v2.html")))


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def test_headline_story_message() -> None:
    message = render_announcement(headline_story(), CTX)
    assert_telegram_html(message)
    lines = message.split("\n")
    assert lines[0] == (
        '✏️ Headline changed, 1 paragraph edited — unannounced edit · <a href="https://www.theguardian.com/world/'
        '2016/oct/11/putin?src=a&amp;x=&quot;q&quot;">theguardian.com</a>'
    )
    assert "<s>postpones</s>" in lines[1] and "<b>cancels</b>" in lines[1]
    assert lines[1].startswith("Vladimir Putin <s>postpones</s> <b>cancels</b> Paris")
    assert lines[2] == ""
    assert lines[3].startswith("¶1 edited: Vladimir Putin <s>will not visit Paris")
    assert "&quot;" not in lines[3] and '"hostile"' in lines[3]
    assert lines[-1] == "v2 → v3 · 35 min after the last version · /diff_4"


def test_headline_only_first_line() -> None:
    old = Snapshot("Vladimir Putin postpones Paris talks on Syria", ("Body.",))
    new = Snapshot("Vladimir Putin cancels Paris visit amid Syria row", ("Body.",))
    message = render_announcement(diff_snapshots(old, new), CTX)
    first = re.sub(r"<[^>]+>", "", message.split("\n")[0])
    assert first == "✏️ Headline changed — unannounced edit · theguardian.com"


def test_paragraph_edit_shows_few_words_of_context() -> None:
    words = [f"word{i}" for i in range(80)]
    old = " ".join(words)
    new = " ".join([*words[:40], "CHANGED", *words[41:]])
    change = Change("edited", 5, 5, old, new, word_diff(old, new))
    message = render_announcement([change], CTX)
    assert_telegram_html(message)
    line = next(x for x in message.split("\n") if x.startswith("¶6 edited"))
    assert "<s>word40</s> <b>CHANGED</b>" in line
    assert line.count("…") == 2 and "word0 " not in line and "word79" not in line
    # /diff shows more of the paragraph than the announcement
    fuller = render_diff([change], CTX)
    assert len(fuller) > len(message)
    assert "/diff_4" not in fuller.split("\n")[-1]


def test_added_and_removed_paragraphs() -> None:
    changes = [
        Change("added", None, 2, "", "A spokesperson did not respond."),
        Change("removed", 7, None, "An old claim that was withdrawn.", ""),
    ]
    message = render_announcement(changes, CTX)
    assert "¶3 added: <b>A spokesperson did not respond.</b>" in message
    assert "¶8 removed: <s>An old claim that was withdrawn.</s>" in message
    assert message.split("\n")[1] == f"<i>{CTX.title}</i>"  # which article, when not the headline


ESCAPING = [
    pytest.param("5 < 6 && 7 > 3", "5 &lt; 6 &amp;&amp; 7 &gt; 3", id="lt-gt-amp"),
    pytest.param("He said \"no\" & 'yes'", "He said \"no\" &amp; 'yes'", id="quotes"),
    pytest.param("</s><b>fake</b>", "&lt;/s&gt;&lt;b&gt;fake&lt;/b&gt;", id="fake-tags"),
    pytest.param("&amp; already", "&amp;amp; already", id="entity-text"),
    pytest.param("party 🎉 👨‍👩‍👧", "party 🎉 👨‍👩‍👧", id="emoji"),
]


@pytest.mark.parametrize(("text", "escaped"), ESCAPING)
def test_article_text_is_escaped(text: str, escaped: str) -> None:
    old = f"Before {text} after"
    new = f"Before {text} later"
    changes = [
        Change("headline", None, None, text, text + " now", word_diff(text, text + " now")),
        Change("edited", 0, 0, old, new, word_diff(old, new)),
        Change("added", None, 1, "", text),
    ]
    ctx = MessageContext("ex<am>ple.com", 'https://example.com/?a=1&b="2"', text, 1, 2)
    message = render_announcement(changes, ctx)
    assert_telegram_html(message)
    assert escaped in message
    assert 'href="https://example.com/?a=1&amp;b=&quot;2&quot;"' in message
    assert ">ex&lt;am&gt;ple.com</a>" in message
    plain = render_plain(changes, ctx)  # plain text is sent as is: nothing escaped
    assert text in plain and "ex<am>ple.com" in plain and "&amp;" not in plain.replace(text, "")


def test_escaping_fixture_end_to_end() -> None:
    snap = extract(fixture_html("escaping.html"))
    edited = Snapshot(snap.title + " ✅", (*snap.paragraphs[:1], snap.paragraphs[1] + " <i>x</i>"))
    message = render_announcement(diff_snapshots(snap, edited), CTX)
    assert_telegram_html(message)
    assert "&lt;i&gt;x&lt;/i&gt;" in message and "✅" in message


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def test_length_limit_cuts_with_pointer_to_diff() -> None:
    """With the budget at Telegram's limit, the limit itself cuts the message."""
    para = "Long paragraph with many words and an emoji 🎉 in it. " * 10
    changes = [Change("added", None, i, "", f"{i}: {para}") for i in range(300)]
    message = render_announcement(changes, CTX, budget=MAX_LENGTH)
    assert_telegram_html(message)
    lines = message.split("\n")
    assert re.fullmatch(r"and \d+ more paragraphs changed — /diff_4", lines[-2])
    shown = sum(1 for x in lines if x.startswith("¶"))
    assert shown + int(lines[-2].split()[1]) == 300
    assert lines[-1].startswith("v2 → v3")


def test_emoji_count_twice_towards_the_limit() -> None:
    assert utf16_len("🎉") == 2 and utf16_len("é") == 1 and utf16_len("中") == 1
    changes = [Change("added", None, i, "", "🎉" * 250) for i in range(40)]
    message = render_announcement(changes, CTX, budget=MAX_LENGTH)
    assert utf16_len(message) <= 4096 < utf16_len(message) + 2 * 250


def test_many_word_changes_stay_under_100_entities() -> None:
    old = " ".join(f"w{i}" for i in range(400))
    new = " ".join(f"w{i}" if i % 3 else f"X{i}" for i in range(400))
    changes = [Change("edited", k, k, old, new, word_diff(old, new)) for k in range(3)]
    for render in (render_announcement, render_diff):
        message = render(changes, CTX)
        assert_telegram_html(message)
        assert count_entities(message) <= 100


def test_huge_single_paragraph_is_shortened_not_dropped() -> None:
    old = "Start. " + "alpha beta gamma " * 600
    new = "Begin. " + "alpha beta delta " * 600
    message = render_announcement([Change("edited", 0, 0, old, new, word_diff(old, new))], CTX)
    assert_telegram_html(message)
    assert "¶1 edited:" in message


def test_plain_fallback_has_no_markup_and_same_limits() -> None:
    changes = headline_story()
    plain = render_plain(changes, CTX)
    assert not re.search(r"</?(b|s|a|i|code)\b", plain)
    assert "[-postpones-] {+cancels+}" in plain
    assert plain.split("\n")[0].startswith(
        "✏️ Headline changed, 1 paragraph edited — unannounced edit · theguardian"
    )
    assert CTX.url in plain
    many = [Change("added", None, i, "", "x" * 500) for i in range(100)]
    assert utf16_len(render_plain(many, CTX)) <= 4096


# --------------------------------------------------------------------------------------------
# Budget: a big edit is a digest that fits one phone screen
# --------------------------------------------------------------------------------------------


def rewrite_story() -> tuple[Snapshot, list[Change]]:
    old = extract(fixture_html("desk_rewrite_v1.html"))
    return old, diff_snapshots(old, extract(fixture_html("desk_rewrite_v2.html")))


def test_rewrite_is_a_digest_within_the_budget() -> None:
    old, changes = rewrite_story()
    ctx = MessageContext(**{**CTX.__dict__, "paragraphs": len(old.paragraphs)})
    full = render_announcement(changes, ctx, budget=MAX_LENGTH)
    message = render_announcement(changes, ctx)
    assert_telegram_html(message)
    assert visible_len(full) > 2500 and visible_len(message) <= 1000
    lines = message.split("\n")
    assert lines[0].startswith(
        "✏️ Headline changed, a number changed, a quote removed — unannounced edit · <a "
    )
    assert lines[1] == (
        "<s>Thousands of UK academics 'treated as second-class citizens'</s> "
        "<b>Universities rely on 'mass casualised labour' as strikes loom, report finds</b>"
    )  # the headline change in full
    # the summary names the kind of rewrite (issue 14: was "4 paragraphs edited, 2 added, 1 removed")
    summary = "The lede was rewritten, 3 more paragraphs edited, 2 new paragraphs, 1 removed"
    assert lines[2:4] == ["", summary]
    excerpts = [x for x in lines if x.startswith("¶")]
    # chosen by what changed (the numbers of the lede and of ¶15, the removed quote, the new
    # paragraphs), shown in reading order (issue 14: was most significant first)
    assert [x.split(":")[0] for x in excerpts] == [
        "¶1 edited",
        "¶2 edited",
        "¶4 added",
        "¶11 added",
        "¶11 removed",
        "¶15 edited",
    ]
    # a long rewritten run is shown around the number that made it significant
    assert "<b>…as lecturers at 74 universities prepare to…</b>" in excerpts[0]
    assert "<b>14 days of</b> strikes across <b>74</b>" in excerpts[-1]
    assert excerpts[4].startswith("¶11 removed: <s>“UCEA has over recent years")
    # a new paragraph is shown where its new facts are, not by its first words
    assert (
        excerpts[3] == "¶11 added: <b>…on fixed-term contracts in 2018-19, and that women and black and…</b>"
    )
    assert all(visible_len(x) <= 300 for x in excerpts)
    assert lines[-2] == "and 1 more paragraph changed, 3 more changes not shown — /diff_4"
    assert lines[-1] == "v2 → v3 · 35 min after the last version · /diff_4"
    plain = render_plain(changes, ctx)
    assert len(plain) <= 1000 and summary in plain


@pytest.mark.parametrize("budget", [300, 500, 700, 1000, 2000])
def test_the_budget_is_kept_unless_the_headline_alone_takes_more(budget: int) -> None:
    _, changes = rewrite_story()
    message = render_announcement(changes, CTX, budget=budget)
    assert_telegram_html(message)
    assert "<b>Universities rely on 'mass casualised labour' as strikes loom, report finds</b>" in message
    shown = sum(1 for x in message.split("\n") if x.startswith("¶"))
    more = re.search(r"and (\d+) more paragraphs? changed(, \d+ more changes? not shown)? — /diff_4", message)
    assert shown + (int(more.group(1)) if more else 0) == len(changes) - 1
    if budget >= 500:
        assert visible_len(message) <= budget and shown >= 1
    else:  # header, headline in full, summary and footer already take 397 characters (issue 14:
        # 354 before the summary named the kind of rewrite; "unannounced edit" is 5 more than "silent edit")
        assert visible_len(message) == 397 and shown == 0


def test_most_of_the_text_changed_reads_rewritten() -> None:
    old = tuple(f"Paragraph {i} says the council met on day {i} and voted on the plan." for i in range(11))
    new = [
        p.replace("voted on", "rejected") + " Residents protested outside the hall all day." for p in old[:9]
    ]
    new += [*old[9:], *(f"New paragraph {i} with fresh reporting from the scene today." for i in range(7))]
    changes = diff_snapshots(Snapshot("Council meets", old), Snapshot("Council meets", tuple(new)))
    ctx = MessageContext(**{**CTX.__dict__, "paragraphs": 11})
    message = render_announcement(changes, ctx, budget=400)
    assert "\nRewritten: 9 of 11 paragraphs changed, 7 new\n" in message
    assert message.split("\n")[0].startswith("✏️ Edited — unannounced edit · ")
    assert visible_len(message) <= 400


def test_most_significant_changes_are_chosen_and_read_in_order() -> None:
    filler = "The committee discussed the proposal at length on Tuesday evening in the town hall"
    plain_edit = (f"{filler}, officials said.", f"{filler}, officials told reporters.")
    number_edit = (f"{filler}; 12 people were hurt.", f"{filler}; 19 people were hurt.")
    negation = (f"{filler} and the mayor will sign it.", f"{filler} and the mayor will not sign it.")
    changes = [
        Change("edited", k + 1, k + 1, a, b, word_diff(a, b))
        for k, (a, b) in enumerate([plain_edit, plain_edit, negation, plain_edit, number_edit])
    ]
    message = render_announcement(changes, CTX, budget=300)
    excerpts = [x for x in message.split("\n") if x.startswith("¶")]
    # room for two: the number and the negation, ¶4 before ¶6 (issue 14: was ¶6 first)
    assert excerpts == [
        "¶4 edited: …mayor will <b>not</b> sign it.",
        "¶6 edited: …town hall; <s>12</s> <b>19</b> people were…",
    ]
    assert "\nand 3 more paragraphs changed — /diff_4\n" in message
    assert visible_len(message) <= 300


def test_a_small_edit_is_shown_in_full_whatever_the_budget() -> None:
    long_old = "Start of a long paragraph. " + "Every word here stays the same as it was. " * 30
    long_new = long_old.replace("Start", "Beginning")
    change = Change("edited", 3, 3, long_old, long_new, word_diff(long_old, long_new))
    assert render_announcement([change], CTX, budget=300) == render_announcement(
        [change], CTX, budget=MAX_LENGTH
    )
    assert render_announcement(headline_story()[:1], CTX, budget=300) == render_announcement(
        headline_story()[:1], CTX, budget=MAX_LENGTH
    )


# --------------------------------------------------------------------------------------------
# CJK and RTL
# --------------------------------------------------------------------------------------------

SCRIPTS = [
    pytest.param(
        "zh_title_only.html",
        "zh_title_only_v2.html",
        ["<b>因为</b>", "<b>约</b>", "<s>多</s>"],
        id="chinese",
    ),
    pytest.param("ar_article.html", "ar_article_v2.html", ["<b>مقاتلون</b>", "<b>حتى الآن</b>"], id="arabic"),
]


@pytest.mark.parametrize(("a", "b", "runs"), SCRIPTS)
def test_scripts_render_word_runs(a: str, b: str, runs: list[str]) -> None:
    changes = diff_snapshots(extract(fixture_html(a)), extract(fixture_html(b)))
    message = render_announcement(changes, CTX)
    assert_telegram_html(message)
    for run in runs:
        assert run in message


def test_cjk_runs_have_no_spaces_added() -> None:
    old, new = "符合国际社会利益", "符合世界各国利益"
    message = render_announcement([Change("headline", None, None, old, new, word_diff(old, new))], CTX)
    assert "符合<s>国际社会</s><b>世界各国</b>利益" in message


# --------------------------------------------------------------------------------------------
# Footer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=35), "35 min"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(days=1, hours=4), "1 day 4 h"),
        (timedelta(days=12, hours=4), "12 days"),
    ],
)
def test_format_elapsed(elapsed: timedelta, text: str) -> None:
    assert format_elapsed(elapsed) == text


def test_footer_without_elapsed_or_number() -> None:
    ctx = MessageContext("example.com", "https://example.com/a", "Title", 1, 2)
    message = render_announcement([Change("added", None, 0, "", "New.")], ctx)
    assert message.split("\n")[-1] == "v1 → v2"


# --------------------------------------------------------------------------------------------
# Property: whatever the changes, the message is valid and within limits
# --------------------------------------------------------------------------------------------

TEXT = st.text(
    st.sampled_from(list("ab <>&\"'; 中文 عربي 🎉👨‍👩‍👧 \u00a0xyz.,?0123")),
    min_size=1,
    max_size=400,
)


@st.composite
def change_lists(draw: st.DrawFn) -> list[Change]:
    out = []
    for k in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["headline", "edited", "added", "removed", "moved"]))
        old, new = draw(TEXT), draw(TEXT)
        if kind == "added":
            out.append(Change("added", None, k, "", new))
        elif kind == "removed":
            out.append(Change("removed", k, None, old, ""))
        elif kind == "moved":
            out.append(Change("moved", k, k + 3, old, old))
        else:
            out.append(
                Change(
                    kind,
                    None if kind == "headline" else k,
                    None if kind == "headline" else k,
                    old,
                    new,
                    word_diff(old, new),
                )
            )
    return out


@settings(max_examples=150, deadline=None)
@given(change_lists(), TEXT)
def test_any_changes_render_valid_messages(changes: list[Change], title: str) -> None:
    ctx = MessageContext(
        title[:30], "https://example.com/?q=" + title[:20], title, 3, 4, timedelta(hours=1), 7
    )
    for render in (render_announcement, render_diff):
        assert_telegram_html(render(changes, ctx))
    assert utf16_len(render_plain(changes, ctx)) <= 4096
    # without a headline change to show in full, two or more paragraphs fit the budget
    if sum(c.kind != "headline" for c in changes) >= 2 and all(c.kind != "headline" for c in changes):
        assert visible_len(render_announcement(changes, ctx)) <= 1000


# --------------------------------------------------------------------------------------------
# One long block (transcripts, live pages, text without paragraph markup) keeps the budget
# --------------------------------------------------------------------------------------------

TRANSCRIPT = " ".join(
    f"Speaker {k % 4 + 1}: at the hearing on item {k} the committee heard that the budget for the "
    f"harbour works stood at {100 + k} million and that the contractor had finished stage {k}."
    for k in range(45)
)


def _one_block_edit() -> Change:
    new = (
        TRANSCRIPT.replace("stood at 105 million", "stood at 950 million")
        .replace("item 12 the committee heard", "item 12 the committee was not told")
        .replace("finished stage 20.", "finished stage 20, Mayor Anna Kowalska said.")
        .replace("item 31 the committee", "item 31 the full council")
        .replace("finished stage 40", "abandoned stage 40")
    )
    # and a copy-edit in every third sentence, as a live page's rewrite brings
    new = re.sub(r"the contractor had (finished stage \d*[02468]\.)", r"the builder had \1", new)
    return Change("edited", 0, 0, TRANSCRIPT, new, word_diff(TRANSCRIPT, new))


def test_an_edit_inside_one_long_block_keeps_the_budget() -> None:
    change = _one_block_edit()
    assert len(TRANSCRIPT) > 7000
    message = render_announcement([change], CTX)
    assert_telegram_html(message)
    assert visible_len(message) <= 1000, visible_len(message)
    # read at a glance, and two such digests still fit one coalesced update (Telegram keeps 100)
    assert count_entities(message) <= 40
    lines = message.split("\n")
    assert lines[-1] == "v2 → v3 · 35 min after the last version · /diff_4"
    # excerpts around the changed words, the number change among them, with the pointer
    assert "<s>105</s> <b>950</b>" in message
    assert "<b>not</b>" in message or "<b>was not told</b>" in message
    assert "— /diff_4" in message
    assert "not shown" in message or "more changes" in message
    plain = render_plain([change], CTX)
    assert len(plain) <= 1000


BLOCK_WORDS = st.sampled_from(
    [
        *("the", "council", "said", "on", "Tuesday", "that", "harbour", "works", "were", "late."),
        *("Anna", "Kowalska", "Mayor", "12", "1,500", "3.5%", "not", "never", "“we", "will”"),
        *("<b>", "</s>", "&amp;", "a&b", "<script>", "x<y", '"q"', "中文", "عربي", "🎉👨‍👩‍👧"),
    ]
)


@st.composite
def long_block_edits(draw: st.DrawFn) -> tuple[str, str]:
    """One block of 250–600 words (a transcript, a live page without paragraph markup) and a
    version with up to 60 words replaced, inserted or deleted anywhere in it."""
    words = draw(st.lists(BLOCK_WORDS, min_size=250, max_size=600))
    new = list(words)
    for _ in range(draw(st.integers(1, 60))):
        at = draw(st.integers(0, len(new) - 1))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        if op == "delete" and len(new) > 1:
            del new[at]
        elif op == "insert":
            new.insert(at, draw(BLOCK_WORDS))
        else:
            new[at] = draw(BLOCK_WORDS)
    return " ".join(words), " ".join(new)


_OUR_TAGS = re.compile(r'</?(?:b|s|i|code)>|<a href="[^"<>]*">|</a>')


@settings(max_examples=40, deadline=None)
@given(long_block_edits(), st.sampled_from([300, 600, 1000]))
def test_any_edit_inside_one_long_block_keeps_the_budget(edit: tuple[str, str], budget: int) -> None:
    old, new = edit
    change = Change("edited", 0, 0, old, new, word_diff(old, new))
    if not change.segments or all(s.op == "equal" for s in change.segments):
        return
    # all of plain text is visible, the article's address too: 300 is less than its fixed lines
    plain_budget = max(budget, 600)
    assert len(render_plain([change], CTX, budget=plain_budget)) <= plain_budget
    message = render_announcement([change], CTX, budget=budget)
    assert visible_len(message) <= budget
    assert_telegram_html(message)  # valid tags, at most 100 entities, no bare "&"
    # every user string escaped: once our own tags are gone no "<" or ">" is left
    assert not re.search(r"[<>]", _OUR_TAGS.sub("", message))
    assert message.split("\n")[-1] == "v2 → v3 · 35 min after the last version · /diff_4"
