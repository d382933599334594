"""`abplan view`: a local, read-only web UI for benchmark runs and plans, and its static export.

`load` reads run folders (through `RunDir` and `RunResults`) and plan files; `model` and `highlight`
turn them into page data without touching the disk; `pages` renders that data with autoescaping
Jinja2 templates; `server` serves the pages on 127.0.0.1 and `export` writes them as static files.
"""
