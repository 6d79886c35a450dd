"""Cross-cutting pieces every domain package uses: the database engine and the web layer helpers."""
