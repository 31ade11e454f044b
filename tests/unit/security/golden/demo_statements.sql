CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_mask_dim_customer_first_name`(value STRING)
RETURNS STRING
COMMENT 'medallion: mask of silver.dim_customer.first_name (specs/security/column_masks.csv row 2) #fffb550ca241'
RETURN CASE WHEN is_account_group_member('pii_readers') THEN value ELSE '***' END;

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_mask_dim_customer_last_name`(value STRING)
RETURNS STRING
COMMENT 'medallion: mask of silver.dim_customer.last_name (specs/security/column_masks.csv row 3) #34e5be2e3ba2'
RETURN CASE WHEN is_account_group_member('pii_readers') THEN value ELSE concat(repeat('*', greatest(length(value) - 1, 0)), right(value, 1)) END;

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_mask_dim_customer_email`(value STRING)
RETURNS STRING
COMMENT 'medallion: mask of silver.dim_customer.email (specs/security/column_masks.csv row 4) #478616709707'
RETURN CASE WHEN is_account_group_member('pii_readers') THEN value ELSE regexp_replace(value, '^[^@]*', '***') END;

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_mask_dim_customer_city`(value STRING)
RETURNS STRING
COMMENT 'medallion: mask of silver.dim_customer.city (specs/security/column_masks.csv row 5) #035fc9a1004e'
RETURN CASE WHEN is_account_group_member('pii_readers') THEN value ELSE sha2(CAST(value AS STRING), 256) END;

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_mask_dim_customer_signup_date`(value DATE)
RETURNS DATE
COMMENT 'medallion: mask of silver.dim_customer.signup_date (specs/security/column_masks.csv row 6) #4cc10a2e650a'
RETURN CASE WHEN is_account_group_member('pii_readers') THEN value ELSE make_date(year(value), 1, 1) END;

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_filter_dim_customer`(country STRING)
RETURNS BOOLEAN
COMMENT 'medallion: row filter of silver.dim_customer (specs/security/row_filters.csv rows 2, 3, 4) #f2bbf9233f1d'
RETURN (is_account_group_member('eu_analysts') AND (country IN ('DE', 'FR', 'NL', 'ES', 'IT', 'BE'))) OR is_account_group_member('data_engineers') OR is_account_group_member('pii_readers');

CREATE OR REPLACE FUNCTION `main`.`sales_security`.`medallion_filter_fact_order`(customer_id STRING)
RETURNS BOOLEAN
COMMENT 'medallion: row filter of silver.fact_order (specs/security/row_filters.csv rows 5, 6) #7da34f5ffdaa'
RETURN (is_account_group_member('eu_analysts') AND (customer_id IN (SELECT customer_id FROM `main`.`sales_silver`.dim_customer WHERE is_current AND country IN ('DE', 'FR', 'NL', 'ES', 'IT', 'BE')))) OR is_account_group_member('data_engineers');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `first_name` SET MASK `main`.`sales_security`.`medallion_mask_dim_customer_first_name`;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `last_name` SET MASK `main`.`sales_security`.`medallion_mask_dim_customer_last_name`;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `email` SET MASK `main`.`sales_security`.`medallion_mask_dim_customer_email`;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `city` SET MASK `main`.`sales_security`.`medallion_mask_dim_customer_city`;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `signup_date` SET MASK `main`.`sales_security`.`medallion_mask_dim_customer_signup_date`;

ALTER TABLE `main`.`sales_silver`.`dim_customer` SET ROW FILTER `main`.`sales_security`.`medallion_filter_dim_customer` ON (`country`);

ALTER TABLE `main`.`sales_silver`.`fact_order` SET ROW FILTER `main`.`sales_security`.`medallion_filter_fact_order` ON (`customer_id`);

ALTER TABLE `main`.`sales_gold`.`daily_sales` SET TAGS ('domain' = 'sales');

ALTER TABLE `main`.`sales_silver`.`dim_customer` SET TAGS ('domain' = 'sales');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `city` SET TAGS ('class' = 'pii');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `email` SET TAGS ('class' = 'pii');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `first_name` SET TAGS ('class' = 'pii');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `last_name` SET TAGS ('class' = 'pii');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `signup_date` SET TAGS ('class' = 'pii');

ALTER TABLE `main`.`sales_silver`.`fact_order` SET TAGS ('domain' = 'sales');

GRANT USE CATALOG ON CATALOG `main` TO `analysts`;

