"""Search inputs are bounded: a search longer than any value it could match is
refused with a message (in the editing layer, whoever calls it) and the app's
search boxes do not accept it in the first place."""

from __future__ import annotations

import app_editing_support
import pytest

from core import editing

shop = app_editing_support.shop
env = app_editing_support.env

HUGE = "x" * 100_000


@pytest.mark.parametrize("entity", sorted(editing.ENTITIES))
def test_a_huge_list_search_is_refused(env, entity):
    with pytest.raises(editing.ValidationError, match="at most 256 characters"):
        editing.list_rows(entity, search=HUGE)


def test_a_huge_selector_search_is_refused(env):
    with pytest.raises(editing.ValidationError, match="at most 256 characters"):
        editing.search_options("customers", HUGE)


def test_a_huge_audit_filter_is_refused(env):
    with pytest.raises(editing.ValidationError, match="User: at most"):
        editing.list_audit(user=HUGE)
    with pytest.raises(editing.ValidationError, match="Row id: at most"):
        editing.list_audit(key=HUGE)


def test_the_longest_allowed_search_still_runs(env):
    longest = "a" * editing.MAX_SEARCH_CHARS
    frame, total = editing.list_rows("customers", search=longest)
    assert total == 0 and frame.empty


@pytest.mark.parametrize("page", ["customers", "orders"])
def test_the_search_boxes_limit_their_length(shop, env, page):
    at = app_editing_support.open_page(shop, page)
    boxes = [t for t in at.text_input if t.key and t.key.endswith("search")]
    assert boxes and all(t.max_chars == editing.MAX_SEARCH_CHARS for t in boxes)
