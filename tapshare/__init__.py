"""tapshare: tap to share an opinion on an artwork; each festival decides what it shares."""

__version__ = "0.1.0"
