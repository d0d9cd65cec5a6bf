-- The floor: the fastest way we know to do one day's work of the pipeline on this machine, in one
-- hand-written DuckDB script over the same landing files. It parses the JSON lines, cleans and
-- hashes the same keys as the dbt staging models (same hash rules), inserts the new hub and link
-- keys, the changed satellite rows and the new transactions, and builds the three seed marts.
-- What it skips on purpose: line-level validation and rejects, load metadata, dbt's tests, and
-- any orchestration. bench/run.py substitutes __LANDING__ and __DAY__ and runs it on an empty file.

-- Hash rules of macros/vault/hash.sql: each part upper(trim(text)), '' and NULL as '^^', joined
-- by '||', MD5 as upper-case hex; a key all of whose parts are missing is NULL.
CREATE MACRO part(x) AS coalesce(nullif(upper(trim(CAST(x AS VARCHAR))), ''), '^^');
CREATE MACRO hk1(a) AS CASE WHEN part(a) = '^^' THEN NULL ELSE upper(md5(part(a))) END;
CREATE MACRO hk2(a, b) AS CASE WHEN part(a) = '^^' AND part(b) = '^^' THEN NULL
    ELSE upper(md5(part(a) || '||' || part(b))) END;
CREATE MACRO hk3(a, b, c) AS CASE WHEN part(a) = '^^' AND part(b) = '^^' AND part(c) = '^^' THEN NULL
    ELSE upper(md5(part(a) || '||' || part(b) || '||' || part(c))) END;
CREATE MACRO repair_round(x) AS CASE
    WHEN regexp_matches(x, '[\x{80}-\x{FF}]') AND NOT regexp_matches(x, '[^\x{00}-\x{FF}]')
    THEN coalesce(try(decode(unhex(array_to_string(
         list_transform(string_split(x, ''), lambda c: printf('%02X', unicode(c))), '')))), x)
    ELSE x END;

-- Every topic's rows, typed by the reader (no per-line checks), with the shared cleaned columns.
CREATE TEMP TABLE events AS
WITH parsed AS (
    SELECT 'listen_events' AS topic, ts, sessionId, userId, level, itemInSession, city, zip, state,
           userAgent, lat, lon, firstName, lastName, gender, registration, song, artist, duration,
           NULL::VARCHAR AS page, NULL::VARCHAR AS method, NULL::INTEGER AS status, NULL::BOOLEAN AS success
    FROM read_json('__LANDING__/listen_events/date=__DAY__/*.json', format = 'newline_delimited', columns = {
        ts: 'BIGINT', sessionId: 'BIGINT', userId: 'BIGINT', level: 'VARCHAR', itemInSession: 'INTEGER',
        city: 'VARCHAR', zip: 'VARCHAR', state: 'VARCHAR', userAgent: 'VARCHAR', lat: 'DOUBLE', lon: 'DOUBLE',
        firstName: 'VARCHAR', lastName: 'VARCHAR', gender: 'VARCHAR', registration: 'BIGINT',
        song: 'VARCHAR', artist: 'VARCHAR', duration: 'DOUBLE'})
    UNION ALL BY NAME
    SELECT 'page_view_events' AS topic, *
    FROM read_json('__LANDING__/page_view_events/date=__DAY__/*.json', format = 'newline_delimited', columns = {
        ts: 'BIGINT', sessionId: 'BIGINT', userId: 'BIGINT', level: 'VARCHAR', itemInSession: 'INTEGER',
        city: 'VARCHAR', zip: 'VARCHAR', state: 'VARCHAR', userAgent: 'VARCHAR', lat: 'DOUBLE', lon: 'DOUBLE',
        firstName: 'VARCHAR', lastName: 'VARCHAR', gender: 'VARCHAR', registration: 'BIGINT',
        song: 'VARCHAR', artist: 'VARCHAR', duration: 'DOUBLE', page: 'VARCHAR', method: 'VARCHAR',
        status: 'INTEGER'})
    UNION ALL BY NAME
    SELECT 'auth_events' AS topic, *
    FROM read_json('__LANDING__/auth_events/date=__DAY__/*.json', format = 'newline_delimited', columns = {
        ts: 'BIGINT', sessionId: 'BIGINT', userId: 'BIGINT', level: 'VARCHAR', itemInSession: 'INTEGER',
        city: 'VARCHAR', zip: 'VARCHAR', state: 'VARCHAR', userAgent: 'VARCHAR', lat: 'DOUBLE', lon: 'DOUBLE',
        firstName: 'VARCHAR', lastName: 'VARCHAR', gender: 'VARCHAR', registration: 'BIGINT', success: 'BOOLEAN'})
    UNION ALL BY NAME
    SELECT 'status_change_events' AS topic, *
    FROM read_json('__LANDING__/status_change_events/date=__DAY__/*.json', format = 'newline_delimited', columns = {
        ts: 'BIGINT', sessionId: 'BIGINT', userId: 'BIGINT', level: 'VARCHAR', itemInSession: 'INTEGER',
        city: 'VARCHAR', zip: 'VARCHAR', state: 'VARCHAR', userAgent: 'VARCHAR', lat: 'DOUBLE', lon: 'DOUBLE',
        firstName: 'VARCHAR', lastName: 'VARCHAR', gender: 'VARCHAR', registration: 'BIGINT'})
), names AS (
    SELECT name, repair_round(repair_round(name)) AS repaired
    FROM (SELECT song AS name FROM parsed UNION SELECT artist FROM parsed)
    WHERE strlen(name) <> length(name)
), cleaned AS (
    SELECT topic, ts, make_timestamp(ts * 1000) AS event_ts, sessionId AS session_id, userId AS user_id,
           lower(trim(level)) AS level, itemInSession AS item_in_session,
           nullif(trim(city), '') || coalesce(', ' || nullif(trim(state), ''), '') AS city_qualified,
           nullif(trim(city), '') AS city_name, nullif(trim(zip), '') AS zip, nullif(trim(state), '') AS state,
           lat, lon, printf('%.6f', lat) AS lat_key, printf('%.6f', lon) AS lon_key,
           nullif(trim(trim(userAgent), '"'), '') AS user_agent,
           nullif(trim(firstName), '') AS first_name, nullif(trim(lastName), '') AS last_name,
           nullif(upper(trim(gender)), '') AS gender, registration,
           nullif(trim(coalesce(s.repaired, song)), '') AS song_name,
           nullif(trim(coalesce(a.repaired, artist)), '') AS artist_name,
           duration, CAST(round(duration * 1000) AS BIGINT) AS played_ms,
           trim(page) AS page, upper(trim(method)) AS method, status, success
    FROM parsed
    LEFT JOIN names s ON s.name = parsed.song
    LEFT JOIN names a ON a.name = parsed.artist
)
SELECT *,
       hk1(user_id) AS user_pk, hk1(level) AS plan_pk, hk2(session_id, user_id) AS session_pk,
       hk1(user_agent) AS user_agent_pk, hk2(lat_key, lon_key) AS geo_pk, hk1(zip) AS zip_pk,
       hk1(city_qualified) AS city_pk, hk1(state) AS state_pk,
       hk2(user_id, level) AS user_plan_pk, hk2(user_id, user_agent) AS user_agent_user_pk,
       hk3(lat_key, lon_key, zip) AS geo_zip_pk, hk2(zip, city_qualified) AS zip_city_pk,
       hk2(city_qualified, state) AS city_state_pk
