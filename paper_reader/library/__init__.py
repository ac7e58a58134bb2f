"""The notes repository: layout, index, hand edits, git, the lock.

May import: types, errors, files, writing.render (file names)."""
