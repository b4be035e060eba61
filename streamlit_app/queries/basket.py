"""Queries of the Market basket page: association rules between products and
between categories, "frequently bought together".

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.warehouse import query

_BASKET_SUMMARY_SQL = """
select
    count(*) as rules,
    count(distinct antecedent_product_id) as products,
    max(lift) as max_lift,
    max(basket_count) as baskets
from marts.rpt_basket_rules
"""

_BASKET_RULES_SQL = """
select
    rule_rank,
    antecedent_product_id,
    antecedent_product_name,
    antecedent_category,
    consequent_product_id,
    consequent_product_name,
    consequent_category,
    pair_count,
    support,
    confidence,
    lift
from marts.rpt_basket_rules
where
    support >= %(min_support)s
    and confidence >= %(min_confidence)s
    and lift >= %(min_lift)s
    and (
        cardinality(%(categories)s::text[]) = 0
        or antecedent_category = any(%(categories)s::text[])
        or consequent_category = any(%(categories)s::text[])
    )
order by lift desc, pair_count desc, rule_rank
limit %(limit)s
"""

_BASKET_PRODUCTS_SQL = """
select
    antecedent_product_id as product_id,
    min(antecedent_product_name) as product_name,
    min(antecedent_category) as category,
    count(*) as rules,
    max(antecedent_count) as baskets
from marts.rpt_basket_rules
group by antecedent_product_id
order by baskets desc, product_id
"""

_BOUGHT_TOGETHER_SQL = """
select
    consequent_product_id as product_id,
    consequent_product_name as product_name,
    consequent_category as category,
    pair_count,
    confidence,
    lift,
    support
from marts.rpt_basket_rules
where antecedent_product_id = %(product_id)s
order by confidence desc, lift desc, consequent_product_id
limit %(limit)s
"""

_CATEGORY_RULES_SQL = """
select
    antecedent_category,
    consequent_category,
    pair_count,
    support,
    confidence,
    lift
from marts.rpt_basket_rules_category
order by antecedent_category, consequent_category
"""


def basket_summary() -> dict[str, Any]:
    return query(_BASKET_SUMMARY_SQL).iloc[0].to_dict()


def basket_rules(
    f: Filters,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
    limit: int = 500,
) -> pd.DataFrame:
    """Product rules passing the thresholds, touching f's categories."""
    params = {
        "min_support": min_support,
        "min_confidence": min_confidence,
        "min_lift": min_lift,
        "categories": list(f.categories),
        "limit": limit,
    }
    return query(_BASKET_RULES_SQL, params)


def basket_products() -> pd.DataFrame:
    """Products that start at least one rule, most frequent first."""
    return query(_BASKET_PRODUCTS_SQL)


def bought_together(product_id: str, limit: int = 10) -> pd.DataFrame:
    return query(_BOUGHT_TOGETHER_SQL, {"product_id": str(product_id), "limit": limit})


def category_rules() -> pd.DataFrame:
    return query(_CATEGORY_RULES_SQL)
