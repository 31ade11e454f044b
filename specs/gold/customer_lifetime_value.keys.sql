-- The customers whose orders or order lines changed since the last build (before and after the
-- change, so an order moved to another customer refreshes both).
SELECT customer_id FROM ${changes}.fact_order
UNION
SELECT o.customer_id
FROM ${changes}.fact_order_line AS l
JOIN ${silver}.fact_order AS o ON o.order_id = l.order_id
