"""Whether the data has unit costs, so whether margins can be shown.

A line without a unit cost has no cost and no gross margin in the marts, and a
sum of margins over a group with such a line is unknown (null), never a partial
sum. The queries add margins up with KNOWN_MARGIN_SUM to keep that rule; the
pages say why a margin is not available with `cost_coverage().reason`.

Reads only the `marts` schema (tables built by dbt). Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamlit_app.warehouse import query

# sum(gross_margin) of a group, null as soon as one row of it has no margin
KNOWN_MARGIN_SUM = "case when count(*) = count(gross_margin) then sum(gross_margin) end"

NO_COSTS = "no unit costs in the data"
SOME_COSTS_MISSING = "costs missing for some products"

_COVERAGE_SQL = """
select
    count(*) as products,
    count(unit_cost) as products_with_cost
from marts.dim_products
"""


@dataclass(frozen=True)
class CostCoverage:
    """How many products there are and how many of them have a unit cost."""

    products: int
    products_with_cost: int

    @property
    def has_no_costs(self) -> bool:
        return self.products_with_cost == 0

    @property
    def reason(self) -> str:
        """Why a margin is not available, for a note on the page."""
        return NO_COSTS if self.has_no_costs else SOME_COSTS_MISSING


def cost_coverage() -> CostCoverage:
    row = query(_COVERAGE_SQL).iloc[0]
    return CostCoverage(
        products=int(row["products"]), products_with_cost=int(row["products_with_cost"])
    )