FROM cleaned;

CREATE TEMP TABLE plays AS
SELECT *, hk3(user_id, session_id, ts) AS song_play_pk, hk2(song_name, artist_name) AS song_pk,
       hk1(artist_name) AS artist_pk,
       upper(md5(concat_ws('||', part(user_id), part(session_id), part(ts), part(song_name), part(artist_name),
                           part(user_agent), part(city_qualified), part(lat_key), part(lon_key)))) AS context_pk,
       upper(md5(concat_ws('||', part(ts), part(ts + played_ms), part(played_ms)))) AS play_hashdiff
FROM events WHERE topic = 'listen_events';

-- Hubs, links, transactional links: one row per key. The floor starts from an empty file, so every
-- key is new and it skips the anti-join against stored keys that the incremental models need.
CREATE SCHEMA vault;
CREATE TABLE vault.hub_user AS SELECT DISTINCT ON (user_pk) user_pk, user_id, '__DAY__'::DATE AS load_date FROM events WHERE user_pk IS NOT NULL;
CREATE TABLE vault.hub_plan AS SELECT DISTINCT ON (plan_pk) plan_pk, level, '__DAY__'::DATE AS load_date FROM events WHERE plan_pk IS NOT NULL;
CREATE TABLE vault.hub_session AS SELECT DISTINCT ON (session_pk) session_pk, session_id, user_id, '__DAY__'::DATE AS load_date FROM events WHERE session_pk IS NOT NULL AND topic IN ('page_view_events', 'auth_events');
CREATE TABLE vault.hub_user_agent AS SELECT DISTINCT ON (user_agent_pk) user_agent_pk, user_agent, '__DAY__'::DATE AS load_date FROM events WHERE user_agent_pk IS NOT NULL;
CREATE TABLE vault.hub_location_geo AS SELECT DISTINCT ON (geo_pk) geo_pk, lat, lon, '__DAY__'::DATE AS load_date FROM events WHERE geo_pk IS NOT NULL;
CREATE TABLE vault.hub_location_zip AS SELECT DISTINCT ON (zip_pk) zip_pk, zip, '__DAY__'::DATE AS load_date FROM events WHERE zip_pk IS NOT NULL;
CREATE TABLE vault.hub_location_city AS SELECT DISTINCT ON (city_pk) city_pk, city_qualified, city_name, state, '__DAY__'::DATE AS load_date FROM events WHERE city_pk IS NOT NULL;
CREATE TABLE vault.hub_location_state AS SELECT DISTINCT ON (state_pk) state_pk, state, '__DAY__'::DATE AS load_date FROM events WHERE state_pk IS NOT NULL;
CREATE TABLE vault.hub_web_page AS SELECT DISTINCT ON (hk1(page)) hk1(page) AS page_pk, page, '__DAY__'::DATE AS load_date FROM events WHERE topic = 'page_view_events' AND page IS NOT NULL;
CREATE TABLE vault.hub_song_play AS SELECT DISTINCT ON (song_play_pk) song_play_pk, user_id, session_id, ts, '__DAY__'::DATE AS load_date FROM plays;
CREATE TABLE vault.hub_song AS SELECT DISTINCT ON (song_pk) song_pk, song_name, artist_name, '__DAY__'::DATE AS load_date FROM plays WHERE song_pk IS NOT NULL;
CREATE TABLE vault.hub_artist AS SELECT DISTINCT ON (artist_pk) artist_pk, artist_name, '__DAY__'::DATE AS load_date FROM plays WHERE artist_pk IS NOT NULL;

