"""Where data comes from: one module per source kind, each registering itself (see registry.py).

Importing this package imports every kind module, so the registry is complete. The kinds
register in the order of these imports, the order in which the config's errors list them.
"""

# isort: off
from pipeline.ingest.sources import local_files  # noqa: F401  (files in a folder of this machine)
from pipeline.ingest.sources import sftp  # noqa: F401
from pipeline.ingest.sources import gcs  # noqa: F401
from pipeline.ingest.sources import bigquery  # noqa: F401
from pipeline.ingest.sources import ga4  # noqa: F401
from pipeline.ingest.sources import mssql  # noqa: F401
from pipeline.ingest.sources import rest  # noqa: F401  (paginated JSON APIs)

# isort: on
