{{ link(src_pk='link_song_artist_pk', src_fk=['song_pk', 'artist_pk'], src_ldts='load_date', src_source='record_source',
        source_model='stg_listen_events') }}
