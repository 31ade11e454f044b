-- Orders and revenue per customer over their whole history.
SELECT
  o.customer_id,
  min(o.order_date) AS first_order_date,
  max(o.order_date) AS last_order_date,
  count(DISTINCT o.order_id) AS orders,
  CAST(sum(l.line_amount) AS DECIMAL(18, 2)) AS lifetime_revenue,
  CAST(sum(l.line_amount) / count(DISTINCT o.order_id) AS DECIMAL(18, 2)) AS average_order_value
FROM ${silver}.fact_order AS o
JOIN ${silver}.fact_order_line AS l ON l.order_id = o.order_id
WHERE o.status <> 'cancelled' AND o.customer_id IS NOT NULL
GROUP BY o.customer_id
