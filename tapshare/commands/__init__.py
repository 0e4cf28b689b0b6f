"""The commands of the ``tapshare`` program, one module per area.

Each module lists its click commands in ``COMMANDS``; ``tapshare.cli`` registers them
explicitly. Commands take what they share from ``tapshare.context``, never from
``tapshare.cli``.
"""
