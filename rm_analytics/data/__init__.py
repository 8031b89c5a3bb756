"""What a pilot is: the data contract, readers, validation, the :class:`Pilot` and the
synthetic generator."""
