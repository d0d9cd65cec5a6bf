{#- The few expressions whose SQL differs between DuckDB and BigQuery. -#}

{% macro epoch_ms_to_timestamp(column) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'audio_dwh')(column)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_timestamp(column) -%} make_timestamp(({{ column }}) * 1000) {%- endmacro %}
{% macro bigquery__epoch_ms_to_timestamp(column) -%} timestamp_millis(({{ column }})) {%- endmacro %}

{#- Text of a number with fixed decimals: the same on both engines, so hashes of numbers agree. -#}
{% macro fixed_text(column, decimals) -%}
    {{ return(adapter.dispatch('fixed_text', 'audio_dwh')(column, decimals)) }}
{%- endmacro %}
{% macro default__fixed_text(column, decimals) -%} printf('%.{{ decimals }}f', {{ column }}) {%- endmacro %}
{% macro bigquery__fixed_text(column, decimals) -%} format('%.{{ decimals }}f', {{ column }}) {%- endmacro %}

{#- MD5 of a string as 32 upper-case hex digits. -#}
{% macro md5_hex(expression) -%}
    {{ return(adapter.dispatch('md5_hex', 'audio_dwh')(expression)) }}
{%- endmacro %}
{% macro default__md5_hex(expression) -%} upper(md5({{ expression }})) {%- endmacro %}
{% macro bigquery__md5_hex(expression) -%} upper(to_hex(md5({{ expression }}))) {%- endmacro %}

{#- eventsim's catalogue has non-ASCII names UTF-8 encoded and read as Latin-1 twice ("BjÃ\u0083Â¶rk").
    One round: when every character fits a byte and some are above ASCII, reinterpret the code
    points as bytes and decode them as UTF-8; text that does not decode is left as it was. -#}
{% macro repair_double_encoding(column) -%}
    {%- set adapter_round = adapter.dispatch('repair_encoding_round', 'audio_dwh') -%}
    {{ adapter_round(adapter_round(column)) }}
{%- endmacro %}
{#- Whether text is plain ASCII: as many bytes as characters. -#}
{% macro is_ascii(column) -%}
    {{ return(adapter.dispatch('is_ascii', 'audio_dwh')(column)) }}
{%- endmacro %}
{% macro default__is_ascii(x) -%} strlen({{ x }}) = length({{ x }}) {%- endmacro %}
{% macro bigquery__is_ascii(x) -%} byte_length({{ x }}) = char_length({{ x }}) {%- endmacro %}

{% macro default__repair_encoding_round(x) -%}
    case when regexp_matches({{ x }}, '[\x{80}-\x{FF}]') and not regexp_matches({{ x }}, '[^\x{00}-\x{FF}]')
         then coalesce(try(decode(unhex(array_to_string(
              list_transform(string_split({{ x }}, ''), lambda c: printf('%02X', unicode(c))), '')))), {{ x }})
         else {{ x }} end
{%- endmacro %}
{% macro bigquery__repair_encoding_round(x) -%}
    case when regexp_contains({{ x }}, r'[\x{80}-\x{FF}]') and not regexp_contains({{ x }}, r'[^\x{00}-\x{FF}]')
         then coalesce(safe_convert_bytes_to_string(code_points_to_bytes(to_code_points({{ x }}))), {{ x }})
         else {{ x }} end
{%- endmacro %}

{#- How an incremental model replaces the rows its unique key names. -#}
{% macro replace_strategy() -%}
    {{ return(adapter.dispatch('replace_strategy', 'audio_dwh')()) }}
{%- endmacro %}
{% macro default__replace_strategy() -%} {{ return('delete+insert') }} {%- endmacro %}
{% macro bigquery__replace_strategy() -%} {{ return('merge') }} {%- endmacro %}

{#- How an insert-only model adds its new rows (BigQuery has no 'append'; a merge without a key inserts). -#}
{% macro append_strategy() -%}
    {{ return(adapter.dispatch('append_strategy', 'audio_dwh')()) }}
{%- endmacro %}
{% macro default__append_strategy() -%} {{ return('append') }} {%- endmacro %}
{% macro bigquery__append_strategy() -%} {{ return('merge') }} {%- endmacro %}

{#- The first row of each key in relation, in the order of order_by (ties broken by every column
    listed, so a rerun picks the same row): key and columns. DuckDB takes it with a hash aggregate
    (arg_min over a struct): one pass, where numbering the rows of each key in a window sorts them. -#}
{% macro first_per_key(relation, key, columns, order_by) -%}
    {{ return(adapter.dispatch('first_per_key', 'audio_dwh')(relation, key, columns, order_by)) }}
{%- endmacro %}
{% macro default__first_per_key(relation, key, columns, order_by) -%}
select {{ key }}, {{ columns | join(', ') }}
from (
    select *, row_number() over (partition by {{ key }} order by {{ order_by | join(', ') }}) as key_row
    from {{ relation }}
) as ranked
where key_row = 1
{%- endmacro %}
{% macro duckdb__first_per_key(relation, key, columns, order_by) -%}
select {{ key }}{% for column in columns %}, first_row.{{ column }} as {{ column }}{% endfor %}
from (
    select {{ key }},
           arg_min({ {%- for column in columns %}'{{ column }}': {{ column }}{% if not loop.last %}, {% endif %}{% endfor -%} },
                   ({{ order_by | join(', ') }})) as first_row
    from {{ relation }}
    group by {{ key }}
) as firsts
{%- endmacro %}

{#- The last millisecond of a day (events carry milliseconds): a snapshot "as of the end of the day". -#}
{% macro day_end(date_expression) -%}
    {{ return(adapter.dispatch('day_end', 'audio_dwh')(date_expression)) }}
{%- endmacro %}
{% macro default__day_end(d) -%} (cast({{ d }} as timestamp) + interval 1 day - interval 1 millisecond) {%- endmacro %}
{% macro bigquery__day_end(d) -%} timestamp_sub(timestamp_add(timestamp({{ d }}), interval 1 day), interval 1 millisecond) {%- endmacro %}

{#- The Monday of a date's ISO week. -#}
{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'audio_dwh')(date_expression)) }}
{%- endmacro %}
{% macro default__week_start(d) -%} cast(date_trunc('week', {{ d }}) as date) {%- endmacro %}
{#- date_trunc(d, isoweek) in BigQuery, written with dayofweek (Sunday = 1) so the emulator runs it too. -#}
{% macro bigquery__week_start(d) -%} date_sub({{ d }}, interval mod(extract(dayofweek from {{ d }}) + 5, 7) day) {%- endmacro %}

{#- A date n days later (earlier when n < 0), still a date. -#}
{% macro add_days(date_expression, n) -%}
    {{ return(adapter.dispatch('add_days', 'audio_dwh')(date_expression, n)) }}
{%- endmacro %}
{% macro default__add_days(d, n) -%} cast({{ d }} + ({{ n }}) as date) {%- endmacro %}
{% macro bigquery__add_days(d, n) -%} date_add({{ d }}, interval ({{ n }}) day) {%- endmacro %}

{#- A name as the warehouse keeps it (songs, artists, places, people, agents, pages): control and format
    characters (tabs, NULs, zero-width spaces, byte-order marks) removed, then Unicode NFC, separators
    trimmed from both ends; NULL when nothing is left. Removed before NFC: DuckDB's nfc_normalize ends
    a string at its first NUL. The patterns are the event contract's (INVISIBLE_CHARACTERS,
    EDGE_SPACES), which the loader's "blank" rule reads too, so a required name is never empty here. -#}
{% macro clean_text(column) -%}
    {{ return(adapter.dispatch('clean_text', 'audio_dwh')(column)) }}
{%- endmacro %}
{% macro default__clean_text(x) -%}
    nullif(regexp_replace(nfc_normalize(regexp_replace({{ x }}, '[\p{Cc}\p{Cf}]', '', 'g')), '^\p{Z}+|\p{Z}+$', '', 'g'), '')
{%- endmacro %}
{% macro bigquery__clean_text(x) -%}
    nullif(regexp_replace(normalize(regexp_replace({{ x }}, r'[\p{Cc}\p{Cf}]', ''), NFC), r'^\p{Z}+|\p{Z}+$', ''), '')
{%- endmacro %}
