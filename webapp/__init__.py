"""greenlane web layer: the CLI now; the Flask application factory lands with the web app issue."""
