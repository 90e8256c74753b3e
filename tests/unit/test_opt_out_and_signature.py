"""Opt-out keywords (`OptOutKeywords`) and Meta's webhook signature (`sign`, `signature_matches`)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywhatsapp.domain.messaging.opt_out import (
    DEFAULT_START_WORDS,
    DEFAULT_STOP_WORDS,
    OptOutChange,
    OptOutKeywords,
)
from pywhatsapp.domain.webhooks.signature import sign, signature_matches

OUT, IN = OptOutChange.OPT_OUT, OptOutChange.OPT_IN
DEFAULTS = OptOutKeywords()


# --- keywords ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", sorted(DEFAULT_STOP_WORDS))
def test_every_default_stop_word_opts_out(word: str) -> None:
    assert DEFAULTS.change_for(word) is OUT


@pytest.mark.parametrize("word", sorted(DEFAULT_START_WORDS))
def test_every_default_start_word_opts_in(word: str) -> None:
    assert DEFAULTS.change_for(word) is IN


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("stop", OUT),
        ("Stop", OUT),
        ("sToP", OUT),
        ("unsubscribe", OUT),
        ("start", IN),
        ("Opt-In", IN),
        ("parar", OUT),
    ],
)
def test_case_does_not_matter(text: str, change: OptOutChange) -> None:
    assert DEFAULTS.change_for(text) is change


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("  STOP  ", OUT),
        ("STOP\n", OUT),
        ("\tstart", IN),
        ("STOP.", OUT),
        ("STOP!", OUT),
        ("stop!!!", OUT),
        ("Stop?", OUT),
        ("¡Alto!", OUT),
        ("¿PARAR?", OUT),
        ("...start...", IN),
        ("opt   out", OUT),
        ("Opt\nIn", IN),
        (" ¡ stop ! ", OUT),
    ],
)
def test_surrounding_spaces_and_punctuation_are_ignored(text: str, change: OptOutChange) -> None:
    assert DEFAULTS.change_for(text) is change


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "!!!",
        "please stop",
        "stop it",
        "don't stop",
        "STOPP",
        "S T O P",
        "stop, please",
        "stopstop",
        "start over",
        "OPTOUT now",
        "OPT_OUT",
        "STOP 🙏",
    ],
)
def test_anything_but_a_lone_keyword_changes_nothing(text: str | None) -> None:
    assert DEFAULTS.change_for(text) is None


def test_a_word_in_both_lists_opts_out() -> None:
    keywords = OptOutKeywords(stop=frozenset({"STOP"}), start=frozenset({"STOP", "GO"}))

    assert keywords.change_for("stop") is OUT
    assert keywords.change_for("go") is IN


def test_configured_lists_replace_the_defaults() -> None:
    keywords = OptOutKeywords.from_setting("basta, No  Más ,BAJA", "volver,  ALTA")

    assert keywords.stop == frozenset({"BASTA", "NO MÁS", "BAJA"})
    assert keywords.start == frozenset({"VOLVER", "ALTA"})
    assert keywords.change_for("no más!") is OUT
    assert keywords.change_for("Alta") is IN
    assert keywords.change_for("STOP") is None
    assert keywords.change_for("START") is None


@pytest.mark.parametrize("setting", [None, ""])
def test_an_unset_list_keeps_its_defaults(setting: str | None) -> None:
    keywords = OptOutKeywords.from_setting(setting, "VOLVER")

    assert keywords.stop == DEFAULT_STOP_WORDS
    assert keywords.start == frozenset({"VOLVER"})
    assert OptOutKeywords.from_setting("BASTA", setting).start == DEFAULT_START_WORDS


def test_empty_items_of_a_configured_list_are_skipped() -> None:
    keywords = OptOutKeywords.from_setting(" , BASTA,, ,", None)

    assert keywords.stop == frozenset({"BASTA"})
    assert keywords.change_for("") is None


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(DEFAULT_STOP_WORDS)),
    st.text(alphabet=" \t\n", max_size=2),
    st.text(alphabet=".!?¡¿", max_size=3),
)
def test_any_stop_word_in_any_case_with_spaces_and_punctuation_around_opts_out(
    word: str, spaces: str, punctuation: str
) -> None:
    spelled = "".join(c.lower() if i % 2 else c for i, c in enumerate(word))
    assert DEFAULTS.change_for(spaces + punctuation + spelled + punctuation[::-1] + spaces) is OUT


@pytest.mark.parametrize("text", ["Stop. !", "¡ ¿Alto? !"])
def test_punctuation_separated_by_spaces_around_a_keyword_is_ignored(text: str) -> None:
    # "surrounding spaces and punctuation ignored": in any mixture, not only one layer of each.
    assert DEFAULTS.change_for(text) is OUT


# --- signature --------------------------------------------------------------------------------------------

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
SECRET = "0123456789abcdef0123456789abcdef"


def test_sign_is_metas_hmac_sha256_header() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()

    assert sign(BODY, SECRET) == f"sha256={expected}"


def test_a_matching_signature_matches() -> None:
    assert signature_matches(BODY, sign(BODY, SECRET), SECRET)


def test_surrounding_whitespace_in_the_header_is_ignored() -> None:
    assert signature_matches(BODY, f"  {sign(BODY, SECRET)}\t", SECRET)


def test_the_signature_covers_the_raw_bytes() -> None:
    # The same JSON with another spacing is another body: Meta signs bytes, not meaning.
    respaced = b'{"object": "whatsapp_business_account", "entry": []}'

    assert not signature_matches(respaced, sign(BODY, SECRET), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sha256=",
        "sha256",
        sign(BODY, "another-secret"),
        sign(BODY + b"\n", SECRET),
        sign(BODY, SECRET).removeprefix("sha256="),
        "sha1=" + sign(BODY, SECRET).removeprefix("sha256="),
        sign(BODY, SECRET)[:-1],
        sign(BODY, SECRET) + "0",
        "sha256=" + "0" * 64,
    ],
    ids=[
        "empty",
        "prefix-only",
        "no-equals",
        "other-secret",
        "other-body",
        "no-prefix",
        "sha1-prefix",
        "truncated",
        "extended",
        "zeros",
    ],
)
def test_anything_else_does_not_match(header: str) -> None:
    assert not signature_matches(BODY, header, SECRET)


@pytest.mark.parametrize(
    "header",
    ["sha256=é" + "0" * 63, "sha256=" + "\uff10" * 64, "sha256=\u2028"],
    ids=["latin-1", "fullwidth-digits", "unicode-space"],
)
def test_a_non_ascii_header_does_not_match_and_does_not_raise(header: str) -> None:
    # HTTP servers hand over header bytes decoded as latin-1: anything a client sends can arrive here.
    assert not signature_matches(BODY, header, SECRET)


def test_a_non_ascii_secret_signs() -> None:
    assert signature_matches(BODY, sign(BODY, "sécret-ü"), "sécret-ü")
    assert not signature_matches(BODY, sign(BODY, "sécret-ü"), "secret-u")


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200), st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=200))
def test_a_body_verifies_under_its_own_secret_only(body: bytes, secret: str, other: bytes) -> None:
    header = sign(body, secret)

    assert signature_matches(body, header, secret)
    assert signature_matches(body, header, secret + "x") is False
    if other != body:
        assert not signature_matches(other, header, secret)
