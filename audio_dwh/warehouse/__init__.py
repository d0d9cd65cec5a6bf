"""The warehouse engine, whichever it is: its Dagster resources, reading it with the same SQL on DuckDB
or BigQuery, and quoting for the SQL built in Python."""
