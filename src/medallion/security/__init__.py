"""Unity Catalog security from the spec CSVs (`specs/security/`): the SQL of masks, row filters, tags
and grants (`statements`), and the reconcile plan between the specs and a workspace (`reconcile`)."""
