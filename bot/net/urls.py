"""What a URL typed by a user means, and when two URLs name the same article.

Pure functions, no I/O. The fetcher (``bot.net.fetch``) decides whether an address may be
*fetched*; this module only decides whether text is a web address and how to normalise it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote_plus, urljoin, urlsplit

import httpx

__all__ = [
    "TRACKING_PARAMS",
    "IPAddress",
    "URLError",
    "article_url",
    "canonical_url",
    "ip_literal",
    "join_url",
    "parse_url",
    "parse_user_url",
    "site_name",
    "url_key",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NOT_A_URL = "That doesn't look like a web address. Send it like this: /track https://example.com/news/story"
TOO_LONG = "That link is too long (over {max_chars} characters)."
BAD_SCHEME = "I can only follow http:// and https:// links."
CREDENTIALS = "Links with a user name or password in them aren't supported."
NO_DOMAIN = "That address has no domain name. Send a full link like https://example.com/news/story"
BAD_PORT = "That link has an invalid port number."


class URLError(ValueError):
    """Text is not a usable web address; ``args[0]`` is a short sentence for the user."""


# Query parameters that identify a click or a campaign, never the article. Compared
# case-insensitively; anything starting with ``utm_`` is dropped too. Sources: the lists of
# Firefox's query stripping, ClearURLs and Neat URL, reduced to the keys news sites use.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad and social click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "ysclid", "igshid", "igsh", "twclid", "ttclid", "li_fat_id", "srsltid", "rb_clickid",
        "epik", "s_cid", "ncid", "ocid", "cmpid", "spm", "ito", "smid", "smtyp",
        # mail and analytics tools
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp",
        "hsctatracking", "mkt_tok", "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id",
        "wickedid", "sr_share", "guccounter", "guce_referrer", "guce_referrer_sig",
        "__twitter_impression", "ref_src", "ref_url",
        # AT Internet (BBC and others)
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "at_format", "at_link", "at_link_id", "at_link_origin", "at_link_type", "at_bbc_team",
        "at_ptr_name", "at_ptr_type", "at_creation", "at_send_date", "at_recipient_id",
        "at_recipient_list", "at_emailtype", "at_campaign_type", "at_objective", "at_platform",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_",)

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOST_PORT = re.compile(r"[^/?#@:]+:\d+(?:[/?#]|$)")  # "example.com:8080/x", not "mailto:"
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_HOST = re.compile(r"[0-9][0-9a-fx.]*", re.IGNORECASE)
_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SITE_PREFIXES = ("www.", "m.", "amp.")


def ip_literal(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, or None for a name.

    Besides the usual forms this accepts every spelling a resolver turns into an IPv4
    address without asking DNS (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``),
    because those are how people sneak loopback past a check on the URL text.
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # IPv6 zone id ("fe80::1%25eth0")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text):
        try:  # inet_aton is what getaddrinfo uses for numeric hosts
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def parse_url(url: str) -> httpx.URL:
    """Parse an absolute URL as the fetcher will see it; odd IPv4 spellings become dotted.

    Raises URLError for text that httpx cannot parse.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise URLError(NOT_A_URL) from None
    if host and not parts.netloc.endswith("]"):
        ip = ip_literal(host)
        if ip is not None and ip.version == 4 and str(ip) != host:
            userinfo, at, hostport = parts.netloc.rpartition("@")
            _, colon, port = hostport.partition(":")
            url = parts._replace(netloc=f"{userinfo}{at}{ip}{colon}{port}").geturl()
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise URLError(NOT_A_URL) from None


def join_url(base: str, location: str) -> httpx.URL:
    """Resolve a redirect's Location against the URL that sent it."""
    try:
        joined = urljoin(base, location.strip())
    except ValueError:  # "http://[::1"
        raise URLError(NOT_A_URL) from None
    return parse_url(joined)


def _check_host(url: httpx.URL) -> None:
    """Refuse hosts that cannot be a public web site's name."""
    host = url.raw_host.decode("ascii", "replace").lower()
    if not host:
        raise URLError(NOT_A_URL)
    if ip_literal(host) is not None:
        return
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(labels) < 2:
        raise URLError(NO_DOMAIN)
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise URLError(NOT_A_URL)
    if labels[-1].isdigit():  # "1.2.3.4.5": neither an address nor a name
        raise URLError(NOT_A_URL)


