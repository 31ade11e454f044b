-- The order dates whose sales changes since the last build can alter: dates of changed orders and
-- order lines, and of the orders placed while a changed customer or product version was valid.
SELECT order_date FROM ${changes}.fact_order
UNION
SELECT o.order_date
FROM ${changes}.fact_order_line AS l
JOIN ${silver}.fact_order AS o ON o.order_id = l.order_id
UNION
SELECT o.order_date
FROM ${changes}.dim_customer AS c
JOIN ${silver}.fact_order AS o
  ON o.customer_id = c.customer_id
  AND o.order_ts >= c.effective_from AND (c.effective_to IS NULL OR o.order_ts < c.effective_to)
UNION
SELECT o.order_date
FROM ${changes}.dim_product AS p
JOIN ${silver}.fact_order_line AS l ON l.product_id = p.product_id
JOIN ${silver}.fact_order AS o
  ON o.order_id = l.order_id
  AND o.order_ts >= p.effective_from AND (p.effective_to IS NULL OR o.order_ts < p.effective_to)
