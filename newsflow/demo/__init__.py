"""The bundled demo newsroom: feeds and article pages served on 127.0.0.1."""
