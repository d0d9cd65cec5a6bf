{#- pit(src_pk, as_of_dates_table, satellites, stage_tables_ldts, source_model): a point-in-time
    table. For each snapshot the as-of table asks for (a key and an instant, as_of_ts) it gives,
    per satellite, the keys of the row in force at that instant: the latest by effective_from_ts at
    or before it (same instant: the greatest hashdiff, the state the satellite orders last). A
    satellite with no row yet gives the ghost key and 1900-01-01 (a left join finds no payload).
    satellites: {sat: {'pk': parent key, 'ldts': the column rows come into force by,
                       'hashdiff': the column that tells a key's states apart}}
    stage_tables_ldts: {staging model: its instant column}, the sources of the satellites' batch.
    Incremental (unique key: src_pk, as_of_ts): the run's days are replaced (their snapshots are the
    batch's), and recomputed besides are every stored snapshot of a key the batch changes, from that
    key's earliest instant in the batch on, and every stored snapshot whose row in force came from a
    day of the run (that day may have lost it): so a day loaded late, again, or sent again with events
    corrected or removed gives the table an in-order load of the final days gives; an in-order day
    recomputes only its own. -#}
{% macro pit(src_pk, as_of_dates_table, satellites, stage_tables_ldts, source_model) -%}
{{ config(unique_key=[src_pk, 'as_of_ts'], incremental_strategy=audio_dwh.replace_strategy()) }}
{{ audio_dwh.replaces_run_days('cast(as_of_ts as date)') }}
{#- refs taken outside the incremental branch, so dbt sees them when it parses -#}
{%- set stages = {} -%}
{%- for stage, ldts in stage_tables_ldts.items() %}{% do stages.update({ref(stage): ldts}) %}{% endfor -%}
with
{%- if is_incremental() %}
changed as (
    select {{ src_pk }}, min(changed_from) as changed_from
    from (
        {%- for stage, ldts in stages.items() %}
        select {{ src_pk }}, {{ ldts }} as changed_from from {{ stage }} where {{ src_pk }} is not null
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as batch
    group by {{ src_pk }}
),
{%- endif %}

snapshots as (
    select distinct {{ src_pk }}, as_of_ts
    from (
        select {{ src_pk }}, as_of_ts from {{ ref(as_of_dates_table) }}
        {%- if is_incremental() %}
        union all
        select stored.{{ src_pk }}, stored.as_of_ts
        from {{ this }} as stored
        inner join changed on changed.{{ src_pk }} = stored.{{ src_pk }} and stored.as_of_ts >= changed.changed_from
        union all
        select {{ src_pk }}, as_of_ts
        from {{ this }}
        where {% for sat in satellites %}{{ audio_dwh.load_window('cast(' ~ sat ~ '_ldts as date)') }}{% if not loop.last %} or {% endif %}{% endfor %}
        {%- endif %}
    ) as wanted
    where {{ src_pk }} in (select {{ src_pk }} from {{ ref(source_model) }})
)
{%- for sat, spec in satellites.items() %},

{{ sat }}_in_force as (
    {{ audio_dwh.in_force(src_pk, sat, spec) }}
)
{%- endfor %}

select
    snapshots.{{ src_pk }},
    snapshots.as_of_ts
    {%- for sat in satellites %},
    coalesce({{ sat }}_in_force.pk, {{ audio_dwh.ghost_key() }}) as {{ sat }}_pk,
    coalesce({{ sat }}_in_force.ldts, {{ audio_dwh.ghost_timestamp() }}) as {{ sat }}_ldts,
    coalesce({{ sat }}_in_force.hashdiff, {{ audio_dwh.ghost_key() }}) as {{ sat }}_hashdiff
    {%- endfor %}
from snapshots
{%- for sat in satellites %}
left join {{ sat }}_in_force
    on {{ sat }}_in_force.{{ src_pk }} = snapshots.{{ src_pk }} and {{ sat }}_in_force.as_of_ts = snapshots.as_of_ts
{%- endfor %}
{%- endmacro %}

{#- The ghost row's timestamp: a snapshot before the satellite has any row. -#}
{% macro ghost_timestamp() -%} cast('1900-01-01 00:00:00' as timestamp) {%- endmacro %}

{#- Per snapshot (src_pk, as_of_ts in the CTE snapshots), the satellite row in force: pk, ldts,
    hashdiff; no row when none is. -#}
{% macro in_force(src_pk, sat, spec) -%}
    {{ return(adapter.dispatch('in_force', 'audio_dwh')(src_pk, sat, spec)) }}
{%- endmacro %}

{#- A range join, then the latest row per snapshot (BigQuery has no as-of join). -#}
{% macro default__in_force(src_pk, sat, spec) -%}
select snapshots.{{ src_pk }}, snapshots.as_of_ts,
       sat.{{ spec.pk }} as pk, sat.{{ spec.ldts }} as ldts, sat.{{ spec.hashdiff }} as hashdiff
from snapshots
inner join {{ ref(sat) }} as sat
    on sat.{{ spec.pk }} = snapshots.{{ src_pk }} and sat.{{ spec.ldts }} <= snapshots.as_of_ts
qualify row_number() over (
    partition by snapshots.{{ src_pk }}, snapshots.as_of_ts order by sat.{{ spec.ldts }} desc, sat.{{ spec.hashdiff }} desc
) = 1
{%- endmacro %}

{#- DuckDB's as-of join finds the latest row by a hash join and a sort, not a row per pair; rows of
    one instant are first reduced to the state ordered last. -#}
{% macro duckdb__in_force(src_pk, sat, spec) -%}
select snapshots.{{ src_pk }}, snapshots.as_of_ts, sat.pk, sat.ldts, sat.hashdiff
from snapshots
asof inner join (
    select {{ spec.pk }} as pk, {{ spec.ldts }} as ldts, max({{ spec.hashdiff }}) as hashdiff
    from {{ ref(sat) }}
    where {{ spec.pk }} in (select {{ src_pk }} from snapshots)
    group by {{ spec.pk }}, {{ spec.ldts }}
) as sat
    on sat.pk = snapshots.{{ src_pk }} and sat.ldts <= snapshots.as_of_ts
{%- endmacro %}
