"""newsflow's pure core: feeds, fetching, cleaning, metadata, normalization, registry and topics.

Nothing here imports Celery; Redis is used only by the modules whose job is state.
"""

from pipeline.errors import NewsflowError
from pipeline.extract import extract_article
from pipeline.models import Article, FeedEntry, Source
from pipeline.settings import Settings
from pipeline.version import __version__

__all__ = ["Article", "FeedEntry", "NewsflowError", "Settings", "Source", "__version__", "extract_article"]
