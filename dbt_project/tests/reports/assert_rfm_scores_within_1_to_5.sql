-- Every RFM score is a quintile between 1 and 5, the code spells the three scores,
-- and the segment is the one the rfm_segments seed gives for (R, FM), or
-- 'One-time' for a customer with a single order.
with rfm as (
    select * from {{ ref('rpt_customer_rfm') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
)

select
    rfm.customer_id,
    rfm.r_score,
    rfm.f_score,
    rfm.m_score,
    rfm.fm_score,
    rfm.rfm_code,
    rfm.segment_name,
    rfm.lifetime_orders,
    segments.segment_name as expected_segment_name
from rfm
left join segments
    on
        rfm.r_score = segments.r_score
        and rfm.fm_score = segments.fm_score
where
    rfm.r_score not between 1 and 5
    or rfm.f_score not between 1 and 5
    or rfm.m_score not between 1 and 5
    or rfm.fm_score != floor((rfm.f_score + rfm.m_score + 1) / 2)
    or rfm.rfm_code
    != concat(
        cast(rfm.r_score as {{ type_text() }}),
        cast(rfm.f_score as {{ type_text() }}),
        cast(rfm.m_score as {{ type_text() }})
    )
    or segments.segment_name is null
    -- one order: 'One-time' whatever the grid says
    or rfm.lifetime_orders = 1 and rfm.segment_name != 'One-time'
    or rfm.lifetime_orders > 1 and rfm.segment_name != segments.segment_name
