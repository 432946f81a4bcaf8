"""Wire formats of the peer protocols: pure codecs, no Django."""
