{#- eff_sat(src_pk, src_dfk, src_sfk, src_eff, src_ldts, src_source, source_model): an effectivity
    satellite over a link. For each driving key (src_dfk, e.g. the user) it records from when which
    link (src_pk, e.g. user x plan) is in effect; a new row starts whenever the driving key's link
    changes. Same loading rules as sat (the link key is the state). effective_to is derived in a view. -#}
{% macro eff_sat(src_pk, src_dfk, src_sfk, src_eff, src_ldts, src_source, source_model) -%}
    {{ audio_dwh._state_history(src_dfk, src_pk, [src_pk, src_sfk], src_eff, src_ldts, src_source, source_model) }}
{%- endmacro %}
