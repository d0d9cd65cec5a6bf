{#- The days a run loads, inclusive, YYYY-MM-DD: vars min_date / max_date (by hand), else the
    environment's AUDIO_DWH_MIN_DATE / AUDIO_DWH_MAX_DATE (Dagster sets these from the partition
    range: unlike a change of --vars, a change of environment lets dbt keep its partial parse).
    Neither: every day is read. Returns [min, max] or none. -#}
{% macro load_window_days() -%}
    {%- if var('min_date', none) -%}
        {%- set days = [var('min_date'), var('max_date', var('min_date'))] -%}
    {%- elif env_var('AUDIO_DWH_MIN_DATE', '') -%}
        {%- set days = [env_var('AUDIO_DWH_MIN_DATE'), env_var('AUDIO_DWH_MAX_DATE', '') or env_var('AUDIO_DWH_MIN_DATE')] -%}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for day in days -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day | string) -%}
            {{ exceptions.raise_compiler_error("min_date / max_date must be YYYY-MM-DD, got " ~ day) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return([days[0] | string, days[1] | string]) }}
{%- endmacro %}

{#- A filter keeping the rows whose column falls in the run's days, widened by days_before and
    days_after (a rolling mart reads the days before its own and rebuilds the days after). The days
    are read when the SQL is compiled to run, not while dbt parses (execute is false then): a file
    that reads the environment at parse time is parsed again, with its YAML and tests, whenever the
    days change, which is every run. -#}
{% macro load_window(column='partition_date', days_before=0, days_after=0) -%}
    {%- set days = audio_dwh.load_window_days() if execute else none -%}
    {%- if days is none -%}
        true
    {%- else -%}
        {%- set first = modules.datetime.date.fromisoformat(days[0]) - modules.datetime.timedelta(days=days_before) -%}
        {%- set last = modules.datetime.date.fromisoformat(days[1]) + modules.datetime.timedelta(days=days_after) -%}
        {{ column }} between cast('{{ first.isoformat() }}' as date) and cast('{{ last.isoformat() }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- The window's days as BigQuery date literals, for a static insert_overwrite (dbt then replaces
    exactly these partitions, with no query to find them); none without a window (dynamic). -#}
{% macro load_window_partitions() -%}
    {%- set window = audio_dwh.load_window_days() -%}
    {%- if window is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set first = modules.datetime.date.fromisoformat(window[0]) -%}
    {%- set last = modules.datetime.date.fromisoformat(window[1]) -%}
    {%- set days = [] -%}
    {%- for offset in range((last - first).days + 1) -%}
        {%- do days.append("date('" ~ (first + modules.datetime.timedelta(days=offset)).isoformat() ~ "')") -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}

{#- A model whose rows belong to days (a row per event, or a day's states of a key) replaces the days
    of the run's window: their stored rows are deleted first, in the model's own transaction on
    DuckDB, and the batch brings every row those days now have. So a day sent again with events
    corrected, added or removed leaves exactly what its final files give, in any load order. -#}
{% macro replaces_run_days(day_column='load_date') -%}
    {{ config(pre_hook="{{ audio_dwh.delete_load_window('" ~ day_column ~ "') }}", meta={'day_column': day_column}) }}
{%- endmacro %}

{% macro delete_load_window(day_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ audio_dwh.load_window(day_column) }}
    {%- endif -%}
{%- endmacro %}
