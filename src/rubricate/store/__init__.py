from rubricate.store.db import Store, close_all, open_store

__all__ = ["Store", "close_all", "open_store"]
