{#- The listener at the instant of each play (the plan and profile the play happened under). -#}
{{ user_pit('as_of_user_plays') }}
