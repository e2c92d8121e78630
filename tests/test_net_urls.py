"""bot.net.urls: what users type, and when two URLs are the same article. One row per case."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import urls

from bot.net.urls import (
    TRACKING_PARAMS,
    URLError,
    canonical_url,
    ip_literal,
    join_url,
    parse_user_url,
    site_name,
    url_key,
)

NOT_A_URL = "That doesn't look like a web address. Send it like this: /track https://example.com/news/story"
NO_DOMAIN = "That address has no domain name. Send a full link like https://example.com/news/story"
BAD_SCHEME = "I can only follow http:// and https:// links."
CREDENTIALS = "Links with a user name or password in them aren't supported."
BAD_PORT = "That link has an invalid port number."
TOO_LONG = "That link is too long (over 2000 characters)."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com/a/b", "https://example.com/a/b"),
        ("  https://example.com/x \n", "https://example.com/x"),
        ("<https://example.com/x>", "https://example.com/x"),
        ("< https://example.com/x >", "https://example.com/x"),
        ("http://example.com/x", "http://example.com/x"),
        ("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"),
        ("//example.com/x", "https://example.com/x"),
        ("www.bbc.co.uk/news/world-123", "https://www.bbc.co.uk/news/world-123"),
        ("example.com:8080/x", "https://example.com:8080/x"),
        ("https://example.com/a?q=1#frag", "https://example.com/a?q=1#frag"),
        ("https://example.com.", "https://example.com."),
        ("bücher.de/ä", "https://xn--bcher-kva.de/%C3%A4"),
        ("https://münchen.de", "https://xn--mnchen-3ya.de"),
        ("https://news_site.example.com/x", "https://news_site.example.com/x"),
        # IP literals are a web address; whether one may be *fetched* is bot.net.fetch's call.
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://[::1]/", "http://[::1]/"),
        ("http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]/"),
        ("https://example.com/" + "a" * 1980, "https://example.com/" + "a" * 1980),  # 2000 chars
    ],
)
def test_parse_user_url_accepts(text: str, expected: str) -> None:
    assert parse_user_url(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", NOT_A_URL),
        ("   ", NOT_A_URL),
        ("<>", NOT_A_URL),
        ("hello world", NOT_A_URL),
        ("https://exa\x00mple.com", NOT_A_URL),
        ("http://ex..com/", NOT_A_URL),
        ("https://-bad.example.com/", NOT_A_URL),
        ("http://1.2.3.4.5/", NOT_A_URL),
        ("http://[::1", NOT_A_URL),
        ("https:///x", NOT_A_URL),
        ("http:example.com", NOT_A_URL),
        ("hello", NO_DOMAIN),
        ("localhost", NO_DOMAIN),
        ("localhost:8080", NO_DOMAIN),
        ("http://intranet/", NO_DOMAIN),
        ("javascript:alert(1)", BAD_SCHEME),
        ("JavaScript:alert(1)", BAD_SCHEME),
        ("mailto:editor@example.com", BAD_SCHEME),
        ("ftp://example.com/file", BAD_SCHEME),
        ("file:///etc/passwd", BAD_SCHEME),
        ("data:text/html,<script>", BAD_SCHEME),
        ("ws://example.com/", BAD_SCHEME),
        ("https://user:pass@example.com/", CREDENTIALS),
        ("https://user@example.com/", CREDENTIALS),
        ("user:pass@example.com", CREDENTIALS),
        ("https://example.com:99999/", BAD_PORT),
        ("https://example.com:0/", BAD_PORT),
        ("https://example.com/" + "a" * 1981, TOO_LONG),  # 2001 chars
    ],
)
def test_parse_user_url_refuses(text: str, message: str) -> None:
    with pytest.raises(URLError) as caught:
        parse_user_url(text)
    assert caught.value.args[0] == message


def test_max_chars_is_configurable() -> None:
    with pytest.raises(URLError) as caught:
        parse_user_url("https://example.com/abc", max_chars=10)
    assert caught.value.args[0] == "That link is too long (over 10 characters)."


@pytest.mark.parametrize("message", [NOT_A_URL, NO_DOMAIN, BAD_SCHEME, CREDENTIALS, BAD_PORT, TOO_LONG])
def test_messages_are_short_and_safe_for_telegram_html(message: str) -> None:
    assert len(message) <= 120
    assert not set("<>&") & set(message)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/a", "https://www.example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=tw&utm_medium=social&id=5", "https://example.com/a?id=5"),
        ("https://example.com/a?b=2&fbclid=X&a=1&gclid=Y", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?UTM_Source=x&Id=1", "https://example.com/a?Id=1"),
        ("https://example.com/a?utm=1&ref=home", "https://example.com/a?utm=1&ref=home"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?a=1&&b=2&", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?utm_source=x", "https://example.com/a"),
        ("https://example.com/a%2fb%7e", "https://example.com/a%2Fb~"),
        ("https://example.com/%41%62c", "https://example.com/Abc"),
        ("https://example.com/s?q=%c3%a9", "https://example.com/s?q=%C3%A9"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://Bücher.de/x", "https://xn--bcher-kva.de/x"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("http://0x7f000001:81/", "http://127.0.0.1:81/"),
        ("http://[::1]:80/a", "http://[::1]/a"),
        ("http://[2001:DB8::1]/a", "http://[2001:db8::1]/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent


@pytest.mark.parametrize("param", sorted(TRACKING_PARAMS | {"utm_source", "utm_content", "utm_whatever"}))
def test_every_tracking_parameter_is_dropped(param: str) -> None:
    assert canonical_url(f"https://example.com/a?id=7&{param}=x") == "https://example.com/a?id=7"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://example.com/a", "example.com/a"),
        ("http://example.com/a/", "example.com/a"),
        ("https://example.com/", "example.com"),
        ("https://example.com", "example.com"),
        ("https://example.com/a/?x=1", "example.com/a?x=1"),
        ("https://example.com/a?utm_source=x#f", "example.com/a"),
        ("https://www.example.com/a", "www.example.com/a"),
        ("http://example.com:8080/a/", "example.com:8080/a"),
        ("HTTPS://Example.com:443/A", "example.com/A"),
    ],
)
def test_url_key(url: str, key: str) -> None:
    assert url_key(url) == key


def test_url_key_joins_scheme_and_slash_variants() -> None:
    variants = [
        "https://example.com/news/story",
        "http://example.com/news/story/",
        "HTTPS://EXAMPLE.COM:443/news/story#top",
        "https://example.com/news/story?utm_campaign=x",
    ]
    assert len({url_key(v) for v in variants}) == 1


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.theguardian.com/world/2024/x", "theguardian.com"),
        ("https://m.bbc.co.uk/news", "bbc.co.uk"),
        ("https://amp.cnn.com/x", "cnn.com"),
        ("https://amp.www.example.com/x", "example.com"),
        ("https://edition.cnn.com/x", "edition.cnn.com"),
        ("https://WWW.Example.COM", "example.com"),
        ("https://www.com/", "www.com"),
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("https://bücher.de/x", "xn--bcher-kva.de"),
    ],
)
def test_site_name(url: str, site: str) -> None:
    assert site_name(url) == site


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
        ("example.com", None),
        ("beef.cafe", None),
        ("deadbeef", None),
        ("1.2.3.4.5", None),
        ("08.0.0.1", None),
        ("", None),
    ],
)
def test_ip_literal(host: str, ip: str | None) -> None:
    found = ip_literal(host)
    assert (None if found is None else ipaddress.ip_address(str(found).split("%")[0])) == (
        None if ip is None else ipaddress.ip_address(ip)
    )


@pytest.mark.parametrize(
    ("base", "location", "expected"),
    [
        ("https://example.com/a/b", "/c", "https://example.com/c"),
        ("https://example.com/a/b", "c", "https://example.com/a/c"),
        ("https://example.com/a", "//other.example/x", "https://other.example/x"),
        ("https://example.com/a", "http://0x7f.1/x", "http://127.0.0.1/x"),
        ("https://example.com/a", " https://example.org/x ", "https://example.org/x"),
    ],
)
def test_join_url(base: str, location: str, expected: str) -> None:
    assert str(join_url(base, location)) == expected


@given(urls())
def test_canonical_url_is_idempotent_and_keys_agree(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert url_key(once) == url_key(url)
    assert "#" not in once


_PIECES = st.sampled_from(
    [*"abz09.:/?#@[]%&=-_~ <>\\\x00é日", "http://", "https://", "0x", "::", "xn--", "www."]
)


@given(st.one_of(st.text(), st.lists(_PIECES, max_size=20).map("".join)))
def test_any_text_is_a_url_or_a_url_error(text: str) -> None:
    try:
        url = parse_user_url(text)
    except URLError as exc:
        assert exc.args[0]
        return
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert url_key(url) and site_name(url)
