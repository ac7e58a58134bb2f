"""What a paper is given as: local paths, arXiv IDs and URLs, PDF URLs, reading lists.

May import: errors, files."""
