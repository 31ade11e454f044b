-- Revenue and units per day by customer country and segment, order channel and product category.
-- Customer and product attributes are the versions valid when the order was placed (point in time):
-- a customer who moved from consumer to vip counts as consumer for the orders before the change.
SELECT
  o.order_date,
  coalesce(c.country, 'UNKNOWN') AS country,
  coalesce(c.segment, 'unknown') AS segment,
  o.channel,
  coalesce(p.category, 'UNKNOWN') AS category,
  count(DISTINCT o.order_id) AS orders,
  sum(l.quantity) AS units,
  CAST(sum(l.line_amount) AS DECIMAL(18, 2)) AS revenue
FROM ${silver}.fact_order AS o
JOIN ${silver}.fact_order_line AS l ON l.order_id = o.order_id
LEFT JOIN ${silver}.dim_customer AS c
  ON c.customer_id = o.customer_id
  AND o.order_ts >= c.effective_from AND (c.effective_to IS NULL OR o.order_ts < c.effective_to)
LEFT JOIN ${silver}.dim_product AS p
  ON p.product_id = l.product_id
  AND o.order_ts >= p.effective_from AND (p.effective_to IS NULL OR o.order_ts < p.effective_to)
WHERE o.status <> 'cancelled'
GROUP BY
  o.order_date, coalesce(c.country, 'UNKNOWN'), coalesce(c.segment, 'unknown'), o.channel,
  coalesce(p.category, 'UNKNOWN')
