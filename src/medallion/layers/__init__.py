"""The medallion layers: `plan` -> `bronze` -> `silver` -> `gold`, each one function per table."""
