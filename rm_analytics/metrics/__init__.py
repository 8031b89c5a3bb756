"""One module per evaluation question; each offers a DataFrame function and a ``pilot_*``
wrapper that returns a :class:`~rm_analytics.results.Result`."""
