-- The order dates whose sales changes since the last build can alter: dates of changed orders and
-- order lines, and of the orders whose customer or product values at order time changed.
-- A changed dimension row counts against the orders placed while it was valid: -1 for a row taken
-- away (delete, update_preimage), +1 for a row put in (insert, update_postimage), summed per order
-- and the values the sales use. What cancels out leaves the order's sales as they were: a version
-- only closed at the change (the orders before it keep their values), rows rewritten unchanged, a
-- change undone in a later version. Only a sum that is not zero moves the order's date.
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
GROUP BY o.order_id, o.order_date, c.country, c.segment
HAVING sum(CASE WHEN c._change_type IN ('insert', 'update_postimage') THEN 1 ELSE -1 END) <> 0
UNION
SELECT o.order_date
FROM ${changes}.dim_product AS p
JOIN ${silver}.fact_order_line AS l ON l.product_id = p.product_id
JOIN ${silver}.fact_order AS o
  ON o.order_id = l.order_id
  AND o.order_ts >= p.effective_from AND (p.effective_to IS NULL OR o.order_ts < p.effective_to)
GROUP BY o.order_id, l.product_id, o.order_date, p.category
HAVING sum(CASE WHEN p._change_type IN ('insert', 'update_postimage') THEN 1 ELSE -1 END) <> 0
