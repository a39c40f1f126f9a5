"""Importers (WordPress, Disqus, Isso, Parley backups) and the JSON export."""
