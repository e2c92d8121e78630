"""Small article pages for end-to-end tests, shaped like a real news site's markup."""

from __future__ import annotations

from html import escape

PUTIN_V1 = "Vladimir Putin postpones Paris talks on Syria"
PUTIN_V2 = "Vladimir Putin cancels Paris visit amid Syria row"
PUTIN_P1_V1 = (
    "Vladimir Putin will not visit Paris next week after declining to meet François Hollande "
    "for talks limited to the war in Syria, the Kremlin said on Tuesday."
)
PUTIN_P1_V2 = (
    "Vladimir Putin has cancelled a visit to Paris after the Kremlin accused France of trying "
    "to limit his talks with François Hollande to the war in Syria."
)
PUTIN_REST = [
    "The Russian president had been due to open a new Orthodox cathedral and cultural centre "
    "on the banks of the Seine on 19 October.",
    "Hollande had said he was ready to meet Putin to discuss Syria but would not attend the "
    "inauguration, after Russian bombing of eastern Aleppo drew condemnation in Europe.",
    "Dmitry Peskov, the Kremlin spokesman, said Putin was ready to visit when it was "
    "convenient for Hollande, and that contacts between the two leaders would continue.",
    "France has pushed for a UN security council resolution calling for a ceasefire in Aleppo, "
    "which Russia vetoed at the weekend.",
]


def article_html(
    headline: str = PUTIN_V1,
    paragraphs: list[str] | None = None,
    *,
    updated: str = "Updated 5 minutes ago",
    comments: int = 12,
    most_read: tuple[str, ...] = ("Markets fall on rate fears", "Storm hits the coast"),
) -> str:
    """A page whose article is ``headline`` + ``paragraphs``; the rest is noise that changes."""
    if paragraphs is None:
        paragraphs = [PUTIN_P1_V1, *PUTIN_REST]
    body = "\n".join(f"      <p>{escape(p)}</p>" for p in paragraphs)
    reads = "\n".join(f'        <li><a href="/r/{i}">{escape(t)}</a></li>' for i, t in enumerate(most_read))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(headline)} | World news | The Daily Example</title>
  <meta property="og:title" content="{escape(headline, quote=True)}">
  <meta property="og:site_name" content="The Daily Example">
  <meta name="author" content="Shaun Walker">
  <meta property="article:published_time" content="2016-10-11T09:00:00Z">
</head>
<body>
  <header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a></nav></header>
  <main>
    <article>
      <h1>{escape(headline)}</h1>
      <p class="byline">Shaun Walker in Moscow · <time>{escape(updated)}</time></p>
{body}
    </article>
    <aside>
      <h2>Most read</h2>
      <ol>
{reads}
      </ol>
      <p class="comments">{comments} comments</p>
    </aside>
  </main>
  <footer><p>© 2016 The Daily Example. All rights reserved.</p></footer>
</body>
</html>
"""


def putin_v2() -> str:
    return article_html(PUTIN_V2, [PUTIN_P1_V2, *PUTIN_REST])


def with_canonical(html: str, href: str) -> str:
    """``html`` declaring ``href`` as its address (the way news templates do)."""
    return html.replace(
        '<meta charset="utf-8">', f'<meta charset="utf-8">\n  <link rel="canonical" href="{href}">'
    )