CREATE TABLE vault.link_user_plan AS SELECT DISTINCT ON (user_plan_pk) user_plan_pk, user_pk, plan_pk FROM events WHERE user_pk IS NOT NULL AND plan_pk IS NOT NULL AND topic = 'page_view_events';
CREATE TABLE vault.link_user_agent_user AS SELECT DISTINCT ON (user_agent_user_pk) user_agent_user_pk, user_pk, user_agent_pk FROM events WHERE user_pk IS NOT NULL AND user_agent_pk IS NOT NULL AND topic = 'page_view_events';
CREATE TABLE vault.link_location_geo_zip AS SELECT DISTINCT ON (geo_zip_pk) geo_zip_pk, geo_pk, zip_pk FROM events WHERE geo_pk IS NOT NULL AND zip_pk IS NOT NULL AND topic = 'page_view_events';
CREATE TABLE vault.link_location_zip_city AS SELECT DISTINCT ON (zip_city_pk) zip_city_pk, zip_pk, city_pk FROM events WHERE zip_pk IS NOT NULL AND city_pk IS NOT NULL AND topic = 'page_view_events';
CREATE TABLE vault.link_location_city_state AS SELECT DISTINCT ON (city_state_pk) city_state_pk, city_pk, state_pk FROM events WHERE city_pk IS NOT NULL AND state_pk IS NOT NULL AND topic = 'page_view_events';
CREATE TABLE vault.link_song_artist AS SELECT DISTINCT ON (song_pk) song_pk AS song_artist_pk, song_pk, artist_pk FROM plays WHERE song_pk IS NOT NULL AND artist_pk IS NOT NULL;
CREATE TABLE vault.link_song_play_context AS
SELECT DISTINCT ON (context_pk) context_pk, song_play_pk, session_pk, song_pk,
       coalesce(user_agent_pk, '00000000000000000000000000000000') AS user_agent_pk,
       coalesce(city_pk, '00000000000000000000000000000000') AS city_pk,
       coalesce(geo_pk, '00000000000000000000000000000000') AS geo_pk
FROM plays WHERE song_pk IS NOT NULL AND session_pk IS NOT NULL;

CREATE TABLE vault.t_link_web_clickstream AS
SELECT DISTINCT ON (click_pk) * FROM (
    SELECT hk3(session_id, item_in_session, ts) AS click_pk, hk1(page) AS page_pk, session_pk, event_ts, method, status
    FROM events WHERE topic = 'page_view_events');
CREATE TABLE vault.t_link_authorization AS
SELECT DISTINCT ON (authorization_pk) * FROM (
    SELECT hk3(session_id, item_in_session, ts) AS authorization_pk, coalesce(user_pk, '00000000000000000000000000000000') AS user_pk,
           session_pk, geo_pk, user_agent_pk, event_ts, success
    FROM events WHERE topic = 'auth_events');

