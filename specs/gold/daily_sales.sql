-- Revenue and units per day by customer country, order channel and product category.
SELECT
  o.order_date,
  coalesce(c.country, 'UNKNOWN') AS country,
  o.channel,
  coalesce(p.category, 'UNKNOWN') AS category,
  count(DISTINCT o.order_id) AS orders,
  sum(l.quantity) AS units,
  CAST(sum(l.line_amount) AS DECIMAL(18, 2)) AS revenue
FROM ${silver}.fact_order AS o
JOIN ${silver}.fact_order_line AS l ON l.order_id = o.order_id
LEFT JOIN ${silver}.dim_customer AS c ON c.customer_id = o.customer_id
LEFT JOIN ${silver}.dim_product AS p ON p.product_id = l.product_id
WHERE o.status <> 'cancelled'
GROUP BY o.order_date, coalesce(c.country, 'UNKNOWN'), o.channel, coalesce(p.category, 'UNKNOWN')
