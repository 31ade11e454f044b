-- Views, units sold and revenue per product of the current catalogue (its current version).
WITH sales AS (
  SELECT l.product_id, sum(l.quantity) AS units_sold, CAST(sum(l.line_amount) AS DECIMAL(18, 2)) AS revenue
  FROM ${silver}.fact_order_line AS l
  JOIN ${silver}.fact_order AS o ON o.order_id = l.order_id
  WHERE o.status <> 'cancelled'
  GROUP BY l.product_id
),
views AS (
  SELECT product_id, count(*) AS page_views
  FROM ${silver}.fact_web_event
  WHERE event_type = 'page_view' AND product_id IS NOT NULL
  GROUP BY product_id
)
SELECT
  p.product_id,
  p.product_name,
  p.category,
  coalesce(v.page_views, 0) AS page_views,
  coalesce(s.units_sold, 0) AS units_sold,
  coalesce(s.revenue, 0) AS revenue
FROM ${silver}.dim_product AS p
LEFT JOIN sales AS s ON s.product_id = p.product_id
LEFT JOIN views AS v ON v.product_id = p.product_id
WHERE p.is_current
