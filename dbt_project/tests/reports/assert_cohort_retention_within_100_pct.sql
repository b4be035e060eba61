-- Retention can never exceed 100 %: a cohort cannot have more active customers
-- than members, and in its first month every member is active (exactly 100 %).
select
    cohort_month,
    months_since_first_order,
    cohort_size,
    active_customers,
    retention_pct
from {{ ref('rpt_cohort_retention') }}
where
    retention_pct > 100
    or active_customers > cohort_size
    or (months_since_first_order = 0 and active_customers != cohort_size)
