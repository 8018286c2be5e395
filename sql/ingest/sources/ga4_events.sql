-- GA4 export rows (table _ga4_raw: the columns of events_YYYYMMDD as Arrow gives them, nested
-- event_params/items kept) flattened to one row per page view, session start and purchase,
-- with the default channel grouping. A purchase's items are listed by item_id, else item_name
-- (GA4 needs one of them), else '(not set)', each with its quantity (1 when it has none); items
-- are cast by field name, so an export whose items lack item_name reads as items without names.
-- A purchase's revenue is ecommerce.purchase_revenue, else its `value` parameter in whichever of
-- double_value, float_value, int_value, string_value holds it, as text: typing reads a number sent
-- as text and rejects the row of one that is not a number (a parameter's value is cast by field
-- name too). Parameters: $search, $social, $paid (the channel grouping's patterns).
WITH raw AS (
    SELECT * REPLACE (
        event_params::STRUCT(
            key VARCHAR,
            value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, double_value DOUBLE)
        )[] AS event_params
    )
    FROM _ga4_raw
),

flat AS (
    SELECT
        event_name,
        make_timestamp(event_timestamp) AS event_time,
        event_timestamp,
        user_id,
        user_pseudo_id,
        -- an integer in GA4's schema; some streams send it as text
        coalesce(list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.int_value::VARCHAR,
                 list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.string_value) AS session_id,
        list_filter(event_params, lambda p: p.key = 'page_location')[1].value.string_value AS page_location,
        lower(coalesce(collected_traffic_source.manual_source,
                       list_filter(event_params, lambda p: p.key = 'source')[1].value.string_value,
                       traffic_source.source)) AS source,
        lower(coalesce(collected_traffic_source.manual_medium,
                       list_filter(event_params, lambda p: p.key = 'medium')[1].value.string_value,
                       traffic_source.medium)) AS medium,
        coalesce(collected_traffic_source.manual_campaign_name,
                 list_filter(event_params, lambda p: p.key = 'campaign')[1].value.string_value,
                 traffic_source.name) AS campaign,
        ecommerce.transaction_id,
        ecommerce.purchase_revenue,
        list_filter(event_params, lambda p: p.key = 'value')[1].value AS value_param,
        items::STRUCT(item_id VARCHAR, item_name VARCHAR, quantity BIGINT)[] AS items
    FROM raw
    WHERE event_name IN ('page_view', 'session_start', 'purchase')
)
SELECT
    coalesce(user_pseudo_id, user_id) || ':' || event_timestamp::VARCHAR || ':' || event_name
        || coalesce(':' || transaction_id, '') AS event_id,
    coalesce(user_id, user_pseudo_id) AS customer_id,
    user_id,
    user_pseudo_id,
    event_time,
    CASE event_name WHEN 'page_view' THEN 'viewedPage' WHEN 'session_start' THEN 'startedSession'
                    ELSE 'completedOrder' END AS event_type,
    session_id,
    page_location,
    source,
    medium,
    campaign,
    CASE
        WHEN (source = '(direct)' OR source IS NULL) AND (medium IN ('(none)', '(not set)') OR medium IS NULL)
            THEN 'Direct'
        WHEN medium = 'affiliate' THEN 'Affiliates'
        WHEN medium IN ('display', 'banner', 'expandable', 'interstitial', 'cpm') THEN 'Display'
        WHEN regexp_full_match(source, $search) AND regexp_full_match(medium, $paid) THEN 'Paid Search'
        WHEN regexp_full_match(source, $social) AND regexp_full_match(medium, $paid) THEN 'Paid Social'
        WHEN regexp_full_match(source, $social)
             OR medium IN ('social', 'social-network', 'social-media', 'sm', 'social network', 'social media')
            THEN 'Organic Social'
        WHEN regexp_matches(source, 'e[-_ ]?mail') OR regexp_matches(medium, 'e[-_ ]?mail') THEN 'Email'
        WHEN regexp_full_match(source, $search) OR medium = 'organic' THEN 'Organic Search'
        WHEN medium IN ('referral', 'app', 'link') THEN 'Referral'
        ELSE 'Other'
    END AS channel,
    transaction_id,
    CASE WHEN event_name = 'purchase'
         THEN coalesce(purchase_revenue::VARCHAR, value_param.double_value::VARCHAR,
                       value_param.float_value::VARCHAR, value_param.int_value::DOUBLE::VARCHAR,
                       nullif(trim(value_param.string_value), ''))
    END AS revenue,
    CASE WHEN event_name = 'purchase'
         THEN array_to_string(list_transform(items, lambda i:
                  coalesce(nullif(i.item_id, ''), nullif(i.item_name, ''), '(not set)')
                  || ' x' || coalesce(i.quantity, 1)::VARCHAR), ', ')
    END AS items,
    CASE WHEN event_name = 'purchase' THEN list_sum(list_transform(items, lambda i: coalesce(i.quantity, 1))) END
        AS item_count
FROM flat
ORDER BY event_time, event_id