-- Satellites: a row where the state differs from the key's previous state, in time order.
CREATE TABLE vault.sat_user_profile AS
SELECT * FROM (
    SELECT user_pk, hashdiff, first_name, last_name, gender, registration, event_ts,
           lag(hashdiff) OVER (PARTITION BY user_pk ORDER BY event_ts, hashdiff) AS previous
    FROM (SELECT DISTINCT ON (user_pk, event_ts, hashdiff) user_pk,
                 upper(md5(concat_ws('||', part(first_name), part(gender), part(last_name), part(registration)))) AS hashdiff,
                 first_name, last_name, gender, registration, event_ts
          FROM events WHERE topic = 'page_view_events' AND user_pk IS NOT NULL))
WHERE previous IS DISTINCT FROM hashdiff;
CREATE TABLE vault.sat_location_geo AS
SELECT * FROM (
    SELECT geo_pk, hashdiff, lat, lon, event_ts, lag(hashdiff) OVER (PARTITION BY geo_pk ORDER BY event_ts, hashdiff) AS previous
    FROM (SELECT DISTINCT ON (geo_pk, event_ts) geo_pk, upper(md5(part(lat_key) || '||' || part(lon_key))) AS hashdiff, lat, lon, event_ts
          FROM events WHERE topic = 'page_view_events' AND geo_pk IS NOT NULL))
WHERE previous IS DISTINCT FROM hashdiff;
CREATE TABLE vault.sat_song_play_details AS
SELECT DISTINCT ON (song_play_pk) song_play_pk, play_hashdiff, event_ts AS play_start_ts,
       make_timestamp((ts + played_ms) * 1000) AS play_end_ts, duration AS song_played_sec
FROM plays WHERE song_play_pk IS NOT NULL;
CREATE TABLE vault.sat_user_plan AS
SELECT * FROM (
    SELECT user_pk, user_plan_pk, plan_pk, event_ts, lag(user_plan_pk) OVER (PARTITION BY user_pk ORDER BY event_ts, user_plan_pk) AS previous
    FROM (SELECT DISTINCT ON (user_pk, event_ts, user_plan_pk) user_pk, user_plan_pk, plan_pk, event_ts FROM (
              SELECT user_pk, user_plan_pk, plan_pk, event_ts FROM events
              WHERE topic = 'page_view_events' AND user_pk IS NOT NULL AND plan_pk IS NOT NULL
                AND page NOT IN ('Submit Upgrade', 'Submit Downgrade')
              UNION ALL
              SELECT user_pk, hk2(user_id, new_level), hk1(new_level), event_ts FROM (
                  SELECT *, CASE level WHEN 'free' THEN 'paid' WHEN 'paid' THEN 'free' END AS new_level
                  FROM events WHERE topic = 'status_change_events')
              WHERE user_pk IS NOT NULL AND new_level IS NOT NULL)))
WHERE previous IS DISTINCT FROM user_plan_pk;
CREATE TABLE vault.sat_authorization_status AS
SELECT DISTINCT ON (authorization_pk) authorization_pk, success, event_ts FROM vault.t_link_authorization;

-- The three seed marts.
CREATE SCHEMA marts;
CREATE TABLE marts.mart_song_play AS
SELECT d.song_play_pk, h.user_id, d.song_played_sec, d.play_start_ts, d.play_end_ts,
       CAST(d.play_start_ts AS DATE) AS play_start_date, s.song_name, s.artist_name AS song_artist,
       a.user_agent, c.city_name AS location_city, c.state AS location_state, g.lat AS location_latitude,
       g.lon AS location_longitude
FROM vault.sat_song_play_details d
JOIN vault.hub_song_play h USING (song_play_pk)
JOIN vault.link_song_play_context x USING (song_play_pk)
JOIN vault.hub_song s ON s.song_pk = x.song_pk
LEFT JOIN vault.hub_user_agent a ON a.user_agent_pk = x.user_agent_pk
LEFT JOIN vault.hub_location_city c ON c.city_pk = x.city_pk
LEFT JOIN vault.hub_location_geo g ON g.geo_pk = x.geo_pk;

CREATE TABLE marts.mart_song_play_hourly_metrics AS
SELECT play_start_date AS play_date, extract(hour FROM play_start_ts) AS play_hour, count(*) AS plays,
       count(DISTINCT user_id) AS uniq_users, count(DISTINCT concat(song_name, '||', song_artist)) AS uniq_songs,
       count(DISTINCT user_agent) AS uniq_user_agents
FROM marts.mart_song_play GROUP BY 1, 2;

CREATE TABLE marts.mart_song_play_top_10_songs AS
SELECT play_start_date AS play_date, song_name, song_artist, count(DISTINCT user_id) AS uniq_users, count(*) AS plays
FROM marts.mart_song_play GROUP BY 1, 2, 3
QUALIFY row_number() OVER (PARTITION BY play_date ORDER BY uniq_users DESC, plays DESC, song_name, song_artist) <= 10;
