from rubricate.ingest.run import IngestReport, ingest_source

__all__ = ["IngestReport", "ingest_source"]
