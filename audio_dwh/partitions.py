"""The one daily partitioning every partitioned asset of the project shares (UTC days)."""

import dagster as dg

from audio_dwh.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(start_date=load_settings().start_date.isoformat(), timezone="UTC")
