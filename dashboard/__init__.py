"""trial-dashboard: a Panel dashboard for randomized clinical trial oversight.

Flow of data: `data` (model, validation, bundled trial) and `loaders` (CDISC files) → `transforms`
(pure pandas) → `store` (per-session filters) → `views` (thin Panel components) → `app`.
"""

__version__ = "0.1.0"
