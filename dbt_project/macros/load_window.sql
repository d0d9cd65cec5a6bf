{#- The days a run loads: vars min_date / max_date (YYYY-MM-DD, inclusive), set by Dagster from the
    partition range. Without them every day is read (a plain `dbt build`). -#}
{% macro load_window(column='partition_date') -%}
    {%- set min_date = var('min_date', none) -%}
    {%- set max_date = var('max_date', min_date) -%}
    {%- if min_date is none -%}
        true
    {%- else -%}
        {%- for day in [min_date, max_date] -%}
            {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day | string) -%}
                {{ exceptions.raise_compiler_error("min_date / max_date must be YYYY-MM-DD, got " ~ day) }}
            {%- endif -%}
        {%- endfor -%}
        {{ column }} between cast('{{ min_date }}' as date) and cast('{{ max_date }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- The window's days as BigQuery date literals, for a static insert_overwrite (dbt then replaces
    exactly these partitions, with no query to find them); none without a window (dynamic). -#}
{% macro load_window_partitions() -%}
    {%- set min_date = var('min_date', none) -%}
    {%- if min_date is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set first = modules.datetime.date.fromisoformat(min_date | string) -%}
    {%- set last = modules.datetime.date.fromisoformat(var('max_date', min_date) | string) -%}
    {%- set days = [] -%}
    {%- for offset in range((last - first).days + 1) -%}
        {%- do days.append("date('" ~ (first + modules.datetime.timedelta(days=offset)).isoformat() ~ "')") -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}