GRANT USE CATALOG ON CATALOG `main` TO `data_engineers`;

GRANT USE CATALOG ON CATALOG `main` TO `eu_analysts`;

GRANT USE CATALOG ON CATALOG `main` TO `pii_readers`;

GRANT SELECT ON SCHEMA `main`.`sales_bronze` TO `data_engineers`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_bronze` TO `data_engineers`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_gold` TO `analysts`;

GRANT SELECT ON SCHEMA `main`.`sales_gold` TO `data_engineers`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_gold` TO `data_engineers`;

GRANT SELECT ON SCHEMA `main`.`sales_silver` TO `data_engineers`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_silver` TO `data_engineers`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_silver` TO `eu_analysts`;

GRANT USE SCHEMA ON SCHEMA `main`.`sales_silver` TO `pii_readers`;

GRANT SELECT ON TABLE `main`.`sales_gold`.`customer_lifetime_value` TO `analysts`;

GRANT SELECT ON TABLE `main`.`sales_gold`.`daily_sales` TO `analysts`;

GRANT SELECT ON TABLE `main`.`sales_gold`.`product_performance` TO `analysts`;

GRANT SELECT ON TABLE `main`.`sales_silver`.`dim_customer` TO `eu_analysts`;

GRANT SELECT ON TABLE `main`.`sales_silver`.`dim_customer` TO `pii_readers`;

GRANT SELECT ON TABLE `main`.`sales_silver`.`fact_order` TO `eu_analysts`;

-- removing every spec row:

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `city` DROP MASK;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `email` DROP MASK;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `first_name` DROP MASK;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `last_name` DROP MASK;

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `signup_date` DROP MASK;

ALTER TABLE `main`.`sales_silver`.`dim_customer` DROP ROW FILTER;

ALTER TABLE `main`.`sales_silver`.`fact_order` DROP ROW FILTER;

ALTER TABLE `main`.`sales_gold`.`daily_sales` UNSET TAGS ('domain');

ALTER TABLE `main`.`sales_silver`.`dim_customer` UNSET TAGS ('domain');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `city` UNSET TAGS ('class');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `email` UNSET TAGS ('class');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `first_name` UNSET TAGS ('class');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `last_name` UNSET TAGS ('class');

ALTER TABLE `main`.`sales_silver`.`dim_customer` ALTER COLUMN `signup_date` UNSET TAGS ('class');

ALTER TABLE `main`.`sales_silver`.`fact_order` UNSET TAGS ('domain');

REVOKE USE CATALOG ON CATALOG `main` FROM `analysts`;

REVOKE USE CATALOG ON CATALOG `main` FROM `data_engineers`;

REVOKE USE CATALOG ON CATALOG `main` FROM `eu_analysts`;

REVOKE USE CATALOG ON CATALOG `main` FROM `pii_readers`;

REVOKE SELECT ON SCHEMA `main`.`sales_bronze` FROM `data_engineers`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_bronze` FROM `data_engineers`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_gold` FROM `analysts`;

REVOKE SELECT ON SCHEMA `main`.`sales_gold` FROM `data_engineers`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_gold` FROM `data_engineers`;

REVOKE SELECT ON SCHEMA `main`.`sales_silver` FROM `data_engineers`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_silver` FROM `data_engineers`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_silver` FROM `eu_analysts`;

REVOKE USE SCHEMA ON SCHEMA `main`.`sales_silver` FROM `pii_readers`;

REVOKE SELECT ON TABLE `main`.`sales_gold`.`customer_lifetime_value` FROM `analysts`;

REVOKE SELECT ON TABLE `main`.`sales_gold`.`daily_sales` FROM `analysts`;

REVOKE SELECT ON TABLE `main`.`sales_gold`.`product_performance` FROM `analysts`;

REVOKE SELECT ON TABLE `main`.`sales_silver`.`dim_customer` FROM `eu_analysts`;

REVOKE SELECT ON TABLE `main`.`sales_silver`.`dim_customer` FROM `pii_readers`;

REVOKE SELECT ON TABLE `main`.`sales_silver`.`fact_order` FROM `eu_analysts`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_filter_dim_customer`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_filter_fact_order`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_mask_dim_customer_city`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_mask_dim_customer_email`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_mask_dim_customer_first_name`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_mask_dim_customer_last_name`;

DROP FUNCTION IF EXISTS `main`.`sales_security`.`medallion_mask_dim_customer_signup_date`;
