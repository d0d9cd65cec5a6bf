{#- The listener at the end of every day they were seen (daily marts: the plan a day ends on). -#}
{{ user_pit('as_of_user_day_ends') }}
