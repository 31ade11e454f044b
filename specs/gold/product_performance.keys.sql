-- The products whose catalogue entry, order lines, orders or page views changed since the last build.
SELECT product_id FROM ${changes}.dim_product
UNION
SELECT product_id FROM ${changes}.fact_order_line
UNION
SELECT l.product_id
FROM ${changes}.fact_order AS o
JOIN ${silver}.fact_order_line AS l ON l.order_id = o.order_id
UNION
SELECT product_id FROM ${changes}.fact_web_event