def parse_user_url(text: str, *, max_chars: int = 2000) -> str:
    """What the user typed after /track → an absolute http(s) URL, or URLError.

    Forgiving about form (missing scheme, surrounding ``<>``, IDN hosts), strict about
    meaning: only http/https, no credentials, a host that could be a public site.
    """
    s = text.strip()
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1].strip()
    if not s:
        raise URLError(NOT_A_URL)
    if len(s) > max_chars:
        raise URLError(TOO_LONG.format(max_chars=max_chars))
    if any(c.isspace() or not c.isprintable() for c in s):
        raise URLError(NOT_A_URL)
    if s.startswith("//"):
        s = "https:" + s
    elif (m := _SCHEME.match(s)) is None or _HOST_PORT.match(s):
        s = "https://" + s  # "example.com/a", "example.com:8080/a"
    elif m[1].lower() not in _DEFAULT_PORTS:
        rest = s[m.end() :]
        if not rest.startswith("//") and "@" in rest.split("/", 1)[0] and m[1] != "mailto":
            raise URLError(CREDENTIALS)  # "user:pass@example.com"
        raise URLError(BAD_SCHEME)
    url = parse_url(s)
    if url.scheme not in _DEFAULT_PORTS:
        raise URLError(BAD_SCHEME)
    if url.userinfo:
        raise URLError(CREDENTIALS)
    if url.port is not None and not 0 < url.port < 65536:
        raise URLError(BAD_PORT)
    _check_host(url)
    return str(url)


def _normalise_percent(text: str) -> str:
    """Upper-case percent escapes and decode the ones for unreserved characters (RFC 3986)."""

    def fix(m: re.Match[str]) -> str:
        byte = int(m[1], 16)
        return chr(byte) if byte in _UNRESERVED else "%" + m[1].upper()

    return _PERCENT.sub(fix, text)


def _is_tracking(param: str) -> bool:
    name = unquote_plus(param.split("=", 1)[0]).lower()
    return name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """One spelling per address: the form stored, fetched and compared.

    Lower-case scheme and host (punycode), no default port, no fragment, no credentials,
    no tracking parameters (the rest keep their order), canonical percent escapes, "/" for
    an empty path. Raises URLError for text that is not a URL.
    """
    u = parse_url(url)
    scheme = u.scheme.lower()
    host = u.raw_host.decode("ascii").lower().removesuffix(".")
    if not host:
        raise URLError(NOT_A_URL)
    if ":" in host:
        host = f"[{host}]"
    port = "" if u.port is None or _DEFAULT_PORTS.get(scheme) == u.port else f":{u.port}"
    parts = urlsplit(str(u))
    path = _normalise_percent(parts.path) or "/"
    query = "&".join(_normalise_percent(p) for p in parts.query.split("&") if p and not _is_tracking(p))
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "")


def url_key(url: str) -> str:
    """The article's identity: canonical URL without scheme or trailing slash.

    http vs https and "/a/" vs "/a" (which redirects commonly flip) name the same article.
    """
    rest = canonical_url(url).split("://", 1)[1]
    before, q, query = rest.partition("?")
    return before.rstrip("/") + q + query


def site_name(url: str) -> str:
    """The site as shown in messages: "theguardian.com" for https://www.theguardian.com/x.

    Stays in punycode on purpose: a look-alike Unicode name must not pass for a real paper.
    """
    host = parse_url(url).raw_host.decode("ascii").lower().removesuffix(".")
    if ip_literal(host) is not None:
        return host
    stripped = True
    while stripped:
        stripped = False
        for prefix in _SITE_PREFIXES:
            rest = host.removeprefix(prefix)
            if rest != host and "." in rest:
                host, stripped = rest, True
    return host


def article_url(page_url: str, declared: str | None) -> str:
    """The URL that names the article served at ``page_url`` (canonical form).

    The page's own canonical link or og:url (``declared``, relative or absolute) merges its
    AMP, mobile and query-string variants into one article, but only when it stays on the
    same site (``site_name``: www., m. and amp. hosts are one site) and names a page below
    the front page; a syndicated copy pointing at its source, a template pointing every page
    at the home page, or anything unparsable leaves the article at ``page_url``.
    """
    own = canonical_url(page_url)
    if not declared:
        return own
    try:
        named = canonical_url(str(join_url(own, declared)))
        if urlsplit(named).scheme not in _DEFAULT_PORTS or site_name(named) != site_name(own):
            return own
    except URLError:
        return own
    if urlsplit(named).path.strip("/") == "":
        return own  # the front page is no article's name
    return named
