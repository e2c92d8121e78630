"""The web room: history pages, outlet pages and Atom feeds, served over HTTP (aiohttp)."""
