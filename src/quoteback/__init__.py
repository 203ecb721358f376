"""quoteback: answer questions about documents only in the documents' own words."""

__version__ = "0.1.0"
